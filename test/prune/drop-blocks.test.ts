import { describe, expect, it } from "vitest";
import { generate } from "../../src/model/generate";
import type { HostTensor, ModelWeights } from "../../src/model/host-tensor";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { createLlamaKvCache, llamaForward, releaseLlama, releaseLlamaKvCache, uploadLlama } from "../../src/model/llama-gpu";
import { type RandomLlamaShape, randomLlama } from "../../src/model/random-llama";
import { dropBlocks, dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";

const shape: RandomLlamaShape = {
  hiddenSize: 36,
  intermediateSize: 61,
  numHiddenLayers: 6,
  numAttentionHeads: 3,
  numKeyValueHeads: 1,
  vocabSize: 67,
};
const blockTensors = [
  "input_layernorm",
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "post_attention_layernorm",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
];

/** The model without blocks start … start+n−1, written out block by block (independently of dropBlocksFromWeights). */
function builtByHand(weights: ModelWeights, start: number, n: number): ModelWeights {
  const kept = [...Array(weights.config.numHiddenLayers).keys()].filter((l) => l < start || l >= start + n);
  const get = (name: string): HostTensor => {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(name);
    return t;
  };
  const tensors = new Map<string, HostTensor>();
  for (const name of ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"]) tensors.set(name, get(name));
  kept.forEach((from, to) => {
    for (const part of blockTensors) tensors.set(`model.layers.${to}.${part}.weight`, get(`model.layers.${from}.${part}.weight`));
  });
  return { config: { ...weights.config, numHiddenLayers: kept.length }, tensors };
}

const prompt = [1, 5, 17, 42, 3, 66, 0, 9, 12];

describe("dropBlocks", () => {
  it.each([
    [0, 1],
    [2, 3],
    [4, 2],
  ])("drops blocks %i…+%i: logits equal a model built by hand without them, sharing every buffer", async (start, n) => {
    const gpu = await testGpu();
    const weights = randomLlama(shape, 3);
    const full = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const pruned = dropBlocks(full, start, n);
    const hand = builtByHand(weights, start, n);
    const reference = uploadLlama(gpu, hand, { weightDtype: "f32" });
    expect(pruned.config.numHiddenLayers).toBe(6 - n);
    expect(full.config.numHiddenLayers).toBe(6);
    expect(pruned.layers).toEqual(full.layers.filter((_, l) => l < start || l >= start + n));
    expect(pruned.layers.every((layer) => full.layers.includes(layer))).toBe(true);
    expect(pruned.embed).toBe(full.embed);
    const read = async (model: typeof full) => {
      const { logits } = llamaForward(gpu, model, [prompt], { logits: "all" });
      if (!logits) throw new Error("no logits");
      const v = await gpu.readF32(logits);
      gpu.release(logits);
      return v;
    };
    const got = await read(pruned);
    // The same kernels on the same weights: bit for bit.
    expect(got).toEqual(await read(reference));
    // And the float64 reference of the hand-built model (f32 accumulation; logits of order 1).
    expectClose(got, llamaForwardCpu(llamaCpu(hand), prompt).logits, 1e-4, 1e-4, "logits vs CPU");
    releaseLlama(gpu, reference);
    releaseLlama(gpu, full);
  });

  it("generates with the KV cache on the pruned model as on the hand-built one", async () => {
    const gpu = await testGpu();
    const weights = randomLlama(shape, 4);
    const full = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const pruned = dropBlocks(full, 1, 2);
    const reference = uploadLlama(gpu, builtByHand(weights, 1, 2), { weightDtype: "f32" });
    const cache = createLlamaKvCache(gpu, pruned, 1, 8);
    expect(cache.layers).toHaveLength(4);
    releaseLlamaKvCache(gpu, cache);
    const prompts = [prompt.slice(0, 4), prompt];
    const options = { maxTokens: 12, stopTokens: [] };
    const got = await generate(gpu, pruned, prompts, options);
    const expected = await generate(gpu, reference, prompts, options);
    expect(got.map((g) => g.tokens)).toEqual(expected.map((g) => g.tokens));
    expect(got[0].tokens).toHaveLength(12);
    // Not the full model's text: the dropped blocks mattered.
    const unpruned = await generate(gpu, full, prompts, options);
    expect(unpruned.map((g) => g.tokens)).not.toEqual(got.map((g) => g.tokens));
    releaseLlama(gpu, reference);
    releaseLlama(gpu, full);
  });

  it("renumbers the host tensors for export, sharing their data", () => {
    const weights = randomLlama(shape, 5);
    const pruned = dropBlocksFromWeights(weights, 2, 3);
    const hand = builtByHand(weights, 2, 3);
    expect(pruned.config).toEqual(hand.config);
    expect([...pruned.tensors.keys()].sort()).toEqual([...hand.tensors.keys()].sort());
    for (const [name, t] of hand.tensors) expect(pruned.tensors.get(name), name).toBe(t);
    expect(weights.tensors.size).toBe(9 * 6 + 3);
  });

  it("refuses blocks the model does not have, naming them", async () => {
    const gpu = await testGpu();
    const weights = randomLlama({ ...shape, numHiddenLayers: 3 }, 1);
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    expect(() => dropBlocks(model, 2, 2)).toThrow(/cannot drop blocks 2…3: the model has blocks 0…2/);
    expect(() => dropBlocks(model, 0, 3)).toThrow(/every block/);
    expect(() => dropBlocksFromWeights(weights, -1, 1)).toThrow(/cannot drop blocks -1…-1/);
    // Dropping from an already pruned model counts its own blocks.
    expect(dropBlocks(dropBlocks(model, 0, 1), 1, 1).config.numHiddenLayers).toBe(1);
    releaseLlama(gpu, model);
  });
});
