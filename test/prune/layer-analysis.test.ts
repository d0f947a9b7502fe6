import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelWeights } from "../../src/model/host-tensor";
import { llamaCpu } from "../../src/model/llama-cpu";
import { releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { type RandomLlamaShape, randomLlama } from "../../src/model/random-llama";
import { Tokenizer } from "../../src/model/tokenizer";
import { calibrationFromText, encodeCalibration } from "../../src/prune/calibration";
import { analyzeLayers, analyzeLayersCpu, bestStarts, type LayerAnalysis } from "../../src/prune/layer-analysis";
import { testGpu } from "../gpu-harness";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { expectClose, rng } from "../numerics";

// hidden 36 = 3 heads × head_dim 12 (GQA 3:1); intermediate and vocab not multiples of any tile.
const tiny: RandomLlamaShape = {
  hiddenSize: 36,
  intermediateSize: 61,
  numHiddenLayers: 5,
  numAttentionHeads: 3,
  numKeyValueHeads: 1,
  vocabSize: 67,
};
// head_dim 64: two query heads over one kv head.
const wide: RandomLlamaShape = {
  hiddenSize: 128,
  intermediateSize: 77,
  numHiddenLayers: 3,
  numAttentionHeads: 2,
  numKeyValueHeads: 1,
  vocabSize: 45,
};
// head_dim 8 with four query heads sharing two kv heads.
const narrow: RandomLlamaShape = {
  hiddenSize: 32,
  intermediateSize: 45,
  numHiddenLayers: 4,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  vocabSize: 33,
};

/** Samples of uneven lengths, so batches are right-padded and the last batch is short. */
function samples(count: number, vocab: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => Array.from({ length: 2 + ((i * 5) % 9) }, () => Math.floor(r() * vocab)));
}

/**
 * f32 hidden states against float64: cosines agree to ~1e-6, and acos(c)/π amplifies an error δ near
 * c = 1 to at most √(2δ)/π ≈ 5e-4; these random models keep c well below 1, where 1e-4 holds.
 */
const distanceTol = 1e-4;

function expectAnalysesClose(gpu: LayerAnalysis, cpu: LayerAnalysis, what: string): void {
  expect(gpu.layers).toBe(cpu.layers);
  expect(gpu.numSamples).toBe(cpu.numSamples);
  expect(gpu.angular.map((row) => row.length)).toEqual(cpu.angular.map((row) => row.length));
  expectClose(gpu.angular.flat(), cpu.angular.flat(), 0, distanceTol, `${what} angular`);
  // Σ cos in f32 over a few hundred rows: 1e-5 absolute on a mean.
  expectClose(gpu.blockInfluence, cpu.blockInfluence, 0, 1e-5, `${what} block influence`);
}

describe("layer analysis", () => {
  it.each([
    ["last", 12, tiny],
    ["all", 12, tiny],
    ["last", 8, narrow],
    ["all", 8, narrow],
    ["last", 64, wide],
  ] as const)("GPU equals the float64 reference on a random model (tokens %s, head_dim %d)", async (tokens, _headDim, shape) => {
    const gpu = await testGpu();
    const weights = randomLlama(shape, 7);
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const data = samples(7, shape.vocabSize, 3);
    const progress: number[] = [];
    const got = await analyzeLayers(gpu, model, data, { tokens, batchSize: 3, onProgress: (p) => progress.push(p.samples) });
    releaseLlama(gpu, model);
    expect(progress).toEqual([3, 6, 7]);
    expect(got.tokens).toBe(tokens);
    expectAnalysesClose(got, analyzeLayersCpu(llamaCpu(weights), data, { tokens }), tokens);
    // Sanity on what is measured: the distances of a random model are far from 0 and within [0, 1].
    expect(Math.min(...got.angular.flat())).toBeGreaterThan(0.01);
    expect(Math.max(...got.angular.flat())).toBeLessThan(1);
  });

  it("batching does not change the result beyond f32 rounding", async () => {
    const gpu = await testGpu();
    const model = uploadLlama(gpu, randomLlama(tiny, 2), { weightDtype: "f32" });
    const data = samples(5, tiny.vocabSize, 9);
    const one = await analyzeLayers(gpu, model, data, { batchSize: 1 });
    const all = await analyzeLayers(gpu, model, data, { batchSize: 5 });
    releaseLlama(gpu, model);
    expectClose(all.angular.flat(), one.angular.flat(), 0, distanceTol, "angular");
    expectClose(all.blockInfluence, one.blockInfluence, 0, 1e-5, "block influence");
  });

  it("gives distance 0 to blocks that are the identity (zeroed o_proj and down_proj)", async () => {
    const gpu = await testGpu();
    const weights = randomLlama(tiny, 5);
    const identity = [1, 2];
    const tensors = new Map(weights.tensors);
    for (const l of identity) {
      for (const name of [`model.layers.${l}.self_attn.o_proj.weight`, `model.layers.${l}.mlp.down_proj.weight`]) {
        const t = tensors.get(name);
        if (!t) throw new Error(name);
        tensors.set(name, { ...t, data: new Float32Array(t.data.length) });
      }
    }
    const constructed: ModelWeights = { config: weights.config, tensors };
    const model = uploadLlama(gpu, constructed, { weightDtype: "f32" });
    const data = samples(4, tiny.vocabSize, 11);
    const got = await analyzeLayers(gpu, model, data, { batchSize: 2 });
    const cpu = analyzeLayersCpu(llamaCpu(constructed), data);
    releaseLlama(gpu, model);
    // h_1 = h_2 = h_3 exactly; the GPU's cos of equal rows is 1 within an ulp (≈6e-8), and acos(1 − 6e-8)/π ≈ 1.1e-4.
    for (const [l, n] of [
      [1, 1],
      [2, 1],
      [1, 2],
    ]) {
      expect(cpu.angular[n - 1][l]).toBeLessThan(1e-7);
      expect(got.angular[n - 1][l]).toBeLessThan(2e-4);
    }
    expect(got.blockInfluence[1]).toBeLessThan(1e-6);
    expect(got.blockInfluence[2]).toBeLessThan(1e-6);
    // Every other run of blocks includes a real one.
    expect(got.angular[0][0]).toBeGreaterThan(0.01);
    expect(got.angular[0][3]).toBeGreaterThan(0.01);
    expect(bestStarts(got)[0]).toBe(1);
    expect(bestStarts(got)[1]).toBe(1);
  });

  it("stops between batches when cancelled, and rejects bad input naming the sample", async () => {
    const gpu = await testGpu();
    const live = gpu.memory().liveBytes;
    const model = uploadLlama(gpu, randomLlama(tiny, 1), { weightDtype: "f32" });
    const controller = new AbortController();
    const seen: number[] = [];
    const run = analyzeLayers(gpu, model, samples(6, tiny.vocabSize, 1), {
      batchSize: 2,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.samples);
        controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(seen).toEqual([2]);
    await expect(analyzeLayers(gpu, model, [[1, 2], []])).rejects.toThrow(/analyzeLayers: calibration sample 1 has no tokens/);
    await expect(analyzeLayers(gpu, model, [])).rejects.toThrow(/no calibration samples/);
    releaseLlama(gpu, model);
    expect(gpu.memory().liveBytes).toBe(live);
  });
});

describe.skipIf(!hasStories260k)("layer analysis on stories260K", () => {
  it("GPU equals the float64 reference on real text", async () => {
    const gpu = await testGpu();
    const weights = readLlama2cCheckpoint(new Uint8Array(readFileSync(resolve(stories260kDir, "stories260K.bin"))), "stories260K.bin");
    const tokenizer = new Tokenizer(
      llama2cTokenizerToHf(readLlama2cTokenizer(readFileSync(resolve(stories260kDir, "tok512.bin")), "tok512.bin", 512), 512),
    );
    const text = [
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
      "Tom had a red ball. He threw it to his dog, and the dog ran fast to get it.",
      "The sun was big and warm.",
      "One day, a bird flew into the garden and sang a happy song for everyone to hear.",
      'Mom said, "Let\'s bake a cake!" and they laughed.',
    ].join("\n\n");
    const data = encodeCalibration(tokenizer, calibrationFromText(text), { seqLen: 20 });
    expect(data).toHaveLength(5);
    const model = uploadLlama(gpu, weights);
    for (const tokens of ["last", "all"] as const) {
      const got = await analyzeLayers(gpu, model, data, { tokens, batchSize: 2 });
      expectAnalysesClose(got, analyzeLayersCpu(llamaCpu(weights), data, { tokens }), `stories260K ${tokens}`);
    }
    releaseLlama(gpu, model);
  });
});
