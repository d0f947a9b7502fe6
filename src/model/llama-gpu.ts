/**
 * The Llama model (and Qwen2's q/k/v biases, Mistral's sliding window) on the GPU: weights uploaded once, a batched forward (prefill with a key mask
 * for left padding, or KV-cache decode), logits for chosen rows, and optional capture of the
 * residual stream for the layer analysis. A pruned model is the same object with a shorter
 * `layers` list, so it shares every weight buffer with the original.
 */
import type { Gpu } from "../gpu/context";
import { bytesPerElement, reshape, type Tensor } from "../gpu/tensor";
import { attention, attentionDecode, createKvCache, type KvCache } from "../ops/attention";
import { addBias } from "../ops/bias-add";
import { embedding } from "../ops/embedding";
import { linearsOfOneInput, matmul, swigluLinear } from "../ops/matmul";
import { rmsNorm } from "../ops/rmsnorm";
import { rope, ropeIntoCache, ropeInverseFrequencies } from "../ops/rope";
import type { LlamaConfig } from "./config";
import { f32ToF16Bits, type HostTensor, type ModelWeights, toFloat32 } from "./host-tensor";

export interface LlamaGpuLayer {
  inputNorm: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  postNorm: Tensor;
  gate: Tensor;
  up: Tensor;
  down: Tensor;
  /** Qwen2's q/k/v biases [out] each; frozen in training. */
  bias?: { q: Tensor; k: Tensor; v: Tensor };
}

/** The names of a block's weight matrices and norms (what training can update; biases stay frozen). */
export type LlamaLayerWeight = Exclude<keyof LlamaGpuLayer, "bias">;

/** A block's weights by name, without its biases. */
export function layerWeights(layer: LlamaGpuLayer): [LlamaLayerWeight, Tensor][] {
  return (Object.entries(layer) as [keyof LlamaGpuLayer, unknown][]).filter(
    (entry): entry is [LlamaLayerWeight, Tensor] => entry[0] !== "bias",
  );
}

/** A [rows, cols] matrix stored as consecutive row blocks, each within one storage binding. */
export interface RowChunks {
  chunks: Tensor[];
  rowsPerChunk: number;
  rows: number;
  cols: number;
}

export interface LlamaGpu {
  config: LlamaConfig;
  embed: RowChunks;
  /** The decoder blocks in order; prune by building a model with a subset of this list. */
  layers: LlamaGpuLayer[];
  norm: Tensor;
  /** The same chunks as `embed` when the embeddings are tied. */
  lmHead: RowChunks;
  invFreq: Tensor;
}

export interface UploadOptions {
  /**
   * "auto" (default): weights stored in f16/bf16 stay 16-bit on the GPU as f16 where the adapter
   * has shader-f16; "f16": every matrix in f16 where the adapter has it; "f32": everything f32.
   */
  weightDtype?: "auto" | "f16" | "f32";
  /** Largest embedding / lm_head chunk (default: the adapter's maxStorageBufferBindingSize); lower it to test splitting. */
  maxBindingBytes?: number;
}

/** f16's largest finite value: bf16 weights beyond it stay f32 rather than overflow. */
const maxF16 = 65504;

export function uploadLlama(gpu: Gpu, weights: ModelWeights, options: UploadOptions = {}): LlamaGpu {
  const { config, tensors } = weights;
  const mode = options.weightDtype ?? "auto";
  const maxBinding = gpu.limits.maxStorageBufferBindingSize;
  const host = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`uploadLlama: tensor ${name} is missing`);
    return t;
  };
  const vector = (name: string) => gpu.upload(toFloat32(host(name)), host(name).shape, "f32", name);
  const matrix = (name: string, maxBytes = maxBinding): RowChunks => {
    const t = host(name);
    const [rows, cols] = t.shape;
    const values = toFloat32(t);
    const wantF16 = gpu.hasF16 && (mode === "f16" || (mode === "auto" && t.dtype !== "f32"));
    const f16 = wantF16 && values.every((v) => Math.abs(v) <= maxF16);
    const rowsPerChunk = Math.min(rows, Math.floor(maxBytes / (cols * bytesPerElement[f16 ? "f16" : "f32"])));
    if (rowsPerChunk < 1)
      throw new Error(`uploadLlama: one row of ${name} [${rows}, ${cols}] exceeds a storage binding of ${maxBytes} bytes`);
    const chunks: Tensor[] = [];
    for (let start = 0; start < rows; start += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, rows - start);
      const part = values.subarray(start * cols, (start + n) * cols);
      const label = rowsPerChunk < rows ? `${name}[${start}:${start + n}]` : name;
      chunks.push(f16 ? gpu.upload(f32ToF16Bits(part), [n, cols], "f16", label) : gpu.upload(part, [n, cols], "f32", label));
    }
    return { chunks, rowsPerChunk, rows, cols };
  };
  const single = (name: string): Tensor => {
    const m = matrix(name);
    if (m.chunks.length > 1) throw new Error(`uploadLlama: ${name} [${m.rows}, ${m.cols}] exceeds one storage binding`);
    return m.chunks[0];
  };
  const layers: LlamaGpuLayer[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    layers.push({
      inputNorm: vector(`${p}.input_layernorm.weight`),
      q: single(`${p}.self_attn.q_proj.weight`),
      k: single(`${p}.self_attn.k_proj.weight`),
      v: single(`${p}.self_attn.v_proj.weight`),
      o: single(`${p}.self_attn.o_proj.weight`),
      postNorm: vector(`${p}.post_attention_layernorm.weight`),
      gate: single(`${p}.mlp.gate_proj.weight`),
      up: single(`${p}.mlp.up_proj.weight`),
      down: single(`${p}.mlp.down_proj.weight`),
      ...(config.attentionBias
        ? {
            bias: {
              q: vector(`${p}.self_attn.q_proj.bias`),
              k: vector(`${p}.self_attn.k_proj.bias`),
              v: vector(`${p}.self_attn.v_proj.bias`),
            },
          }
        : {}),
    });
  }
  const vocabBytes = Math.min(maxBinding, options.maxBindingBytes ?? maxBinding);
  const embed = matrix("model.embed_tokens.weight", vocabBytes);
  const invFreq = ropeInverseFrequencies({
    headDim: config.headDim,
    theta: config.ropeTheta,
    interleaved: config.ropeInterleaved,
    scaling: config.ropeScaling,
  });
  return {
    config,
    embed,
    layers,
    norm: vector("model.norm.weight"),
    lmHead: config.tieWordEmbeddings ? embed : matrix("lm_head.weight", vocabBytes),
    invFreq: gpu.upload(invFreq, [invFreq.length], "f32", "rope.invFreq"),
  };
}

/** Frees every weight buffer (of the full model; pruned views share them). */
export function releaseLlama(gpu: Gpu, model: LlamaGpu): void {
  for (const layer of model.layers) {
    gpu.release(...layerWeights(layer).map(([, w]) => w));
    if (layer.bias) gpu.release(layer.bias.q, layer.bias.k, layer.bias.v);
  }
  gpu.release(...model.embed.chunks, model.norm, model.invFreq);
  if (model.lmHead !== model.embed) gpu.release(...model.lmHead.chunks);
}

/** Keys and values of every layer for `batch` sequences of up to `maxTokens`, with the key mask and positions so far. */
export interface LlamaKvCache {
  layers: KvCache[];
  batch: number;
  maxTokens: number;
  /** Tokens written so far (the same for every row; padding included). */
  length: number;
  /** [batch, maxTokens], 1 = a real token. */
  keyMask: Uint32Array;
  /** Real tokens so far per row: the next position of each sequence. */
  nextPosition: number[];
}

export function createLlamaKvCache(gpu: Gpu, model: LlamaGpu, batch: number, maxTokens: number): LlamaKvCache {
  const { numKeyValueHeads: kvHeads, headDim } = model.config;
  return {
    layers: model.layers.map(() => createKvCache(gpu, { batch, maxTokens, kvHeads, headDim })),
    batch,
    maxTokens,
    length: 0,
    keyMask: new Uint32Array(batch * maxTokens),
    nextPosition: new Array(batch).fill(0),
  };
}

/**
 * Forgets every token from position `length` on (e.g. draft tokens that speculative decoding
 * rejected); the next forward writes over them.
 */
export function rewindLlamaKvCache(cache: LlamaKvCache, length: number): void {
  if (!(Number.isInteger(length) && length >= 0 && length <= cache.length)) {
    throw new Error(`rewindLlamaKvCache: cannot rewind a cache holding ${cache.length} tokens to ${length}`);
  }
  for (let b = 0; b < cache.batch; b++) {
    const row = cache.keyMask.subarray(b * cache.maxTokens, (b + 1) * cache.maxTokens);
    row.fill(0, length);
    cache.nextPosition[b] = row.reduce((sum, real) => sum + real, 0);
  }
  cache.length = length;
}

export function releaseLlamaKvCache(gpu: Gpu, cache: LlamaKvCache): void {
  for (const c of cache.layers) gpu.release(c.k, c.v);
}

export interface ForwardOptions {
  /** [batch][tokens] with 1 for real tokens and 0 for (left) padding; default all real. */
  keyMask?: readonly (readonly number[])[];
  /** Continue the sequences in this cache and append the new keys and values to it. */
  cache?: LlamaKvCache;
  /** Rows of the flattened [batch·tokens] output to project to logits: "last" is each sequence's last token. */
  logits?: "all" | "last" | "none" | readonly number[];
  /** Keep the input of every block and the final output before the final norm. */
  captureHidden?: boolean;
}

export interface ForwardResult {
  /** [rows, vocab] f32 for the requested rows. */
  logits?: Tensor;
  /** With `captureHidden`: layers + 1 tensors of [batch·tokens, hidden]. */
  hidden?: Tensor[];
}

/** Runs `tokens` ([batch][tokens], equal lengths) through the model. The caller releases the result tensors. */
export function llamaForward(
  gpu: Gpu,
  model: LlamaGpu,
  tokens: readonly (readonly number[])[],
  options: ForwardOptions = {},
): ForwardResult {
  const { config } = model;
  const batch = tokens.length;
  const length = tokens[0]?.length ?? 0;
  if (batch === 0 || length === 0) throw new Error("llamaForward: tokens is empty");
  if (tokens.some((row) => row.length !== length)) throw new Error(`llamaForward: tokens rows differ in length (expected ${length} each)`);
  const n = batch * length;
  const { cache } = options;
  if (cache && (cache.batch !== batch || cache.length + length > cache.maxTokens || cache.layers.length !== model.layers.length)) {
    throw new Error(
      `llamaForward: ${batch}×${length} new tokens do not fit a cache of ${cache.batch}×${cache.maxTokens} holding ${cache.length} for ${cache.layers.length} layers`,
    );
  }
  const mask = options.keyMask ?? tokens.map((row) => row.map(() => 1));
  if (mask.length !== batch || mask.some((row) => row.length !== length)) {
    throw new Error(
      `llamaForward: keyMask must be ${batch}×${length} like tokens, got ${mask.length} rows of ${mask.map((r) => r.length).join("/")}`,
    );
  }
  // Checked before the cache is touched, so a bad call leaves it as it was.
  const flat = tokens.flat();
  const bad = flat.find((t) => !(Number.isInteger(t) && t >= 0 && t < config.vocabSize));
  if (bad !== undefined) throw new Error(`llamaForward: token id ${bad} is outside the vocabulary (0…${config.vocabSize - 1})`);
  const ids = Uint32Array.from(flat);
  const positions = new Uint32Array(n);
  for (let b = 0; b < batch; b++) {
    let next = cache?.nextPosition[b] ?? 0;
    for (let t = 0; t < length; t++) {
      // Padding takes the next real position; its key is masked out, so the value is unused.
      positions[b * length + t] = next;
      if (mask[b][t]) next++;
      if (cache) cache.keyMask[b * cache.maxTokens + cache.length + t] = mask[b][t] ? 1 : 0;
    }
    if (cache) cache.nextPosition[b] = next;
  }
  const posT = gpu.upload(positions, [n], "u32", "positions");
  const maskT = cache
    ? gpu.upload(cache.keyMask, [batch, cache.maxTokens], "u32", "kv.keyMask")
    : options.keyMask
      ? gpu.upload(Uint32Array.from(mask.flat()), [batch, length], "u32", "keyMask")
      : undefined;
  const past = cache?.length ?? 0;
  const { hiddenSize: d, headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv } = config;
  const x = embedRows(gpu, model.embed, ids);
  const hidden: Tensor[] = [];
  const capture = () => {
    if (!options.captureHidden) return;
    const h = gpu.tensor([n, d], "f32", `hidden.${hidden.length}`);
    gpu.copy(x, h);
    hidden.push(h);
  };
  model.layers.forEach((layer, l) => {
    capture();
    const h = normed(gpu, x, layer.inputNorm, config.rmsNormEps);
    const [qRaw, kRaw, vRaw] = linearsOfOneInput(gpu, h, [layer.q, layer.k, layer.v]);
    gpu.release(h);
    if (layer.bias) {
      addBias(gpu, qRaw, layer.bias.q);
      addBias(gpu, kRaw, layer.bias.k);
      addBias(gpu, vRaw, layer.bias.v);
    }
    const window = config.slidingWindow;
    const split = (raw: Tensor, heads: number) => reshape(raw, [batch, length, heads, hd]);
    let out: Tensor;
    if (cache) {
      const kv = cache.layers[l];
      const qkv = { q: split(qRaw, hq), k: split(kRaw, hkv), v: split(vRaw, hkv) };
      const q = ropeIntoCache(gpu, qkv, reshape(posT, [batch, length]), model.invFreq, config.ropeInterleaved, kv, past);
      gpu.release(qRaw, kRaw, vRaw);
      out = attentionDecode(gpu, q, kv, { pastLength: past, keyMask: maskT, window });
      gpu.release(q);
    } else {
      const rotated = (raw: Tensor, heads: number) => {
        const y = rope(gpu, reshape(raw, [n, heads, hd]), posT, model.invFreq, config.ropeInterleaved);
        gpu.release(raw);
        return split(y, heads);
      };
      const q = rotated(qRaw, hq);
      const k = rotated(kRaw, hkv);
      const r = attention(gpu, q, k, split(vRaw, hkv), { keyMask: maskT, window });
      gpu.release(r.lse, q, k, vRaw);
      out = r.out;
    }
    matmul(gpu, reshape(out, [n, hq * hd]), layer.o, { transB: true, accumulate: x });
    gpu.release(out);
    const h2 = normed(gpu, x, layer.postNorm, config.rmsNormEps);
    const act = swigluLinear(gpu, h2, layer.gate, layer.up);
    gpu.release(h2);
    matmul(gpu, act, layer.down, { transB: true, accumulate: x });
    gpu.release(act);
  });
  capture();
  if (cache) cache.length += length;
  gpu.release(posT, maskT);
  const rows = options.logits ?? "last";
  if (rows === "none") {
    gpu.release(x);
    return options.captureHidden ? { hidden } : {};
  }
  const picked = rows === "all" ? x : pickRows(gpu, x, rows === "last" ? tokens.map((_, b) => b * length + length - 1) : rows);
  if (picked !== x) gpu.release(x);
  const final = normed(gpu, picked, model.norm, config.rmsNormEps);
  gpu.release(picked);
  const logits = projectRows(gpu, final, model.lmHead);
  gpu.release(final);
  return options.captureHidden ? { logits, hidden } : { logits };
}

function normed(gpu: Gpu, x: Tensor, w: Tensor, eps: number): Tensor {
  const { y, rstd } = rmsNorm(gpu, x, w, eps);
  gpu.release(rstd);
  return y;
}

/** Embedding rows for `ids` (in range); a table split into chunks is gathered chunk by chunk and the rows copied into place. */
function embedRows(gpu: Gpu, table: RowChunks, ids: Uint32Array): Tensor {
  if (table.chunks.length === 1) return embedding(gpu, ids, table.chunks[0]);
  const x = gpu.tensor([ids.length, table.cols], "f32", "embedding");
  const rowBytes = table.cols * 4;
  table.chunks.forEach((chunk, c) => {
    const start = c * table.rowsPerChunk;
    const slots = [...ids.keys()].filter((i) => ids[i] >= start && ids[i] < start + chunk.shape[0]);
    if (slots.length === 0) return;
    const rows = embedding(
      gpu,
      Uint32Array.from(slots, (i) => ids[i] - start),
      chunk,
    );
    slots.forEach((slot, j) => {
      gpu.copy(rows, x, rowBytes, j * rowBytes, slot * rowBytes);
    });
    gpu.release(rows);
  });
  return x;
}

/** The given rows of x [n, d], as a new [rows, d] tensor. */
function pickRows(gpu: Gpu, x: Tensor, rows: readonly number[]): Tensor {
  const [n, d] = x.shape;
  const out = gpu.tensor([rows.length, d], "f32", "picked rows");
  rows.forEach((r, i) => {
    if (!(r >= 0 && r < n)) throw new Error(`llamaForward: logits row ${r} is outside 0…${n - 1}`);
    gpu.copy(x, out, d * 4, r * d * 4, i * d * 4);
  });
  return out;
}

/** x [m, d] · Wᵀ for W stored as row chunks [rows, d] → [m, rows]. */
function projectRows(gpu: Gpu, x: Tensor, w: RowChunks): Tensor {
  if (w.chunks.length === 1) return matmul(gpu, x, w.chunks[0], { transB: true });
  const m = x.shape[0];
  const out = gpu.tensor([m, w.rows], "f32", "logits");
  w.chunks.forEach((chunk, c) => {
    const cols = chunk.shape[0];
    const part = matmul(gpu, x, chunk, { transB: true });
    for (let i = 0; i < m; i++) gpu.copy(part, out, cols * 4, i * cols * 4, (i * w.rows + c * w.rowsPerChunk) * 4);
    gpu.release(part);
  });
  return out;
}
