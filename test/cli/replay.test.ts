/**
 * `prunelab replay` on the demo model: a small manifest replayed twice gives the same numbers, and
 * they are the numbers the workbench computes: its engine, loading the demo model over HTTP as the
 * app serves it, sent the requests its steps build from the same experiment (with their own
 * checkpointing and quick evaluation, which must not change what is trained).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import { defaultExperiment, type Experiment } from "../../src/engine/experiment";
import {
  analyzeRequest,
  chooseBlock,
  distillRequest,
  effectiveTrainSettings,
  evaluateRequest,
  studyDatasets,
  studyEvalModels,
  trainRuns,
} from "../../src/engine/experiment-plan";
import type { Job } from "../../src/engine/job";
import { createManifest, manifestToJson } from "../../src/engine/manifest";
import type { TrainedAdapter, TrainRun } from "../../src/engine/train";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { useStudy } from "../../src/store/study-store";
import { runCliCaptured } from "./cli-harness";

const demoFolder = new URL("../../public/models/demo", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "prunelab-replay-"));
afterAll(() => rmSync(dir, { recursive: true }));

/** Tiny counts: a few samples, examples, steps and items, so that three replays fit in a minute or two on lavapipe. */
function smallExperiment(): Experiment {
  const e = defaultExperiment();
  e.calibration = { ...e.calibration, samples: 4, maxTokens: 32, batchSize: 2 };
  e.prune = { start: 0, count: 0, metric: "angular" };
  e.distill = { ...e.distill, count: 3, maxNewTokens: 8, batchSize: 2 };
  e.lora = { ...e.lora, steps: 2, batchSize: 2, maxLength: 64, targets: "q_proj,v_proj", learningRate: 1e-3 };
  e.evaluate = { ...e.evaluate, items: 2, fewShot: 0 };
  e.merge = { t: 0.3 };
  e.seeds = { data: 5, train: 7 };
  return e;
}

const job = <P>(): Job<P> => ({ signal: new AbortController().signal, progress: () => {} });
const withoutTimes = <T extends { elapsedMs: number }>({ elapsedMs: _, ...rest }: T) => rest;

describe("prunelab replay", () => {
  it("replays a manifest on the demo model to the same numbers twice, and to the numbers of the workbench's own path", async () => {
    const experiment = smallExperiment();
    const manifest = join(dir, "manifest.json");
    writeFileSync(manifest, manifestToJson(createManifest(experiment, "test")));
    const replay = async (out: string) => {
      const run = await runCliCaptured(["replay", "--manifest", manifest, "--out", join(dir, out), "--count", "2"]);
      expect(run.stderr).not.toMatch(/prunelab:|warning/);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^model +average % +recovery %\noriginal +\d+\.\d +100\.0\n/);
      expect(run.stdout).toContain("pruned + SLERP(SFT, SDD) t = 0.3");
      return JSON.parse(readFileSync(join(dir, out, "results.json"), "utf8"));
    };
    const first = await replay("a");
    const second = await replay("b");
    expect(second).toEqual(first);
    expect(first.manifest.experiment).toEqual(experiment);
    expect(first.evaluation.map((r: { label: string }) => r.label)).toEqual([
      "original",
      "pruned",
      "pruned + SFT",
      "pruned + SDD",
      "pruned + SLERP(SFT, SDD) t = 0.3",
    ]);

    // The workbench's path: the demo model fetched as the app serves it, requests as its stores build them.
    const server = createServer(async (request, response) => {
      const name = request.url?.match(/^\/models\/demo\/([\w.]+)$/)?.[1];
      const body = name ? await readFile(join(demoFolder, name)).catch(() => undefined) : undefined;
      response.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const engine = createEngine(
        () => nodeGpu(),
        () => new URL("/models/demo/", base),
      );
      await engine.loadModel({ kind: "demo" }, job());
      const { analysis } = await engine.analyze(analyzeRequest(experiment), job());
      expect(analysis).toEqual(first.analysis);
      const block = chooseBlock(experiment, analysis, 2);
      expect(block).toEqual(first.block);
      await engine.prune(block, job());
      const distilled = await engine.distill(distillRequest(experiment), job());
      expect(distilled.examples).toEqual(first.distillation.examples);
      const datasets = studyDatasets(distilled.examples);
      // The Train step's own settings, checkpointing and quick-evaluating every step.
      const own = { ...useStudy.getState().trainSettings, checkpointEvery: 1, evalEvery: 1, evalItems: 1 };
      const adapters: Partial<Record<TrainRun, TrainedAdapter>> = {};
      for (const run of trainRuns) {
        adapters[run] = await engine.train({ ...effectiveTrainSettings(own, experiment), run, records: datasets[run] }, job());
        expect(adapters[run]?.history.map(withoutTimes)).toEqual(first.training.find((t: { run: string }) => t.run === run).history);
      }
      const rows = await engine.evaluate(evaluateRequest(experiment, studyEvalModels(experiment, adapters, true)), job());
      expect(rows).toEqual(first.evaluation);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 600_000);

  it("says what a manifest that chose no block or names the user's own data needs, and names a file that is not a manifest", async () => {
    const manifest = join(dir, "unchosen.json");
    writeFileSync(manifest, manifestToJson(createManifest(smallExperiment(), "test")));
    const unchosen = await runCliCaptured(["replay", "--manifest", manifest, "--out", join(dir, "x")]);
    expect(unchosen.stderr).toMatch(/chose no block \(prune\.count 0\): pass --count N/);
    const nowhere = await runCliCaptured([
      "replay",
      "--manifest",
      manifest,
      "--out",
      join(dir, "x"),
      "--count",
      "1",
      "--model",
      join(dir, "nowhere"),
    ]);
    expect(nowhere.stderr).toMatch(/--model .*nowhere: no such file or folder/);
    const ownData = smallExperiment();
    ownData.calibration.dataset = "mine.jsonl";
    writeFileSync(manifest, manifestToJson(createManifest(ownData, "test")));
    const ungiven = await runCliCaptured(["replay", "--manifest", manifest, "--out", join(dir, "x"), "--count", "1"]);
    expect(ungiven.stderr).toMatch(/calibration\.dataset is "mine\.jsonl", not the bundled "demo-calibration": give its text again/);
    const notManifest = join(dir, "other.json");
    writeFileSync(notManifest, "{}");
    const wrong = await runCliCaptured(["replay", "--manifest", notManifest, "--out", join(dir, "y")]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/other\.json is not a Prunelab manifest/);
  });
});
