/**
 * LoRA adapters over a whole Llama: which projections get one, their creation (seeded, PEFT's
 * initialisation) and their names in PEFT's `adapter_model.safetensors` layout.
 */
import { createArena } from "../gpu/arena";
import type { Gpu } from "../gpu/context";
import type { Tensor } from "../gpu/tensor";
import type { LlamaGpu } from "../model/llama-gpu";
import { createLoraAdapter, type LoraAdapter } from "../ops/lora";

/** The seven projections of a decoder block, by their short names (PEFT's target_modules without `_proj`). */
export type LoraModule = "q" | "k" | "v" | "o" | "gate" | "up" | "down";

export const loraModules: readonly LoraModule[] = ["q", "k", "v", "o", "gate", "up", "down"];

/** Each module's path inside a block, as Hugging Face names it. */
export const loraModulePaths: Record<LoraModule, string> = {
  q: "self_attn.q_proj",
  k: "self_attn.k_proj",
  v: "self_attn.v_proj",
  o: "self_attn.o_proj",
  gate: "mlp.gate_proj",
  up: "mlp.up_proj",
  down: "mlp.down_proj",
};

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Dropout on each adapter's input during training, in [0, 1). */
  dropout: number;
  modules: readonly LoraModule[];
}

/** SDFT's defaults (r 8, alpha 16, q and v). */
export const loraDefaults: LoraConfig = { rank: 8, alpha: 16, dropout: 0.05, modules: ["q", "v"] };

export type LayerAdapters = Partial<Record<LoraModule, LoraAdapter>>;

export interface LlamaLora {
  config: LoraConfig;
  /** One entry per block of the model it was made for. */
  layers: LayerAdapters[];
  /** The buffer every adapter matrix is a view into (src/gpu/arena.ts), when they fit one binding. */
  arena?: Tensor;
}

/** Each adapter's A and B in a fixed order (block, module, A then B): the layout of the arena and its gradients'. */
export function adapterMatrices(
  lora: Pick<LlamaLora, "layers">,
): { layer: number; module: LoraModule; matrix: "a" | "b"; tensor: Tensor }[] {
  return lora.layers.flatMap((layer, l) =>
    (Object.entries(layer) as [LoraModule, LoraAdapter][]).flatMap(([module, adapter]) =>
      (["a", "b"] as const).map((matrix) => ({ layer: l, module, matrix, tensor: adapter[matrix] })),
    ),
  );
}

export function createLlamaLora(gpu: Gpu, model: LlamaGpu, config: LoraConfig, seed: number): LlamaLora {
  if (!(Number.isInteger(config.rank) && config.rank >= 1))
    throw new Error(`createLlamaLora: rank must be an integer ≥ 1, got ${config.rank}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`createLlamaLora: dropout must be in [0, 1), got ${config.dropout}`);
  const unknown = config.modules.filter((m) => !loraModules.includes(m));
  if (unknown.length > 0 || config.modules.length === 0) {
    throw new Error(`createLlamaLora: modules must be a non-empty subset of ${loraModules.join(", ")}, got ${config.modules.join(", ")}`);
  }
  const layers = model.layers.map((layer, l) => {
    const adapters: LayerAdapters = {};
    for (const m of config.modules) {
      const [outFeatures, inFeatures] = layer[m].shape;
      adapters[m] = createLoraAdapter(
        gpu,
        { inFeatures, outFeatures, rank: config.rank, alpha: config.alpha },
        moduleSeed(seed, l, m),
        `model.layers.${l}.${loraModulePaths[m]}`,
      );
    }
    return adapters;
  });
  // Moved into one arena, so that AdamW and the gradient norm run once over all adapters (a copy each, once).
  const matrices = adapterMatrices({ layers });
  const packed = createArena(
    gpu,
    matrices.map((m) => ({ shape: m.tensor.shape, label: m.tensor.label })),
    "lora.arena",
  );
  if (!packed) return { config, layers };
  matrices.forEach((m, i) => {
    gpu.copy(m.tensor, packed.views[i]);
    gpu.release(m.tensor);
    const adapter = layers[m.layer][m.module] as LoraAdapter;
    layers[m.layer][m.module] = { ...adapter, [m.matrix]: packed.views[i] };
  });
  return { config, layers, arena: packed.arena };
}

export function releaseLlamaLora(gpu: Gpu, lora: LlamaLora): void {
  for (const layer of lora.layers) for (const a of Object.values(layer)) gpu.release(a.a, a.b);
  gpu.release(lora.arena);
}

/** A distinct u32 for each (seed, layer, module): adapter initialisation and dropout masks. */
export function moduleSeed(seed: number, layer: number, module: LoraModule): number {
  return (
    (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(layer + 1, 0x85ebca6b) ^ Math.imul(loraModules.indexOf(module) + 1, 0xc2b2ae35)) >>> 0
  );
}

/** PEFT's key for a block's adapter matrix, e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`. */
export function peftKey(layer: number, module: LoraModule, matrix: "A" | "B"): string {
  return `base_model.model.model.layers.${layer}.${loraModulePaths[module]}.lora_${matrix}.weight`;
}
