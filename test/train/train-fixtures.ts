/**
 * A tiny GQA Llama with odd sizes, a right-padded batch, the float64 CPU loss the training tests
 * check against, and a bit-for-bit comparison of two runs' trained tensors.
 */
import { expect } from "vitest";
import { type LlamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import type { RandomLlamaShape } from "../../src/model/random-llama";
import type { TrainBatch } from "../../src/train/llama-train-forward";
import type { TrainCheckpoint } from "../../src/train/train-loop";

/** head_dim 8, 3 query heads sharing 1 kv head, sizes that are multiples of no tile. */
export const gradientCheckShape: RandomLlamaShape = {
  hiddenSize: 24,
  intermediateSize: 37,
  numHiddenLayers: 2,
  numAttentionHeads: 3,
  numKeyValueHeads: 1,
  vocabSize: 41,
};

/** Two rows of 6: the second has 4 real tokens and 2 of right padding; prompt tokens are not counted. */
export const paddedBatch: TrainBatch = {
  inputs: [
    [1, 7, 30, 12, 40, 5],
    [1, 22, 9, 17, 0, 0],
  ],
  targets: [
    [7, 30, 12, 40, 5, 2],
    [22, 9, 17, 2, 0, 0],
  ],
  lossMask: [
    [0, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 0, 0],
  ],
};

export function countedTokens(batch: TrainBatch): number {
  return batch.lossMask.flat().reduce((a, b) => a + b, 0);
}

/** The same model with every weight copied to float64, so finite differences can take steps f32 cannot hold. */
export function toFloat64Model(model: LlamaCpu): LlamaCpu {
  const f64 = (w: ArrayLike<number>) => Float64Array.from(w);
  const embed = f64(model.embed);
  return {
    ...model,
    embed,
    layers: model.layers.map((l) => ({
      inputNorm: f64(l.inputNorm),
      q: f64(l.q),
      k: f64(l.k),
      v: f64(l.v),
      o: f64(l.o),
      postNorm: f64(l.postNorm),
      gate: f64(l.gate),
      up: f64(l.up),
      down: f64(l.down),
      ...(l.bias ? { bias: { q: f64(l.bias.q), k: f64(l.bias.k), v: f64(l.bias.v) } } : {}),
    })),
    norm: f64(model.norm),
    lmHead: model.lmHead === model.embed ? embed : f64(model.lmHead),
  };
}

/**
 * Mean cross-entropy over the counted tokens, in float64 throughout: the blocks run in `llamaForwardCpu`
 * (which returns its final hidden state in float64), the final norm and the head here.
 */
export function cpuTrainLoss(model: LlamaCpu, batch: TrainBatch): number {
  const { hiddenSize: d, vocabSize: vocab, rmsNormEps: eps } = model.config;
  let sum = 0;
  let count = 0;
  batch.inputs.forEach((row, b) => {
    const hidden = llamaForwardCpu(model, row, undefined, { captureHidden: true }).hidden;
    const final = hidden?.at(-1);
    if (!final) throw new Error("llamaForwardCpu returned no hidden states");
    row.forEach((_, t) => {
      if (!batch.lossMask[b][t]) return;
      let ss = 0;
      for (let i = 0; i < d; i++) ss += final[t * d + i] ** 2;
      const r = 1 / Math.sqrt(ss / d + eps);
      const logits = new Float64Array(vocab);
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += model.lmHead[v * d + i] * final[t * d + i] * r * model.norm[i];
        logits[v] = s;
        max = Math.max(max, s);
      }
      let z = 0;
      for (const s of logits) z += Math.exp(s - max);
      sum += max + Math.log(z) - logits[batch.targets[b][t]];
      count++;
    });
  });
  return sum / count;
}

/** The two checkpoints hold the same tensors, bit for bit. */
export function expectSameParameters(a: TrainCheckpoint, b: TrainCheckpoint): void {
  expect(Object.keys(b.parameters)).toEqual(Object.keys(a.parameters));
  for (const [name, t] of Object.entries(a.parameters)) {
    const other = b.parameters[name].data as Float32Array;
    const bitsA = new Uint32Array((t.data as Float32Array).slice().buffer);
    const bitsB = new Uint32Array(other.slice().buffer);
    expect(bitsB, `${name} differs`).toEqual(bitsA);
  }
}
