/**
 * LoRA adapters in PEFT's on-disk format, so `PeftModel.from_pretrained(base, dir)` loads them:
 * adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout, target_modules, …) and
 * adapter_model.safetensors with PEFT's keys (`base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight`,
 * A [r, in], B [out, r], f32). Import reads the same files back, rejecting what this project's
 * LoRA cannot represent (other PEFT types, rsLoRA, DoRA, biases, per-module ranks).
 */
import { castHostTensor, type HostTensor, type ModelWeights } from "../model/host-tensor";
import { readSafetensors, writeSafetensors } from "../model/safetensors";
import type { LoraTensors } from "../train/fold-lora";
import { type LoraConfig, type LoraModule, loraModulePaths, loraModules, peftKey } from "../train/llama-lora";

export const peftConfigFile = "adapter_config.json";
export const peftWeightsFile = "adapter_model.safetensors";

export interface PeftAdapter {
  config: LoraConfig;
  /** Matrices under their PEFT keys, f32. */
  tensors: LoraTensors;
  /** Decoder blocks adapted (0 … layers − 1). */
  layers: number;
  baseModel: string;
}

/** PEFT's target_modules name of each module (q → q_proj, …). */
const targetName = (m: LoraModule) => loraModulePaths[m].split(".")[1];

export function peftAdapterFiles(adapter: PeftAdapter): Map<string, Uint8Array> {
  const { config, layers } = adapter;
  const tensors = new Map<string, HostTensor>();
  for (let l = 0; l < layers; l++) {
    for (const m of config.modules) {
      for (const matrix of ["A", "B"] as const) {
        const key = peftKey(l, m, matrix);
        const t = adapter.tensors[key];
        if (!t) throw new Error(`peftAdapterFiles: ${key} is missing`);
        tensors.set(key, castHostTensor(t, "f32"));
      }
      checkPair(adapter.tensors, l, m, config.rank, "peftAdapterFiles");
    }
  }
  const json = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: adapter.baseModel,
    r: config.rank,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    target_modules: config.modules.map(targetName),
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_to_transform: null,
    modules_to_save: null,
    revision: null,
  };
  return new Map([
    [peftConfigFile, new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`)],
    [peftWeightsFile, writeSafetensors(tensors, { format: "pt" })],
  ]);
}

/**
 * Reads an adapter; with `base` given, also checks it fits that model (layer count and every
 * projection's shape). Errors name the file and the field or tensor.
 */
export function readPeftAdapter(configText: string, weights: Uint8Array, base?: ModelWeights): PeftAdapter {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${peftConfigFile} is not valid JSON: ${(e as Error).message}`);
  }
  const fail = (detail: string) => new Error(`${peftConfigFile}: ${detail}`);
  if (raw.peft_type !== "LORA") throw fail(`peft_type is ${JSON.stringify(raw.peft_type)}; only LoRA adapters ("LORA") can be imported`);
  const unsupported: [string, (v: unknown) => boolean][] = [
    ["use_rslora", (v) => v === true],
    ["use_dora", (v) => v === true],
    ["fan_in_fan_out", (v) => v === true],
    ["bias", (v) => v !== undefined && v !== "none"],
    ["layers_to_transform", (v) => v != null],
    ["modules_to_save", (v) => v != null],
    ["rank_pattern", (v) => v != null && Object.keys(v as object).length > 0],
    ["alpha_pattern", (v) => v != null && Object.keys(v as object).length > 0],
  ];
  for (const [field, bad] of unsupported) if (bad(raw[field])) throw fail(`${field} = ${JSON.stringify(raw[field])} is not supported`);
  const rank = raw.r;
  const alpha = raw.lora_alpha;
  const dropout = raw.lora_dropout ?? 0;
  if (!(Number.isInteger(rank) && (rank as number) >= 1)) throw fail(`r must be an integer ≥ 1, got ${JSON.stringify(rank)}`);
  if (!(typeof alpha === "number" && alpha > 0)) throw fail(`lora_alpha must be a positive number, got ${JSON.stringify(alpha)}`);
  if (!(typeof dropout === "number" && dropout >= 0 && dropout < 1))
    throw fail(`lora_dropout must be in [0, 1), got ${JSON.stringify(dropout)}`);
  const targets = raw.target_modules;
  if (!Array.isArray(targets) || targets.length === 0) {
    throw fail(`target_modules must be a non-empty list of projection names, got ${JSON.stringify(targets)}`);
  }
  const modules = targets.map((name) => {
    const m = loraModules.find((candidate) => targetName(candidate) === name);
    if (!m) throw fail(`target_modules names ${JSON.stringify(name)}; supported: ${loraModules.map(targetName).join(", ")}`);
    return m;
  });
  const { tensors: file } = readSafetensors(weights, peftWeightsFile);
  const keyPattern = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.lora_[AB]\.weight$/;
  let layers = 0;
  for (const key of file.keys()) {
    const match = keyPattern.exec(key);
    if (!match) throw new Error(`${peftWeightsFile}: ${key} is not a LoRA matrix of a decoder block projection`);
    if (!targets.includes(match[3])) throw new Error(`${peftWeightsFile}: ${key} adapts ${match[3]}, which target_modules does not list`);
    layers = Math.max(layers, Number(match[1]) + 1);
  }
  if (base && layers !== base.config.numHiddenLayers) {
    throw new Error(`${peftWeightsFile}: the adapter covers ${layers} blocks but the model has ${base.config.numHiddenLayers}`);
  }
  const tensors: LoraTensors = {};
  for (let l = 0; l < layers; l++) {
    for (const m of modules) {
      for (const matrix of ["A", "B"] as const) {
        const key = peftKey(l, m, matrix);
        const t = file.get(key);
        if (!t) throw new Error(`${peftWeightsFile}: ${key} is missing`);
        tensors[key] = castHostTensor(t, "f32");
      }
      const [outF, inF] = checkPair(tensors, l, m, rank as number, peftWeightsFile);
      const name = `model.layers.${l}.${loraModulePaths[m]}.weight`;
      const w = base?.tensors.get(name);
      if (base && (!w || w.shape.join() !== [outF, inF].join())) {
        throw new Error(
          `${peftWeightsFile}: the adapter of ${name} is for [${outF}, ${inF}], the model's is ${w ? `[${w.shape.join(", ")}]` : "missing"}`,
        );
      }
    }
  }
  return {
    config: { rank: rank as number, alpha, dropout, modules },
    tensors,
    layers,
    baseModel: typeof raw.base_model_name_or_path === "string" ? raw.base_model_name_or_path : "",
  };
}

/** [out, in] of one projection's adapter, after checking A is [r, in] and B is [out, r]. */
function checkPair(tensors: LoraTensors, layer: number, m: LoraModule, rank: number, what: string): [number, number] {
  const a = tensors[peftKey(layer, m, "A")];
  const b = tensors[peftKey(layer, m, "B")];
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== rank || b.shape[1] !== rank) {
    throw new Error(
      `${what}: layer ${layer} ${targetName(m)} needs lora_A [${rank}, in] and lora_B [out, ${rank}], got [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`,
    );
  }
  return [b.shape[0], a.shape[1]];
}
