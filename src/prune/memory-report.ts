/** What a model costs in memory: parameters and weight bytes by dtype, and the KV cache for a context. */

import type { LlamaConfig } from "../model/config";
import { bytesPerElement, type ModelWeights, numel } from "../model/host-tensor";
import { accountModel } from "./accounting";

export interface MemoryReport {
  parameters: number;
  /** Bytes of the weights as held on the host (their stored dtypes). */
  weightBytes: number;
  /** KV-cache bytes for one token of one sequence (f32 keys and values in every layer). */
  kvBytesPerToken: number;
  /** KV-cache bytes for `batch` sequences of `contextTokens`. */
  kvCacheBytes: number;
  contextTokens: number;
  batch: number;
}

/** Parameters a config implies (the tied head counted once). */
export function parameterCount(config: LlamaConfig, layers = config.numHiddenLayers): number {
  return accountModel({ ...config, numHiddenLayers: layers }).parameters;
}

/** Bytes of the KV cache per token and sequence: keys and values, f32, every layer. */
export function kvBytesPerToken(config: LlamaConfig, layers = config.numHiddenLayers): number {
  return accountModel({ ...config, numHiddenLayers: layers }, { contextLength: 1, bytesPerParameter: 4 }).kvCacheBytes;
}

export function memoryReport(weights: ModelWeights, contextTokens = weights.config.maxPositionEmbeddings, batch = 1): MemoryReport {
  let parameters = 0;
  let weightBytes = 0;
  for (const t of weights.tensors.values()) {
    parameters += numel(t.shape);
    weightBytes += numel(t.shape) * bytesPerElement[t.dtype];
  }
  const perToken = kvBytesPerToken(weights.config);
  return { parameters, weightBytes, kvBytesPerToken: perToken, kvCacheBytes: perToken * contextTokens * batch, contextTokens, batch };
}
