/** The model shapes the benchmarks measure with random weights: SmolLM2-135M's, and a 12-block demo-sized one. */
import type { RandomLlamaShape } from "../src/model/random-llama";

export const smolLM2Shape: RandomLlamaShape = {
  hiddenSize: 576,
  intermediateSize: 1536,
  numHiddenLayers: 30,
  numAttentionHeads: 9,
  numKeyValueHeads: 3,
  vocabSize: 49152,
  tieWordEmbeddings: true,
  ropeTheta: 100000,
};

export const demoSizedShape: RandomLlamaShape = {
  hiddenSize: 256,
  intermediateSize: 688,
  numHiddenLayers: 12,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  vocabSize: 4096,
  tieWordEmbeddings: true,
};

export const benchShapes: Record<string, RandomLlamaShape> = { "SmolLM2-135M shape": smolLM2Shape, "demo shape": demoSizedShape };
