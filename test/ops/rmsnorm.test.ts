import { describe, expect, it } from "vitest";
import { rmsNorm, rmsNormBackward, rmsNormBackwardCpu, rmsNormCpu } from "../../src/ops/rmsnorm";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn } from "../numerics";

// f32 kernels against float64 references: a row reduction of `dim` terms loses about dim·2^-24
// relative, far below 1e-5 for the sizes here; the atol covers outputs near zero.
const rtol = 1e-5;
const atol = 1e-6;

describe("rmsnorm", () => {
  it.each([
    [1, 1],
    [3, 67],
    [45, 33],
    [7, 257],
    [2, 1000],
    [1030, 20],
    [9, 3000],
  ])("forward and backward match the CPU reference (rows %i, dim %i)", async (rows, dim) => {
    const gpu = await testGpu();
    const x = randn(rows * dim, rows * 31 + dim, 2);
    const w = randn(dim, dim + 7);
    const dy = randn(rows * dim, rows + dim * 13);
    const eps = 1e-5;
    const xt = gpu.upload(x, [rows, dim]);
    const wt = gpu.upload(w, [dim]);
    const { y, rstd } = rmsNorm(gpu, xt, wt, eps);
    expectClose(await gpu.read(y), rmsNormCpu(x, w, rows, dim, eps), rtol, atol, "y");
    const dyt = gpu.upload(dy, [rows, dim]);
    const { dx, dw } = rmsNormBackward(gpu, dyt, wt, { x: xt, rstd });
    const ref = rmsNormBackwardCpu(x, w, dy, rows, dim, eps);
    expectClose(await gpu.read(dx), ref.dx, 1e-4, 1e-5, "dx");
    expectClose(await gpu.read(dw), ref.dw, 1e-4, 1e-5, "dw");
    gpu.release(xt, wt, y, rstd, dyt, dx, dw);
  });

  it("backward adds dx into a given tensor, and skips dw when it is not wanted", async () => {
    const gpu = await testGpu();
    const [rows, dim] = [5, 67];
    const x = randn(rows * dim, 4, 2);
    const w = randn(dim, 5);
    const dy = randn(rows * dim, 6);
    const into = randn(rows * dim, 7);
    const xt = gpu.upload(x, [rows, dim]);
    const wt = gpu.upload(w, [dim]);
    const dyt = gpu.upload(dy, [rows, dim]);
    const intot = gpu.upload(into, [rows, dim]);
    const { y, rstd } = rmsNorm(gpu, xt, wt, 1e-5);
    const { dx, dw } = rmsNormBackward(gpu, dyt, wt, { x: xt, rstd }, { accumulateDx: intot, weightGrad: false });
    expect(dx).toBe(intot);
    expect(dw).toBeUndefined();
    const ref = rmsNormBackwardCpu(x, w, dy, rows, dim, 1e-5);
    expectClose(
      await gpu.read(dx),
      ref.dx.map((v, i) => v + into[i]),
      1e-4,
      1e-5,
      "dx + into",
    );
    gpu.release(xt, wt, dyt, intot, y, rstd);
  });

  it("CPU backward equals finite differences of the CPU forward", () => {
    const rows = 3;
    const dim = 11;
    const eps = 1e-5;
    const x = randn(rows * dim, 1, 2);
    const w = randn(dim, 2);
    const dy = randn(rows * dim, 3);
    const { dx, dw } = rmsNormBackwardCpu(x, w, dy, rows, dim, eps);
    const fdx = finiteDifferences((xx) => dot(rmsNormCpu(xx, w, rows, dim, eps), dy), x);
    const fdw = finiteDifferences((ww) => dot(rmsNormCpu(x, ww, rows, dim, eps), dy), w);
    expectClose(dx, fdx, 1e-6, 1e-8, "dx");
    expectClose(dw, fdw, 1e-6, 1e-8, "dw");
  });

  it("rejects a weight that does not match the row size, naming it", async () => {
    const gpu = await testGpu();
    const x = gpu.upload(randn(6, 1), [2, 3]);
    const w = gpu.upload(randn(4, 1), [4]);
    expect(() => rmsNorm(gpu, x, w, 1e-5)).toThrow(/w has shape \[4\], expected \[3\]/);
    gpu.release(x, w);
  });
});
