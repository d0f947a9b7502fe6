/**
 * The training loop: seeded data order, micro-batches with gradient accumulation, loss on the
 * caller's masked tokens only, global-norm clipping, AdamW under a warmup + cosine schedule,
 * non-finite steps skipped and reported, checkpoints, resume and cancel. Full-parameter (every f32
 * weight of the model, in place) or LoRA (frozen base, adapters on chosen projections).
 *
 * Divergence policy: after every update the trained tensors' global norm is checked on the GPU. An
 * update that makes any of them NaN/Inf, or multiplies their norm by more than
 * `divergencePolicy.maxNormGrowth`, is undone (parameters and AdamW moments restored from a GPU copy
 * taken before it), the learning rate is halved for the rest of the run, and the step is retried on
 * the same data; the step's report lists the undone attempts. After `maxLrHalvings` halvings a
 * further bad update ends the run with a TrainingDivergedError carrying the last good state, so no
 * caller can save a broken adapter. A non-finite loss or gradient from healthy parameters (a
 * poisoned batch) skips the step as before.
 *
 * Everything random is a pure function of (seed, step): the data order of each epoch and the dropout
 * masks of each micro-batch. A checkpoint therefore needs only the step to restore the random state,
 * and a resumed run continues bit for bit.
 */
import type { Gpu } from "../gpu/context";
import type { Tensor } from "../gpu/tensor";
import type { HostTensor } from "../model/host-tensor";
import type { LlamaGpu } from "../model/llama-gpu";
import { type AdamWState, adamwDefaults, adamwSteps, createAdamWStates, releaseAdamWStates } from "../ops/adamw";
import { gradNorm, gradStatsIndex } from "../ops/grad-norm";
import { mulberry32 } from "../seeded-random";
import {
  createFullGradients,
  createLoraGradients,
  type Gradients,
  gradientList,
  llamaBackward,
  lossSum,
  releaseGradients,
} from "./llama-backward";
import { createLlamaLora, type LlamaLora, type LoraConfig } from "./llama-lora";
import { llamaTrainForward, type TrainBatch } from "./llama-train-forward";
import { readTensors, type TrainedParameter, trainedParameters, writeTensors } from "./parameters";
import { learningRate } from "./schedule";

/** One sequence; lossMask[t] = 1 where tokens[t] is a target the loss counts (e.g. the response). */
export interface TrainExample {
  tokens: readonly number[];
  lossMask: readonly number[];
}

export interface TrainConfig {
  mode: "full" | "lora";
  /** LoRA mode only. */
  lora?: LoraConfig;
  /** Optimizer steps. */
  steps: number;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (effective batch = batchSize × this). */
  gradientAccumulation: number;
  /** Tokens per sequence; longer sequences lose their tail. */
  maxLength: number;
  lr: number;
  warmupSteps: number;
  /** Cosine floor as a fraction of lr. */
  minLrRatio: number;
  weightDecay: number;
  /** Global L2 norm to clip gradients to; 0 = no clipping. */
  maxGradNorm: number;
  seed: number;
  /** Checkpoint every this many steps (0 = only the final one). */
  checkpointEvery: number;
  /** Token that fills right padding (never counted). */
  padId: number;
}

/**
 * The trainer's defaults, stated once: SDFT's LoRA recipe where it applies (lr 1e-4, cosine,
 * effective batch 8), and for the optimizer Hugging Face TrainingArguments' defaults, which SDFT's
 * runs keep: no warmup, weight decay 0 (AdamW's decoupled decay is off unless asked for) and the
 * global gradient norm clipped to 1. `prunelab train`/`paper` flags and the experiment's
 * lora.warmupSteps / weightDecay / maxGradNorm override them.
 */
export const trainDefaults: Omit<TrainConfig, "mode" | "steps"> = {
  batchSize: 8,
  gradientAccumulation: 1,
  maxLength: 512,
  lr: 1e-4,
  warmupSteps: 0,
  minLrRatio: 0,
  weightDecay: 0,
  maxGradNorm: 1,
  seed: 1,
  checkpointEvery: 0,
  padId: 0,
};

export interface TrainStepReport {
  /** Optimizer steps done, this one included (1-based). */
  step: number;
  /** Mean loss over the step's counted tokens (NaN or ±Inf when the step was skipped for it). */
  loss: number;
  gradNorm: number;
  lr: number;
  /** Counted tokens, and all tokens (padding excluded) the step processed. */
  countedTokens: number;
  tokens: number;
  /** Why the update was not applied, when it was not. */
  skipped?: "non-finite loss" | "non-finite gradient" | "no counted tokens";
  /** Updates of this step that were undone (see the divergence policy), each with its lr; `lr` above is the one kept. */
  rolledBack?: { reason: DivergenceReason; lr: number }[];
  elapsedMs: number;
}

export type DivergenceReason = "non-finite parameters" | "exploding parameters";

/** What the loop does when an update breaks the parameters (see the module comment). */
export const divergencePolicy = {
  /** The lr is halved at most this many times in a run (to 1/16 of the schedule's); one more bad update ends the run. */
  maxLrHalvings: 4,
  /** An update that multiplies the trained tensors' global L2 norm by more than this counts as exploding. */
  maxNormGrowth: 4,
} as const;

/** A run that could not continue healthily: `checkpoint` is the last good state (never a broken one). */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  constructor(
    readonly step: number,
    readonly reason: DivergenceReason,
    readonly lr: number,
    readonly checkpoint: TrainCheckpoint,
  ) {
    super(
      `training diverged at step ${step}: ${reason} after an update with lr ${lr.toExponential(2)}, although the lr was already ` +
        `halved ${divergencePolicy.maxLrHalvings} times; the run stops at its last good state (step ${checkpoint.step}), ` +
        "nothing broken was saved. Lower --lr and resume or restart.",
    );
  }
}

/**
 * A run's whole state as plain data (structured-clonable: IndexedDB, postMessage; the typed arrays
 * need a binary encoding for JSON): trained tensors, AdamW moments and the step.
 */
export interface TrainCheckpoint {
  format: "prunelab.train-checkpoint";
  version: 1;
  config: TrainConfig;
  /** Optimizer steps done. */
  step: number;
  /** AdamW updates applied (skipped steps excluded): the count bias correction uses. */
  adamSteps: number;
  /** Data order and dropout derive from (seed, step): with `step`, this is the random state. */
  rng: { seed: number; step: number };
  /** Trained tensors by name (HF weight names, or PEFT adapter keys). */
  parameters: Record<string, HostTensor>;
  adam: { m: Record<string, HostTensor>; v: Record<string, HostTensor> };
  history: TrainStepReport[];
  /** Factor on the schedule's lr after the divergence policy's halvings (absent: 1). */
  lrScale?: number;
}

export interface TrainOptions {
  onStep?: (report: TrainStepReport) => void;
  /** Called when an update was undone and the step is about to be retried at `retryLr` (the divergence policy). */
  onRollback?: (event: { step: number; reason: DivergenceReason; lr: number; retryLr: number }) => void;
  /** Awaited before training goes on. */
  onCheckpoint?: (checkpoint: TrainCheckpoint) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * A quick evaluation: awaited after every `every`-th step and after the last one (not after a
   * cancel), given a copy of the trained tensors at that step (PEFT adapter keys, or weight names in
   * full mode). It sees copies only and draws nothing from the run's random state, so the run ends the
   * same with or without it.
   */
  evaluate?: { every: number; at: (step: number, parameters: Record<string, HostTensor>) => Promise<void> };
  /** Continue this run (same dataset and config; the model must be the base it started from). */
  resume?: TrainCheckpoint;
}

export interface TrainResult {
  /** The adapters (LoRA mode); in full mode the model's own weights were trained in place. */
  lora?: LlamaLora;
  history: TrainStepReport[];
  /** State after the last completed step. */
  checkpoint: TrainCheckpoint;
  cancelled: boolean;
}

export async function trainModel(
  gpu: Gpu,
  model: LlamaGpu,
  dataset: readonly TrainExample[],
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  checkConfig(config, dataset, options);
  const { resume } = options;
  if (resume && canonicalJson(resume.config) !== canonicalJson(config)) {
    throw new Error("trainModel: the checkpoint was made with a different config; resume with the config it records");
  }
  const lora = config.mode === "lora" ? createLlamaLora(gpu, model, config.lora as LoraConfig, config.seed) : undefined;
  const newGradients = (): Gradients =>
    lora ? { mode: "lora", lora, grads: createLoraGradients(gpu, lora) } : { mode: "full", grads: createFullGradients(gpu, model) };
  const named = (list: TrainedParameter[], pick: (p: TrainedParameter) => Tensor) => list.map((p) => ({ name: p.name, tensor: pick(p) }));
  let gradients = newGradients();
  let params = trainedParameters(model, gradients);
  const adamStates = createAdamWStates(
    gpu,
    params.map((p) => p.param),
  );
  const adam = new Map<string, AdamWState>(params.map((p, i) => [p.name, adamStates[i]]));
  const states = (which: "m" | "v") => params.map((p) => ({ name: p.name, tensor: (adam.get(p.name) as AdamWState)[which] }));
  let step = 0;
  let adamSteps = 0;
  let lrScale = 1;
  const history: TrainStepReport[] = [];
  if (resume) {
    writeTensors(
      gpu,
      named(params, (p) => p.param),
      resume.parameters,
      "trainModel resume",
    );
    writeTensors(gpu, states("m"), resume.adam.m, "trainModel resume");
    writeTensors(gpu, states("v"), resume.adam.v, "trainModel resume");
    ({ step, adamSteps } = resume);
    lrScale = resume.lrScale ?? 1;
    history.push(...resume.history);
  }
  const readParameters = () =>
    readTensors(
      gpu,
      named(params, (p) => p.param),
    );
  const checkpoint = async (): Promise<TrainCheckpoint> => ({
    format: "prunelab.train-checkpoint",
    version: 1,
    config,
    step,
    adamSteps,
    rng: { seed: config.seed, step },
    parameters: await readParameters(),
    adam: { m: await readTensors(gpu, states("m")), v: await readTensors(gpu, states("v")) },
    history: [...history],
    ...(lrScale !== 1 ? { lrScale } : {}),
  });
  const order = new DataOrder(dataset.length, config.seed);
  const hp = { ...adamwDefaults, weightDecay: config.weightDecay };
  const schedule = { lr: config.lr, warmupSteps: config.warmupSteps, totalSteps: config.steps, minLrRatio: config.minLrRatio };
  const guard = new UpdateGuard(gpu);
  let normBefore = await guard.norm(params.map((p) => p.param));
  const rolledBack: TrainStepReport["rolledBack"] = [];
  let cancelled = false;
  while (step < config.steps) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    const started = performance.now();
    const micro = Array.from({ length: config.gradientAccumulation }, (_, i) => {
      const index = step * config.gradientAccumulation + i;
      return { index, batch: makeBatch(dataset, order.slice(index * config.batchSize, config.batchSize), config) };
    });
    const counted = micro.reduce((s, m) => s + m.batch.lossMask.flat().reduce((a, b) => a + b, 0), 0);
    const tokens = micro.reduce((s, m) => s + m.batch.realTokens, 0);
    const lr = learningRate(step, schedule) * lrScale;
    const report: TrainStepReport = {
      step: step + 1,
      loss: Number.NaN,
      gradNorm: Number.NaN,
      lr,
      countedTokens: counted,
      tokens,
      elapsedMs: 0,
    };
    if (counted === 0) {
      report.skipped = "no counted tokens";
    } else {
      const parts = micro.map(({ index, batch }) => {
        const dropout = lora ? { lora, dropout: { seed: config.seed, step: index } } : undefined;
        const acts = llamaTrainForward(gpu, model, batch, dropout);
        return llamaBackward(gpu, model, acts, batch, gradients, counted);
      });
      const grads = gradientList(gradients);
      const stats = gradNorm(gpu, grads, config.maxGradNorm);
      let lossTotal = 0;
      for (const p of parts) lossTotal += lossSum(await gpu.read(p)).sum;
      const s = await gpu.read(stats);
      report.loss = lossTotal / counted;
      report.gradNorm = s[gradStatsIndex.norm];
      if (!Number.isFinite(report.loss)) report.skipped = "non-finite loss";
      else if (s[gradStatsIndex.nonFinite]) report.skipped = "non-finite gradient";
      else {
        const state = params.flatMap((p) => {
          const a = adam.get(p.name) as AdamWState;
          return [p.param, a.m, a.v];
        });
        guard.save(state);
        adamSteps++;
        // One launch for all LoRA adapters (they, their gradients and moments are arenas); one per tensor otherwise.
        adamwSteps(
          gpu,
          params.map((p) => p.param),
          params.map((p) => p.grad),
          params.map((p) => adam.get(p.name) as AdamWState),
          { ...hp, lr },
          adamSteps,
          stats,
        );
        const normAfter = await guard.norm(params.map((p) => p.param));
        const reason: DivergenceReason | undefined = !Number.isFinite(normAfter)
          ? "non-finite parameters"
          : normBefore > 0 && normAfter > divergencePolicy.maxNormGrowth * normBefore
            ? "exploding parameters"
            : undefined;
        if (reason) {
          guard.restore(state);
          adamSteps--;
          gpu.release(stats, ...parts);
          releaseGradients(gpu, gradients);
          gradients = newGradients();
          params = trainedParameters(model, gradients);
          if (Math.round(-Math.log2(lrScale)) >= divergencePolicy.maxLrHalvings) {
            guard.release();
            releaseGradients(gpu, gradients);
            const lastGood = await checkpoint();
            releaseAdamWStates(gpu, adamStates);
            throw new TrainingDivergedError(step + 1, reason, lr, lastGood);
          }
          rolledBack.push({ reason, lr });
          lrScale /= 2;
          options.onRollback?.({ step: step + 1, reason, lr, retryLr: lr / 2 });
          continue;
        }
        normBefore = normAfter;
      }
      gpu.release(stats, ...parts);
      releaseGradients(gpu, gradients);
      gradients = newGradients();
      params = trainedParameters(model, gradients);
    }
    if (rolledBack.length > 0) report.rolledBack = rolledBack.splice(0);
    await gpu.sync();
    step++;
    report.elapsedMs = performance.now() - started;
    history.push(report);
    options.onStep?.(report);
    const { evaluate } = options;
    if (evaluate && evaluate.every > 0 && (step % evaluate.every === 0 || step === config.steps) && !options.signal?.aborted) {
      await evaluate.at(step, await readParameters());
    }
    if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && step < config.steps) {
      await options.onCheckpoint?.(await checkpoint());
    }
  }
  guard.release();
  releaseGradients(gpu, gradients);
  const final = await checkpoint();
  releaseAdamWStates(gpu, adamStates);
  return { lora, history, checkpoint: final, cancelled };
}

function checkConfig(config: TrainConfig, dataset: readonly TrainExample[], options: TrainOptions): void {
  const positiveInts = ["steps", "batchSize", "gradientAccumulation", "maxLength"] as const;
  for (const k of positiveInts) {
    if (!(Number.isInteger(config[k]) && config[k] >= 1)) throw new Error(`trainModel: ${k} must be an integer ≥ 1, got ${config[k]}`);
  }
  if (!(Number.isFinite(config.lr) && config.lr >= 0)) throw new Error(`trainModel: lr must be a finite number ≥ 0, got ${config.lr}`);
  if (config.maxLength < 2) throw new Error(`trainModel: maxLength must be ≥ 2 (an input and its target), got ${config.maxLength}`);
  if (config.mode === "lora" && !config.lora) throw new Error("trainModel: LoRA mode needs config.lora (rank, alpha, dropout, modules)");
  if (dataset.length === 0) throw new Error("trainModel: the dataset is empty");
  const every = options.evaluate?.every;
  if (every !== undefined && !(Number.isInteger(every) && every >= 0)) {
    throw new Error(`trainModel: evaluate.every must be an integer ≥ 0, got ${every}`);
  }
  dataset.forEach((ex, i) => {
    if (ex.tokens.length !== ex.lossMask.length) {
      throw new Error(`trainModel: example ${i} has ${ex.tokens.length} tokens but a lossMask of ${ex.lossMask.length}`);
    }
  });
}

/** JSON with object keys sorted, so equal configs compare equal whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
  );
}

/** Epoch after epoch of seeded permutations of the dataset, read as one endless sequence of indices. */
class DataOrder {
  private epoch = -1;
  private permutation: number[] = [];

  constructor(
    private readonly size: number,
    private readonly seed: number,
  ) {}

  slice(start: number, count: number): number[] {
    return Array.from({ length: count }, (_, i) => this.at(start + i));
  }

  private at(position: number): number {
    const epoch = Math.floor(position / this.size);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.permutation = shuffled(this.size, mulberry32((this.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0));
    }
    return this.permutation[position % this.size];
  }
}

/** Fisher–Yates over 0…n−1. */
function shuffled(n: number, random: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Inputs, shifted targets and mask for the examples, truncated to maxLength and right-padded to the longest. */
export function makeBatch(
  dataset: readonly TrainExample[],
  indices: readonly number[],
  config: Pick<TrainConfig, "maxLength" | "padId">,
): TrainBatch & { realTokens: number } {
  const examples = indices.map((i) => {
    const ex = dataset[i];
    return { tokens: ex.tokens.slice(0, config.maxLength), lossMask: ex.lossMask.slice(0, config.maxLength) };
  });
  const t = Math.max(1, ...examples.map((e) => e.tokens.length - 1));
  const row = <T>(values: readonly T[], fill: T) => Array.from({ length: t }, (_, i) => (i < values.length ? values[i] : fill));
  return {
    inputs: examples.map((e) => row(e.tokens.slice(0, -1), config.padId)),
    targets: examples.map((e) => row(e.tokens.slice(1), config.padId)),
    lossMask: examples.map((e) => row(e.lossMask.slice(1), 0)),
    realTokens: examples.reduce((s, e) => s + Math.max(0, e.tokens.length - 1), 0),
  };
}

/**
 * The divergence policy's GPU side: the global norm of the trained tensors (one small readback), and
 * a copy of the parameters and AdamW moments taken before an update so a bad one can be undone.
 */
class UpdateGuard {
  private readonly copies = new Map<Tensor, Tensor>();

  constructor(private readonly gpu: Gpu) {}

  /** ‖tensors‖₂ together; Infinity when any holds NaN/Inf or the f32 sum of squares overflows. */
  async norm(tensors: readonly Tensor[]): Promise<number> {
    const stats = gradNorm(this.gpu, tensors, 0);
    const s = await this.gpu.read(stats);
    this.gpu.release(stats);
    return s[gradStatsIndex.nonFinite] || !Number.isFinite(s[gradStatsIndex.norm]) ? Number.POSITIVE_INFINITY : s[gradStatsIndex.norm];
  }

  save(tensors: readonly Tensor[]): void {
    for (const t of tensors) {
      let copy = this.copies.get(t);
      if (!copy) {
        copy = this.gpu.tensor(t.shape, t.dtype, "train.undo_copy");
        this.copies.set(t, copy);
      }
      this.gpu.copy(t, copy);
    }
  }

  restore(tensors: readonly Tensor[]): void {
    for (const t of tensors) {
      const copy = this.copies.get(t);
      if (!copy) throw new Error("UpdateGuard.restore: no copy was saved");
      this.gpu.copy(copy, t);
    }
  }

  release(): void {
    this.gpu.release(...this.copies.values());
    this.copies.clear();
  }
}
