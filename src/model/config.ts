/** Hugging Face LlamaConfig (config.json) in validated camelCase form, and back. */
import { ConfigError } from "./errors";

export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface LlamaConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: Llama3RopeScaling;
  /** True for Meta / llama2.c checkpoints (rotate pairs x[2i], x[2i+1]); false for HF's rotate_half. */
  ropeInterleaved: boolean;
  tieWordEmbeddings: boolean;
  vocabSize: number;
  maxPositionEmbeddings: number;
  bosTokenId?: number;
  eosTokenId?: number[];
}

type Json = Record<string, unknown>;

/**
 * Upper bounds on what a config may declare, checked before anything is allocated or looped over: a
 * corrupt or hostile file otherwise makes the shape builder loop 1e15 times or a KV estimate reach
 * petabytes. Each is several times the largest released Llama-family value (405B: 126 layers,
 * hidden 16384, FFN 53248, 128 heads; vocabularies ≤ 262144; contexts ≤ 1M; rope_theta ≤ ~1e9).
 */
export const configLimits = {
  hidden_size: 65_536,
  intermediate_size: 262_144,
  num_hidden_layers: 1_024,
  num_attention_heads: 1_024,
  num_key_value_heads: 1_024,
  head_dim: 1_024,
  vocab_size: 2_097_152,
  max_position_embeddings: 4_194_304,
  original_max_position_embeddings: 4_194_304,
  rope_theta: 1e12,
  rms_norm_eps: 1,
  factor: 1_024,
  low_freq_factor: 1_024,
  high_freq_factor: 1_024,
} as const;

/** Validates a parsed config.json; `source` (a file name) is named in every error. */
export function parseLlamaConfig(json: unknown, source: string): LlamaConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(source, "(root)", `must be a JSON object, got ${describe(json)}`);
  }
  const j = json as Json;
  // Other architectures (Qwen2's biases, Mistral's sliding window, …) would load but compute silently wrong numbers.
  if (j.model_type !== undefined && j.model_type !== "llama") {
    throw new ConfigError(source, "model_type", `is ${describe(j.model_type)}; only "llama" models are supported`);
  }
  const int = (field: string, fallback?: number) => positiveInt(source, j, field, fallback);
  const hiddenSize = int("hidden_size");
  const numAttentionHeads = int("num_attention_heads");
  const numKeyValueHeads = int("num_key_value_heads", numAttentionHeads);
  if (hiddenSize % numAttentionHeads !== 0 && j.head_dim === undefined) {
    throw new ConfigError(
      source,
      "num_attention_heads",
      `= ${numAttentionHeads} does not divide hidden_size = ${hiddenSize} (and head_dim is not given)`,
    );
  }
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new ConfigError(
      source,
      "num_key_value_heads",
      `= ${numKeyValueHeads} does not divide num_attention_heads = ${numAttentionHeads}`,
    );
  }
  const headDim = int("head_dim", hiddenSize / numAttentionHeads);
  if (headDim % 2 !== 0) throw new ConfigError(source, "head_dim", `= ${headDim} must be even for RoPE`);
  const cfg: LlamaConfig = {
    hiddenSize,
    intermediateSize: int("intermediate_size"),
    numHiddenLayers: int("num_hidden_layers"),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: positiveNumber(source, j, "rms_norm_eps", 1e-6),
    ropeTheta: positiveNumber(source, j, "rope_theta", 10000),
    ropeInterleaved: optionalBool(source, j, "rope_interleaved", false),
    tieWordEmbeddings: optionalBool(source, j, "tie_word_embeddings", false),
    vocabSize: int("vocab_size"),
    maxPositionEmbeddings: int("max_position_embeddings", 2048),
  };
  const scaling = parseRopeScaling(source, j.rope_scaling);
  if (scaling) cfg.ropeScaling = scaling;
  const bos = optionalTokenId(source, j, "bos_token_id", cfg.vocabSize);
  if (bos !== undefined) cfg.bosTokenId = bos;
  const eos = parseEos(source, j.eos_token_id, cfg.vocabSize);
  if (eos) cfg.eosTokenId = eos;
  return cfg;
}

/** The config.json the Hugging Face `transformers` LlamaForCausalLM loads. */
export function toHfConfig(cfg: LlamaConfig): Json {
  const out: Json = {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    head_dim: cfg.headDim,
    hidden_act: "silu",
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: cfg.ropeScaling
      ? {
          rope_type: "llama3",
          factor: cfg.ropeScaling.factor,
          low_freq_factor: cfg.ropeScaling.lowFreqFactor,
          high_freq_factor: cfg.ropeScaling.highFreqFactor,
          original_max_position_embeddings: cfg.ropeScaling.originalMaxPositionEmbeddings,
        }
      : null,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: "float32",
  };
  if (cfg.bosTokenId !== undefined) out.bos_token_id = cfg.bosTokenId;
  if (cfg.eosTokenId) out.eos_token_id = cfg.eosTokenId.length === 1 ? cfg.eosTokenId[0] : cfg.eosTokenId;
  // transformers has no such field; it only exists so a re-loaded Meta-layout export is not mistaken for rotate_half.
  if (cfg.ropeInterleaved) out.rope_interleaved = true;
  return out;
}

function parseRopeScaling(source: string, v: unknown): Llama3RopeScaling | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v))
    throw new ConfigError(source, "rope_scaling", `must be an object or null, got ${describe(v)}`);
  const s = v as Json;
  const type = s.rope_type ?? s.type;
  if (type === "default") return undefined;
  if (type !== "llama3")
    throw new ConfigError(source, "rope_scaling.rope_type", `is ${describe(type)}; only "llama3" (or none) is supported`);
  const num = (field: string) => positiveNumber(source, s, field, undefined, "rope_scaling.");
  return {
    type: "llama3",
    factor: num("factor"),
    lowFreqFactor: num("low_freq_factor"),
    highFreqFactor: num("high_freq_factor"),
    originalMaxPositionEmbeddings: positiveInt(source, s, "original_max_position_embeddings", undefined, "rope_scaling."),
  };
}

function parseEos(source: string, v: unknown, vocabSize: number): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const ids = Array.isArray(v) ? v : [v];
  return ids.map((id, i) => tokenId(source, Array.isArray(v) ? `eos_token_id[${i}]` : "eos_token_id", id, vocabSize));
}

function optionalTokenId(source: string, j: Json, field: string, vocabSize: number): number | undefined {
  const v = j[field];
  return v === undefined || v === null ? undefined : tokenId(source, field, v, vocabSize);
}

function tokenId(source: string, field: string, v: unknown, vocabSize: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= vocabSize) {
    throw new ConfigError(source, field, `is ${describe(v)}; expected a token id in [0, vocab_size = ${vocabSize})`);
  }
  return v;
}

function positiveInt(source: string, j: Json, field: string, fallback?: number, prefix = ""): number {
  const v = j[field] ?? fallback;
  if (v === undefined) throw new ConfigError(source, prefix + field, "is missing");
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new ConfigError(source, prefix + field, `is ${describe(v)}; expected a positive integer`);
  return belowLimit(source, field, v, prefix);
}

function positiveNumber(source: string, j: Json, field: string, fallback?: number, prefix = ""): number {
  const v = j[field] ?? fallback;
  if (v === undefined) throw new ConfigError(source, prefix + field, "is missing");
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
    throw new ConfigError(source, prefix + field, `is ${describe(v)}; expected a positive number`);
  return belowLimit(source, field, v, prefix);
}

function belowLimit(source: string, field: string, v: number, prefix: string): number {
  const limit = (configLimits as Record<string, number>)[field];
  if (limit !== undefined && v > limit)
    throw new ConfigError(source, prefix + field, `is ${v}, above the limit of ${limit} this loader accepts (no real model comes close)`);
  return v;
}

function optionalBool(source: string, j: Json, field: string, fallback: boolean): boolean {
  const v = j[field] ?? fallback;
  if (typeof v !== "boolean") throw new ConfigError(source, field, `is ${describe(v)}; expected true or false`);
  return v;
}

/** A short description of a JSON value; never recurses, so a 100k-deep array cannot overflow the stack. */
function describe(v: unknown): string {
  if (Array.isArray(v))
    return v.length <= 8 && v.every((x) => x === null || typeof x !== "object")
      ? `${JSON.stringify(v)} (array)`
      : `an array of ${v.length}`;
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)} (string)`;
  return `${String(v)} (${typeof v})`;
}
