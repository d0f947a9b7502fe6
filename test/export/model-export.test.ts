import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type GgufDtype, ggufModelFile, hfModelFiles, modelExportFiles } from "../../src/export/model-export";
import { parseGguf, writeGguf } from "../../src/model/gguf";
import { type HostTensor, type ModelWeights, toFloat32 } from "../../src/model/host-tensor";
import { createLlamaCpuCache, llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { type LoadedModel, loadModelFiles, type ModelFileMap } from "../../src/model/load-model-files";
import { Tokenizer } from "../../src/model/tokenizer";
import { dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

const demoDir = resolve(import.meta.dirname, "../../public/models/demo");
const folder = (dir: string, names: string[]): ModelFileMap =>
  new Map(names.map((n) => [n, new Uint8Array(readFileSync(resolve(dir, n)))]));
const demoFiles = () =>
  folder(demoDir, ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]);

/** Greedy continuation on the float64 CPU reference, and the logits that chose its first token. */
function greedy(weights: ModelWeights, prompt: number[], steps: number): { ids: number[]; first: Float32Array } {
  const model = llamaCpu(weights);
  const cache = createLlamaCpuCache(model);
  const v = weights.config.vocabSize;
  let logits = llamaForwardCpu(model, prompt, cache).logits;
  const first = Float32Array.from(logits.subarray(logits.length - v));
  const ids: number[] = [];
  for (let i = 0; i < steps; i++) {
    const last = logits.subarray(logits.length - v);
    let best = 0;
    for (let j = 1; j < v; j++) if (last[j] > last[best]) best = j;
    ids.push(best);
    logits = llamaForwardCpu(model, [best], cache).logits;
  }
  return { ids, first };
}

/**
 * Deviation allowed in the first token's logits, as a fraction of their range: f16 keeps 11
 * significant bits (≈ 5e-4 per weight), Q8_0 about 8 (≈ 4e-3 per weight of a block's largest), and
 * a dozen blocks add those up (seen: f16 2.4e-4 on stories260K, Q8_0 ≤ 5.4e-3); f32 is the same numbers.
 */
const logitTolerance: Record<GgufDtype, number> = { f32: 0, f16: 0.003, bf16: 0.02, q8_0: 0.02 };

async function checkGgufRoundTrip(source: LoadedModel, name: string, promptText: string): Promise<void> {
  const tokenizer = new Tokenizer({ tokenizerJson: source.tokenizerJson as object, tokenizerConfig: source.tokenizerConfig }, name);
  const prompt = tokenizer.encode(promptText, { bos: true });
  const reference = greedy(source.weights, prompt, 12);
  const range = Math.max(...reference.first) - Math.min(...reference.first);
  for (const dtype of ["f32", "f16", "q8_0"] as const) {
    const file = ggufModelFile(source, dtype, name);
    // The GGUF alone: its vocabulary (SentencePiece or byte-level) is the tokenizer.
    const files: ModelFileMap = new Map([[`${name}.gguf`, file]]);
    const loaded = await loadModelFiles(files);
    expect(loaded.format).toBe("gguf");
    const back = new Tokenizer({ tokenizerJson: loaded.tokenizerJson as object, tokenizerConfig: loaded.tokenizerConfig }, name);
    expect(back.encode(promptText, { bos: true }), `${name} ${dtype} prompt ids`).toEqual(prompt);
    for (const text of ["Bo has 12 eggs, 345 hens and 6 hoes.", "  two  spaces\nand é"])
      expect(back.encode(text), `${name} ${dtype} ${JSON.stringify(text)}`).toEqual(tokenizer.encode(text));
    // tokenizer.chat_template comes back: the chat prompt is the same ids.
    const chat = (t: Tokenizer) => t.encodeChat([{ role: "user", content: "Hi" }], { addGenerationPrompt: true });
    if ((source.tokenizerConfig as { chat_template?: string } | undefined)?.chat_template) expect(chat(back)).toEqual(chat(tokenizer));
    const out = greedy(loaded.weights, prompt, 12);
    const worst = Math.max(...out.first.map((x, i) => Math.abs(x - reference.first[i])));
    expect(worst / range, `${name} ${dtype}: first logits off by ${worst} of a range of ${range}`).toBeLessThanOrEqual(
      logitTolerance[dtype],
    );
    if (dtype === "f32") expect(tokenizer.decode(out.ids), `${name} f32 greedy text`).toBe(tokenizer.decode(reference.ids));
    else expect(out.ids[0], `${name} ${dtype} first greedy token`).toBe(reference.ids[0]);
  }
}

describe("models written as GGUF read back as the same model", () => {
  it("demo model (byte-level BPE, tied embeddings, f16 weights)", async () => {
    await checkGgufRoundTrip(await loadModelFiles(demoFiles()), "demo", "The farmer");
  });

  it("pruned demo model (blocks 4 … 6 dropped)", async () => {
    const demo = await loadModelFiles(demoFiles());
    await checkGgufRoundTrip({ ...demo, weights: dropBlocksFromWeights(demo.weights, 4, 3) }, "demo-pruned", "The farmer");
  });

  it.skipIf(!hasStories260k)("stories260K (llama2.c, SentencePiece vocabulary, interleaved RoPE)", async () => {
    const stories = await loadModelFiles(folder(stories260kDir, ["stories260K.bin", "tok512.bin"]), { tokenizer: "tok512.bin" });
    await checkGgufRoundTrip(stories, "stories260K", "Once upon a time");
  });

  it("writes general.* and stores Q8_0 rows that are not whole 32-value blocks (ffn_down: 176) as F16", async () => {
    const demo = await loadModelFiles(demoFiles());
    const gguf = parseGguf(ggufModelFile(demo, "q8_0", "demo"), "demo.gguf");
    expect(gguf.metadata.get("general.name")).toBe("demo");
    expect(gguf.metadata.get("general.file_type")).toBe(7);
    expect(gguf.metadata.get("general.quantization_version")).toBe(2);
    const type = (name: string) => gguf.tensors.find((t) => t.name === name)?.type;
    expect([type("blk.0.ffn_down.weight"), type("blk.0.ffn_up.weight"), type("blk.0.attn_norm.weight"), type("token_embd.weight")]).toEqual(
      ["F16", "Q8_0", "F32", "Q8_0"],
    );
  });

  it("refuses to write, and the reader names, a Q8_0 tensor whose rows are not whole blocks", () => {
    const tensor = { name: "blk.0.ffn_down.weight", shape: [2, 48], type: "Q8_0" as const, data: new Float32Array(96) };
    expect(() => writeGguf([], [tensor])).toThrow(/tensor "blk\.0\.ffn_down\.weight" \[2,48\] cannot be Q8_0/);
    // The same bytes as a valid [3, 32] tensor, relabelled [2, 48]: what an older writer produced.
    const file = writeGguf([], [{ ...tensor, shape: [3, 32] }]);
    const at = Buffer.from(file).indexOf("blk.0.ffn_down.weight") + "blk.0.ffn_down.weight".length + 4;
    new DataView(file.buffer).setBigUint64(at, 48n, true);
    new DataView(file.buffer).setBigUint64(at + 8, 2n, true);
    expect(() => parseGguf(file, "old.gguf")).toThrow(
      /old\.gguf: tensor "blk\.0\.ffn_down\.weight" is Q8_0 but its rows hold 48 values, not a multiple of 32/,
    );
  });
});

describe("models written as Hugging Face folders", () => {
  it.each(["f32", "f16", "bf16"] as const)("have every tensor in %s and config.json's torch_dtype saying so", async (dtype) => {
    const demo = await loadModelFiles(demoFiles());
    const files = hfModelFiles(demo, dtype);
    const config = JSON.parse(new TextDecoder().decode(files.get("config.json")));
    expect(config.torch_dtype).toBe({ f32: "float32", f16: "float16", bf16: "bfloat16" }[dtype]);
    const back = await loadModelFiles(files);
    for (const [name, t] of back.weights.tensors) {
      expect(t.dtype, name).toBe(dtype);
      // The demo is stored f16: f32 and f16 hold it exactly, bf16 within its 8 significant bits.
      const original = toFloat32(demo.weights.tensors.get(name) as never);
      const tol = dtype === "bf16" ? 2 ** -8 : 0;
      toFloat32(t).forEach((x, i) => {
        if (Math.abs(x - original[i]) > tol * Math.abs(original[i])) throw new Error(`${name}[${i}]: ${x} vs ${original[i]}`);
      });
    }
  });
});

describe("modelExportFiles (the Export step's model download)", () => {
  it("gives one named GGUF, or a Hugging Face folder in the dtype the weights share, and refuses q8_0 for a folder", async () => {
    const demo = await loadModelFiles(demoFiles());
    expect([...modelExportFiles(demo, { format: "gguf", dtype: "q8_0" }, "Prunelab demo without blocks 4–6").keys()]).toEqual([
      "Prunelab-demo-without-blocks-4-6-q8_0.gguf",
    ]);
    const folder = modelExportFiles(demo, { format: "hf" }, "demo");
    expect(JSON.parse(new TextDecoder().decode(folder.get("config.json"))).torch_dtype).toBe("float16");
    expect(() => modelExportFiles(demo, { format: "hf", dtype: "q8_0" }, "demo")).toThrow(/q8_0 is a GGUF type/);
  });

  it("writes a folded model (f32 projections beside f16 weights) as f32 throughout, not mixed", async () => {
    const demo = await loadModelFiles(demoFiles());
    const tensors = new Map(demo.weights.tensors);
    const q = "model.layers.0.self_attn.q_proj.weight";
    const folded = tensors.get(q) as HostTensor;
    tensors.set(q, { dtype: "f32", shape: folded.shape, data: toFloat32(folded).map((x) => x + 2 ** -20) });
    const files = hfFolderFiles({ config: demo.weights.config, tensors }, demo);
    expect(JSON.parse(new TextDecoder().decode(files.get("config.json"))).torch_dtype).toBe("float32");
    const back = await loadModelFiles(files);
    expect(new Set([...back.weights.tensors.values()].map((t) => t.dtype))).toEqual(new Set(["f32"]));
    // The f32 values survive (f16 could not hold the 2^-20 step), the f16 ones are unchanged.
    expect(toFloat32(back.weights.tensors.get(q) as HostTensor)).toEqual(toFloat32(tensors.get(q) as HostTensor));
  });
});
