/** The tiny Llama shape (GQA 6:2, head_dim 4, odd sizes) the format tests build random models of with `randomLlama`. */
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
