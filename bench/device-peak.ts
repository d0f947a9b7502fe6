/**
 * The adapter's measured fp32 peak (GFLOP/s) and copy bandwidth (GB/s), from the two kernels of
 * shaders/device-peak.wgsl: the denominators of `npm run bench:gpu`'s shares. The best of a few
 * timed launches (after a warm-up), each sized to run for milliseconds on a real GPU.
 */
import deviceShader from "../shaders/device-peak.wgsl?raw";
import type { Gpu } from "../src/gpu/context";

const flopsPerThreadIteration = 64;
const threads = 256;

async function bestSeconds(gpu: Gpu, run: () => void, reps = 5): Promise<number> {
  run();
  await gpu.sync();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    await gpu.sync();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

export async function measureDevicePeak(gpu: Gpu): Promise<{ gflops: number; gbPerSecond: number }> {
  const groups = 4096;
  const iterations = 4096;
  const bytes = 64 * 2 ** 20;
  const n4 = bytes / 16;
  const src = gpu.tensor([n4 * 4], "f32", "peak.src");
  const dst = gpu.tensor([n4 * 4], "f32", "peak.dst");
  const flopSeconds = await bestSeconds(gpu, () =>
    gpu.dispatch({
      op: "device.flops",
      shader: deviceShader,
      entryPoint: "flops",
      uniforms: { p: { iterations, n4 } },
      bindings: { src, dst },
      workgroups: [groups],
    }),
  );
  const copyGroups = n4 / threads;
  const x = Math.min(copyGroups, 65535);
  const copySeconds = await bestSeconds(gpu, () =>
    gpu.dispatch({
      op: "device.copy",
      shader: deviceShader,
      entryPoint: "copy",
      uniforms: { p: { iterations, n4 } },
      bindings: { src, dst },
      workgroups: [x, Math.ceil(copyGroups / x)],
    }),
  );
  gpu.release(src, dst);
  return {
    gflops: (groups * threads * iterations * flopsPerThreadIteration) / flopSeconds / 1e9,
    gbPerSecond: (2 * bytes) / copySeconds / 1e9,
  };
}
