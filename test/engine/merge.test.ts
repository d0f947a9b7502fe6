/** The engine's Merge jobs in Node on a real adapter, through the handlers the worker serves. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import type { Job } from "../../src/engine/job";
import type { ExportedFile, PickedFile } from "../../src/engine/requests";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { mergeWeights } from "../../src/merge/slerp";
import type { ModelWeights } from "../../src/model/host-tensor";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { randomLlama } from "../../src/model/random-llama";
import { readSafetensors } from "../../src/model/safetensors";
import { dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { foldLora } from "../../src/train/fold-lora";
import { loraDefaults } from "../../src/train/llama-lora";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { expectClose } from "../numerics";

function job<P>(): Job<P> {
  return { signal: new AbortController().signal, progress: () => {} };
}

function picked(name: string): PickedFile {
  return { path: name, file: new File([readFileSync(`${stories260kDir}/${name}`)], name) };
}

/** A model as the files of a Hugging Face folder named `folder`, as a folder pick delivers them. */
function folder(name: string, weights: ModelWeights): PickedFile[] {
  return [...hfFolderFiles(weights, {})].map(([file, bytes]) => ({
    path: `${name}/${file}`,
    file: new File([bytes as Uint8Array<ArrayBuffer>], file),
  }));
}

function modelFile(files: ExportedFile[]): Uint8Array {
  const file = files.find((f) => f.name === "model.safetensors");
  if (!file) throw new Error(`no model.safetensors among ${files.map((f) => f.name).join(", ")}`);
  return file.bytes;
}

describe.skipIf(!hasStories260k)("the engine's merge jobs on stories260K", () => {
  const stories = () => readLlama2cCheckpoint(new Uint8Array(readFileSync(`${stories260kDir}/stories260K.bin`)), "stories260K.bin");

  it("scores a merge of the model with itself (from a Hugging Face folder) as the model, and t = 0 / 1 as a / b, and exports the merge", async () => {
    const engine = createEngine(() => nodeGpu());
    await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    const itself = await engine.merge({ second: folder("stories-hf", stories()), t: 0.5, method: "slerp", items: 1 }, job());
    expect(itself.second).toBe("stories-hf");
    // Parallel tensors fall back to LERP: a with itself (once in the same RoPE layout) is a again, up to f32 rounding.
    expect(itself.merged).toEqual(itself.a);
    const merged = readSafetensors(modelFile(await engine.exportMerge({ t: 0.5, method: "slerp" }, job())), "merged");
    const original = readSafetensors(hfFolderFiles(stories(), {}).get("model.safetensors") ?? new Uint8Array(), "original");
    for (const name of ["model.layers.1.self_attn.q_proj.weight", "model.layers.4.self_attn.k_proj.weight", "lm_head.weight"]) {
      expectClose(merged.tensors.get(name)?.data ?? [], original.tensors.get(name)?.data ?? [], 1e-6, 1e-7, name);
    }

    const other = randomLlama({ ...stories().config, ropeInterleaved: false }, 9);
    const atA = await engine.merge({ second: folder("random", other), t: 0, method: "slerp", items: 1 }, job());
    expect(atA.merged).toEqual(atA.a);
    const atB = await engine.merge({ t: 1, method: "lerp", items: 1 }, job());
    expect(atB.merged).toEqual(atB.b);
    expect(atB.a).toEqual(atA.a);

    const exported = readSafetensors(modelFile(await engine.exportMerge({ t: 1, method: "slerp" }, job())), "merged");
    const name = "model.layers.2.mlp.down_proj.weight";
    expect(exported.tensors.get(name)?.data).toEqual(other.tensors.get(name)?.data);
  });

  it("merges the study's SFT and SDD adapters, each folded into the pruned model: t = 0 and 1 score as a and b", async () => {
    const engine = createEngine(() => nodeGpu());
    await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    await engine.prune({ start: 3, count: 1 }, job());
    const settings = {
      lora: loraDefaults,
      lr: 0.05,
      steps: 2,
      batchSize: 2,
      seed: 3,
      maxLength: 32,
      warmupSteps: 0,
      weightDecay: 0,
      maxGradNorm: 1,
      checkpointEvery: 0,
    };
    const quiet = { ...settings, evalEvery: 0, evalItems: 1 };
    const records = [
      { instruction: "Tell a story.", input: "", output: "Once upon a time there was a cat." },
      { instruction: "Name a colour.", input: "", output: "The sky was blue." },
    ];
    const sft = await engine.train({ ...quiet, run: "sft", records }, job());
    const sdd = await engine.train(
      { ...quiet, seed: 4, run: "sdd", records: records.map((r) => ({ ...r, output: `${r.output} The end.` })) },
      job(),
    );
    const adapters = { a: { ...sft, label: "pruned + SFT" }, b: { ...sdd, label: "pruned + SDD" } };

    const atA = await engine.merge({ adapters, t: 0, method: "slerp", items: 2 }, job());
    expect(atA).toMatchObject({ first: "pruned + SFT", second: "pruned + SDD", items: 2 });
    expect(atA.merged).toEqual(atA.a);
    const atB = await engine.merge({ adapters, t: 1, method: "slerp", items: 2 }, job());
    expect(atB.merged).toEqual(atB.b);

    const exported = readSafetensors(modelFile(await engine.exportMerge({ t: 0.4, method: "slerp" }, job())), "merged");
    const base = dropBlocksFromWeights(stories(), 3, 1);
    const merge = mergeWeights(foldLora(base, sft.tensors, sft.config), foldLora(base, sdd.tensors, sdd.config), 0.4);
    const expected = readSafetensors(hfFolderFiles(merge, {}).get("model.safetensors") ?? new Uint8Array(), "expected");
    for (const name of ["model.layers.1.self_attn.q_proj.weight", "model.layers.3.self_attn.v_proj.weight", "lm_head.weight"]) {
      expectClose(exported.tensors.get(name)?.data ?? [], expected.tensors.get(name)?.data ?? [], 1e-6, 1e-7, name);
    }
  });

  it("refuses a second model of another architecture, naming the difference", async () => {
    const engine = createEngine(() => nodeGpu());
    await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    const deeper = randomLlama({ ...stories().config, numHiddenLayers: 6 }, 2);
    await expect(engine.merge({ second: folder("deeper", deeper), t: 0.5, method: "slerp", items: 2 }, job())).rejects.toThrow(
      /architectures differ: a has numHiddenLayers 5; b has numHiddenLayers 6/,
    );
  });
});
