/**
 * The shapes of the Hub models a recipe is most often written for, as their config.json gives them
 * (only the fields Prunelab's accounting reads), so a recipe for an 8B model can estimate its costs
 * without downloading anything. Any other model is described by the config the caller passes.
 */
import { type LlamaConfig, parseLlamaConfig } from "../../model/config";

const llama3Rope = (factor: number) => ({
  rope_type: "llama3",
  factor,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 8192,
});

const knownHubConfigs: Record<string, Record<string, unknown>> = {
  "meta-llama/Llama-3.1-8B-Instruct": {
    model_type: "llama",
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    rope_scaling: llama3Rope(8),
    tie_word_embeddings: false,
    vocab_size: 128256,
    max_position_embeddings: 131072,
  },
  "meta-llama/Llama-3.2-1B-Instruct": {
    model_type: "llama",
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    rope_scaling: llama3Rope(32),
    tie_word_embeddings: true,
    vocab_size: 128256,
    max_position_embeddings: 131072,
  },
  "HuggingFaceTB/SmolLM2-135M-Instruct": {
    model_type: "llama",
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
    vocab_size: 49152,
    max_position_embeddings: 8192,
  },
};

export const knownHubModels: readonly string[] = Object.keys(knownHubConfigs);

/** The config of a known Hub model, or undefined for one this table does not hold. */
export function knownModelConfig(hubId: string): LlamaConfig | undefined {
  const json = Object.hasOwn(knownHubConfigs, hubId) ? knownHubConfigs[hubId] : undefined;
  return json === undefined ? undefined : parseLlamaConfig(json, `the known config of ${hubId}`);
}
