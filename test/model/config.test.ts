import { describe, expect, it } from "vitest";
import { parseLlamaConfig, toHfConfig } from "../../src/model/config";
import { ConfigError } from "../../src/model/errors";

/** SmolLM2-135M-Instruct's config.json, as published on the Hub. */
const smolLm2 = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  model_type: "llama",
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  use_cache: true,
  vocab_size: 49152,
};

/** Llama-3.2-1B's rope-related fields. */
const llama32 = {
  ...smolLm2,
  hidden_size: 2048,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  eos_token_id: [128001, 128008, 128009],
  vocab_size: 128256,
  rope_theta: 500000,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: "llama3" },
};

describe("LlamaConfig", () => {
  it("parses SmolLM2's config.json, deriving head_dim and wrapping a single eos id", () => {
    expect(parseLlamaConfig(smolLm2, "config.json")).toEqual({
      hiddenSize: 576,
      intermediateSize: 1536,
      numHiddenLayers: 30,
      numAttentionHeads: 9,
      numKeyValueHeads: 3,
      headDim: 64,
      rmsNormEps: 1e-5,
      ropeTheta: 100000,
      ropeInterleaved: false,
      tieWordEmbeddings: true,
      vocabSize: 49152,
      maxPositionEmbeddings: 8192,
      bosTokenId: 1,
      eosTokenId: [2],
    });
  });

  it("parses llama3 rope scaling and a list of eos ids, and round-trips through toHfConfig", () => {
    const cfg = parseLlamaConfig(llama32, "config.json");
    expect(cfg.ropeScaling).toEqual({
      type: "llama3",
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(cfg.eosTokenId).toEqual([128001, 128008, 128009]);
    expect(parseLlamaConfig(toHfConfig(cfg), "exported")).toEqual(cfg);
    const interleaved = { ...parseLlamaConfig(smolLm2, "c"), ropeInterleaved: true };
    expect(parseLlamaConfig(toHfConfig(interleaved), "exported")).toEqual(interleaved);
    expect(toHfConfig(parseLlamaConfig(smolLm2, "c"))).toMatchObject({ eos_token_id: 2, rope_scaling: null, model_type: "llama" });
  });

  it.each([
    [{ hidden_size: undefined }, /config\.json: config field "hidden_size" is missing/],
    [{ hidden_size: "576" }, /"hidden_size" is "576" \(string\); expected a positive integer/],
    [{ num_hidden_layers: 2.5 }, /"num_hidden_layers" is 2\.5/],
    [{ num_attention_heads: 7 }, /"num_attention_heads" = 7 does not divide hidden_size = 576/],
    [{ num_key_value_heads: 2 }, /"num_key_value_heads" = 2 does not divide num_attention_heads = 9/],
    [{ rms_norm_eps: -1 }, /"rms_norm_eps" is -1 \(number\); expected a positive number/],
    [{ tie_word_embeddings: "yes" }, /"tie_word_embeddings" is "yes" \(string\); expected true or false/],
    [{ eos_token_id: [2, 49152] }, /"eos_token_id\[1\]" is 49152 \(number\); expected a token id in \[0, vocab_size = 49152\)/],
    [{ rope_scaling: { rope_type: "yarn", factor: 4 } }, /"rope_scaling\.rope_type" is "yarn"/],
    [{ rope_scaling: { rope_type: "llama3", factor: 8 } }, /"rope_scaling\.low_freq_factor" is missing/],
    [{ model_type: "qwen2" }, /"model_type" is "qwen2" \(string\); only "llama" models are supported/],
  ])("rejects %j with a ConfigError naming the field and value", (change, message) => {
    const json = { ...smolLm2, ...change };
    expect(() => parseLlamaConfig(json, "config.json")).toThrow(ConfigError);
    expect(() => parseLlamaConfig(json, "config.json")).toThrow(message);
  });

  it.each([
    [{ num_hidden_layers: 1e15 }, /"num_hidden_layers" is 1000000000000000, above the limit of 1024/],
    [{ rope_theta: 1e300 }, /"rope_theta" is 1e\+300, above the limit of 1000000000000/],
    [{ max_position_embeddings: 1e12 }, /"max_position_embeddings" is 1000000000000, above the limit of 4194304/],
    [{ vocab_size: 2 ** 31 }, /"vocab_size" is 2147483648, above the limit/],
    [{ hidden_size: 576 * 1024, num_attention_heads: 9 }, /"hidden_size" is 589824, above the limit of 65536/],
  ])("refuses the absurd %j before building anything, stating the limit", (change, message) => {
    const started = performance.now();
    expect(() => parseLlamaConfig({ ...smolLm2, ...change }, "config.json")).toThrow(message);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("describes a 100k-deep array without overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(() => parseLlamaConfig({ ...smolLm2, hidden_size: deep }, "config.json")).toThrow(/"hidden_size" is an array of 1/);
  });

  it("rejects a config that is not an object", () => {
    expect(() => parseLlamaConfig([1], "config.json")).toThrow(/config\.json: .*must be a JSON object, got \[1\] \(array\)/);
  });
});
