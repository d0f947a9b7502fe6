/**
 * Spherical linear interpolation of two models' weights, tensor by tensor, as mergekit's `slerp`
 * does it: the angle Ω comes from the normalised tensors, but the ORIGINAL tensors are combined, so
 * norms interpolate too; nearly (anti-)parallel tensors (|cos Ω| > 0.9995, where sin Ω vanishes)
 * fall back to linear interpolation. t = 0 gives the first model, t = 1 the second. Computed in
 * float64 on the host; each merged tensor keeps the first model's dtype.
 */
import type { LlamaConfig } from "../model/config";
import { castHostTensor, type HostTensor, type ModelWeights, toFloat32 } from "../model/host-tensor";
import { withRopeLayout } from "../model/rope-layout";
import { type InterpolationFactor, interpolationFactorAt } from "./interpolation-factor";

/** mergekit's DOT_THRESHOLD and normalisation epsilon. */
const dotThreshold = 0.9995;
const normEps = 1e-8;

export type MergeMethod = "slerp" | "lerp";

/** Weights of a and b in the merge: a·s0 + b·s1; `lerp` says whether the parallel fallback applied. */
export interface SlerpCoefficients {
  s0: number;
  s1: number;
  lerp: boolean;
  /** cos Ω of the normalised tensors. */
  dot: number;
}

export function slerpCoefficients(a: ArrayLike<number>, b: ArrayLike<number>, t: number): SlerpCoefficients {
  if (a.length !== b.length) throw new Error(`slerp: tensors differ in size (${a.length} vs ${b.length})`);
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let i = 0; i < a.length; i++) {
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    ab += a[i] * b[i];
  }
  // A tensor of norm ≤ eps is left unnormalised, as mergekit does.
  const na = Math.sqrt(aa) > normEps ? Math.sqrt(aa) : 1;
  const nb = Math.sqrt(bb) > normEps ? Math.sqrt(bb) : 1;
  const dot = ab / (na * nb);
  if (Math.abs(dot) > dotThreshold) return { s0: 1 - t, s1: t, lerp: true, dot };
  const omega = Math.acos(dot);
  const sinOmega = Math.sin(omega);
  return { s0: Math.sin((1 - t) * omega) / sinOmega, s1: Math.sin(t * omega) / sinOmega, lerp: false, dot };
}

/** slerp(a, b, t) of two tensors (flattened), in float64. */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float64Array {
  const { s0, s1 } = slerpCoefficients(a, b, t);
  return combine(a, b, s0, s1);
}

/** (1 − t)·a + t·b, in float64. */
export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float64Array {
  if (a.length !== b.length) throw new Error(`lerp: tensors differ in size (${a.length} vs ${b.length})`);
  return combine(a, b, 1 - t, t);
}

function combine(a: ArrayLike<number>, b: ArrayLike<number>, s0: number, s1: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = s0 * a[i] + s1 * b[i];
  return out;
}

/**
 * Merges two models of the same architecture (same config and tensor names and shapes, e.g. two
 * fine-tunes of one pruned base with their adapters folded). The result has a's config; b is first
 * brought to a's RoPE row layout (a llama2.c or GGUF file against a Hugging Face folder).
 */
export function mergeWeights(a: ModelWeights, given: ModelWeights, t: InterpolationFactor, method: MergeMethod = "slerp"): ModelWeights {
  const b = withRopeLayout(given, a.config.ropeInterleaved);
  checkSameArchitecture(a, b);
  const layers = a.config.numHiddenLayers;
  const tensors = new Map<string, HostTensor>();
  for (const [name, ta] of a.tensors) {
    const tb = b.tensors.get(name) as HostTensor;
    const factor = interpolationFactorAt(t, name, layers);
    const values = (method === "slerp" ? slerp : lerp)(toFloat32(ta), toFloat32(tb), factor);
    tensors.set(name, castHostTensor({ dtype: "f32", shape: [...ta.shape], data: Float32Array.from(values) }, ta.dtype));
  }
  return { config: a.config, tensors };
}

/** What the two models must share; token ids and context length may differ (a's are kept). */
const architectureFields = [
  "hiddenSize",
  "intermediateSize",
  "numHiddenLayers",
  "numAttentionHeads",
  "numKeyValueHeads",
  "headDim",
  "vocabSize",
  "tieWordEmbeddings",
  "ropeInterleaved",
  "ropeTheta",
  "ropeScaling",
  "rmsNormEps",
] as const satisfies readonly (keyof LlamaConfig)[];

/**
 * Throws, naming the first difference, unless a and b (in the same RoPE layout) have
 * equal architectures and the same tensor names and shapes.
 */
export function checkSameArchitecture(a: ModelWeights, b: ModelWeights): void {
  const differ = architectureFields.filter((f) => JSON.stringify(a.config[f]) !== JSON.stringify(b.config[f]));
  if (differ.length > 0) {
    const show = (w: ModelWeights) => differ.map((f) => `${f} ${JSON.stringify(w.config[f])}`).join(", ");
    throw new Error(`mergeWeights: the models' architectures differ: a has ${show(a)}; b has ${show(b)}`);
  }
  for (const [name, ta] of a.tensors) {
    const tb = b.tensors.get(name);
    if (!tb) throw new Error(`mergeWeights: tensor ${name} of model a is missing from model b`);
    if (ta.shape.join() !== tb.shape.join())
      throw new Error(`mergeWeights: tensor ${name} is [${ta.shape.join(", ")}] in model a but [${tb.shape.join(", ")}] in model b`);
  }
  const extra = [...b.tensors.keys()].find((name) => !a.tensors.has(name));
  if (extra) throw new Error(`mergeWeights: tensor ${extra} of model b is missing from model a`);
}
