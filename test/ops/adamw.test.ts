import { describe, expect, it } from "vitest";
import { adamwDefaults, adamwStep, adamwStepCpu, createAdamWState } from "../../src/ops/adamw";
import { gradNorm, gradNormCpu } from "../../src/ops/grad-norm";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

// Each step is a handful of f32 operations per element (~1e-7 relative each), so v (a sum of
// positive terms) stays within 1e-5 relative of float64. m is a signed sum of terms up to ~0.2, so
// where they cancel only an absolute bound holds: a few f32 roundings of 0.2, under 1e-7. The
// parameter moves by at most lr ≈ 1e-2 per step, so its error is a few roundings of 1 plus lr times
// the relative error of m̂ / √v̂: 1e-6 absolute.
const rtol = 1e-5;
const mAtol = 1e-7;
const atol = 1e-6;

describe("adamw", () => {
  it("matches the CPU reference over several steps with a changing learning rate", async () => {
    const gpu = await testGpu();
    const n = 67 * 45;
    const param = randn(n, 1);
    const hp = { ...adamwDefaults, weightDecay: 0.1, lr: 0 };
    const p64 = Float64Array.from(param);
    const m64 = new Float64Array(n);
    const v64 = new Float64Array(n);
    const pt = gpu.upload(param, [67, 45], undefined, "lora_a");
    const state = createAdamWState(gpu, pt);
    const grads = [];
    for (let step = 1; step <= 5; step++) {
      // Gradients of mixed scales, including tiny ones where eps matters.
      const grad = randn(n, 100 + step, step === 3 ? 1e-6 : 2);
      const gt = gpu.upload(grad, [67, 45]);
      grads.push(gt);
      const lr = 1e-2 * (1 - step / 10);
      adamwStep(gpu, pt, gt, state, { ...hp, lr }, step);
      adamwStepCpu(p64, grad, m64, v64, { ...hp, lr }, step);
    }
    expectClose(await gpu.read(state.m), m64, rtol, mAtol, "m");
    expectClose(await gpu.read(state.v), v64, rtol, 1e-12, "v");
    expectClose(await gpu.read(pt), p64, rtol, atol, "param");
    gpu.release(pt, state.m, state.v, ...grads);
  });

  it("with grad stats, clips by their scale and skips the whole update when the gradient is not finite", async () => {
    const gpu = await testGpu();
    const n = 333;
    const hp = { ...adamwDefaults, weightDecay: 0.01, lr: 3e-3 };
    const param = randn(n, 7);
    const grad = randn(n, 8, 5);
    const pt = gpu.upload(param, [n]);
    const state = createAdamWState(gpu, pt);
    const gt = gpu.upload(grad, [n]);
    const maxNorm = 1;
    const stats = gradNorm(gpu, [gt], maxNorm);
    adamwStep(gpu, pt, gt, state, hp, 1, stats);
    const { scale } = gradNormCpu([grad], maxNorm);
    expect(scale).toBeLessThan(0.2);
    const p64 = Float64Array.from(param);
    const m64 = new Float64Array(n);
    const v64 = new Float64Array(n);
    adamwStepCpu(p64, grad, m64, v64, hp, 1, scale);
    expectClose(await gpu.read(state.m), m64, rtol, mAtol, "m after clipped step");
    expectClose(await gpu.read(pt), p64, rtol, atol, "param after clipped step");

    const before = await gpu.read(pt);
    const bad = grad.slice();
    bad[200] = Number.NaN;
    const badT = gpu.upload(bad, [n]);
    const badStats = gradNorm(gpu, [badT], maxNorm);
    adamwStep(gpu, pt, badT, state, hp, 2, badStats);
    expect(await gpu.read(pt)).toEqual(before);
    expectClose(await gpu.read(state.m), m64, rtol, mAtol, "m after skipped step");
    gpu.release(pt, gt, badT, stats, badStats, state.m, state.v);
  });

  it("rejects mismatched moments and steps before 1, naming them", async () => {
    const gpu = await testGpu();
    const pt = gpu.upload(randn(6, 1), [2, 3]);
    const gt = gpu.upload(randn(6, 2), [3, 2]);
    const state = createAdamWState(gpu, pt);
    const hp = { ...adamwDefaults, weightDecay: 0.01, lr: 1e-3 };
    expect(() => adamwStep(gpu, pt, gt, state, hp, 1)).toThrow(/adamwStep: grad has shape \[3, 2\], expected \[2, 3\]/);
    expect(() => adamwStep(gpu, pt, pt, state, hp, 0)).toThrow(/step must be an integer ≥ 1/);
    gpu.release(pt, gt, state.m, state.v);
  });
});
