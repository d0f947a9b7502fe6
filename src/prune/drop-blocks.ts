/**
 * Layer pruning: the model without decoder blocks l … l+n−1. On the GPU the pruned model shares
 * every buffer with the original (release only the original, with `releaseLlama`); on the host the
 * tensors are renamed so that the kept blocks are numbered 0 … L−n−1, as a Hugging Face export needs.
 */
import type { ModelWeights } from "../model/host-tensor";
import type { LlamaGpu } from "../model/llama-gpu";
import { configWithoutBlocks } from "./accounting";

export function dropBlocks(model: LlamaGpu, start: number, n: number): LlamaGpu {
  const config = configWithoutBlocks({ ...model.config, numHiddenLayers: model.layers.length }, start, n);
  return { ...model, config, layers: model.layers.filter((_, l) => l < start || l >= start + n) };
}

const layerName = /^model\.layers\.(\d+)\.(.+)$/;

/** The same weights without blocks start … start+n−1; later blocks' tensors are renamed down by n, other tensors are shared. */
export function dropBlocksFromWeights(weights: ModelWeights, start: number, n: number): ModelWeights {
  const config = configWithoutBlocks(weights.config, start, n);
  const tensors: ModelWeights["tensors"] = new Map();
  for (const [name, t] of weights.tensors) {
    const m = layerName.exec(name);
    if (!m) {
      tensors.set(name, t);
      continue;
    }
    const l = Number(m[1]);
    if (l < start) tensors.set(name, t);
    else if (l >= start + n) tensors.set(`model.layers.${l - n}.${m[2]}`, t);
  }
  return { config, tensors };
}
