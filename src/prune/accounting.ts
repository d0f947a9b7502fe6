/**
 * Size and cost of a Llama from its config alone, so any Hugging Face config (even one too large to
 * load here, like Llama-3.1-8B) can be accounted before and after dropping blocks.
 *
 * FLOPs per token (forward, one token attending to `contextLength` positions), counting a
 * multiply-add as 2 FLOPs and ignoring norms, RoPE, softmax and activations (each O(hidden), under
 * 0.1 % here):
 *   linear layers: 2 · (weights of q, k, v, o, gate, up, down in every block + lm_head)
 *   attention:     per block 2 · 2 · contextLength · numAttentionHeads · headDim   (q·Kᵀ and p·V),
 *                  with contextLength capped at a sliding window (Mistral)
 * Qwen2's q/k/v biases count as parameters (their additions are O(hidden) FLOPs, ignored as above).
 */
import type { LlamaConfig } from "../model/config";

export interface ModelAccount {
  layers: number;
  parameters: number;
  /** Parameters of one decoder block. */
  blockParameters: number;
  bytes: number;
  flopsPerToken: number;
  kvCacheBytes: number;
}

export interface AccountOptions {
  /** Positions each token attends to, for FLOPs and the KV cache (default 2048). */
  contextLength?: number;
  /** Bytes per weight and per KV-cache element (default 2: f16/bf16). */
  bytesPerParameter?: number;
  batch?: number;
}

export function blockParameters(cfg: LlamaConfig): number {
  const q = cfg.hiddenSize * cfg.numAttentionHeads * cfg.headDim;
  const kv = 2 * cfg.hiddenSize * cfg.numKeyValueHeads * cfg.headDim;
  const mlp = 3 * cfg.hiddenSize * cfg.intermediateSize;
  return 2 * q + kv + mlp + 2 * cfg.hiddenSize + attentionBiasParameters(cfg);
}

/** Qwen2's q, k and v bias entries in one block (0 without biases). */
function attentionBiasParameters(cfg: LlamaConfig): number {
  return cfg.attentionBias ? (cfg.numAttentionHeads + 2 * cfg.numKeyValueHeads) * cfg.headDim : 0;
}

export function accountModel(cfg: LlamaConfig, options: AccountOptions = {}): ModelAccount {
  const { contextLength = 2048, bytesPerParameter = 2, batch = 1 } = options;
  const layers = cfg.numHiddenLayers;
  const embedding = cfg.vocabSize * cfg.hiddenSize;
  const head = cfg.tieWordEmbeddings ? 0 : embedding;
  const block = blockParameters(cfg);
  const parameters = embedding + head + layers * block + cfg.hiddenSize;
  const blockLinear = block - 2 * cfg.hiddenSize - attentionBiasParameters(cfg);
  const attended = Math.min(contextLength, cfg.slidingWindow ?? contextLength);
  const attention = 4 * attended * cfg.numAttentionHeads * cfg.headDim;
  const flopsPerToken = layers * (2 * blockLinear + attention) + 2 * embedding;
  const kvCacheBytes = 2 * layers * cfg.numKeyValueHeads * cfg.headDim * contextLength * bytesPerParameter * batch;
  return { layers, parameters, blockParameters: block, bytes: parameters * bytesPerParameter, flopsPerToken, kvCacheBytes };
}

/** The config of the model left after dropping `n` blocks starting at `start`. */
export function configWithoutBlocks(cfg: LlamaConfig, start: number, n: number): LlamaConfig {
  checkBlockRange(cfg.numHiddenLayers, start, n);
  return { ...cfg, numHiddenLayers: cfg.numHiddenLayers - n };
}

/** Throws unless blocks start … start+n−1 exist in a model of `layers` blocks and leave at least one. */
export function checkBlockRange(layers: number, start: number, n: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < 1 || start + n > layers) {
    throw new Error(`cannot drop blocks ${start}…${start + n - 1}: the model has blocks 0…${layers - 1}`);
  }
  if (n === layers) throw new Error("cannot drop every block");
}

/** What dropping blocks start … start+n−1 saves: parameters and FLOPs per token (absolute and as a fraction of the full model). */
export function pruneSavings(
  cfg: LlamaConfig,
  start: number,
  n: number,
  options: AccountOptions = {},
): { parameters: number; parametersFraction: number; flopsPerToken: number; flopsFraction: number } {
  const full = accountModel(cfg, options);
  const pruned = accountModel(configWithoutBlocks(cfg, start, n), options);
  const parameters = full.parameters - pruned.parameters;
  const flopsPerToken = full.flopsPerToken - pruned.flopsPerToken;
  return { parameters, parametersFraction: parameters / full.parameters, flopsPerToken, flopsFraction: flopsPerToken / full.flopsPerToken };
}
