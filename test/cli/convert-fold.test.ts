import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { peftAdapterFiles } from "../../src/export/peft-adapter";
import { parseGguf } from "../../src/model/gguf";
import { type HostTensor, toFloat32 } from "../../src/model/host-tensor";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { modelSourceName } from "../../src/model/model-source-name";
import { foldLora, type LoraTensors } from "../../src/train/fold-lora";
import { type LoraConfig, loraModulePaths, peftKey } from "../../src/train/llama-lora";
import { randn } from "../numerics";
import { runCliCaptured } from "./cli-harness";

const demo = resolve(import.meta.dirname, "../../public/models/demo");

describe("prunelab convert", () => {
  it("writes a GGUF with the tokenizer, and a Hugging Face folder in the dtype asked for", async () => {
    const dir = await mkdtemp(join(tmpdir(), "convert-"));
    const gguf = join(dir, "out/demo.gguf");
    const r = await runCliCaptured(["convert", "--model", demo, "--to", "gguf", "--dtype", "q8_0", "--out", gguf]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const file = parseGguf(new Uint8Array(await readFile(gguf)), "demo.gguf");
    expect(file.metadata.get("general.name")).toBe("demo");
    expect(file.metadata.get("tokenizer.ggml.model")).toBe("gpt2");
    expect(file.tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type).toBe("Q8_0");

    const hf = join(dir, "hf");
    expect((await runCliCaptured(["convert", "--model", demo, "--to", "hf", "--dtype", "bf16", "--out", hf])).code).toBe(0);
    const back = await loadModelFromPath(hf);
    expect(new Set([...back.weights.tensors.values()].map((t) => t.dtype))).toEqual(new Set(["bf16"]));
    expect(JSON.parse(await readFile(join(hf, "config.json"), "utf8")).torch_dtype).toBe("bfloat16");
  });

  it("refuses q8_0 for a Hugging Face folder and an unknown --to, in one line", async () => {
    const q8 = await runCliCaptured(["convert", "--model", demo, "--to", "hf", "--dtype", "q8_0", "--out", "/tmp/never"]);
    expect(q8.code).not.toBe(0);
    expect(q8.stderr).toMatch(/--dtype for --to hf must be one of f32, f16, bf16, got 'q8_0'/);
    const onnx = await runCliCaptured(["convert", "--model", demo, "--to", "onnx", "--out", "/tmp/never"]);
    expect(onnx.stderr).toMatch(/--to must be hf or gguf, got 'onnx'/);
    expect(onnx.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("prunelab fold", () => {
  it("writes the adapter-merged model in one dtype, equal to foldLora, with torch_dtype to match", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fold-"));
    const base = await loadModelFromPath(demo);
    const lora: LoraConfig = { rank: 2, alpha: 4, dropout: 0, modules: ["q", "down"] };
    const tensors: LoraTensors = {};
    let seed = 3;
    for (let l = 0; l < base.weights.config.numHiddenLayers; l++) {
      for (const m of lora.modules) {
        const [out, inp] = (base.weights.tensors.get(`model.layers.${l}.${loraModulePaths[m]}.weight`) as HostTensor).shape;
        tensors[peftKey(l, m, "A")] = { dtype: "f32", shape: [2, inp], data: randn(2 * inp, seed++, 0.1) };
        tensors[peftKey(l, m, "B")] = { dtype: "f32", shape: [out, 2], data: randn(out * 2, seed++, 0.1) };
      }
    }
    const adapterDir = join(dir, "adapter");
    await mkdir(adapterDir);
    const layers = base.weights.config.numHiddenLayers;
    for (const [name, bytes] of peftAdapterFiles({ config: lora, tensors, layers, baseModel: "demo" }))
      await writeFile(join(adapterDir, name), bytes);
    const expected = foldLora(base.weights, tensors, lora);
    for (const dtype of ["f32", "f16"] as const) {
      const out = join(dir, `folded-${dtype}`);
      const r = await runCliCaptured(["fold", "--model", demo, "--adapter", adapterDir, "--out", out, "--dtype", dtype]);
      expect(r.stderr).toBe("");
      const folded = await loadModelFromPath(out);
      expect(JSON.parse(await readFile(join(out, "config.json"), "utf8")).torch_dtype).toBe(dtype === "f32" ? "float32" : "float16");
      for (const [name, t] of folded.weights.tensors) {
        expect(t.dtype, name).toBe(dtype);
        const want = toFloat32(expected.tensors.get(name) as HostTensor);
        // f32 is the fold itself; f16 rounds each value to 11 significant bits.
        const tol = dtype === "f32" ? 0 : 2 ** -11;
        toFloat32(t).forEach((x, i) => {
          if (Math.abs(x - want[i]) > tol * Math.abs(want[i]) + 1e-7) throw new Error(`${dtype} ${name}[${i}]: ${x} vs ${want[i]}`);
        });
      }
      expect(folded.tokenizerJson).toEqual(base.tokenizerJson);
    }
    const wrong = await runCliCaptured(["fold", "--model", demo, "--adapter", adapterDir, "--out", join(dir, "x"), "--dtype", "q8_0"]);
    expect(wrong.stderr).toMatch(/--dtype must be one of f32, f16, bf16, got 'q8_0'/);
  });
});

describe("modelSourceName (PEFT base_model_name_or_path, GGUF general.name)", () => {
  it("is the folder's name for a folder or a file in it, and the Hub id (without revision) for what is not on disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "name-"));
    const folder = join(dir, "demo-pruned");
    await mkdir(folder);
    await writeFile(join(folder, "model.gguf"), "");
    expect(modelSourceName(`${folder}/`)).toBe("demo-pruned");
    expect(modelSourceName(join(folder, "model.gguf"))).toBe("demo-pruned");
    expect(modelSourceName(join(dir, "demo-pruned/../demo-pruned"))).toBe("demo-pruned");
    expect(modelSourceName("HuggingFaceTB/SmolLM2-135M@main")).toBe("HuggingFaceTB/SmolLM2-135M");
  });
});
