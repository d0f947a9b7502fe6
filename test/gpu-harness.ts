/**
 * The GPU every test runs on: a real WebGPU adapter through Dawn (lavapipe or SwiftShader on
 * machines without a GPU). Without one the tests fail and say what to install; they never skip.
 */

import type { Gpu } from "../src/gpu/context";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= acquireGpu(nodeGpu(), { disableF16: process.env.PRUNELAB_DISABLE_F16 === "1" }).catch((e: Error) => {
    throw new Error(
      `GPU tests need a WebGPU adapter and none could be had (${e.message}). ` +
        "Run the tests through `scripts/test.sh`, which installs libvulkan1, mesa-vulkan-drivers and lavapipe " +
        "(or falls back to Chromium's SwiftShader) and sets VK_ICD_FILENAMES.",
    );
  });
  return shared;
}

/** The adapter in use, for test names and logs: "lavapipe", "swiftshader" or the driver's description. */
export async function adapterName(): Promise<string> {
  const gpu = await testGpu();
  return gpu.info.description || gpu.info.device || gpu.info.vendor;
}
