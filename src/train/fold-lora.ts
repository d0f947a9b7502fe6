/**
 * Merges LoRA adapters into the base weights: W' = W + (alpha/r)·B·A, computed in float64 and
 * stored as f32, so the merged model can be saved, pruned further or merged without the adapter.
 */
import { type HostTensor, type ModelWeights, toFloat32 } from "../model/host-tensor";
import { type LoraConfig, loraModulePaths, peftKey } from "./llama-lora";

/** Adapter matrices under their PEFT keys (`…q_proj.lora_A.weight` [r, in], `…lora_B.weight` [out, r]). */
export type LoraTensors = Record<string, HostTensor>;

/** A new ModelWeights with every adapted projection folded; other tensors are shared with `weights`. */
export function foldLora(
  weights: ModelWeights,
  adapters: LoraTensors,
  config: Pick<LoraConfig, "rank" | "alpha" | "modules">,
): ModelWeights {
  const tensors = new Map(weights.tensors);
  const scale = config.alpha / config.rank;
  for (let l = 0; l < weights.config.numHiddenLayers; l++) {
    for (const m of config.modules) {
      const name = `model.layers.${l}.${loraModulePaths[m]}.weight`;
      const w = weights.tensors.get(name);
      const a = adapters[peftKey(l, m, "A")];
      const b = adapters[peftKey(l, m, "B")];
      if (!w || !a || !b) throw new Error(`foldLora: ${!w ? name : !a ? peftKey(l, m, "A") : peftKey(l, m, "B")} is missing`);
      const [outF, inF] = w.shape;
      const r = config.rank;
      if (a.shape.join() !== [r, inF].join() || b.shape.join() !== [outF, r].join()) {
        throw new Error(
          `foldLora: ${name} [${w.shape}] needs lora_A [${r}, ${inF}] and lora_B [${outF}, ${r}], got [${a.shape}] and [${b.shape}]`,
        );
      }
      const av = toFloat32(a);
      const bv = toFloat32(b);
      const folded = toFloat32(w).slice();
      for (let o = 0; o < outF; o++) {
        for (let i = 0; i < inF; i++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += bv[o * r + k] * av[k * inF + i];
          folded[o * inF + i] += scale * s;
        }
      }
      tensors.set(name, { dtype: "f32", shape: [outF, inF], data: folded });
    }
  }
  return { config: weights.config, tensors };
}
