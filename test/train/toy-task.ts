/** A toy fine-tuning task a tiny model learns in a few steps: continue a counting sequence, with the prompt's tokens not counted. */
import type { RandomLlamaShape } from "../../src/model/random-llama";
import type { TrainConfig, TrainExample } from "../../src/train/train-loop";

export const toyShape: RandomLlamaShape = {
  hiddenSize: 32,
  intermediateSize: 44,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  vocabSize: 19,
};

/** Example i: BOS, then counting up (mod 17, ids 2…18) from a start that depends on i; lengths 7…10. */
export function countingDataset(size: number): TrainExample[] {
  return Array.from({ length: size }, (_, i) => {
    const length = 7 + (i % 4);
    const tokens = [1, ...Array.from({ length: length - 1 }, (_, t) => 2 + ((i * 5 + t) % 17))];
    return { tokens, lossMask: tokens.map((_, t) => (t >= 3 ? 1 : 0)) };
  });
}

export const toyLoraConfig: TrainConfig = {
  mode: "lora",
  lora: { rank: 4, alpha: 8, dropout: 0.1, modules: ["q", "k", "v", "o", "gate", "up", "down"] },
  steps: 12,
  batchSize: 4,
  gradientAccumulation: 2,
  maxLength: 9,
  lr: 2e-2,
  warmupSteps: 2,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  seed: 7,
  checkpointEvery: 0,
  padId: 0,
};
