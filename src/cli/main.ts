import "../gpu/node-globals";
import { acquireGpu } from "../gpu/device";
import { nodeGpu } from "../gpu/node-gpu";

const gpu = await acquireGpu(nodeGpu());
console.log(JSON.stringify(gpu.info, null, 2));
gpu.destroy();
