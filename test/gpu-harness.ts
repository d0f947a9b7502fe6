/**
 * The GPU every test runs on: a real WebGPU adapter through Dawn (lavapipe or SwiftShader on
 * machines without a GPU). Without one the tests fail and say what to install; they never skip.
 */

import type { Gpu } from "../src/gpu/context";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";

let shared: Promise<Gpu> | undefined;

/** Tries a few times: a CPU Vulkan driver on a loaded 2-core machine has been seen to give no adapter once. */
async function acquireWithRetries(attempts = 3): Promise<Gpu> {
  for (let i = 1; ; i++) {
    try {
      return await acquireGpu(nodeGpu(), { disableF16: process.env.PRUNELAB_DISABLE_F16 === "1" });
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((resolve) => setTimeout(resolve, 500 * i));
    }
  }
}

export function testGpu(): Promise<Gpu> {
  shared ??= acquireWithRetries().catch((e: Error) => {
    throw new Error(
      `GPU tests need a WebGPU adapter and none could be had (${e.message}). ` +
        "Run the tests through `scripts/test.sh`, which installs libvulkan1, mesa-vulkan-drivers and lavapipe " +
        "(or falls back to Chromium's SwiftShader) and sets VK_ICD_FILENAMES.",
    );
  });
  return shared;
}
