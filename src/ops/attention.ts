/**
 * Causal grouped-query attention over [batch, tokens, heads, headDim] activations (the q/k/v
 * projections' outputs as they are): full-sequence forward and backward for training, a KV cache
 * and multi-token decode for generation, and the float64 CPU references they are tested against.
 */
import shader from "../../shaders/attention.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { expectShape, type Tensor } from "../gpu/tensor";

/** Head sizes the kernel holds in registers (vec4 arrays of 32). */
const maxHeadDim = 128;
const workgroupSize = 64;

export interface AttentionOptions {
  /** u32 [batch, tokens], 1 = real token; keys marked 0 are hidden from every query (left or right padding). */
  keyMask?: Tensor;
  /** Sliding window (Mistral): query position i sees keys j with i − window < j ≤ i; absent or 0: every earlier key. */
  window?: number;
}

export interface AttentionSaved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
  keyMask?: Tensor;
  window?: number;
}

export interface KvCache {
  /** [batch, maxTokens, kvHeads, headDim], the layout of a k projection's output. */
  k: Tensor;
  v: Tensor;
  batch: number;
  maxTokens: number;
  kvHeads: number;
  headDim: number;
}

export interface KvCacheShape {
  batch: number;
  maxTokens: number;
  kvHeads: number;
  headDim: number;
}

interface Dims {
  batch: number;
  qTokens: number;
  kvTokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/**
 * q [B, T, Hq, D], k and v [B, T, Hkv, D] → out [B, T, Hq, D] and lse [B, Hq, T] (kept for backward).
 * A query row that sees no key (inside left padding) gets out 0 and lse 0.
 */
export function attention(gpu: Gpu, q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): { out: Tensor; lse: Tensor } {
  const dims = checkQkv("attention", q, k, v);
  const out = gpu.tensor(q.shape, "f32", "attention.out");
  const lse = gpu.tensor([dims.batch, dims.heads, dims.qTokens], "f32", "attention.lse");
  gpu.dispatch({
    op: "attention.forward",
    shader,
    entryPoint: "forward",
    uniforms: params("attention", dims, 0, options.keyMask, options.window),
    bindings: { q, k, v, mask: maskBinding(gpu, options.keyMask), out, lse },
    workgroups: queryGrid(dims),
  });
  return { out, lse };
}

/** Gradients of q, k and v given dOut; dk and dv are summed over the query heads sharing each kv head. */
export function attentionBackward(gpu: Gpu, dOut: Tensor, saved: AttentionSaved): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const { q, k, v, out, lse, keyMask, window } = saved;
  const dims = checkQkv("attentionBackward", q, k, v);
  expectShape("attentionBackward", "dOut", dOut, q.shape);
  expectShape("attentionBackward", "out", out, q.shape);
  expectShape("attentionBackward", "lse", lse, [dims.batch, dims.heads, dims.qTokens]);
  const uniforms = params("attentionBackward", dims, 0, keyMask, window);
  const mask = maskBinding(gpu, keyMask);
  const stats = gpu.tensor([dims.batch, dims.heads, dims.qTokens, 2], "f32", "attention.stats");
  gpu.dispatch({
    op: "attention.backward_delta",
    shader,
    entryPoint: "backward_delta",
    uniforms,
    bindings: { out_saved: out, lse_saved: lse, d_out: dOut, stats },
    workgroups: queryGrid(dims),
  });
  const dq = gpu.tensor(q.shape, "f32", "attention.dq");
  gpu.dispatch({
    op: "attention.backward_dq",
    shader,
    entryPoint: "backward_dq",
    uniforms,
    bindings: { q, k, v, mask, d_out: dOut, stats_saved: stats, dq },
    workgroups: queryGrid(dims),
  });
  const dk = gpu.tensor(k.shape, "f32", "attention.dk");
  const dv = gpu.tensor(v.shape, "f32", "attention.dv");
  gpu.dispatch({
    op: "attention.backward_dkv",
    shader,
    entryPoint: "backward_dkv",
    uniforms,
    bindings: { q, k, v, mask, d_out: dOut, stats_saved: stats, dk, dv },
    workgroups: [Math.ceil(dims.kvTokens / workgroupSize), dims.kvHeads, dims.batch],
  });
  gpu.release(stats);
  return { dq, dk, dv };
}

/** A zeroed cache; release it with `gpu.release(cache.k, cache.v)`. */
export function createKvCache(gpu: Gpu, shape: KvCacheShape): KvCache {
  const { batch, maxTokens, kvHeads, headDim } = shape;
  checkHeadDim("createKvCache", headDim);
  const dims = [batch, maxTokens, kvHeads, headDim];
  return {
    k: gpu.zeros(dims, "f32", "kvcache.k"),
    v: gpu.zeros(dims, "f32", "kvcache.v"),
    ...shape,
  };
}

/** k and v [B, Tnew, Hkv, D] f32 fit the cache at token positions [pastLength, pastLength + Tnew). */
export function checkKvWrite(op: string, cache: KvCache, k: Tensor, v: Tensor, pastLength: number): void {
  const { batch, maxTokens, kvHeads, headDim } = cache;
  expectShape(op, "k", k, [batch, -1, kvHeads, headDim]);
  expectShape(op, "v", v, k.shape);
  checkF32(op, "k", k);
  checkF32(op, "v", v);
  const newTokens = k.shape[1];
  if (!Number.isInteger(pastLength) || pastLength < 0 || pastLength + newTokens > maxTokens) {
    throw new Error(`${op}: ${newTokens} new tokens at position ${pastLength} overflow the cache of ${maxTokens} tokens`);
  }
}

/**
 * q [B, Tnew, Hq, D] for the tokens at positions [pastLength, pastLength + Tnew), whose k and v are
 * already written to the cache → out [B, Tnew, Hq, D]. New token i sees cache positions
 * ≤ pastLength + i, so several tokens (speculative verification) are causal among themselves.
 * keyMask is u32 [B, maxTokens] over cache positions (left padding).
 */
export function attentionDecode(
  gpu: Gpu,
  q: Tensor,
  cache: KvCache,
  options: { pastLength: number; keyMask?: Tensor; window?: number },
): Tensor {
  const { batch, maxTokens, kvHeads, headDim } = cache;
  expectShape("attentionDecode", "q", q, [batch, -1, -1, headDim]);
  const [, qTokens, heads] = q.shape;
  checkHeads("attentionDecode", heads, kvHeads);
  checkF32("attentionDecode", "q", q);
  const { pastLength } = options;
  if (!Number.isInteger(pastLength) || pastLength < 0 || pastLength + qTokens > maxTokens) {
    throw new Error(`attentionDecode: ${qTokens} query tokens at position ${pastLength} do not fit the cache of ${maxTokens} tokens`);
  }
  const dims: Dims = { batch, qTokens, kvTokens: maxTokens, heads, kvHeads, headDim };
  const out = gpu.tensor(q.shape, "f32", "attention.decode.out");
  gpu.dispatch({
    op: "attention.decode",
    shader,
    entryPoint: "decode",
    uniforms: params("attentionDecode", dims, pastLength, options.keyMask, options.window),
    bindings: { q, k: cache.k, v: cache.v, mask: maskBinding(gpu, options.keyMask), out },
    workgroups: [qTokens, heads / decodeGroupHeads(heads, kvHeads), batch],
  });
  return out;
}

function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor): Dims {
  expectShape(op, "q", q, [-1, -1, -1, -1]);
  const [batch, tokens, heads, headDim] = q.shape;
  expectShape(op, "k", k, [batch, tokens, -1, headDim]);
  expectShape(op, "v", v, k.shape);
  checkF32(op, "q", q);
  checkF32(op, "k", k);
  checkF32(op, "v", v);
  checkHeadDim(op, headDim);
  checkHeads(op, heads, k.shape[2]);
  return { batch, qTokens: tokens, kvTokens: tokens, heads, kvHeads: k.shape[2], headDim };
}

function checkF32(op: string, name: string, t: Tensor): void {
  if (t.dtype !== "f32") throw new Error(`${op}: ${name} is ${t.dtype}, expected f32`);
}

function checkHeadDim(op: string, headDim: number): void {
  if (headDim % 4 !== 0 || headDim <= 0 || headDim > maxHeadDim) {
    throw new Error(`${op}: head dimension ${headDim} must be a multiple of 4 between 4 and ${maxHeadDim}`);
  }
}

function checkHeads(op: string, heads: number, kvHeads: number): void {
  if (kvHeads <= 0 || heads % kvHeads !== 0) {
    throw new Error(`${op}: ${heads} query heads are not a multiple of ${kvHeads} kv heads`);
  }
}

function params(op: string, dims: Dims, past: number, keyMask: Tensor | undefined, window = 0) {
  if (!(Number.isInteger(window) && window >= 0)) throw new Error(`${op}: window ${window} must be a non-negative integer`);
  if (keyMask) {
    expectShape(op, "keyMask", keyMask, [dims.batch, dims.kvTokens]);
    if (keyMask.dtype !== "u32") throw new Error(`${op}: keyMask is ${keyMask.dtype}, expected u32`);
  }
  return {
    p: {
      q_tokens: dims.qTokens,
      kv_tokens: dims.kvTokens,
      past,
      heads: dims.heads,
      kv_heads: dims.kvHeads,
      head_dim: dims.headDim,
      masked: keyMask ? 1 : 0,
      scale: 1 / Math.sqrt(dims.headDim),
      group_heads: decodeGroupHeads(dims.heads, dims.kvHeads),
      window,
    },
  };
}

/** The query heads one decode workgroup takes: the largest divisor of the GQA group size up to 4 (attention.wgsl). */
function decodeGroupHeads(heads: number, kvHeads: number): number {
  const group = heads / kvHeads;
  return [4, 3, 2].find((d) => group % d === 0) ?? 1;
}

function queryGrid(dims: Dims): [number, number, number] {
  return [Math.ceil(dims.qTokens / workgroupSize), dims.heads, dims.batch];
}

/** The kernels bind `mask` even when unmasked (p.masked = 0 keeps it unread): one u32 per device. */
const noMask = new WeakMap<Gpu, Tensor>();

function maskBinding(gpu: Gpu, keyMask: Tensor | undefined): Tensor {
  if (keyMask) return keyMask;
  let t = noMask.get(gpu);
  if (!t) {
    t = gpu.zeros([1], "u32", "attention.no_mask");
    noMask.set(gpu, t);
  }
  return t;
}

export interface AttentionDims {
  batch: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** [batch, tokens], 1 = real token. */
  keyMask?: ArrayLike<number>;
  /** As `AttentionOptions.window`. */
  window?: number;
}

/** The probabilities of query row (b, i, h) over keys 0..i, 0 where hidden, and the row's lse (0 if it sees no key). */
function probabilitiesCpu(q: ArrayLike<number>, k: ArrayLike<number>, d: AttentionDims, b: number, i: number, h: number) {
  const { tokens, heads, kvHeads, headDim, keyMask, window } = d;
  const g = Math.floor(h / (heads / kvHeads));
  const scale = 1 / Math.sqrt(headDim);
  const s = new Float64Array(i + 1).fill(-Infinity);
  for (let j = 0; j <= i; j++) {
    if (keyMask && !keyMask[b * tokens + j]) continue;
    if (window && i - j >= window) continue;
    let acc = 0;
    for (let c = 0; c < headDim; c++)
      acc += q[((b * tokens + i) * heads + h) * headDim + c] * k[((b * tokens + j) * kvHeads + g) * headDim + c];
    s[j] = acc * scale;
  }
  const max = Math.max(...s);
  if (max === -Infinity) return { probs: new Float64Array(i + 1), lse: 0, g };
  let sum = 0;
  for (const x of s) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return { probs: s.map((x) => Math.exp(x - lse)), lse, g };
}

/** CPU reference in float64: out [B, T, Hq, D] and lse [B, Hq, T]. */
export function attentionCpu(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, d: AttentionDims) {
  const { batch, tokens, heads, kvHeads, headDim } = d;
  const out = new Float64Array(batch * tokens * heads * headDim);
  const lse = new Float64Array(batch * heads * tokens);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tokens; i++) {
        const row = probabilitiesCpu(q, k, d, b, i, h);
        lse[(b * heads + h) * tokens + i] = row.lse;
        const o = ((b * tokens + i) * heads + h) * headDim;
        row.probs.forEach((pj, j) => {
          for (let c = 0; c < headDim; c++) out[o + c] += pj * v[((b * tokens + j) * kvHeads + row.g) * headDim + c];
        });
      }
    }
  }
  return { out, lse };
}

/** CPU reference in float64 of the gradients of q, k, v given dOut. */
export function attentionBackwardCpu(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dOut: ArrayLike<number>,
  d: AttentionDims,
) {
  const { batch, tokens, heads, kvHeads, headDim } = d;
  const scale = 1 / Math.sqrt(headDim);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tokens; i++) {
        const { probs, g } = probabilitiesCpu(q, k, d, b, i, h);
        const qi = ((b * tokens + i) * heads + h) * headDim;
        const dp = new Float64Array(i + 1);
        let delta = 0;
        for (let j = 0; j <= i; j++) {
          const kj = ((b * tokens + j) * kvHeads + g) * headDim;
          for (let c = 0; c < headDim; c++) {
            dp[j] += dOut[qi + c] * v[kj + c];
            dv[kj + c] += probs[j] * dOut[qi + c];
          }
          delta += probs[j] * dp[j];
        }
        for (let j = 0; j <= i; j++) {
          const ds = probs[j] * (dp[j] - delta) * scale;
          const kj = ((b * tokens + j) * kvHeads + g) * headDim;
          for (let c = 0; c < headDim; c++) {
            dq[qi + c] += ds * k[kj + c];
            dk[kj + c] += ds * q[qi + c];
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}
