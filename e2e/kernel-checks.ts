/**
 * Kernel checks that run in a browser (page or worker): each runs a real kernel on the given GPU and
 * compares it with its float64 CPU reference. Results are plain data, so a worker can post them and
 * Playwright can read them; a failed check reports its worst element instead of throwing.
 */
import type { Gpu } from "../src/gpu/context";
import { type MatmulKernel, matmul, matmulCpu } from "../src/ops/matmul";
import { rmsNorm, rmsNormBackward, rmsNormBackwardCpu, rmsNormCpu } from "../src/ops/rmsnorm";
import { uniformValues } from "../src/seeded-random";

export interface KernelCheck {
  name: string;
  ok: boolean;
  /** Largest |actual − expected| / (atol + rtol·|expected|); ≤ 1 passes. */
  worstRatio: number;
  detail: string;
}

function compare(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): KernelCheck {
  if (actual.length !== expected.length) {
    return { name, ok: false, worstRatio: Number.POSITIVE_INFINITY, detail: `${actual.length} values, expected ${expected.length}` };
  }
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    // NaN compares false: a NaN output must fail, so it is caught explicitly.
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
      at = i;
    }
  }
  return {
    name,
    ok: worst <= 1,
    worstRatio: worst,
    detail: `worst element ${at}: ${actual[at]} vs ${expected[at]} (rtol ${rtol}, atol ${atol})`,
  };
}

async function rmsNormChecks(gpu: Gpu, rows: number, dim: number): Promise<KernelCheck[]> {
  const eps = 1e-5;
  const x = uniformValues(rows * dim, 11, 2);
  const w = uniformValues(dim, 12);
  const dy = uniformValues(rows * dim, 13);
  const xt = gpu.upload(x, [rows, dim]);
  const wt = gpu.upload(w, [dim]);
  const dyt = gpu.upload(dy, [rows, dim]);
  const { y, rstd } = rmsNorm(gpu, xt, wt, eps);
  const { dx, dw } = rmsNormBackward(gpu, dyt, wt, { x: xt, rstd });
  const ref = rmsNormBackwardCpu(x, w, dy, rows, dim, eps);
  const shape = `${rows}×${dim}`;
  // Same tolerances as test/ops/rmsnorm.test.ts: f32 row reductions against float64.
  const checks = [
    compare(`rmsnorm forward ${shape}`, await gpu.read(y), rmsNormCpu(x, w, rows, dim, eps), 1e-5, 1e-6),
    compare(`rmsnorm backward dx ${shape}`, await gpu.read(dx), ref.dx, 1e-4, 1e-5),
    compare(`rmsnorm backward dw ${shape}`, await gpu.read(dw), ref.dw, 1e-4, 1e-5),
  ];
  gpu.release(xt, wt, dyt, y, rstd, dx, dw);
  return checks;
}

async function matmulCheck(gpu: Gpu, m: number, k: number, n: number, transB: boolean, kernel: MatmulKernel): Promise<KernelCheck> {
  const a = uniformValues(m * k, m + 100 * k);
  const b = uniformValues(k * n, n + 7);
  const at = gpu.upload(a, [m, k]);
  const bt = gpu.upload(b, transB ? [n, k] : [k, n]);
  const c = matmul(gpu, at, bt, { transB, kernel });
  // k-term f32 dot products of values in [-1, 1): error grows like k·2^-24 relative to Σ|a||b|, well under 1e-4 absolute for k ≤ 64.
  const check = compare(
    `matmul ${kernel} ${m}×${k}×${n}${transB ? " Bᵀ" : ""}`,
    await gpu.read(c),
    matmulCpu(a, b, { m, k, n, transB }),
    1e-4,
    1e-4,
  );
  gpu.release(at, bt, c);
  return check;
}

export async function runKernelChecks(gpu: Gpu): Promise<KernelCheck[]> {
  return [
    ...(await rmsNormChecks(gpu, 45, 33)),
    ...(await rmsNormChecks(gpu, 3, 257)),
    await matmulCheck(gpu, 67, 45, 33, false, "scalar"),
    await matmulCheck(gpu, 67, 45, 33, true, "scalar"),
    await matmulCheck(gpu, 30, 48, 36, false, "vec4"),
    await matmulCheck(gpu, 30, 48, 36, true, "vec4"),
  ];
}
