/** The engine's Analyze and Prune methods in Node on a real adapter, through the handlers the worker serves. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import type { Job, Progress } from "../../src/engine/job";
import type { AnalyzeRequest, PickedFile } from "../../src/engine/requests";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { loadModelFiles } from "../../src/model/load-model-files";
import { foldLora } from "../../src/train/fold-lora";
import { peftKey } from "../../src/train/llama-lora";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

function job<P>(seen: P[] = [], signal = new AbortController().signal): Job<P> {
  return { signal, progress: (p) => seen.push(p) };
}

function picked(name: string): PickedFile {
  return { path: name, file: new File([readFileSync(resolve(stories260kDir, name))], name) };
}

const text = [
  "Once upon a time, there was a little girl named Lily. She loved to play outside.",
  "Tom had a red ball. He threw it to his dog.",
  "The sun was big and warm, and the birds sang.",
].join("\n\n");

const request: AnalyzeRequest = {
  calibration: { kind: "text", text },
  chatTemplate: false,
  maxSamples: 8,
  seqLen: 16,
  batchSize: 2,
  tokens: "last",
};

describe("engine analyze / prune", () => {
  it("refuses without a model", async () => {
    const engine = createEngine(() => nodeGpu());
    await expect(engine.analyze(request, job())).rejects.toMatchObject({ name: "EngineStateError" });
    await expect(engine.prune({ start: 0, count: 1 }, job())).rejects.toMatchObject({ name: "EngineStateError" });
  });

  it.skipIf(!hasStories260k)("analyzes, prunes with a perplexity check, exports the pruned folder, restores the full model", async () => {
    const engine = createEngine(() => nodeGpu());
    const full = await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    const progress: Progress[] = [];
    const { analysis, config } = await engine.analyze(request, job(progress));
    expect(config.numHiddenLayers).toBe(5);
    expect(analysis.numSamples).toBe(3);
    expect(analysis.angular.map((row) => row.length)).toEqual([5, 4, 3, 2, 1]);
    expect(progress.map((p) => p.done)).toEqual([2, 3]);

    const pruned = await engine.prune({ start: 2, count: 2 }, job());
    expect(pruned.card.layers).toBe(3);
    expect(pruned.card.name).toBe("stories260K.bin without blocks 2–3");
    expect(full.parameters - pruned.card.parameters).toBe(2 * (64 * 64 * 2 + 2 * 64 * 32 + 3 * 64 * 172 + 2 * 64));
    const ppl = pruned.perplexity;
    if (!ppl) throw new Error("no perplexity after an analysis");
    // A real model on text like its training data: the full one predicts it far better than chance (512) and better than the pruned one.
    expect(ppl.before).toBeLessThan(50);
    expect(ppl.after).toBeGreaterThan(ppl.before);
    const generated = await engine.generate(
      { mode: "completion", prompt: "Once upon a time", sampling: { temperature: 0, topK: 0, topP: 1, maxTokens: 8, seed: 1 } },
      job(),
    );
    expect(generated.tokens).toBeGreaterThan(0);

    const files = await engine.exportModel({ format: "hf" }, job());
    const reloaded = await loadModelFiles(new Map(files.map((f) => [f.name, f.bytes])));
    expect(reloaded.weights.config.numHiddenLayers).toBe(3);
    expect(reloaded.tokenizerJson).toBeDefined();
    // The Export step's other choices: GGUF, and the pruned model with an adapter merged in (f32, equal to foldLora).
    // B·A is the same in every row, so the comparison holds whichever RoPE row order the export permutes q_proj into.
    const [gguf] = await engine.exportModel({ format: "gguf", dtype: "q8_0" }, job());
    expect(gguf.name).toMatch(/-q8_0\.gguf$/);
    expect((await loadModelFiles(new Map([[gguf.name, gguf.bytes]]))).weights.config.numHiddenLayers).toBe(3);
    const q = reloaded.weights.tensors.get("model.layers.1.self_attn.q_proj.weight");
    if (!q) throw new Error("no q_proj");
    const adapter = {
      config: { rank: 1, alpha: 2, dropout: 0, modules: ["q" as const] },
      layers: 3,
      tensors: Object.fromEntries(
        [0, 1, 2].flatMap((l) => [
          [peftKey(l, "q", "A"), { dtype: "f32" as const, shape: [1, q.shape[1]], data: new Float32Array(q.shape[1]).fill(0.01) }],
          [peftKey(l, "q", "B"), { dtype: "f32" as const, shape: [q.shape[0], 1], data: new Float32Array(q.shape[0]).fill(0.5) }],
        ]),
      ),
    };
    const mergedFiles = await engine.exportModel({ format: "hf", dtype: "f32", adapter }, job());
    const merged = await loadModelFiles(new Map(mergedFiles.map((f) => [f.name, f.bytes])));
    expect(merged.weights.tensors.get("model.layers.1.self_attn.q_proj.weight")).toEqual(
      foldLora(reloaded.weights, adapter.tensors, adapter.config).tensors.get("model.layers.1.self_attn.q_proj.weight"),
    );

    const restored = await engine.prune({ start: 0, count: 0 }, job());
    expect(restored.card).toEqual(full);
    expect(restored.perplexity?.after).toBeCloseTo(ppl.before, 6);
  });
});
