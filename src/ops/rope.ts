/** Rotary position embedding (RoPE): inverse frequencies, forward, backward, and CPU references. */
import shader from "../../shaders/rope.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { expectShape, numel, type Tensor } from "../gpu/tensor";
import { checkKvWrite, type KvCache } from "./attention";

/** Llama 3.1's frequency scaling (HF `rope_scaling` with rope_type "llama3"); the op owns it, the config parser fills it. */
export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface RopeConfig {
  headDim: number;
  theta: number;
  /** true: pairs (x[2i], x[2i+1]) (Meta, llama2.c); false: rotate_half pairs (x[i], x[i+D/2]) (Hugging Face). */
  interleaved: boolean;
  scaling?: Llama3RopeScaling;
}

/**
 * inv_freq[i] = theta^(−2i/D), then Llama-3 frequency scaling, as Hugging Face's
 * `_compute_default_rope_parameters` and `_compute_llama3_parameters` do. Torch computes in float32;
 * this computes in float64 and rounds once, so values agree with torch to about 1 ulp of f32.
 */
export function ropeInverseFrequencies(cfg: RopeConfig): Float32Array {
  const { headDim, theta, scaling } = cfg;
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new Error(`ropeInverseFrequencies: headDim ${headDim} must be a positive even integer`);
  }
  const inv = new Float32Array(headDim / 2);
  for (let i = 0; i < inv.length; i++) {
    const base = 1 / theta ** Math.fround((2 * i) / headDim);
    inv[i] = scaling ? llama3Scaled(base, scaling) : base;
  }
  return inv;
}

/** Long wavelengths are slowed by `factor`, short ones kept, and those between interpolated smoothly. */
function llama3Scaled(invFreq: number, s: Llama3RopeScaling): number {
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const wavelen = (2 * Math.PI) / invFreq;
  if (wavelen < highFreqWavelen) return invFreq;
  if (wavelen > lowFreqWavelen) return invFreq / s.factor;
  const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return ((1 - smooth) * invFreq) / s.factor + smooth * invFreq;
}

/**
 * x [rows, heads, headDim] rotated at positions (u32 [rows]) → new tensor of x's shape. The leading
 * dimensions may also be split, e.g. x [B, T, H, D] with positions [B, T].
 */
export function rope(gpu: Gpu, x: Tensor, positions: Tensor, invFreq: Tensor, interleaved: boolean): Tensor {
  return rotate(gpu, "rope", x, positions, invFreq, interleaved, 1);
}

/** Gradient of x given dy: the rotation is orthogonal, so it is dy rotated by the opposite angle. */
export function ropeBackward(gpu: Gpu, dy: Tensor, positions: Tensor, invFreq: Tensor, interleaved: boolean): Tensor {
  return rotate(gpu, "ropeBackward", dy, positions, invFreq, interleaved, -1);
}

/**
 * `rope` of q [rows, qHeads, D] and of k [rows, kHeads, D] at the same positions (u32 [rows], or the
 * leading dimensions split as in `rope`) in one launch; sign −1 gives both `ropeBackward`s.
 */
export function ropePair(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  positions: Tensor,
  invFreq: Tensor,
  interleaved: boolean,
  sign: 1 | -1 = 1,
): [Tensor, Tensor] {
  const op = sign > 0 ? "ropePair" : "ropePairBackward";
  checkRotation(op, q, positions, invFreq);
  checkRotation(op, k, positions, invFreq);
  const [qHeads, headDim] = q.shape.slice(-2);
  const kHeads = k.shape.at(-2) as number;
  if (k.shape.at(-1) !== headDim) throw new Error(`${op}: q and k head dimensions differ (${headDim} vs ${k.shape.at(-1)})`);
  const yq = gpu.tensor(q.shape, "f32", `${op}.q`);
  const yk = gpu.tensor(k.shape, "f32", `${op}.k`);
  const half = headDim / 2;
  const qPairs = numel(q.shape) / 2;
  const kPairs = numel(k.shape) / 2;
  gpu.dispatch({
    op: `rope.pair_${sign > 0 ? "forward" : "backward"}`,
    shader,
    entryPoint: "pair",
    uniforms: {
      pp: { q_pairs: qPairs, k_pairs: kPairs, q_heads: qHeads, k_heads: kHeads, half_dim: half, interleaved: interleaved ? 1 : 0, sign },
    },
    bindings: { x: q, k_new: k, positions, inv_freq: invFreq, y: yq, y_k: yk },
    workgroups: grid(Math.ceil((qPairs + kPairs) / 64)),
  });
  return [yq, yk];
}

/** Shape and type checks shared by the rotations: x [..., heads, headDim] f32, positions its leading dims. */
function checkRotation(op: string, x: Tensor, positions: Tensor, invFreq: Tensor): void {
  if (x.shape.length < 3) throw new Error(`${op}: x has shape [${x.shape.join(", ")}], expected [..., heads, headDim]`);
  const headDim = x.shape.at(-1) as number;
  if (headDim % 2 !== 0) throw new Error(`${op}: x has shape [${x.shape.join(", ")}], head dimension ${headDim} is odd`);
  if (x.dtype !== "f32") throw new Error(`${op}: x is ${x.dtype}, expected f32`);
  expectShape(op, "positions", positions, x.shape.slice(0, -2));
  if (positions.dtype !== "u32") throw new Error(`${op}: positions is ${positions.dtype}, expected u32`);
  expectShape(op, "invFreq", invFreq, [headDim / 2]);
}

function rotate(gpu: Gpu, op: string, x: Tensor, positions: Tensor, invFreq: Tensor, interleaved: boolean, sign: number): Tensor {
  checkRotation(op, x, positions, invFreq);
  const [heads, headDim] = x.shape.slice(-2);
  const rows = x.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const y = gpu.tensor(x.shape, "f32", `${op}.y`);
  const pairs = (rows * heads * headDim) / 2;
  gpu.dispatch({
    op: `rope.${sign > 0 ? "forward" : "backward"}`,
    shader,
    uniforms: { p: { pairs, heads, half_dim: headDim / 2, interleaved: interleaved ? 1 : 0, sign } },
    bindings: { x, positions, inv_freq: invFreq, y },
    workgroups: grid(Math.ceil(pairs / 64)),
  });
  return y;
}

/**
 * One KV-cache step's q, k, v [B, T, heads, headDim] (positions u32 [B, T]) → q rotated (returned);
 * k rotated and v as it is are written into the cache at token positions [pastLength, pastLength + T).
 * Equals `rope` of q and k, then k and v copied into the cache rows, in one launch.
 */
export function ropeIntoCache(
  gpu: Gpu,
  qkv: { q: Tensor; k: Tensor; v: Tensor },
  positions: Tensor,
  invFreq: Tensor,
  interleaved: boolean,
  cache: KvCache,
  pastLength: number,
): Tensor {
  const { q, k, v } = qkv;
  const op = "ropeIntoCache";
  checkKvWrite(op, cache, k, v, pastLength);
  const { batch, maxTokens, kvHeads, headDim } = cache;
  const newTokens = k.shape[1];
  expectShape(op, "q", q, [batch, newTokens, -1, headDim]);
  if (q.dtype !== "f32") throw new Error(`${op}: q is ${q.dtype}, expected f32`);
  expectShape(op, "positions", positions, [batch, newTokens]);
  if (positions.dtype !== "u32") throw new Error(`${op}: positions is ${positions.dtype}, expected u32`);
  expectShape(op, "invFreq", invFreq, [headDim / 2]);
  const rows = batch * newTokens;
  const qHeads = q.shape[2];
  const qPairs = (rows * qHeads * headDim) / 2;
  const kPairs = (rows * kvHeads * headDim) / 2;
  const y = gpu.tensor(q.shape, "f32", `${op}.q`);
  gpu.dispatch({
    op: "rope.qkvIntoCache",
    shader,
    entryPoint: "qkv_into_cache",
    uniforms: {
      pc: {
        q_pairs: qPairs,
        k_pairs: kPairs,
        q_heads: qHeads,
        kv_heads: kvHeads,
        half_dim: headDim / 2,
        interleaved: interleaved ? 1 : 0,
        new_tokens: newTokens,
        max_tokens: maxTokens,
        past: pastLength,
      },
    },
    bindings: { x: q, positions, inv_freq: invFreq, y, k_new: k, v_new: v, cache_k: cache.k, cache_v: cache.v },
    workgroups: grid(Math.ceil((qPairs + 2 * kPairs) / 64)),
  });
  return y;
}

export interface RopeDims {
  rows: number;
  heads: number;
  headDim: number;
  interleaved: boolean;
}

/**
 * CPU reference in float64, except the angle, which is rounded to f32 as Hugging Face computes it
 * (so the reference follows the checkpoint's convention also at large positions).
 */
export function ropeCpu(x: ArrayLike<number>, positions: ArrayLike<number>, invFreq: ArrayLike<number>, dims: RopeDims): Float64Array {
  return rotateCpu(x, positions, invFreq, dims, 1);
}

export function ropeBackwardCpu(
  dy: ArrayLike<number>,
  positions: ArrayLike<number>,
  invFreq: ArrayLike<number>,
  dims: RopeDims,
): Float64Array {
  return rotateCpu(dy, positions, invFreq, dims, -1);
}

function rotateCpu(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  invFreq: ArrayLike<number>,
  dims: RopeDims,
  sign: number,
): Float64Array {
  const { rows, heads, headDim, interleaved } = dims;
  const half = headDim / 2;
  const y = new Float64Array(rows * heads * headDim);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(positions[r] * invFreq[i]);
        const c = Math.cos(angle);
        const s = sign * Math.sin(angle);
        const ia = interleaved ? base + 2 * i : base + i;
        const ib = interleaved ? ia + 1 : ia + half;
        y[ia] = x[ia] * c - x[ib] * s;
        y[ib] = x[ia] * s + x[ib] * c;
      }
    }
  }
  return y;
}
