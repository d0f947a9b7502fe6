import { Float16Array } from "@petamoriken/float16";
import { describe, expect, it } from "vitest";
import {
  createLoraAdapter,
  type LoraDropout,
  loraDropout,
  loraDropoutMultipliersCpu,
  loraLinear,
  loraLinearBackward,
  loraLinearBackwardCpu,
  loraLinearCpu,
} from "../../src/ops/lora";
import { matmul, matmulCpu } from "../../src/ops/matmul";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn } from "../numerics";

// Every output is at most two chained f32 products of ≤ 67 terms in [-1, 1] (k·2^-24 relative per
// product, entries O(k)), so with alpha/r ≤ 16 the absolute error stays under 2e-7·67·(1 + 16) ≈ 2e-4
// in the worst case and ~1e-5 in practice; rtol 1e-5 covers large entries, atol 5e-5 those near zero.
const rtol = 1e-5;
const atol = 5e-5;

interface Case {
  lead: number[];
  inFeatures: number;
  outFeatures: number;
  rank: number;
  alpha: number;
  dropout?: LoraDropout;
  f16?: boolean;
}

const awkward = { lead: [33], inFeatures: 67, outFeatures: 45 };

describe("lora", () => {
  it("CPU backward equals finite differences of the CPU forward, with alpha/r scaling and a fixed dropout mask", () => {
    const shape = { tokens: 3, inFeatures: 7, outFeatures: 5, rank: 2, alpha: 5 };
    const { tokens: t, inFeatures: i, outFeatures: o, rank: r } = shape;
    const x = randn(t * i, 1);
    const w = randn(o * i, 2);
    const a = randn(r * i, 3);
    const b = randn(o * r, 4);
    const dy = randn(t * o, 5);
    const mask = loraDropoutMultipliersCpu(t * i, { p: 0.4, seed: 11, step: 3 });
    expect(mask.some((m) => m === 0) && mask.some((m) => m > 1)).toBe(true);
    for (const multipliers of [undefined, mask]) {
      const grads = loraLinearBackwardCpu(x, w, a, b, dy, shape, multipliers);
      const fdx = finiteDifferences((xx) => dot(loraLinearCpu(xx, w, a, b, shape, multipliers), dy), x);
      const fda = finiteDifferences((aa) => dot(loraLinearCpu(x, w, aa, b, shape, multipliers), dy), a);
      const fdb = finiteDifferences((bb) => dot(loraLinearCpu(x, w, a, bb, shape, multipliers), dy), b);
      expectClose(grads.dx, fdx, 1e-6, 1e-8, "dx");
      expectClose(grads.da, fda, 1e-6, 1e-8, "dA");
      expectClose(grads.db, fdb, 1e-6, 1e-8, "dB");
    }
  });

  it.for<[string, Case]>([
    ["rank 1", { ...awkward, rank: 1, alpha: 1 }],
    ["rank 8, alpha 16, dropout p = 0", { ...awkward, rank: 8, alpha: 16, dropout: { p: 0, seed: 3, step: 4 } }],
    ["rank 8 with dropout", { ...awkward, rank: 8, alpha: 16, dropout: { p: 0.1, seed: 7, step: 12 } }],
    ["3-D input, rank 1 with dropout", { ...awkward, lead: [3, 11], rank: 1, alpha: 2, dropout: { p: 0.5, seed: 2 ** 32 - 1, step: 0 } }],
    ["f16 frozen weight, rank 8 with dropout", { ...awkward, rank: 8, alpha: 8, dropout: { p: 0.05, seed: 1, step: 1 }, f16: true }],
  ])("GPU forward and backward match the CPU reference (in 67, out 45, tokens 33; %s)", async ([, c], ctx) => {
    const gpu = await testGpu();
    if (c.f16 && !gpu.hasF16) ctx.skip();
    const tokens = c.lead.reduce((p, q) => p * q, 1);
    const shape = { tokens, inFeatures: c.inFeatures, outFeatures: c.outFeatures, rank: c.rank, alpha: c.alpha };
    const x = randn(tokens * c.inFeatures, 10);
    const w = randn(c.outFeatures * c.inFeatures, 11);
    const a = randn(c.rank * c.inFeatures, 12);
    const b = randn(c.outFeatures * c.rank, 13);
    const dy = randn(tokens * c.outFeatures, 14);
    const wUsed = c.f16 ? Float32Array.from(new Float16Array(w)) : w;
    const multipliers = c.dropout && loraDropoutMultipliersCpu(x.length, c.dropout);
    const xt = gpu.upload(x, [...c.lead, c.inFeatures]);
    const wt = c.f16 ? gpu.uploadF16(w, [c.outFeatures, c.inFeatures]) : gpu.upload(w, [c.outFeatures, c.inFeatures]);
    const adapter = { a: gpu.upload(a, [c.rank, c.inFeatures]), b: gpu.upload(b, [c.outFeatures, c.rank]), alpha: c.alpha };
    const { y, saved } = loraLinear(gpu, xt, wt, adapter, c.dropout);
    expect(y.shape).toEqual([...c.lead, c.outFeatures]);
    expectClose(await gpu.read(y), loraLinearCpu(x, wUsed, a, b, shape, multipliers), rtol, atol, "y");
    const dyt = gpu.upload(dy, y.shape);
    const { dx, da, db } = loraLinearBackward(gpu, dyt, wt, adapter, saved);
    const ref = loraLinearBackwardCpu(x, wUsed, a, b, dy, shape, multipliers);
    expect(dx.shape).toEqual(xt.shape);
    expectClose(await gpu.read(dx), ref.dx, rtol, atol, "dx");
    expectClose(await gpu.read(da), ref.da, rtol, atol, "dA");
    expectClose(await gpu.read(db), ref.db, rtol, atol, "dB");
    gpu.release(xt, wt, adapter.a, adapter.b, y, saved.h, dyt, dx, da, db);
  });

  it("accumulates dA and dB into given tensors across micro-batches", async () => {
    const gpu = await testGpu();
    const [t, i, o, r] = [5, 9, 6, 2];
    const shape = { tokens: t, inFeatures: i, outFeatures: o, rank: r, alpha: 4 };
    const w = randn(o * i, 1);
    const a = randn(r * i, 2);
    const b = randn(o * r, 3);
    const wt = gpu.upload(w, [o, i]);
    const adapter = { a: gpu.upload(a, [r, i]), b: gpu.upload(b, [o, r]), alpha: shape.alpha };
    const into = { da: gpu.zeros([r, i]), db: gpu.zeros([o, r]) };
    const expected = { da: new Float64Array(r * i), db: new Float64Array(o * r) };
    const live = [];
    for (let micro = 0; micro < 2; micro++) {
      const x = randn(t * i, 20 + micro);
      const dy = randn(t * o, 30 + micro);
      const dropout = { p: 0.3, seed: 5, step: micro };
      const xt = gpu.upload(x, [t, i]);
      const { y, saved } = loraLinear(gpu, xt, wt, adapter, dropout);
      const dyt = gpu.upload(dy, [t, o]);
      const grads = loraLinearBackward(gpu, dyt, wt, adapter, saved, into);
      expect(grads.da).toBe(into.da);
      expect(grads.db).toBe(into.db);
      const ref = loraLinearBackwardCpu(x, w, a, b, dy, shape, loraDropoutMultipliersCpu(x.length, dropout));
      ref.da.forEach((v, k) => {
        expected.da[k] += v;
      });
      ref.db.forEach((v, k) => {
        expected.db[k] += v;
      });
      live.push(xt, y, saved.h, dyt, grads.dx);
    }
    expectClose(await gpu.read(into.da), expected.da, rtol, atol, "accumulated dA");
    expectClose(await gpu.read(into.db), expected.db, rtol, atol, "accumulated dB");
    gpu.release(wt, adapter.a, adapter.b, into.da, into.db, ...live);
  });

  it("dropout mask: the GPU's equals the CPU's exactly, drops a fraction p, and changes with step and seed", async () => {
    const gpu = await testGpu();
    const n = 33 * 67 * 5;
    const x = randn(n, 3, 2).map((v) => v + 3);
    const xt = gpu.upload(x, [n]);
    const masks: Float32Array[] = [];
    for (const d of [
      { p: 0.25, seed: 42, step: 0 },
      { p: 0.25, seed: 42, step: 1 },
      { p: 0.25, seed: 43, step: 0 },
      { p: 0.25, seed: 42, step: 0 },
    ]) {
      const out = loraDropout(gpu, xt, d);
      const got = await gpu.readF32(out);
      const multipliers = loraDropoutMultipliersCpu(n, d);
      expectClose(
        got,
        Float64Array.from(x, (v, k) => v * multipliers[k]),
        1e-7,
        0,
        `dropout ${JSON.stringify(d)}`,
      );
      const dropped = got.filter((v) => v === 0).length / n;
      // Binomial standard deviation √(p(1−p)/n) ≈ 0.0026 here; 4σ.
      expect(Math.abs(dropped - d.p)).toBeLessThan(0.011);
      masks.push(got.map((v) => (v === 0 ? 0 : 1)));
      gpu.release(out);
    }
    const agreement = (u: Float32Array, v: Float32Array) => u.filter((m, k) => m === v[k]).length / n;
    // Independent masks with p = 0.25 agree on p² + (1−p)² = 62.5% of elements.
    expect(agreement(masks[0], masks[1])).toBeLessThan(0.64);
    expect(agreement(masks[0], masks[2])).toBeLessThan(0.64);
    expect(masks[3]).toEqual(masks[0]);
    gpu.release(xt);
  });

  it("a new adapter is seeded, bounded by 1/√in like PEFT's, and leaves the layer equal to the frozen one", async () => {
    const gpu = await testGpu();
    const shape = { inFeatures: 67, outFeatures: 45, rank: 8, alpha: 16 };
    const first = createLoraAdapter(gpu, shape, 9);
    const again = createLoraAdapter(gpu, shape, 9);
    const other = createLoraAdapter(gpu, shape, 10);
    const a = await gpu.read(first.a);
    expect(first.a.shape).toEqual([8, 67]);
    expect(first.b.shape).toEqual([45, 8]);
    expect(await gpu.read(again.a)).toEqual(a);
    expect(await gpu.read(other.a)).not.toEqual(a);
    const bound = 1 / Math.sqrt(67);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const x = randn(33 * 67, 1);
    const w = randn(45 * 67, 2);
    const xt = gpu.upload(x, [33, 67]);
    const wt = gpu.upload(w, [45, 67]);
    const { y, saved } = loraLinear(gpu, xt, wt, first);
    const base = matmul(gpu, xt, wt, { transB: true });
    expect(await gpu.read(y)).toEqual(await gpu.read(base));
    expectClose(await gpu.read(y), matmulCpu(x, w, { m: 33, k: 67, n: 45, transB: true }), rtol, atol, "y");
    gpu.release(first.a, first.b, again.a, again.b, other.a, other.b, xt, wt, y, saved.h, base);
  });

  it("rejects mismatched shapes and bad dropout, naming the op and tensor", async () => {
    const gpu = await testGpu();
    const x = gpu.upload(randn(12, 1), [3, 4], undefined, "x");
    const w = gpu.upload(randn(20, 2), [5, 4], undefined, "q_proj");
    const a = gpu.upload(randn(6, 3), [2, 3], undefined, "lora_A");
    const b = gpu.upload(randn(10, 4), [5, 2], undefined, "lora_B");
    const goodA = gpu.upload(randn(8, 3), [2, 4], undefined, "lora_A");
    expect(() => loraLinear(gpu, x, w, { a, b, alpha: 1 })).toThrow(/loraLinear: adapter.a has shape \[2, 3\], expected \[-1, 4\]/);
    expect(() => loraLinear(gpu, x, w, { a: goodA, b: a, alpha: 1 })).toThrow(
      /loraLinear: adapter.b has shape \[2, 3\], expected \[5, 2\]/,
    );
    expect(() => loraLinear(gpu, x, w, { a: goodA, b, alpha: 1 }, { p: 1, seed: 0, step: 0 })).toThrow(/dropout p must be in \[0, 1\)/);
    expect(() => loraLinear(gpu, x, w, { a: goodA, b, alpha: 1 }, { p: 0.1, seed: -1, step: 0 })).toThrow(/dropout seed must be a u32/);
    gpu.release(x, w, a, b, goodA);
  });
});
