/**
 * The adapter's measured fp32 peak (GFLOP/s) and copy bandwidth (GB/s), from the two kernels of
 * shaders/device-peak.wgsl: the denominators of `npm run bench:gpu`'s shares. The best of a few
 * timed launches (after a warm-up); the FMA kernel's length is calibrated to ~50 ms per launch.
 */
import deviceShader from "../shaders/device-peak.wgsl?raw";
import type { Gpu } from "../src/gpu/context";
import type { Tensor } from "../src/gpu/tensor";

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

/** One launch of an entry point of device-peak.wgsl. */
function launch(gpu: Gpu, entryPoint: "flops" | "copy", iterations: number, n4: number, src: Tensor, dst: Tensor, groups: number): void {
  const x = Math.min(groups, 65535);
  gpu.dispatch({
    op: `device.${entryPoint}`,
    shader: deviceShader,
    entryPoint,
    uniforms: { p: { iterations, n4 } },
    bindings: { src, dst },
    workgroups: [x, Math.ceil(groups / x)],
  });
}

export async function measureDevicePeak(gpu: Gpu): Promise<{ gflops: number; gbPerSecond: number }> {
  const groups = 4096;
  const bytes = 64 * 2 ** 20;
  const n4 = bytes / 16;
  const src = gpu.tensor([n4 * 4], "f32", "peak.src");
  const dst = gpu.tensor([n4 * 4], "f32", "peak.dst");
  // Iterations sized from a short calibration launch so that one timed launch takes ~50 ms on any device.
  const probe = 16;
  const probeSeconds = await bestSeconds(gpu, () => launch(gpu, "flops", probe, n4, src, dst, groups), 1);
  const iterations = Math.max(probe, Math.min(1 << 16, Math.round((probe * 0.05) / probeSeconds)));
  const flopSeconds = await bestSeconds(gpu, () => launch(gpu, "flops", iterations, n4, src, dst, groups));
  const copySeconds = await bestSeconds(gpu, () => launch(gpu, "copy", 0, n4, src, dst, n4 / threads));
  gpu.release(src, dst);
  return {
    gflops: (groups * threads * iterations * flopsPerThreadIteration) / flopSeconds / 1e9,
    gbPerSecond: (2 * bytes) / copySeconds / 1e9,
  };
}
