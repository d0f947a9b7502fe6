import { describe, expect, it } from "vitest";
import { clipGradients, gradNorm, gradNormCpu, gradStatsIndex } from "../../src/ops/grad-norm";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

// A sum of ~15k squares in f32 with a fixed tree order loses well under 1e-6 relative; the square
// root halves that. The scale is a quotient of the norm, so it inherits the same bound.
const rtol = 1e-6;

// Sizes straddle the 4096-element chunk of one workgroup: 1, exactly one chunk, one past it, odd.
const sizes = [1, 4096, 4097, 67 * 45, 33];

function gradients(scale = 1): Float32Array[] {
  return sizes.map((n, i) => randn(n, 40 + i, scale));
}

describe("grad-norm", () => {
  it.each([0, 1, 1e6])("norm and clip scale over a list of tensors match the CPU reference (maxNorm %d)", async (maxNorm) => {
    const gpu = await testGpu();
    const grads = gradients();
    const ts = grads.map((g, i) => gpu.upload(g, [g.length], undefined, `grad${i}`));
    const stats = await gpu.read(gradNorm(gpu, ts, maxNorm));
    const ref = gradNormCpu(grads, maxNorm);
    expectClose([stats[gradStatsIndex.norm]], [ref.norm], rtol, 0, "norm");
    expectClose([stats[gradStatsIndex.scale]], [ref.scale], rtol, 0, "scale");
    expect(stats[gradStatsIndex.nonFinite]).toBe(0);
    if (maxNorm === 1) expect(ref.scale).toBeLessThan(0.1);
    else expect(stats[gradStatsIndex.scale]).toBe(1);
    gpu.release(...ts);
  });

  it("gives bitwise identical results on repeated runs (fixed reduction order)", async () => {
    const gpu = await testGpu();
    const ts = gradients(3).map((g) => gpu.upload(g, [g.length]));
    const first = gradNorm(gpu, ts, 2);
    const second = gradNorm(gpu, ts, 2);
    expect(await gpu.read(second)).toEqual(await gpu.read(first));
    gpu.release(...ts, first, second);
  });

  it("clips every tensor in place by the scale read on the GPU", async () => {
    const gpu = await testGpu();
    const grads = gradients(2);
    const ts = grads.map((g) => gpu.upload(g, [g.length]));
    const maxNorm = 0.5;
    const stats = gradNorm(gpu, ts, maxNorm);
    clipGradients(gpu, ts, stats);
    const { scale } = gradNormCpu(grads, maxNorm);
    for (let i = 0; i < ts.length; i++) {
      expectClose(
        await gpu.read(ts[i]),
        Float64Array.from(grads[i], (g) => g * scale),
        2e-6,
        0,
        `clipped grad${i}`,
      );
    }
    const after = await gpu.read(gradNorm(gpu, ts, 0));
    expectClose([after[gradStatsIndex.norm]], [maxNorm], 2e-6, 0, "norm after clipping");
    gpu.release(...ts, stats);
  });

  it.each([
    ["NaN", Number.NaN],
    ["+Inf", Number.POSITIVE_INFINITY],
    ["-Inf", Number.NEGATIVE_INFINITY],
    ["a finite value whose square overflows f32", 3e19],
  ])("flags %s in any tensor", async (_, bad) => {
    const gpu = await testGpu();
    const grads = gradients();
    grads[3][1234] = bad;
    const ts = grads.map((g) => gpu.upload(g, [g.length]));
    const stats = await gpu.read(gradNorm(gpu, ts, 1));
    expect(stats[gradStatsIndex.nonFinite]).toBe(1);
    expect(stats[gradStatsIndex.scale]).toBe(1);
    gpu.release(...ts);
  });

  it("rejects an empty list and non-f32 gradients", async () => {
    const gpu = await testGpu();
    expect(() => gradNorm(gpu, [])).toThrow(/gradNorm: no gradient tensors/);
    const ids = gpu.upload(new Uint32Array(4), [4], undefined, "ids");
    expect(() => gradNorm(gpu, [ids])).toThrow(/gradNorm: gradient ids\[4\] u32 must be f32/);
    gpu.release(ids);
  });
});
