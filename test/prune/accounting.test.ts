import { describe, expect, it } from "vitest";
import { parseLlamaConfig } from "../../src/model/config";
import { accountModel, blockParameters, configWithoutBlocks, pruneSavings } from "../../src/prune/accounting";

// The public config.json of meta-llama/Llama-3.1-8B-Instruct (the fields that size the model).
const llama31_8b = parseLlamaConfig(
  {
    model_type: "llama",
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    vocab_size: 128256,
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    tie_word_embeddings: false,
    bos_token_id: 128000,
    eos_token_id: [128001, 128008, 128009],
  },
  "Llama-3.1-8B config.json",
);

describe("model accounting", () => {
  it("gives Llama-3.1-8B 8.03B parameters, and 6.72B after dropping 6 of 32 blocks", () => {
    const full = accountModel(llama31_8b);
    expect(full.parameters).toBe(8_030_261_248);
    const pruned = accountModel(configWithoutBlocks(llama31_8b, 22, 6));
    expect((pruned.parameters / 1e9).toFixed(2)).toBe("6.72");
    expect(full.parameters - pruned.parameters).toBe(6 * blockParameters(llama31_8b));
  });

  it("saves 16.3 % of Llama-3.1-8B's parameters and 17.5 % of its FLOPs per token (2048 context) by dropping 6 blocks", () => {
    // The paper's −16.3 % is the parameter cut; FLOPs fall a little more, since the embedding
    // lookup (kept) costs no FLOPs while every dropped block's matmuls and attention do.
    const saved = pruneSavings(llama31_8b, 22, 6, { contextLength: 2048 });
    expect(saved.parameters).toBe(6 * blockParameters(llama31_8b));
    expect(saved.parametersFraction.toFixed(3)).toBe("0.163");
    expect(saved.flopsFraction.toFixed(3)).toBe("0.175");
    expect(saved.flopsPerToken).toBe(
      accountModel(llama31_8b).flopsPerToken - accountModel(configWithoutBlocks(llama31_8b, 22, 6)).flopsPerToken,
    );
  });

  it("counts FLOPs and KV-cache bytes by the documented formula", () => {
    const cfg = {
      ...llama31_8b,
      numHiddenLayers: 1,
      vocabSize: 10,
      hiddenSize: 8,
      intermediateSize: 12,
      numAttentionHeads: 2,
      numKeyValueHeads: 1,
      headDim: 4,
    };
    const a = accountModel(cfg, { contextLength: 5, bytesPerParameter: 4 });
    // q 8·8, k,v 8·4 each, o 8·8, mlp 3·8·12; embedding and head 10·8 each.
    const linear = 64 + 32 + 32 + 64 + 288;
    expect(a.flopsPerToken).toBe(2 * linear + 4 * 5 * 2 * 4 + 2 * 80);
    expect(a.kvCacheBytes).toBe(2 * 1 * 1 * 4 * 5 * 4);
    expect(a.parameters).toBe(linear + 16 + 160 + 8);
  });

  it("refuses to drop blocks the model does not have", () => {
    expect(() => configWithoutBlocks(llama31_8b, 30, 3)).toThrow(/blocks 30…32: the model has blocks 0…31/);
    expect(() => configWithoutBlocks(llama31_8b, 0, 32)).toThrow(/every block/);
  });
});
