/**
 * The whole Llama forward in plain TypeScript: the reference the GPU model is tested against, and
 * the CPU baseline of the benchmark. Weights are held as f32, every sum is accumulated in float64.
 * Written independently of the GPU ops (no shared kernels) so that agreement means something.
 * Weights may also be float64 (gradient checks perturb them by steps f32 cannot hold).
 */
import { ropeInverseFrequencies } from "../ops/rope";
import type { LlamaConfig } from "./config";
import { type ModelWeights, toFloat32 } from "./host-tensor";

export type CpuWeights = Float32Array | Float64Array;

export interface LlamaCpuLayer {
  inputNorm: CpuWeights;
  q: CpuWeights;
  k: CpuWeights;
  v: CpuWeights;
  o: CpuWeights;
  postNorm: CpuWeights;
  gate: CpuWeights;
  up: CpuWeights;
  down: CpuWeights;
  /** Qwen2's q/k/v biases. */
  bias?: { q: CpuWeights; k: CpuWeights; v: CpuWeights };
}

export interface LlamaCpu {
  config: LlamaConfig;
  embed: CpuWeights;
  /** The decoder blocks in order; a pruned model is the same object with some of them left out. */
  layers: LlamaCpuLayer[];
  norm: CpuWeights;
  lmHead: CpuWeights;
  invFreq: Float32Array;
}

/** Keys and values of every past position, per layer: [position][kvHeads·headDim]. */
export interface LlamaCpuCache {
  k: Float64Array[][];
  v: Float64Array[][];
}

export interface LlamaCpuOutput {
  /** [tokens, vocab] */
  logits: Float32Array;
  /** With `captureHidden`: the input of each block and the final output before the final norm, each [tokens, hidden]. */
  hidden?: Float64Array[];
}

export function llamaCpu(weights: ModelWeights): LlamaCpu {
  const { config, tensors } = weights;
  const get = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new Error(`llamaCpu: tensor ${name} is missing`);
    return toFloat32(t);
  };
  const layers: LlamaCpuLayer[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    layers.push({
      inputNorm: get(`${p}.input_layernorm.weight`),
      q: get(`${p}.self_attn.q_proj.weight`),
      k: get(`${p}.self_attn.k_proj.weight`),
      v: get(`${p}.self_attn.v_proj.weight`),
      o: get(`${p}.self_attn.o_proj.weight`),
      postNorm: get(`${p}.post_attention_layernorm.weight`),
      gate: get(`${p}.mlp.gate_proj.weight`),
      up: get(`${p}.mlp.up_proj.weight`),
      down: get(`${p}.mlp.down_proj.weight`),
      ...(config.attentionBias
        ? { bias: { q: get(`${p}.self_attn.q_proj.bias`), k: get(`${p}.self_attn.k_proj.bias`), v: get(`${p}.self_attn.v_proj.bias`) } }
        : {}),
    });
  }
  const embed = get("model.embed_tokens.weight");
  return {
    config,
    embed,
    layers,
    norm: get("model.norm.weight"),
    lmHead: config.tieWordEmbeddings ? embed : get("lm_head.weight"),
    invFreq: ropeInverseFrequencies({
      headDim: config.headDim,
      theta: config.ropeTheta,
      interleaved: config.ropeInterleaved,
      scaling: config.ropeScaling,
    }),
  };
}

export function createLlamaCpuCache(model: LlamaCpu): LlamaCpuCache {
  return { k: model.layers.map(() => []), v: model.layers.map(() => []) };
}

/**
 * Runs `tokens` (one sequence) through the model. With a cache the tokens continue the cached
 * sequence (positions start at its length) and their keys and values are appended to it.
 */
export function llamaForwardCpu(
  model: LlamaCpu,
  tokens: readonly number[],
  cache: LlamaCpuCache = createLlamaCpuCache(model),
  options: { captureHidden?: boolean } = {},
): LlamaCpuOutput {
  const { config, layers } = model;
  const d = config.hiddenSize;
  const hd = config.headDim;
  const hq = config.numAttentionHeads;
  const hkv = config.numKeyValueHeads;
  const past = cache.k[0]?.length ?? 0;
  const hidden: Float64Array[] = [];
  const xs = tokens.map((token) => {
    if (!(token >= 0 && token < config.vocabSize))
      throw new Error(`llamaForwardCpu: token id ${token} is outside the vocabulary (0…${config.vocabSize - 1})`);
    return Float64Array.from(model.embed.subarray(token * d, (token + 1) * d));
  });
  const capture = () => {
    if (!options.captureHidden) return;
    const h = new Float64Array(tokens.length * d);
    xs.forEach((x, t) => {
      h.set(x, t * d);
    });
    hidden.push(h);
  };
  layers.forEach((layer, l) => {
    capture();
    for (let t = 0; t < xs.length; t++) {
      const h = rmsNorm(xs[t], layer.inputNorm, config.rmsNormEps);
      const q = linear(layer.q, h, hq * hd, layer.bias?.q);
      const k = linear(layer.k, h, hkv * hd, layer.bias?.k);
      rotate(q, past + t, model.invFreq, hd, config.ropeInterleaved);
      rotate(k, past + t, model.invFreq, hd, config.ropeInterleaved);
      cache.k[l].push(k);
      cache.v[l].push(linear(layer.v, h, hkv * hd, layer.bias?.v));
      // Mistral's window: the query sees its own key and the window − 1 before it.
      const first = config.slidingWindow ? Math.max(0, cache.k[l].length - config.slidingWindow) : 0;
      addInto(xs[t], linear(layer.o, attend(q, cache.k[l].slice(first), cache.v[l].slice(first), hq, hkv, hd), d));
    }
    for (const x of xs) {
      const h = rmsNorm(x, layer.postNorm, config.rmsNormEps);
      const gate = linear(layer.gate, h, config.intermediateSize);
      const up = linear(layer.up, h, config.intermediateSize);
      for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
      addInto(x, linear(layer.down, gate, d));
    }
  });
  capture();
  const logits = new Float32Array(tokens.length * config.vocabSize);
  xs.forEach((x, t) => {
    logits.set(linear(model.lmHead, rmsNorm(x, model.norm, config.rmsNormEps), config.vocabSize), t * config.vocabSize);
  });
  return options.captureHidden ? { logits, hidden } : { logits };
}

function rmsNorm(x: Float64Array, w: CpuWeights, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** y = W·x (+ bias) for a Hugging Face Linear weight W [out, in]. */
function linear(w: CpuWeights, x: Float64Array, out: number, bias?: CpuWeights): Float64Array {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias ? bias[o] : 0;
    const row = o * n;
    for (let i = 0; i < n; i++) s += w[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

function addInto(x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

/** RoPE on every head of x [heads·hd] in place: pairs (2i, 2i+1) when interleaved (Meta), else (i, i+hd/2) (HF rotate_half). */
function rotate(x: Float64Array, position: number, invFreq: Float32Array, hd: number, interleaved: boolean): void {
  const half = hd / 2;
  for (let base = 0; base < x.length; base += hd) {
    for (let i = 0; i < half; i++) {
      const angle = position * invFreq[i];
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = interleaved ? base + 2 * i : base + i;
      const b = interleaved ? a + 1 : a + half;
      const x0 = x[a];
      const x1 = x[b];
      x[a] = x0 * c - x1 * s;
      x[b] = x0 * s + x1 * c;
    }
  }
}

/** Causal GQA for one query position over every cached position (the cache ends at this query). */
function attend(q: Float64Array, keys: Float64Array[], values: Float64Array[], hq: number, hkv: number, hd: number): Float64Array {
  const out = new Float64Array(hq * hd);
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(keys.length);
  for (let h = 0; h < hq; h++) {
    const kvBase = Math.floor(h / (hq / hkv)) * hd;
    let max = -Infinity;
    for (let j = 0; j < keys.length; j++) {
      let s = 0;
      for (let i = 0; i < hd; i++) s += q[h * hd + i] * keys[j][kvBase + i];
      scores[j] = s * scale;
      max = Math.max(max, scores[j]);
    }
    let sum = 0;
    for (let j = 0; j < keys.length; j++) {
      scores[j] = Math.exp(scores[j] - max);
      sum += scores[j];
    }
    for (let j = 0; j < keys.length; j++) {
      const p = scores[j] / sum;
      for (let i = 0; i < hd; i++) out[h * hd + i] += p * values[j][kvBase + i];
    }
  }
  return out;
}
