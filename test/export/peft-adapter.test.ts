import { describe, expect, it } from "vitest";
import { type PeftAdapter, peftAdapterFiles, peftConfigFile, peftWeightsFile, readPeftAdapter } from "../../src/export/peft-adapter";
import { randomLlama } from "../../src/model/random-llama";
import { readSafetensors, writeSafetensors } from "../../src/model/safetensors";
import type { LoraTensors } from "../../src/train/fold-lora";
import { type LoraConfig, loraModulePaths, peftKey } from "../../src/train/llama-lora";
import { randn } from "../numerics";

const base = randomLlama({
  hiddenSize: 8,
  intermediateSize: 12,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  numKeyValueHeads: 1,
  vocabSize: 11,
});
const config: LoraConfig = { rank: 3, alpha: 6, dropout: 0.05, modules: ["q", "v", "down"] };

function adapterFor(lora: LoraConfig): PeftAdapter {
  const tensors: LoraTensors = {};
  let seed = 1;
  for (let l = 0; l < 2; l++) {
    for (const m of lora.modules) {
      const [out, inp] = base.tensors.get(`model.layers.${l}.${loraModulePaths[m]}.weight`)?.shape ?? [];
      tensors[peftKey(l, m, "A")] = { dtype: "f32", shape: [lora.rank, inp], data: randn(lora.rank * inp, seed++) };
      tensors[peftKey(l, m, "B")] = { dtype: "f32", shape: [out, lora.rank], data: randn(out * lora.rank, seed++) };
    }
  }
  return { config: lora, tensors, layers: 2, baseModel: "HuggingFaceTB/SmolLM2-135M-Instruct" };
}

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("PEFT adapter export", () => {
  const files = peftAdapterFiles(adapterFor(config));

  it("writes adapter_config.json with PEFT's LoRA fields", () => {
    expect([...files.keys()]).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    expect(JSON.parse(text(files.get(peftConfigFile)))).toEqual({
      peft_type: "LORA",
      task_type: "CAUSAL_LM",
      base_model_name_or_path: "HuggingFaceTB/SmolLM2-135M-Instruct",
      r: 3,
      lora_alpha: 6,
      lora_dropout: 0.05,
      target_modules: ["q_proj", "v_proj", "down_proj"],
      bias: "none",
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layers_to_transform: null,
      modules_to_save: null,
      revision: null,
    });
  });

  it("writes f32 matrices under PEFT's keys: lora_A [r, in], lora_B [out, r]", () => {
    const { tensors, metadata } = readSafetensors(files.get(peftWeightsFile) as Uint8Array, peftWeightsFile);
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors.size).toBe(12);
    const shapes = (key: string) => [tensors.get(key)?.dtype, tensors.get(key)?.shape];
    expect(shapes("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")).toEqual(["f32", [3, 8]]);
    expect(shapes("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")).toEqual(["f32", [8, 3]]);
    expect(shapes("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")).toEqual(["f32", [4, 3]]);
    expect(shapes("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight")).toEqual(["f32", [3, 12]]);
    expect(shapes("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")).toEqual(["f32", [8, 3]]);
  });
});

describe("PEFT adapter import", () => {
  const original = adapterFor(config);
  const files = peftAdapterFiles(original);
  const configText = text(files.get(peftConfigFile));
  const weights = files.get(peftWeightsFile) as Uint8Array;

  it("round-trips export → import exactly", () => {
    expect(readPeftAdapter(configText, weights, base)).toEqual(original);
  });

  it("converts 16-bit matrices to f32", () => {
    const { tensors } = readSafetensors(weights, "x");
    const key = peftKey(0, "q", "A");
    const t = tensors.get(key);
    if (!t) throw new Error("missing");
    tensors.set(key, { dtype: "bf16", shape: t.shape, data: new Uint16Array(t.shape[0] * t.shape[1]).fill(0x3f80) });
    const imported = readPeftAdapter(configText, writeSafetensors(tensors), base);
    expect(imported.tensors[key].dtype).toBe("f32");
    expect(Array.from(imported.tensors[key].data).every((v) => v === 1)).toBe(true);
  });

  it.each([
    [{ peft_type: "IA3" }, /adapter_config.json: peft_type is "IA3"; only LoRA adapters/],
    [{ use_dora: true }, /use_dora = true is not supported/],
    [{ bias: "all" }, /bias = "all" is not supported/],
    [{ r: 0 }, /r must be an integer ≥ 1, got 0/],
    [{ target_modules: ["q_proj", "embed_tokens"] }, /target_modules names "embed_tokens"; supported: q_proj, k_proj/],
    [
      { target_modules: ["q_proj", "down_proj"] },
      /layers.0.self_attn.v_proj.lora_A.weight adapts v_proj, which target_modules does not list/,
    ],
  ])("rejects config %j, naming the field", (change, message) => {
    expect(() => readPeftAdapter(JSON.stringify({ ...JSON.parse(configText), ...change }), weights)).toThrow(message);
  });

  it("rejects an adapter for another model, naming the tensor or the layer count", () => {
    const wider = randomLlama({ ...base.config, hiddenSize: 10, numAttentionHeads: 2 });
    expect(() => readPeftAdapter(configText, weights, wider)).toThrow(
      /the adapter of model.layers.0.self_attn.q_proj.weight is for \[8, 8\], the model's is \[8, 10\]/,
    );
    const deeper = randomLlama({ ...base.config, numHiddenLayers: 3 });
    expect(() => readPeftAdapter(configText, weights, deeper)).toThrow(/the adapter covers 2 blocks but the model has 3/);
  });

  it("rejects missing and misshapen matrices", () => {
    const { tensors } = readSafetensors(weights, "x");
    tensors.delete(peftKey(1, "v", "B"));
    expect(() => readPeftAdapter(configText, writeSafetensors(tensors))).toThrow(
      /adapter_model.safetensors: base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight is missing/,
    );
    expect(() => readPeftAdapter(JSON.stringify({ ...JSON.parse(configText), r: 4 }), weights)).toThrow(
      /layer 0 q_proj needs lora_A \[4, in\] and lora_B \[out, 4\], got \[3, 8\] and \[8, 3\]/,
    );
  });
});
