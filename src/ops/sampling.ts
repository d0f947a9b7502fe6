/**
 * Choosing the next token: greedy argmax and softmax with temperature on the GPU, and on the host the
 * sampling distribution (temperature, top-k, top-p) and a draw from it with a caller-seeded generator.
 */
import argmaxShader from "../../shaders/argmax.wgsl?raw";
import softmaxShader from "../../shaders/softmax.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import type { Tensor } from "../gpu/tensor";
import { logitsShape, logSumExpCpu } from "./cross-entropy";

export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Keep only the k most likely tokens (ties: lower ids first); 0 or absent = all. */
  topK?: number;
  /** Keep the smallest most-likely set whose probability is ≥ topP (after top-k); 1 or absent = all. */
  topP?: number;
}

/** logits [B, V] f32 → u32 [B]: the index of each row's maximum, the lowest on ties. Logits must be NaN-free. */
export function argmax(gpu: Gpu, logits: Tensor): Tensor {
  const [rows, vocab] = logitsShape("argmax", logits);
  const index = gpu.tensor([rows], "u32", "argmax.index");
  gpu.dispatch({
    op: "argmax",
    shader: argmaxShader,
    uniforms: { p: { rows, vocab } },
    bindings: { logits, index },
    workgroups: grid(rows),
  });
  return index;
}

/** logits [B, V] f32 → probabilities [B, V] = softmax(logits / temperature) per row; logits / temperature must be finite in f32. */
export function softmax(gpu: Gpu, logits: Tensor, temperature = 1): Tensor {
  const [rows, vocab] = logitsShape("softmax", logits);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`softmax: temperature must be positive, got ${temperature}`);
  const probs = gpu.tensor([rows, vocab], "f32", "softmax.probs");
  gpu.dispatch({
    op: "softmax",
    shader: softmaxShader,
    entryPoint: "softmax",
    uniforms: { p: { rows, vocab, scale: 1 / temperature, count: 0 } },
    bindings: { logits, probs },
    workgroups: grid(rows),
  });
  return probs;
}

/**
 * The distribution a token is drawn from (Hugging Face order: temperature, then top-k, then top-p),
 * as float64 probabilities over the vocabulary, zero outside the kept set. Temperature 0 or top-k 1
 * gives all mass to the argmax. Throws on NaN logits or invalid options.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Float64Array {
  const { temperature, topK = 0, topP = 1 } = options;
  checkOptions(temperature, topK, topP);
  const vocab = logits.length;
  if (vocab === 0) throw new Error("sampleToken: logits are empty");
  for (let i = 0; i < vocab; i++) if (Number.isNaN(logits[i])) throw new Error(`sampleToken: logit ${i} is NaN`);
  const probs = new Float64Array(vocab);
  if (temperature === 0 || topK === 1) {
    probs[argmaxCpu(logits)] = 1;
    return probs;
  }
  const lse = logSumExpCpu(logits, 0, vocab, 1 / temperature);
  for (let i = 0; i < vocab; i++) probs[i] = Math.exp(logits[i] / temperature - lse);
  if ((topK === 0 || topK >= vocab) && topP === 1) return probs;
  // Only candidates are sorted (by a comparator, costly at V = 50k): the top k by selection, or for
  // top-p alone the tokens with probability ≥ (1 − topP) / V, since the rest hold less than 1 − topP.
  const candidates: number[] = [];
  const floor = topK > 0 ? kthLargest(logits, Math.min(topK, vocab)) : Number.NEGATIVE_INFINITY;
  const minProb = topK > 0 ? 0 : (1 - topP) / vocab;
  for (let i = 0; i < vocab; i++) if (logits[i] >= floor && probs[i] >= minProb) candidates.push(i);
  candidates.sort((a, b) => logits[b] - logits[a] || a - b);
  let keep = topK > 0 ? Math.min(topK, candidates.length) : candidates.length;
  if (topP < 1) {
    // Top-p applies to the top-k renormalised distribution; without top-k, to the whole one.
    const kept = topK > 0 ? candidates.slice(0, keep).reduce((sum, i) => sum + probs[i], 0) : 1;
    let mass = 0;
    for (let j = 0; j < keep; j++) {
      mass += probs[candidates[j]];
      if (mass >= topP * kept) {
        keep = j + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let j = 0; j < keep; j++) total += probs[candidates[j]];
  const filtered = new Float64Array(vocab);
  for (let j = 0; j < keep; j++) filtered[candidates[j]] = probs[candidates[j]] / total;
  return filtered;
}

/** The k-th largest of `values` (1 ≤ k ≤ length) by quickselect on a copy: linear time on average. */
function kthLargest(values: ArrayLike<number>, k: number): number {
  const a = Float64Array.from(values);
  const target = a.length - k;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        [a[i], a[j]] = [a[j], a[i]];
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** A token id drawn from `probs` (non-negative, summing to ~1) with one value of `random` in [0, 1). */
export function sampleFrom(probs: ArrayLike<number>, random: () => number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  const u = random() * total;
  let mass = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    mass += probs[i];
    last = i;
    if (u < mass) return i;
  }
  return last;
}

/**
 * The next token from one row of logits. `random` is a seeded generator (`mulberry32(seed)` from
 * src/seeded-random.ts) so that generation is reproducible; greedy decoding never calls it.
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  const probs = samplingDistribution(logits, options);
  if (options.temperature === 0 || options.topK === 1) return probs.indexOf(1);
  return sampleFrom(probs, random);
}

function checkOptions(temperature: number, topK: number, topP: number): void {
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new Error(`sampleToken: temperature must be ≥ 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new Error(`sampleToken: topK must be a whole number ≥ 0, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`sampleToken: topP must be in (0, 1], got ${topP}`);
}

/** The lowest index of the maximum of logits[start … start + length − 1], relative to start. */
export function argmaxCpu(logits: ArrayLike<number>, start = 0, length = logits.length - start): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (logits[start + i] > logits[start + best]) best = i;
  return best;
}

/** CPU reference in float64: softmax(logits[r] / temperature) for each row of [rows, vocab]. */
export function softmaxCpu(logits: ArrayLike<number>, vocab: number, temperature = 1): Float64Array {
  const probs = new Float64Array(logits.length);
  for (let start = 0; start < logits.length; start += vocab) {
    const lse = logSumExpCpu(logits, start, vocab, 1 / temperature);
    for (let i = start; i < start + vocab; i++) probs[i] = Math.exp(logits[i] / temperature - lse);
  }
  return probs;
}
