/** The tiny Llama shape (GQA 6:2, head_dim 4, odd sizes) the format tests build random models of with `randomLlama`, and its Qwen2 and Mistral variants. */
import type { RandomLlamaShape } from "../../src/model/random-llama";

export const tinyLlamaShape: RandomLlamaShape = {
  hiddenSize: 24,
  intermediateSize: 40,
  numHiddenLayers: 2,
  numAttentionHeads: 6,
  numKeyValueHeads: 2,
  vocabSize: 37,
  maxPositionEmbeddings: 64,
};

/** Qwen2 (Qwen2.5-0.5B's traits): q/k/v biases and tied embeddings. */
export const tinyQwen2Shape: RandomLlamaShape = {
  ...tinyLlamaShape,
  architecture: "qwen2",
  attentionBias: true,
  tieWordEmbeddings: true,
};

/** Mistral with a sliding window of 3 positions, shorter than the test sequences. */
export const tinyMistralShape: RandomLlamaShape = {
  ...tinyLlamaShape,
  numHiddenLayers: 3,
  architecture: "mistral",
  slidingWindow: 3,
};
