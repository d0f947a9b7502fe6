/** The Distill, Train, Evaluate and Export jobs through the engine's handlers, in Node on stories260K pruned by one block. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sdftTemplates } from "../../src/distill/sdft-template";
import { type DistillJobProgress, datasetRecords } from "../../src/engine/distill";
import { createEngine } from "../../src/engine/engine";
import { defaultExperiment } from "../../src/engine/experiment";
import type { Job } from "../../src/engine/job";
import { createManifest } from "../../src/engine/manifest";
import type { PickedFile } from "../../src/engine/requests";
import { studyFiles } from "../../src/engine/study-files";
import type { TrainJobProgress } from "../../src/engine/train";
import { readPeftAdapter } from "../../src/export/peft-adapter";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { loraDefaults } from "../../src/train/llama-lora";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

function job<P>(seen: P[] = [], signal = new AbortController().signal): Job<P> {
  return { signal, progress: (p) => seen.push(p) };
}

function picked(name: string): PickedFile {
  return { path: name, file: new File([readFileSync(resolve(stories260kDir, name))], name) };
}

describe("study jobs", () => {
  it("reads the demo world's datasets and the first records of an uploaded Alpaca JSONL", () => {
    const general = datasetRecords({ kind: "demo", dataset: "general", count: 4, seed: 0 });
    const math = datasetRecords({ kind: "demo", dataset: "math", count: 4, seed: 0 });
    expect(general).toHaveLength(4);
    expect(math).toHaveLength(4);
    expect(math).not.toEqual(general);
    expect(datasetRecords({ kind: "demo", dataset: "general", count: 4, seed: 0 })).toEqual(general);
    const jsonl = '{"instruction":"a","input":"","output":"b"}\n{"instruction":"c","input":"d","output":"e"}\n';
    expect(datasetRecords({ kind: "jsonl", name: "mine.jsonl", text: jsonl, count: 1 })).toEqual([
      { instruction: "a", input: "", output: "b" },
    ]);
    expect(() => datasetRecords({ kind: "jsonl", name: "bad.jsonl", text: "{", count: 1 })).toThrow(/bad\.jsonl/);
  });

  it.skipIf(!hasStories260k)(
    "distills a few records, trains SFT and SDD for 2 steps, evaluates 2 items per task and exports the study",
    async () => {
      const engine = createEngine(() => nodeGpu());
      await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
      await engine.prune({ start: 3, count: 1 }, job());

      const seen: DistillJobProgress[] = [];
      const request = {
        source: { kind: "demo" as const, dataset: "general" as const, count: 3, seed: 0 },
        kind: "general" as const,
        template: sdftTemplates.general,
        temperature: 0.95,
        topP: 0.7,
        seed: 1,
        maxTokens: 8,
        batchSize: 2,
      };
      const distilled = await engine.distill(request, job(seen));
      expect(distilled.examples).toHaveLength(3);
      expect(distilled.kept + distilled.replaced).toBe(3);
      expect(seen.at(-1)).toMatchObject({ done: 3, total: 3 });
      // A resume from the first batch reproduces the uninterrupted run.
      const resumed = await engine.distill({ ...request, done: seen[1].batch }, job());
      expect(resumed.examples).toEqual(distilled.examples);

      const settings = {
        lora: loraDefaults,
        lr: 1e-3,
        steps: 2,
        batchSize: 2,
        seed: 3,
        maxLength: 64,
        warmupSteps: 0,
        weightDecay: 0,
        maxGradNorm: 1,
        checkpointEvery: 1,
        evalEvery: 0,
        evalItems: 1,
      };
      const original = distilled.examples.map(({ instruction, input, reference }) => ({ instruction, input, output: reference }));
      const steps: TrainJobProgress[] = [];
      // SFT with a quick evaluation after each step; the resumed run below, without one, must end the same.
      const sft = await engine.train({ ...settings, evalEvery: 1, run: "sft", records: original }, job(steps));
      const sdd = await engine.train({ ...settings, run: "sdd", records: distilled.examples }, job());
      expect(sft.history.map((h) => h.step)).toEqual([1, 2]);
      expect(sft.history.every((h) => Number.isFinite(h.loss))).toBe(true);
      expect(steps.filter((p) => p.report).map((p) => p.report?.step)).toEqual([1, 2]);
      expect(steps.find((p) => p.checkpoint)?.checkpoint?.step).toBe(1);
      const points = steps.flatMap((p) => (p.quickEval ? [p.quickEval] : []));
      expect(points.map((p) => p.step)).toEqual([1, 2]);
      for (const p of points) {
        expect(p.tasks.map((t) => t.name)).toHaveLength(6);
        expect(p.average).toBeCloseTo(p.tasks.reduce((s, t) => s + t.score, 0) / 6, 12);
      }
      expect(sft.layers).toBe(4);
      // Resuming from the step-1 checkpoint ends where the uninterrupted run did.
      const checkpoint = steps.find((p) => p.checkpoint)?.checkpoint;
      const again = await engine.train({ ...settings, run: "sft", records: original, resume: checkpoint }, job());
      expect(again.history.map((h) => h.loss)).toEqual(sft.history.map((h) => h.loss));

      const rows = await engine.evaluate(
        {
          items: 2,
          fewShot: 0,
          models: [
            { label: "original", kind: "original" },
            { label: "pruned", kind: "pruned" },
            { label: "pruned + SFT", kind: "adapter", adapter: sft },
            { label: "pruned + SDD", kind: "adapter", adapter: sdd },
          ],
        },
        job(),
      );
      expect(rows.map((r) => r.label)).toEqual(["original", "pruned", "pruned + SFT", "pruned + SDD"]);
      for (const r of rows) expect(r.result.tasks.every((t) => t.n === 2)).toBe(true);

      const experiment = defaultExperiment();
      experiment.merge.t = 0.3;
      const point = { step: 2, average: 0.5, tasks: rows[2].result.tasks.map((t) => ({ name: t.name, score: t.score })) };
      const files = studyFiles({
        manifest: createManifest(experiment, "test"),
        model: { name: "stories260K", layers: 5 },
        pruned: { start: 3, count: 1 },
        datasets: [{ name: "sdd", records: distilled.examples }],
        adapters: [sft, sdd],
        evalCurves: [
          { run: "sft", points: [point] },
          { run: "sdd", points: [] },
        ],
        evaluation: rows,
      });
      const byName = new Map(files.map((f) => [f.name, f.bytes]));
      expect([...byName.keys()].sort()).toEqual([
        "adapters/sdd/adapter_config.json",
        "adapters/sdd/adapter_model.safetensors",
        "adapters/sft/adapter_config.json",
        "adapters/sft/adapter_model.safetensors",
        "datasets/sdd.jsonl",
        "eval_curves.csv",
        "loss_curves.csv",
        "manifest.json",
        "mergekit/slerp.yaml",
        "mergekit/slice.yaml",
        "results.json",
      ]);
      const adapter = readPeftAdapter(
        new TextDecoder().decode(byName.get("adapters/sft/adapter_config.json")),
        byName.get("adapters/sft/adapter_model.safetensors") as Uint8Array,
      );
      expect(adapter).toMatchObject({ layers: 4, config: { rank: 8, alpha: 16 } });
      const curves = new TextDecoder().decode(byName.get("loss_curves.csv")).trim().split("\n");
      expect(curves).toHaveLength(5);
      expect(curves[1]).toMatch(new RegExp(`^sft,1,${sft.history[0].loss},`));
      const slerp = new TextDecoder().decode(byName.get("mergekit/slerp.yaml"));
      expect(slerp.match(/layer_range: \[0, 4\]/g)).toHaveLength(2);
      expect(slerp).toMatch(/^ {2}t: 0\.3$/m);
      const evalCurves = new TextDecoder().decode(byName.get("eval_curves.csv")).trim().split("\n");
      expect(evalCurves).toEqual([expect.stringMatching(/^run,step,average,/), expect.stringMatching(/^sft,2,50\.00,/)]);
      const results = JSON.parse(new TextDecoder().decode(byName.get("results.json")));
      expect(results.training.map((r: { evalCurve: unknown[] }) => r.evalCurve.length)).toEqual([1, 0]);
    },
    // SwiftShader runs this in minutes (lavapipe in about 25 s).
    400_000,
  );
});
