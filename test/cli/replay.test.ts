/**
 * `prunelab replay` on the demo model: a small manifest replayed twice gives the same numbers, and
 * they are the numbers the workbench computes, bit for bit (adapters, losses, scores): its engine
 * behind the worker's RPC, loading the demo model over HTTP as the app serves it, running the same
 * experiment plan (with the Train step's own checkpointing and quick evaluation, which must not
 * change what is trained). Real WGSL on lavapipe, never a mocked GPU.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import { defaultExperiment, type Experiment } from "../../src/engine/experiment";
import { trainRuns } from "../../src/engine/experiment-plan";
import { runExperiment } from "../../src/engine/experiment-run";
import { createManifest, manifestToJson } from "../../src/engine/manifest";
import type { TrainedAdapter } from "../../src/engine/train";
import { readPeftAdapter } from "../../src/export/peft-adapter";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { type HostTensor, toFloat32 } from "../../src/model/host-tensor";
import { useStudy } from "../../src/store/study-store";
import type { EngineMethods } from "../../src/worker/protocol";
import { type MessagePortLike, RpcClient, serveRpc } from "../../src/worker/rpc";
import { engineOverRpc } from "../worker/engine-over-rpc";
import { runCliCaptured } from "./cli-harness";

const demoFolder = new URL("../../public/models/demo/", import.meta.url).pathname;
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

/** A tensor's f32 bit patterns, so that equality is to the bit (−0 ≠ 0, every NaN payload counts). */
const bits = (t: HostTensor) => new Uint32Array(Float32Array.from(toFloat32(t)).buffer);
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

    // The workbench's path: the engine behind the worker's RPC (a real MessageChannel: structured
    // clones both ways), the demo model fetched as the app serves it, the Train step's own settings
    // checkpointing and quick-evaluating every step (which must not change what is trained).
    const server = createServer(async (request, response) => {
      const name = request.url?.match(/^\/models\/demo\/([\w.]+)$/)?.[1];
      const body = name ? await readFile(join(demoFolder, name)).catch(() => undefined) : undefined;
      response.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port1, port2 } = new MessageChannel();
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      serveRpc<EngineMethods>(
        port2 as unknown as MessagePortLike,
        createEngine(
          () => nodeGpu(),
          () => new URL("/models/demo/", base),
        ),
      );
      const client = new RpcClient<EngineMethods>(port1 as unknown as MessagePortLike);
      const worker = engineOverRpc(client, ["loadModel", "analyze", "prune", "distill", "train", "evaluate"]);
      const own = { ...useStudy.getState().trainSettings, checkpointEvery: 1, evalEvery: 1, evalItems: 1 };
      const run = await runExperiment(worker, experiment, { model: { kind: "demo" }, n: 2, own });
      expect(run.analysis).toEqual(first.analysis);
      expect(run.block).toEqual(first.block);
      expect(run.distilled.examples).toEqual(first.distillation.examples);
      for (const name of trainRuns) {
        const adapter = run.adapters[name] as TrainedAdapter;
        // Losses, gradient norms and rates step by step, to the bit (toEqual compares numbers exactly).
        expect(adapter.history.map(withoutTimes)).toEqual(first.training.find((t: { run: string }) => t.run === name).history);
        // The adapter's tensors, byte for byte, against the PEFT file the CLI wrote.
        const cli = readPeftAdapter(
          readFileSync(join(dir, "a", "adapters", name, "adapter_config.json"), "utf8"),
          new Uint8Array(readFileSync(join(dir, "a", "adapters", name, "adapter_model.safetensors"))),
        );
        expect(Object.keys(cli.tensors).sort()).toEqual(Object.keys(adapter.tensors).sort());
        for (const [key, tensor] of Object.entries(adapter.tensors)) {
          expect(cli.tensors[key].shape).toEqual(tensor.shape);
          expect(bits(cli.tensors[key])).toEqual(bits(tensor));
        }
        expect(cli.config).toEqual(adapter.config);
      }
      // Every score of every model, exactly.
      expect(run.evaluation).toEqual(first.evaluation);
    } finally {
      port1.close();
      port2.close();
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
    writeFileSync(manifest, manifestToJson(createManifest(smallExperiment(), "test")));
    const badSet = await runCliCaptured(["replay", "--manifest", manifest, "--out", join(dir, "x"), "--set", "lora.rank=0"]);
    expect(badSet.code).toBe(1);
    expect(badSet.stderr).toMatch(/--set: lora\.rank is 0, outside \[1, 4096\]/);
    const hostileSet = await runCliCaptured(["replay", "--manifest", manifest, "--out", join(dir, "x"), "--set", "__proto__.polluted=yes"]);
    expect(hostileSet.stderr).toMatch(/--set: unknown field __proto__\.polluted\n/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const notManifest = join(dir, "other.json");
    writeFileSync(notManifest, "{}");
    const wrong = await runCliCaptured(["replay", "--manifest", notManifest, "--out", join(dir, "y")]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/other\.json is not a Prunelab manifest/);
  });
});
