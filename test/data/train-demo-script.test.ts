/**
 * The demo model's regeneration script, run as CI runs it: the tiny `--smoke` recipe (3 steps of a
 * two-block model) end to end, a run stopped after step 2 and resumed, and the checkpoint format.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint-file";
import type { TrainCheckpoint } from "../../src/train/train-loop";

const run = promisify(execFile);
const repoRoot = new URL("../../", import.meta.url).pathname;

/** The script in a child process, as `npm run train:demo` starts it, on the adapter the tests use (VK_ICD_FILENAMES is inherited). */
async function trainDemo(...args: string[]): Promise<string> {
  const { stdout } = await run("node", ["--import", "./bin/register.mjs", "scripts/train-demo-model.ts", "--smoke", ...args], {
    cwd: repoRoot,
    timeout: 120_000,
  });
  return stdout;
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "train-demo-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("scripts/train-demo-model.ts", () => {
  it("trains the smoke recipe, writes a loadable Hugging Face folder with its card, and resumes a stopped run bit for bit", async () => {
    const straight = await trainDemo("--work", join(dir, "work-a"), "--out", join(dir, "out-a"));
    expect(straight).toMatch(/step 3\/3 loss \d+\.\d+/);
    expect(straight).toMatch(/checkpoint at step 2 /);

    const loaded = await loadModelFromPath(join(dir, "out-a"));
    expect(loaded.weights.config).toMatchObject({ numHiddenLayers: 2, hiddenSize: 32, tieWordEmbeddings: true, vocabSize: 1536 });
    expect(new Set([...loaded.weights.tensors.values()].map((t) => t.dtype))).toEqual(new Set(["f16"]));
    expect(loaded.tokenizerJson).toBeDefined();

    const scores = JSON.parse(await readFile(join(dir, "out-a", "scores.json"), "utf8"));
    expect(scores.scores.tasks.map((t: { name: string; n: number }) => [t.name, t.n])).toEqual([
      ["town-facts", 1],
      ["daily-routines", 1],
      ["town-subjects", 1],
      ["old-tales", 1],
      ["who-was-it", 1],
      ["word-problems", 1],
    ]);
    expect(Object.keys(scores.quickCheck.scores)).toEqual(["town-facts", "daily-routines"]);
    expect(scores.loss).toHaveLength(3);
    const card = await readFile(join(dir, "out-a", "README.md"), "utf8");
    expect(card).toContain("npm run train:demo -- --smoke");
    expect(card).toMatch(/\| town-facts \| acc_norm \| \d+\.\d % ± \d+\.\d % \| 25\.0 % \|/);

    const stopped = await trainDemo("--work", join(dir, "work-b"), "--out", join(dir, "out-b"), "--stop-at", "2");
    expect(stopped).toMatch(/stopped at step 2 of 3; continue with --resume/);
    expect(stopped).not.toMatch(/step 3\/3/);
    await trainDemo("--work", join(dir, "work-b"), "--out", join(dir, "out-stopped"), "--export-only");
    const stoppedCard = await readFile(join(dir, "out-stopped", "README.md"), "utf8");
    expect(stoppedCard).toContain("| steps | 2 of 3 planned × batch 2 sequences: stopped early");
    expect(stoppedCard).toContain("npm run train:demo -- --smoke --stop-at 2 && npm run train:demo -- --smoke --export-only");
    const resumed = await trainDemo("--work", join(dir, "work-b"), "--out", join(dir, "out-b"), "--resume");
    expect(resumed).toMatch(/resuming at step 2 of 3/);
    expect(resumed).toMatch(/step 3\/3/);
    expect(resumed).not.toMatch(/step 1\/3/);
    // Data order is a function of (seed, step) and the checkpoint holds the AdamW state: same bytes.
    const weights = (out: string) => readFile(join(dir, out, "model.safetensors"));
    expect(Buffer.compare(await weights("out-a"), await weights("out-b"))).toBe(0);

    await expect(trainDemo("--work", join(dir, "work-b"), "--out", join(dir, "out-c"), "--export-only", "--steps", "4")).rejects.toThrow(
      /not a run of this recipe/,
    );
    // Four child processes, each compiling its pipelines: over a minute on SwiftShader.
  }, 400_000);

  it("stores a checkpoint exactly: tensors, AdamW moments, step and history", () => {
    const t = (values: number[]) => ({ dtype: "f32" as const, shape: [values.length], data: Float32Array.from(values) });
    const checkpoint: TrainCheckpoint = {
      format: "prunelab.train-checkpoint",
      version: 1,
      config: {
        mode: "full",
        steps: 5,
        batchSize: 2,
        gradientAccumulation: 1,
        maxLength: 9,
        lr: 1e-3,
        warmupSteps: 1,
        minLrRatio: 0.1,
        weightDecay: 0,
        maxGradNorm: 1,
        seed: 3,
        checkpointEvery: 2,
        padId: 0,
      },
      step: 2,
      adamSteps: 1,
      rng: { seed: 3, step: 2 },
      parameters: { "model.norm.weight": t([1, 0.1 + 0.2, -3e-9]) },
      adam: { m: { "model.norm.weight": t([0.5, -0, 1e-30]) }, v: { "model.norm.weight": t([2, 3, 4]) } },
      history: [
        { step: 1, loss: 7.25, gradNorm: 1.5, lr: 1e-3, countedTokens: 16, tokens: 16, elapsedMs: 12 },
        { step: 2, loss: Number.NaN, gradNorm: 0, lr: 1e-3, countedTokens: 0, tokens: 16, skipped: "no counted tokens", elapsedMs: 3 },
      ],
    };
    const back = decodeCheckpoint(encodeCheckpoint(checkpoint), "test.safetensors");
    expect(back.parameters["model.norm.weight"].data).toEqual(checkpoint.parameters["model.norm.weight"].data);
    expect(back.adam.m["model.norm.weight"].data).toEqual(checkpoint.adam.m["model.norm.weight"].data);
    expect(back.adam.v["model.norm.weight"].data).toEqual(checkpoint.adam.v["model.norm.weight"].data);
    expect({ ...back, parameters: {}, adam: {} }).toEqual({ ...checkpoint, parameters: {}, adam: {} });
  });
});
