import { describe, expect, it } from "vitest";
import type { Gpu } from "../../src/gpu/context";
import {
  attention,
  attentionBackward,
  attentionBackwardCpu,
  attentionCpu,
  attentionDecode,
  checkKvWrite,
  createKvCache,
} from "../../src/ops/attention";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn } from "../numerics";

// f32 kernels against float64 references: each score is a head_dim-term dot product and each output a
// softmax-weighted sum over ≤ 67 keys, so rounding stays near 100·2^-24 relative; outputs are averages
// of values in [−1, 1], so an absolute floor of 1e-5 covers those that cancel to near zero.
const rtol = 1e-4;
const atol = 1e-5;

interface Case {
  batch: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Left padding per sequence (its first keys are masked), or undefined for no mask. */
  padding?: number[];
  /** Masks one more key in the middle of every sequence, to exercise holes in the mask. */
  hole?: boolean;
  /** Sliding window (Mistral), shorter than the sequence where given. */
  window?: number;
}

function keyMaskOf(c: Case, tokens = c.tokens): Uint32Array | undefined {
  if (!c.padding) return undefined;
  const mask = new Uint32Array(c.batch * tokens);
  for (let b = 0; b < c.batch; b++) {
    for (let j = 0; j < tokens; j++) mask[b * tokens + j] = j < c.padding[b] ? 0 : 1;
    if (c.hole && c.tokens > 3) mask[b * tokens + c.padding[b] + 2] = 0;
  }
  return mask;
}

function inputs(c: Case, seed: number) {
  const { batch, tokens, heads, kvHeads, headDim } = c;
  return {
    // q at scale 3 makes some rows peaked (scores up to ~3·headDim^0.5/3), others flat.
    q: randn(batch * tokens * heads * headDim, seed, 3),
    k: randn(batch * tokens * kvHeads * headDim, seed + 1),
    v: randn(batch * tokens * kvHeads * headDim, seed + 2),
    dOut: randn(batch * tokens * heads * headDim, seed + 3),
    keyMask: keyMaskOf(c),
  };
}

function upload(gpu: Gpu, c: Case, x: ReturnType<typeof inputs>) {
  const { batch, tokens, heads, kvHeads, headDim } = c;
  return {
    q: gpu.upload(x.q, [batch, tokens, heads, headDim], "f32", "q"),
    k: gpu.upload(x.k, [batch, tokens, kvHeads, headDim], "f32", "k"),
    v: gpu.upload(x.v, [batch, tokens, kvHeads, headDim], "f32", "v"),
    keyMask: x.keyMask && gpu.upload(x.keyMask, [batch, tokens], "u32", "keyMask"),
  };
}

const cases: Case[] = [
  { batch: 2, tokens: 1, heads: 4, kvHeads: 2, headDim: 8 },
  { batch: 2, tokens: 7, heads: 9, kvHeads: 3, headDim: 64 },
  { batch: 2, tokens: 67, heads: 4, kvHeads: 2, headDim: 8 },
  { batch: 2, tokens: 7, heads: 4, kvHeads: 2, headDim: 8, padding: [3, 0] },
  { batch: 2, tokens: 67, heads: 9, kvHeads: 3, headDim: 64, padding: [0, 20], hole: true },
  { batch: 2, tokens: 67, heads: 4, kvHeads: 4, headDim: 128, padding: [5, 1] },
  // Windows shorter than the sequence: each query sees its own key only, or its last 9 (past the padding for some).
  { batch: 1, tokens: 7, heads: 4, kvHeads: 2, headDim: 8, window: 1 },
  { batch: 2, tokens: 67, heads: 9, kvHeads: 3, headDim: 64, padding: [0, 20], hole: true, window: 9 },
];

const describeCase = (c: Case) =>
  `B ${c.batch}, T ${c.tokens}, Hq ${c.heads}/Hkv ${c.kvHeads}, D ${c.headDim}${c.padding ? `, left padding ${c.padding}${c.hole ? " + hole" : ""}` : ""}${c.window ? `, window ${c.window}` : ""}`;

describe("attention", () => {
  it.each(cases.map((c) => [describeCase(c), c] as const))("forward and backward match the CPU reference (%s)", async (_, c) => {
    const gpu = await testGpu();
    const x = inputs(c, c.tokens * 13 + c.headDim);
    const t = upload(gpu, c, x);
    const { out, lse } = attention(gpu, t.q, t.k, t.v, { keyMask: t.keyMask, window: c.window });
    const ref = attentionCpu(x.q, x.k, x.v, { ...c, keyMask: x.keyMask });
    const outGpu = await gpu.read(out);
    expectClose(outGpu, ref.out, rtol, atol, "out");
    expectClose(await gpu.read(lse), ref.lse, rtol, atol, "lse");
    if (c.padding && c.padding[0] > 0) {
      // Query rows inside the left padding see no key at all: 0, not NaN.
      const row = c.heads * c.headDim;
      expect(Array.from(outGpu.subarray(0, c.padding[0] * row)).every((y) => y === 0)).toBe(true);
    }

    const dOut = gpu.upload(x.dOut, t.q.shape);
    const { dq, dk, dv } = attentionBackward(gpu, dOut, { ...t, out, lse, window: c.window });
    const grads = attentionBackwardCpu(x.q, x.k, x.v, x.dOut, { ...c, keyMask: x.keyMask });
    // Backward sums ≤ T·Hq/Hkv products of recomputed probabilities: 1e-4 relative, 2e-5 absolute.
    expectClose(await gpu.read(dq), grads.dq, 1e-4, 2e-5, "dq");
    expectClose(await gpu.read(dk), grads.dk, 1e-4, 2e-5, "dk");
    expectClose(await gpu.read(dv), grads.dv, 1e-4, 2e-5, "dv");
    gpu.release(t.q, t.k, t.v, t.keyMask, out, lse, dOut, dq, dk, dv);
  });

  it.each([undefined, 3])("CPU backward equals finite differences of the CPU forward (GQA, padding, hole, window %s)", (window) => {
    const c: Case = { batch: 2, tokens: 6, heads: 4, kvHeads: 2, headDim: 4, padding: [2, 0], hole: true, window };
    const x = inputs(c, 21);
    const d = { ...c, keyMask: x.keyMask };
    const loss = (q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>) => dot(attentionCpu(q, k, v, d).out, x.dOut);
    const grads = attentionBackwardCpu(x.q, x.k, x.v, x.dOut, d);
    expectClose(
      grads.dq,
      finiteDifferences((q) => loss(q, x.k, x.v), x.q),
      1e-6,
      1e-8,
      "dq",
    );
    expectClose(
      grads.dk,
      finiteDifferences((k) => loss(x.q, k, x.v), x.k),
      1e-6,
      1e-8,
      "dk",
    );
    expectClose(
      grads.dv,
      finiteDifferences((v) => loss(x.q, x.k, v), x.v),
      1e-6,
      1e-8,
      "dv",
    );
  });

  it.each([
    [{ batch: 2, tokens: 11, heads: 9, kvHeads: 3, headDim: 8, padding: [4, 0] }, [4, 3, 1, 1, 2]],
    [{ batch: 1, tokens: 9, heads: 4, kvHeads: 2, headDim: 64 }, [1, 1, 5, 1, 1]],
    // Decode workgroups take 4 (of 8), 3 (of 6) and 1 (of 5, and without GQA) query heads of a kv head.
    [{ batch: 2, tokens: 7, heads: 8, kvHeads: 1, headDim: 12, padding: [0, 2] }, [3, 1, 2, 1]],
    [{ batch: 1, tokens: 6, heads: 12, kvHeads: 2, headDim: 16 }, [2, 1, 3]],
    [{ batch: 1, tokens: 5, heads: 5, kvHeads: 1, headDim: 4 }, [1, 4]],
    [{ batch: 1, tokens: 5, heads: 3, kvHeads: 3, headDim: 8 }, [2, 2, 1]],
    // Past one 64-key chunk of the decode kernel, with a first chunk that is all padding.
    [{ batch: 2, tokens: 150, heads: 4, kvHeads: 2, headDim: 8, padding: [70, 0] }, [130, 1, 1, 18]],
    // A window shorter than the sequence, over chunk boundaries, prefill and speculative-style multi-token steps.
    [{ batch: 2, tokens: 150, heads: 8, kvHeads: 2, headDim: 8, padding: [3, 0], window: 70 }, [100, 1, 5, 44]],
    [{ batch: 1, tokens: 9, heads: 4, kvHeads: 2, headDim: 16, window: 2 }, [1, 1, 3, 1, 3]],
  ] as [Case, number[]][])("decoding step by step through the KV cache equals full-sequence attention (%o, steps %j)", async (c, steps) => {
    const gpu = await testGpu();
    const { batch, tokens, heads, kvHeads, headDim } = c;
    const maxTokens = tokens + 5;
    const x = inputs(c, 77);
    const t = upload(gpu, c, x);
    const full = attention(gpu, t.q, t.k, t.v, { keyMask: t.keyMask, window: c.window });
    const cacheMask = keyMaskOf(c, maxTokens);
    const cacheMaskT = cacheMask && gpu.upload(cacheMask, [batch, maxTokens], "u32", "cacheMask");
    const cache = createKvCache(gpu, { batch, maxTokens, kvHeads, headDim });
    const slice = (data: Float32Array, h: number, from: number, n: number) => {
      const out = new Float32Array(batch * n * h * headDim);
      for (let b = 0; b < batch; b++)
        out.set(data.subarray((b * tokens + from) * h * headDim, (b * tokens + from + n) * h * headDim), b * n * h * headDim);
      return out;
    };
    const decoded = new Float32Array(x.q.length);
    let past = 0;
    for (const n of steps) {
      const k = gpu.upload(slice(x.k, kvHeads, past, n), [batch, n, kvHeads, headDim]);
      const v = gpu.upload(slice(x.v, kvHeads, past, n), [batch, n, kvHeads, headDim]);
      const q = gpu.upload(slice(x.q, heads, past, n), [batch, n, heads, headDim]);
      // The model writes the cache through ropeIntoCache; here k and v go in unrotated, row by row.
      const rowBytes = kvHeads * headDim * 4;
      for (let b = 0; b < batch; b++) {
        gpu.copy(k, cache.k, n * rowBytes, b * n * rowBytes, (b * maxTokens + past) * rowBytes);
        gpu.copy(v, cache.v, n * rowBytes, b * n * rowBytes, (b * maxTokens + past) * rowBytes);
      }
      const out = await gpu.read(attentionDecode(gpu, q, cache, { pastLength: past, keyMask: cacheMaskT, window: c.window }));
      for (let b = 0; b < batch; b++)
        decoded.set(out.subarray(b * n * heads * headDim, (b + 1) * n * heads * headDim), (b * tokens + past) * heads * headDim);
      gpu.release(k, v, q);
      past += n;
    }
    expect(past).toBe(tokens);
    // The decode kernel sums the same terms in another grouping (64-key chunks): f32 rounding only.
    expectClose(decoded, await gpu.read(full.out), 1e-5, 1e-6, "decoded vs full");
    expectClose(decoded, attentionCpu(x.q, x.k, x.v, { ...c, keyMask: x.keyMask }).out, rtol, atol, "decoded vs CPU");
    gpu.release(t.q, t.k, t.v, t.keyMask, full.out, full.lse, cacheMaskT, cache.k, cache.v);
  });

  it("rejects bad shapes, naming the op and the tensor", async () => {
    const gpu = await testGpu();
    const q = gpu.upload(randn(2 * 3 * 5 * 8, 1), [2, 3, 5, 8]);
    const k = gpu.upload(randn(2 * 3 * 2 * 8, 2), [2, 3, 2, 8]);
    const odd = gpu.upload(randn(2 * 3 * 5 * 6, 1), [2, 3, 5, 6]);
    const mask = gpu.upload(new Uint32Array(2 * 4), [2, 4]);
    expect(() => attention(gpu, q, k, k)).toThrow(/attention: 5 query heads are not a multiple of 2 kv heads/);
    expect(() => attention(gpu, odd, odd, odd)).toThrow(/attention: head dimension 6 must be a multiple of 4/);
    expect(() => attention(gpu, q, q, q, { keyMask: mask })).toThrow(/attention: keyMask has shape \[2, 4\], expected \[2, 3\]/);
    const cache = createKvCache(gpu, { batch: 2, maxTokens: 4, kvHeads: 5, headDim: 8 });
    expect(() => checkKvWrite("writeKv", cache, q, q, 2)).toThrow(/writeKv: 3 new tokens at position 2 overflow the cache of 4 tokens/);
    expect(() => checkKvWrite("writeKv", cache, k, k, 0)).toThrow(/writeKv: k has shape \[2, 3, 2, 8\], expected \[2, -1, 5, 8\]/);
    expect(() => attentionDecode(gpu, q, cache, { pastLength: 2 })).toThrow(/attentionDecode: 3 query tokens at position 2/);
    gpu.release(q, k, odd, mask, cache.k, cache.v);
  });
});
