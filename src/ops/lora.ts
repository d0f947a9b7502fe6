/**
 * A Linear layer with a LoRA adapter: y = x·Wᵀ + (alpha/r)·(dropout(x)·Aᵀ)·Bᵀ, W [out, in] frozen
 * (f32, or f16 where the adapter has shader-f16), A [r, in], B [out, r] trained. Built on `matmul`;
 * forward, backward and the float64 CPU reference side by side.
 *
 * Dropout masks are regenerated in backward from (seed, step, element index) rather than stored:
 * a mask would cost tokens × in values per adapted layer for the whole step, while regenerating it is
 * a few integer operations per element in a pass backward makes anyway.
 */
import shader from "../../shaders/lora.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, expectShape, numel, reshape, type Tensor } from "../gpu/tensor";
import { mulberry32 } from "../seeded-random";
import { matmul, matmulCpu } from "./matmul";

export interface LoraAdapter {
  /** [r, in], f32. */
  a: Tensor;
  /** [out, r], f32. */
  b: Tensor;
  alpha: number;
}

/** Dropout on the adapter's input; the same (seed, step) always drops the same elements. */
export interface LoraDropout {
  /** Probability of dropping an element, in [0, 1). */
  p: number;
  /** u32; give each adapted layer its own. */
  seed: number;
  /** u32; the training step, so each step draws a new mask. */
  step: number;
}

/**
 * What backward needs: the forward's input (the caller keeps it alive until backward) and the
 * rank-r activation h [tokens, r], which the caller releases after backward.
 */
export interface LoraSaved {
  x: Tensor;
  h: Tensor;
  dropout?: LoraDropout;
}

export interface LoraGradients {
  dx: Tensor;
  da: Tensor;
  db: Tensor;
}

export interface LoraAdapterShape {
  inFeatures: number;
  outFeatures: number;
  rank: number;
  alpha: number;
}

/**
 * A fresh adapter initialised as PEFT does: A ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5),
 * B = 0, so the adapted layer starts out equal to the frozen one. Seeded, so runs replay exactly.
 */
export function createLoraAdapter(gpu: Gpu, shape: LoraAdapterShape, seed: number, label = "lora"): LoraAdapter {
  const { inFeatures, outFeatures, rank } = shape;
  const bound = 1 / Math.sqrt(inFeatures);
  const random = mulberry32(seed);
  const a = Float32Array.from({ length: rank * inFeatures }, () => (random() * 2 - 1) * bound);
  return {
    a: gpu.upload(a, [rank, inFeatures], "f32", `${label}.lora_A`),
    b: gpu.zeros([outFeatures, rank], "f32", `${label}.lora_B`),
    alpha: shape.alpha,
  };
}

/** x [..., in] → y [..., out]. `dropout` is for training; leave it out for evaluation. */
export function loraLinear(
  gpu: Gpu,
  x: Tensor,
  weight: Tensor,
  adapter: LoraAdapter,
  dropout?: LoraDropout,
): { y: Tensor; saved: LoraSaved } {
  const s = loraShape("loraLinear", x, weight, adapter, dropout);
  const x2 = reshape(x, [s.tokens, s.inFeatures]);
  const active = dropout?.p ? dropout : undefined;
  const xd = active ? loraDropout(gpu, x2, active) : x2;
  const h = matmul(gpu, xd, adapter.a, { transB: true });
  const y = matmul(gpu, x2, weight, { transB: true });
  matmul(gpu, h, adapter.b, { transB: true, alpha: s.scale, accumulate: y });
  if (active) gpu.release(xd);
  return { y: reshape(y, [...x.shape.slice(0, -1), s.outFeatures]), saved: { x, h, dropout: active } };
}

/**
 * Gradients for dy [..., out]: dx (through W and the adapter), dA and dB. With `into`, dA and dB are
 * added to those tensors (gradient accumulation over micro-batches) and returned.
 */
export function loraLinearBackward(
  gpu: Gpu,
  dy: Tensor,
  weight: Tensor,
  adapter: LoraAdapter,
  saved: LoraSaved,
  /** Gradients to add into in place (micro-batches accumulate); dx too when given (the residual stream's). */
  into?: { da: Tensor; db: Tensor; dx?: Tensor },
): LoraGradients {
  const op = "loraLinearBackward";
  const s = loraShape(op, saved.x, weight, adapter, saved.dropout);
  expectShape(op, "dy", dy, [...saved.x.shape.slice(0, -1), s.outFeatures]);
  expectShape(op, "saved.h", saved.h, [s.tokens, s.rank]);
  if (into) {
    expectShape(op, "into.da", into.da, adapter.a.shape);
    expectShape(op, "into.db", into.db, adapter.b.shape);
    if (into.dx) expectShape(op, "into.dx", into.dx, saved.x.shape);
  }
  const dy2 = reshape(dy, [s.tokens, s.outFeatures]);
  const x2 = reshape(saved.x, [s.tokens, s.inFeatures]);
  const db = matmul(gpu, dy2, saved.h, { transA: true, alpha: s.scale, accumulate: into?.db });
  const dh = matmul(gpu, dy2, adapter.b, { alpha: s.scale });
  const dx = matmul(gpu, dy2, weight, { accumulate: into?.dx && reshape(into.dx, [s.tokens, s.inFeatures]) });
  const xd = saved.dropout ? loraDropout(gpu, x2, saved.dropout) : x2;
  const da = matmul(gpu, dh, xd, { transA: true, accumulate: into?.da });
  if (saved.dropout) {
    const dxd = matmul(gpu, dh, adapter.a);
    dispatchDropout(gpu, "dropout_accumulate", dxd, dx, saved.dropout);
    gpu.release(dh, xd, dxd);
  } else {
    matmul(gpu, dh, adapter.a, { accumulate: dx });
    gpu.release(dh);
  }
  return { dx: reshape(dx, saved.x.shape), da, db };
}

/** dropout(x) as a new tensor: kept elements scaled by 1/(1−p), the rest 0. */
export function loraDropout(gpu: Gpu, x: Tensor, dropout: LoraDropout): Tensor {
  const out = gpu.tensor(x.shape, "f32", "lora.dropout");
  dispatchDropout(gpu, "dropout", x, out, dropout);
  return out;
}

function dispatchDropout(gpu: Gpu, entryPoint: "dropout" | "dropout_accumulate", x: Tensor, out: Tensor, d: LoraDropout): void {
  const n = numel(x.shape);
  gpu.dispatch({
    op: `lora.${entryPoint}`,
    shader,
    entryPoint,
    uniforms: { p: { n, seed: d.seed, step: d.step, threshold: dropThreshold(d.p), scale: 1 / (1 - d.p) } },
    bindings: { x, out },
    workgroups: grid(Math.ceil(n / 256)),
  });
}

/** An element is kept iff its 32-bit hash ≥ this, so it is dropped with probability p (to 2^-32). */
function dropThreshold(p: number): number {
  return Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32));
}

interface LoraShape {
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  rank: number;
  scale: number;
}

function loraShape(op: string, x: Tensor, weight: Tensor, adapter: LoraAdapter, dropout?: LoraDropout): LoraShape {
  if (weight.shape.length !== 2) throw new Error(`${op}: weight ${describe(weight)} must be [out, in]`);
  const [outFeatures, inFeatures] = weight.shape;
  const rank = adapter.a.shape[0] ?? 0;
  if (x.dtype !== "f32" || x.shape.length < 1) throw new Error(`${op}: x ${describe(x)} must be f32 [..., in]`);
  expectShape(op, "x", x, [...x.shape.slice(0, -1), inFeatures]);
  expectShape(op, "adapter.a", adapter.a, [-1, inFeatures]);
  expectShape(op, "adapter.b", adapter.b, [outFeatures, rank]);
  for (const [name, t] of [
    ["adapter.a", adapter.a],
    ["adapter.b", adapter.b],
  ] as const) {
    if (t.dtype !== "f32") throw new Error(`${op}: ${name} ${describe(t)} must be f32`);
  }
  if (rank < 1) throw new Error(`${op}: adapter rank must be ≥ 1, got adapter.a ${describe(adapter.a)}`);
  if (dropout) {
    if (!(dropout.p >= 0 && dropout.p < 1)) throw new Error(`${op}: dropout p must be in [0, 1), got ${dropout.p}`);
    for (const k of ["seed", "step"] as const) {
      const v = dropout[k];
      if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) throw new Error(`${op}: dropout ${k} must be a u32, got ${v}`);
    }
  }
  return { tokens: numel(x.shape) / inFeatures, inFeatures, outFeatures, rank, scale: adapter.alpha / rank };
}

/** Shapes of the CPU reference's row-major operands: x [tokens, in], W [out, in], A [r, in], B [out, r]. */
export interface LoraCpuShape {
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  rank: number;
  alpha: number;
}

/** CPU reference: the GPU's dropout multipliers (0 or 1/(1−p)) for n elements, bit-exact in its mask. */
export function loraDropoutMultipliersCpu(n: number, dropout: LoraDropout): Float64Array {
  const threshold = dropThreshold(dropout.p);
  const key = pcgCpu((dropout.seed ^ pcgCpu(dropout.step)) >>> 0);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pcgCpu((pcgCpu(i) ^ key) >>> 0) >= threshold ? 1 / (1 - dropout.p) : 0;
  return out;
}

function pcgCpu(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** CPU reference forward in float64; `multipliers` (one per x element) applies dropout. */
export function loraLinearCpu(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: LoraCpuShape,
  multipliers?: ArrayLike<number>,
): Float64Array {
  const { tokens: t, inFeatures: i, outFeatures: o, rank: r } = shape;
  const xd = multipliers ? Float64Array.from(x, (v, k) => v * multipliers[k]) : x;
  const h = matmulCpu(xd, a, { m: t, k: i, n: r, transB: true });
  const low = matmulCpu(h, b, { m: t, k: r, n: o, transB: true });
  const y = matmulCpu(x, weight, { m: t, k: i, n: o, transB: true });
  for (let k = 0; k < y.length; k++) y[k] += (shape.alpha / r) * low[k];
  return y;
}

/** CPU reference backward in float64: gradients of Σ dy·y with respect to x, A and B. */
export function loraLinearBackwardCpu(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: LoraCpuShape,
  multipliers?: ArrayLike<number>,
): { dx: Float64Array; da: Float64Array; db: Float64Array } {
  const { tokens: t, inFeatures: i, outFeatures: o, rank: r } = shape;
  const scale = shape.alpha / r;
  const xd = multipliers ? Float64Array.from(x, (v, k) => v * multipliers[k]) : x;
  const h = matmulCpu(xd, a, { m: t, k: i, n: r, transB: true });
  const dh = matmulCpu(dy, b, { m: t, k: o, n: r }).map((v) => v * scale);
  const db = matmulCpu(dy, h, { m: o, k: t, n: r, transA: true }).map((v) => v * scale);
  const da = matmulCpu(dh, xd, { m: r, k: t, n: i, transA: true });
  const dxd = matmulCpu(dh, a, { m: t, k: r, n: i });
  const dx = matmulCpu(dy, weight, { m: t, k: o, n: i });
  for (let k = 0; k < dx.length; k++) dx[k] += dxd[k] * (multipliers ? multipliers[k] : 1);
  return { dx, da, db };
}
