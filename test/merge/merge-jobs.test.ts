/** The engine's Merge jobs in Node on a real adapter, through the handlers the worker serves. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nodeGpu } from "../../src/gpu/node-gpu";
import type { ModelWeights } from "../../src/model/host-tensor";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { randomLlama } from "../../src/model/random-llama";
import { readSafetensors } from "../../src/model/safetensors";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { createEngine } from "../../src/worker/engine";
import type { ExportedFile, PickedFile } from "../../src/worker/protocol";
import type { Job } from "../../src/worker/rpc";
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

  it("refuses a second model of another architecture, naming the difference", async () => {
    const engine = createEngine(() => nodeGpu());
    await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    const deeper = randomLlama({ ...stories().config, numHiddenLayers: 6 }, 2);
    await expect(engine.merge({ second: folder("deeper", deeper), t: 0.5, method: "slerp", items: 2 }, job())).rejects.toThrow(
      /architectures differ: a has numHiddenLayers 5; b has numHiddenLayers 6/,
    );
  });
});
