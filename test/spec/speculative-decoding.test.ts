import { describe, expect, it } from "vitest";
import { generate } from "../../src/model/generate";
import { llamaForward, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { randomLlama } from "../../src/model/random-llama";
import { Tokenizer } from "../../src/model/tokenizer";
import { samplingDistribution } from "../../src/ops/sampling";
import { dropBlocks } from "../../src/prune/drop-blocks";
import { speculativeDecode } from "../../src/spec/speculative-decoding";
import { testGpu } from "../gpu-harness";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

const tinyShape = { hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 3, numAttentionHeads: 2, numKeyValueHeads: 1, vocabSize: 37 };

describe("speculative decoding on a random tiny Llama with a pruned draft", () => {
  it("greedy output is exactly the target's greedy output, for every k", async () => {
    const gpu = await testGpu();
    const target = uploadLlama(gpu, randomLlama(tinyShape, 3), { weightDtype: "f32" });
    const draft = dropBlocks(target, 1, 1);
    const prompt = [1, 5, 9, 14];
    const options = { maxTokens: 24, stopTokens: [] };
    const [plain] = await generate(gpu, target, [prompt], options);
    for (const k of [1, 3, 6]) {
      const spec = await speculativeDecode(gpu, draft, target, prompt, { ...options, k });
      expect(spec.tokens, `k = ${k}`).toEqual(plain.tokens);
      expect(spec.stopReason).toBe("length");
      // Each round commits its kept drafts and one target token.
      expect(spec.rounds.reduce((sum, r) => sum + r.accepted + 1, 0)).toBe(24);
      expect(spec.targetForwards).toBe(spec.rounds.length);
      expect(spec.acceptanceRate).toBeCloseTo(spec.acceptedTokens / spec.draftTokens, 15);
      expect(spec.meanAcceptedLength).toBeCloseTo(24 / spec.targetForwards, 12);
    }
    releaseLlama(gpu, target);
  });

  it("a draft equal to the target has every draft accepted: one target forward per k + 1 tokens", async () => {
    const gpu = await testGpu();
    const target = uploadLlama(gpu, randomLlama(tinyShape, 4), { weightDtype: "f32" });
    const spec = await speculativeDecode(gpu, target, target, [1, 2, 3], { k: 4, maxTokens: 12, stopTokens: [] });
    expect(spec.acceptanceRate).toBe(1);
    // Rounds of 4 drafts + 1 bonus commit 5, 5, then 2 (1 draft, capped so no more than maxTokens are produced).
    expect(spec.rounds.map((r) => [r.drafts.length, r.accepted])).toEqual([
      [4, 4],
      [4, 4],
      [1, 1],
    ]);
    expect(spec.meanAcceptedLength).toBe(4);
    releaseLlama(gpu, target);
  });

  it("stops at a stop token the target produces, without including it", async () => {
    const gpu = await testGpu();
    const target = uploadLlama(gpu, randomLlama(tinyShape, 3), { weightDtype: "f32" });
    const prompt = [1, 5, 9, 14];
    const [plain] = await generate(gpu, target, [prompt], { maxTokens: 10, stopTokens: [] });
    const stop = plain.tokens[6];
    const spec = await speculativeDecode(gpu, dropBlocks(target, 0, 1), target, prompt, { k: 3, maxTokens: 10, stopTokens: [stop] });
    expect(spec.stopReason).toBe("stop-token");
    expect(spec.tokens).toEqual(plain.tokens.slice(0, plain.tokens.indexOf(stop)));
    releaseLlama(gpu, target);
  });

  it("sampled output follows the target's distribution, not the draft's (first token, TV distance, fixed seeds)", async () => {
    const gpu = await testGpu();
    const shape = { ...tinyShape, vocabSize: 6 };
    const target = uploadLlama(gpu, randomLlama(shape, 11), { weightDtype: "f32" });
    const draft = uploadLlama(gpu, randomLlama(shape, 12), { weightDtype: "f32" });
    const prompt = [1, 4, 2];
    const exact = async (model: typeof target) => {
      const { logits } = llamaForward(gpu, model, [prompt]);
      if (!logits) throw new Error("no logits");
      const p = samplingDistribution(await gpu.readF32(logits), { temperature: 1 });
      gpu.release(logits);
      return p;
    };
    const p = await exact(target);
    const q = await exact(draft);
    const runs = 200;
    const counts = new Array(6).fill(0);
    for (let seed = 0; seed < runs; seed++) {
      const spec = await speculativeDecode(gpu, draft, target, prompt, { k: 3, maxTokens: 2, temperature: 1, seed, stopTokens: [] });
      counts[spec.tokens[0]]++;
    }
    const tv = (a: ArrayLike<number>) => 0.5 * counts.reduce((sum, c, i) => sum + Math.abs(c / runs - a[i]), 0);
    // With 200 draws over 6 tokens, TV of the empirical distribution from the true one has mean ≈ 0.06 and
    // 0.999 quantile ≈ 0.14 (multinomial simulation); the draft's distribution is much further from the target's.
    expect(0.5 * p.reduce((sum, pi, i) => sum + Math.abs(pi - q[i]), 0)).toBeGreaterThan(0.3);
    expect(tv(p)).toBeLessThan(0.14);
    expect(tv(q)).toBeGreaterThan(0.2);
    releaseLlama(gpu, target);
    releaseLlama(gpu, draft);
  });

  it("rejects bad arguments, naming them", async () => {
    const gpu = await testGpu();
    const target = uploadLlama(gpu, randomLlama(tinyShape, 3), { weightDtype: "f32" });
    const other = uploadLlama(gpu, randomLlama({ ...tinyShape, vocabSize: 40 }, 3), { weightDtype: "f32" });
    await expect(speculativeDecode(gpu, target, target, [1], { k: 0, maxTokens: 4 })).rejects.toThrow(/k must be an integer ≥ 1, got 0/);
    await expect(speculativeDecode(gpu, other, target, [1], { k: 2, maxTokens: 4 })).rejects.toThrow(/vocabularies differ \(40 vs 37/);
    releaseLlama(gpu, target);
    releaseLlama(gpu, other);
  });
});

describe.skipIf(!hasStories260k)("speculative decoding on stories260K (a real pretrained Llama)", () => {
  it("greedy output with a pruned draft (block 2 of 5 dropped) is exactly the target's", async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(`${stories260kDir}/stories260K.bin`, { tokenizer: `${stories260kDir}/tok512.bin` });
    const tokenizer = new Tokenizer({ tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig });
    const target = uploadLlama(gpu, loaded.weights);
    const draft = dropBlocks(target, 2, 1);
    const prompt = tokenizer.encode("Once upon a time", { bos: true });
    const options = { maxTokens: 40, stopTokens: [] };
    const [plain] = await generate(gpu, target, [prompt], options);
    const spec = await speculativeDecode(gpu, draft, target, prompt, { ...options, k: 4 });
    expect(spec.tokens).toEqual(plain.tokens);
    console.log(
      `stories260K, draft without block 2: acceptance ${spec.acceptanceRate.toFixed(3)}, ${spec.meanAcceptedLength.toFixed(2)} tokens per target forward`,
    );
    expect(spec.acceptanceRate).toBeGreaterThan(0.3);
    releaseLlama(gpu, target);
  });
});
