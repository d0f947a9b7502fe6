import { describe, expect, it } from "vitest";
import { createKvCache } from "../../src/ops/attention";
import { rope, ropeBackward, ropeBackwardCpu, ropeCpu, ropeIntoCache, ropeInverseFrequencies, ropePair } from "../../src/ops/rope";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn, rng } from "../numerics";

// The GPU angle is the same f32 product as the reference's and the kernel's own sin/cos are good to
// ~1e-7, so each output a·cos − b·sin (|a|, |b| ≤ 1) is within a few f32 roundings of the reference.
const atol = 2e-6;

const llama31 = {
  headDim: 128,
  theta: 500000,
  interleaved: false,
  scaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
} as const;

function randomPositions(rows: number, seed: number, max: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: rows }, () => Math.floor(r() * max));
}

describe("rope inverse frequencies", () => {
  it("are theta^(−2i/D) without scaling", () => {
    const inv = ropeInverseFrequencies({ headDim: 8, theta: 10000, interleaved: true });
    expectClose(inv, [1, 0.1, 0.01, 0.001], 1e-7, 0, "inv_freq");
  });

  // Llama-3.1 (theta 5e5, head_dim 128): wavelength 2π/inv_freq below 8192/4 = 2048 is kept (i ≤ 28),
  // above 8192/1 is divided by 8 (i ≥ 35), and between, with s = (8192/wavelength − 1)/(4 − 1),
  // inv_freq·((1 − s)/8 + s). E.g. i = 30: inv 5e5^(−60/128) = 2.1311195e-3, wavelength 2948.30,
  // s = 0.593918, scaled 2.1311195e-3 · 0.643743 = 1.3718936e-3.
  it("follow Hugging Face's llama3 rope_scaling for Llama-3.1's config", () => {
    const inv = ropeInverseFrequencies(llama31);
    expect(inv.length).toBe(64);
    const expected: [number, number][] = [
      [0, 1],
      [1, 8.1461723386e-1],
      [20, 1.6560440081e-2],
      [28, 3.2114459948e-3],
      [29, 2.1665707635e-3],
      [30, 1.3718935678e-3],
      [31, 8.5675141292e-4],
      [34, 1.7850781277e-4],
      [35, 9.556212354e-5],
      [40, 3.428102196e-5],
      [63, 3.0689259889e-7],
    ];
    // f32 rounding of the result: 2^-24 relative, and torch's f32 pow may differ by another ulp.
    expectClose(
      expected.map(([i]) => inv[i]),
      expected.map(([, v]) => v),
      2.5e-7,
      0,
      "inv_freq",
    );
  });
});

describe("rope", () => {
  it.each([
    [67, 3, 8, true],
    [67, 3, 8, false],
    [5, 9, 64, true],
    [5, 9, 64, false],
    [1, 1, 2, false],
  ])(
    "forward and backward match the CPU reference (rows %i, heads %i, head_dim %i, interleaved %s)",
    async (rows, heads, headDim, interleaved) => {
      const gpu = await testGpu();
      const dims = { rows, heads, headDim, interleaved };
      const n = rows * heads * headDim;
      const x = randn(n, rows + heads * 7 + headDim);
      const dy = randn(n, rows * 3 + headDim);
      const positions = randomPositions(rows, headDim, 300);
      const invFreq = ropeInverseFrequencies({ headDim, theta: 10000, interleaved });
      const xt = gpu.upload(x, [rows, heads, headDim]);
      const pt = gpu.upload(positions, [rows]);
      const ft = gpu.upload(invFreq, [headDim / 2]);
      const y = rope(gpu, xt, pt, ft, interleaved);
      expectClose(await gpu.read(y), ropeCpu(x, positions, invFreq, dims), 0, atol, "y");
      const dyt = gpu.upload(dy, [rows, heads, headDim]);
      const dx = ropeBackward(gpu, dyt, pt, ft, interleaved);
      expectClose(await gpu.read(dx), ropeBackwardCpu(dy, positions, invFreq, dims), 0, atol, "dx");
      gpu.release(xt, pt, ft, y, dyt, dx);
    },
  );

  it("stays accurate at large positions (sin/cos of the f32 angle, reduced exactly)", async () => {
    const gpu = await testGpu();
    const rows = 33;
    const dims = { rows, heads: 1, headDim: 8, interleaved: false };
    const x = randn(rows * 8, 5);
    const positions = randomPositions(rows, 6, 131072);
    const invFreq = ropeInverseFrequencies(llama31).slice(0, 4);
    const xt = gpu.upload(x, [rows, 1, 8]);
    const pt = gpu.upload(positions, [rows]);
    const ft = gpu.upload(invFreq, [4]);
    const y = rope(gpu, xt, pt, ft, false);
    // Angles up to 1.3e5 rad: the reduction by π/2 is exact there, so the same tolerance holds.
    expectClose(await gpu.read(y), ropeCpu(x, positions, invFreq, dims), 0, atol, "y");
    gpu.release(xt, pt, ft, y);
  });

  // llama2.c keeps Meta's q/k layout; Hugging Face permutes each head's rows so that pair
  // (2i, 2i+1) moves to (i, i + D/2). Both conventions must then give the same rotation.
  it("interleaved pairs on Meta's layout equal rotate_half on Hugging Face's permuted layout", async () => {
    const gpu = await testGpu();
    const [rows, heads, headDim] = [6, 2, 8];
    const half = headDim / 2;
    const x = randn(rows * heads * headDim, 9);
    const toHf = (a: ArrayLike<number>) =>
      Float32Array.from({ length: a.length }, (_, e) => {
        const c = e % headDim;
        const base = e - c;
        return c < half ? a[base + 2 * c] : a[base + 2 * (c - half) + 1];
      });
    const positions = randomPositions(rows, 10, 50);
    const invFreq = ropeInverseFrequencies({ headDim, theta: 10000, interleaved: true });
    const pt = gpu.upload(positions, [rows]);
    const ft = gpu.upload(invFreq, [half]);
    const meta = gpu.upload(x, [rows, heads, headDim]);
    const hf = gpu.upload(toHf(x), [rows, heads, headDim]);
    const yMeta = rope(gpu, meta, pt, ft, true);
    const yHf = rope(gpu, hf, pt, ft, false);
    expectClose(await gpu.read(yHf), toHf(await gpu.read(yMeta)), 0, 1e-7, "y");
    gpu.release(pt, ft, meta, hf, yMeta, yHf);
  });

  it.each([
    [2, 3, 3, 1, 8, true, 7, 2],
    [2, 3, 3, 1, 8, false, 7, 4],
    [1, 1, 9, 3, 64, false, 5, 4],
    [3, 2, 4, 2, 16, true, 6, 0],
  ])(
    "ropeIntoCache: batch %i, %i new tokens, %i q heads, %i kv heads, head_dim %i, interleaved %s, cache %i at %i",
    async (batch, tokens, qHeads, kvHeads, headDim, interleaved, maxTokens, past) => {
      const gpu = await testGpu();
      const rows = batch * tokens;
      const q = randn(rows * qHeads * headDim, 21 + headDim);
      const k = randn(rows * kvHeads * headDim, 22 + batch);
      const v = randn(rows * kvHeads * headDim, 23 + tokens);
      const positions = randomPositions(rows, 24, 200);
      const invFreq = ropeInverseFrequencies({ headDim, theta: 10000, interleaved });
      const cache = createKvCache(gpu, { batch, maxTokens, kvHeads, headDim });
      const before = Float32Array.from(randn(batch * maxTokens * kvHeads * headDim, 25));
      gpu.write(cache.k, new Uint8Array(before.buffer));
      gpu.write(cache.v, new Uint8Array(before.buffer));
      const ts = {
        q: gpu.upload(q, [batch, tokens, qHeads, headDim]),
        k: gpu.upload(k, [batch, tokens, kvHeads, headDim]),
        v: gpu.upload(v, [batch, tokens, kvHeads, headDim]),
      };
      const pt = gpu.upload(positions, [batch, tokens]);
      const ft = gpu.upload(invFreq, [headDim / 2]);
      const y = ropeIntoCache(gpu, ts, pt, ft, interleaved, cache, past);
      expectClose(await gpu.read(y), ropeCpu(q, positions, invFreq, { rows, heads: qHeads, headDim, interleaved }), 0, atol, "q");
      // Rows outside [past, past + tokens) keep what the cache held.
      const kRot = ropeCpu(k, positions, invFreq, { rows, heads: kvHeads, headDim, interleaved });
      const rowLength = kvHeads * headDim;
      const expected = (fresh: ArrayLike<number>) => {
        const out = Float64Array.from(before);
        for (let r = 0; r < rows; r++) {
          const at = (Math.floor(r / tokens) * maxTokens + past + (r % tokens)) * rowLength;
          for (let j = 0; j < rowLength; j++) out[at + j] = fresh[r * rowLength + j];
        }
        return out;
      };
      expectClose(await gpu.read(cache.k), expected(kRot), 0, atol, "cache.k");
      expectClose(await gpu.read(cache.v), expected(v), 0, 0, "cache.v");
      expect(() => ropeIntoCache(gpu, ts, pt, ft, interleaved, cache, maxTokens - tokens + 1)).toThrow(
        new RegExp(`ropeIntoCache: ${tokens} new tokens at position ${maxTokens - tokens + 1} overflow the cache of ${maxTokens} tokens`),
      );
      gpu.release(y, pt, ft, ts.q, ts.k, ts.v, cache.k, cache.v);
    },
  );

  it("CPU backward equals finite differences of the CPU forward", () => {
    for (const interleaved of [true, false]) {
      const dims = { rows: 3, heads: 2, headDim: 6, interleaved };
      const x = randn(36, 11);
      const dy = randn(36, 12);
      const positions = [0, 7, 130];
      const invFreq = ropeInverseFrequencies({ headDim: 6, theta: 10000, interleaved });
      const fd = finiteDifferences((xx) => dot(ropeCpu(xx, positions, invFreq, dims), dy), x);
      expectClose(ropeBackwardCpu(dy, positions, invFreq, dims), fd, 1e-6, 1e-8, "dx");
    }
  });

  it("takes [batch, tokens, heads, headDim] with positions [batch, tokens] (left-padded rows)", async () => {
    const gpu = await testGpu();
    const [batch, tokens, heads, headDim] = [2, 5, 3, 8];
    const x = randn(batch * tokens * heads * headDim, 13);
    const positions = Uint32Array.from([0, 0, 0, 1, 2, 0, 1, 2, 3, 4]);
    const invFreq = ropeInverseFrequencies({ headDim, theta: 10000, interleaved: false });
    const xt = gpu.upload(x, [batch, tokens, heads, headDim]);
    const pt = gpu.upload(positions, [batch, tokens]);
    const ft = gpu.upload(invFreq, [headDim / 2]);
    const y = rope(gpu, xt, pt, ft, false);
    expect(y.shape).toEqual([batch, tokens, heads, headDim]);
    const dims = { rows: batch * tokens, heads, headDim, interleaved: false };
    expectClose(await gpu.read(y), ropeCpu(x, positions, invFreq, dims), 0, atol, "y");
    gpu.release(xt, pt, ft, y);
  });

  it.each([false, true])(
    "ropePair rotates q and k (any head counts) in one launch as rope and ropeBackward do (interleaved %s)",
    async (interleaved) => {
      const gpu = await testGpu();
      const [rows, qHeads, kHeads, headDim] = [7, 3, 1, 6];
      const q = randn(rows * qHeads * headDim, 21);
      const k = randn(rows * kHeads * headDim, 22);
      const positions = randomPositions(rows, 23, 500);
      const invFreq = ropeInverseFrequencies({ headDim, theta: 10000, interleaved });
      const qt = gpu.upload(q, [rows, qHeads, headDim]);
      const kt = gpu.upload(k, [rows, kHeads, headDim]);
      const pt = gpu.upload(positions, [rows]);
      const ft = gpu.upload(invFreq, [headDim / 2]);
      for (const sign of [1, -1] as const) {
        const [yq, yk] = ropePair(gpu, qt, kt, pt, ft, interleaved, sign);
        const one = sign > 0 ? rope : ropeBackward;
        const [rq, rk] = [one(gpu, qt, pt, ft, interleaved), one(gpu, kt, pt, ft, interleaved)];
        // The same f32 arithmetic per pair: equal bit for bit.
        expect(Array.from(await gpu.read(yq))).toEqual(Array.from(await gpu.read(rq)));
        expect(Array.from(await gpu.read(yk))).toEqual(Array.from(await gpu.read(rk)));
        gpu.release(yq, yk, rq, rk);
      }
      gpu.release(qt, kt, pt, ft);
    },
  );

  it("rejects mismatched positions and frequencies, naming them", async () => {
    const gpu = await testGpu();
    const x = gpu.upload(randn(24, 1), [3, 2, 4]);
    const positions = gpu.upload(new Uint32Array(2), [2]);
    const invFreq = gpu.upload(new Float32Array(2), [2]);
    expect(() => rope(gpu, x, positions, invFreq, false)).toThrow(/rope: positions has shape \[2\], expected \[3\]/);
    const p3 = gpu.upload(new Uint32Array(3), [3]);
    const f3 = gpu.upload(new Float32Array(3), [3]);
    expect(() => ropeBackward(gpu, x, p3, f3, true)).toThrow(/ropeBackward: invFreq has shape \[3\], expected \[2\]/);
    gpu.release(x, positions, invFreq, p3, f3);
  });
});
