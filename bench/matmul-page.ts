/** The matmul benchmark inside a browser page: the runner calls `window.runMatmulBench`. */
import "@tensorflow/tfjs-backend-webgpu";
import * as tf from "@tensorflow/tfjs-core";
import { acquireGpu } from "../src/gpu/device";
import type { MatmulCase } from "./matmul-cases";
import { type BenchOptions, type BenchRow, runMatmulBench } from "./matmul-timing";

export interface PageResult {
  adapter: string;
  rows: BenchRow[];
}

declare global {
  interface Window {
    runMatmulBench: (cases: MatmulCase[], options: BenchOptions) => Promise<PageResult>;
  }
}

const logElement = document.getElementById("log");

window.runMatmulBench = async (cases, options) => {
  const gpu = await acquireGpu(navigator.gpu);
  await tf.setBackend("webgpu");
  await tf.ready();
  const log = (line: string) => {
    console.log(line);
    if (logElement) logElement.textContent += `${line}\n`;
  };
  const rows = await runMatmulBench(gpu, tf, cases, options, log);
  const adapter = `${gpu.info.vendor} ${gpu.info.architecture} ${gpu.info.description}`.trim();
  gpu.destroy();
  return { adapter, rows };
};
