import { describe, expect, it } from "vitest";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { randomLlama } from "../../src/model/random-llama";
import { releaseLlamaLora } from "../../src/train/llama-lora";
import { type TrainCheckpoint, type TrainConfig, TrainingDivergedError, type TrainResult, trainModel } from "../../src/train/train-loop";
import { testGpu } from "../gpu-harness";
import { countingDataset, toyLoraConfig, toyShape } from "./toy-task";
import { expectSameParameters } from "./train-fixtures";

const dataset = countingDataset(24);
const weights = randomLlama(toyShape, 3);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function run(config: TrainConfig, options: Parameters<typeof trainModel>[4] = {}): Promise<TrainResult> {
  const gpu = await testGpu();
  const model: LlamaGpu = uploadLlama(gpu, weights, { weightDtype: "f32" });
  const result = await trainModel(gpu, model, dataset, config, options);
  if (result.lora) releaseLlamaLora(gpu, result.lora);
  releaseLlama(gpu, model);
  return result;
}

describe("training loop", () => {
  it("LoRA training lowers the loss on the toy task and replays bit for bit with the same seed", async () => {
    const first = await run(toyLoraConfig);
    const losses = first.history.map((r) => r.loss);
    expect(first.history.every((r) => !r.skipped)).toBe(true);
    expect(mean(losses.slice(-3))).toBeLessThan(0.8 * mean(losses.slice(0, 3)));
    const second = await run(toyLoraConfig);
    expect(second.history.map((r) => r.loss)).toEqual(losses);
    expectSameParameters(first.checkpoint, second.checkpoint);
    // A different seed draws other data orders and dropout masks.
    const other = await run({ ...toyLoraConfig, seed: 8, steps: 2 });
    expect(other.history[0].loss).not.toBe(losses[0]);
  });

  it("full-parameter training lowers the loss, and a run resumed from a checkpoint ends with the same weights", async () => {
    const config: TrainConfig = { ...toyLoraConfig, mode: "full", lora: undefined, lr: 3e-3, steps: 8, checkpointEvery: 3 };
    const saved: TrainCheckpoint[] = [];
    const whole = await run(config, { onCheckpoint: (c) => void saved.push(c) });
    expect(saved.map((c) => c.step)).toEqual([3, 6]);
    const losses = whole.history.map((r) => r.loss);
    expect(mean(losses.slice(-2))).toBeLessThan(0.8 * mean(losses.slice(0, 2)));
    const resumed = await run(config, { resume: saved[0] });
    expect(resumed.history.map((r) => r.loss)).toEqual(losses);
    expect(resumed.checkpoint.adamSteps).toBe(8);
    expectSameParameters(whole.checkpoint, resumed.checkpoint);
    for (const which of ["m", "v"] as const) {
      for (const [name, t] of Object.entries(whole.checkpoint.adam[which])) {
        expect(resumed.checkpoint.adam[which][name].data, `${which} of ${name}`).toEqual(t.data);
      }
    }
  });

  it("skips and reports steps whose loss is not finite, and never trains on them", async () => {
    const gpu = await testGpu();
    // Token 18's embedding is infinite: any batch holding it has a NaN loss.
    const poisoned = new Map(weights.tensors);
    const embed = weights.tensors.get("model.embed_tokens.weight");
    if (!embed) throw new Error("no embedding");
    const data = (embed.data as Float32Array).slice();
    data.fill(Number.POSITIVE_INFINITY, 18 * toyShape.hiddenSize, 19 * toyShape.hiddenSize);
    poisoned.set("model.embed_tokens.weight", { ...embed, data });
    const model = uploadLlama(gpu, { config: weights.config, tensors: poisoned }, { weightDtype: "f32" });
    const config: TrainConfig = { ...toyLoraConfig, batchSize: 1, gradientAccumulation: 1, steps: 10, maxLength: 10 };
    const result = await trainModel(gpu, model, dataset, config);
    const skipped = result.history.filter((r) => r.skipped);
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.length).toBeLessThan(result.history.length);
    for (const r of skipped) expect(r.skipped).toMatch(/non-finite/);
    for (const t of Object.values(result.checkpoint.parameters)) expect((t.data as Float32Array).every(Number.isFinite)).toBe(true);
    expect(result.checkpoint.adamSteps).toBe(result.history.length - skipped.length);
    if (result.lora) releaseLlamaLora(gpu, result.lora);
    releaseLlama(gpu, model);
  });

  it("undoes an update that blows up the adapters, halves the lr and retries the step; the run ends healthy", async () => {
    // lr 1 multiplies the adapters' norm by more than 4 at step 1; some halving of it does not.
    const config: TrainConfig = { ...toyLoraConfig, steps: 3, lr: 1, warmupSteps: 0 };
    const events: { step: number; reason: string; lr: number; retryLr: number }[] = [];
    const result = await run(config, { onRollback: (e) => void events.push(e) });
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(4);
    expect(events).toEqual(events.map((_, i) => ({ step: 1, reason: "exploding parameters", lr: 2 ** -i, retryLr: 2 ** -(i + 1) })));
    expect(result.history.map((r) => r.step)).toEqual([1, 2, 3]);
    expect(result.history[0].rolledBack).toEqual(events.map((e) => ({ reason: e.reason, lr: e.lr })));
    expect(result.history[0].lr).toBe(2 ** -events.length);
    expect(result.checkpoint.lrScale).toBe(2 ** -events.length);
    expect(result.checkpoint.adamSteps).toBe(3);
    for (const t of Object.values(result.checkpoint.parameters)) expect((t.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it.each([1e39, 1e30])(
    "lr %s: every retry breaks the weights too, so the run ends with TrainingDivergedError and the last good state",
    async (lr) => {
      const rollbacks: number[] = [];
      const error = await run(
        { ...toyLoraConfig, steps: 3, lr, warmupSteps: 0 },
        { onRollback: (e) => void rollbacks.push(e.retryLr) },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TrainingDivergedError);
      const diverged = error as TrainingDivergedError;
      expect(rollbacks).toEqual([lr / 2, lr / 4, lr / 8, lr / 16]);
      expect(diverged.step).toBe(1);
      expect(diverged.checkpoint.step).toBe(0);
      expect(diverged.checkpoint.adamSteps).toBe(0);
      // The last good state is the untrained adapter: B still all zero, A finite.
      for (const [name, t] of Object.entries(diverged.checkpoint.parameters)) {
        const values = t.data as Float32Array;
        expect(values.every(Number.isFinite), name).toBe(true);
        if (name.includes("lora_B"))
          expect(
            values.every((v) => v === 0),
            name,
          ).toBe(true);
      }
    },
  );

  it("stops at a step boundary when cancelled and returns the state so far", async () => {
    const controller = new AbortController();
    const result = await run(toyLoraConfig, {
      signal: controller.signal,
      onStep: (r) => {
        if (r.step === 2) controller.abort();
      },
    });
    expect(result.cancelled).toBe(true);
    expect(result.history.length).toBe(2);
    expect(result.checkpoint.step).toBe(2);
  });

  it("rejects a checkpoint made with another config", async () => {
    const first = await run({ ...toyLoraConfig, steps: 1 });
    await expect(run({ ...toyLoraConfig, steps: 2, seed: 9 }, { resume: first.checkpoint })).rejects.toThrow(/different config/);
  });
});
