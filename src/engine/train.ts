/**
 * The engine's Train job: LoRA fine-tuning of the model in use (the pruned one) on an Alpaca
 * dataset, the loss on response tokens only; each step, each checkpoint and each quick evaluation
 * is reported, so that the UI draws the curves live and can resume the run after a reload; the
 * adapter comes back as PEFT-keyed host tensors.
 */

import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import { sftExamples } from "../distill/sft-examples";
import type { QuickEvalPoint } from "../eval/eval-curve";
import { quickEvaluation } from "../eval/quick-eval";
import type { Gpu } from "../gpu/context";
import type { Tokenizer } from "../model/tokenizer";
import { type LoraConfig, releaseLlamaLora } from "../train/llama-lora";
import { type TrainCheckpoint, type TrainConfig, type TrainStepReport, trainDefaults, trainModel } from "../train/train-loop";
import type { Job, Progress } from "./job";
import type { FoldableAdapter, ModelState } from "./model-state";

/** SFT trains on the original responses, SDD on the self-distilled ones. */
export type TrainRun = "sft" | "sdd";

export interface TrainSettings {
  lora: LoraConfig;
  lr: number;
  steps: number;
  batchSize: number;
  seed: number;
  maxLength: number;
  /** Steps of linear warmup before the cosine decay. */
  warmupSteps: number;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** Global L2 norm gradients are clipped to (0: no clipping). */
  maxGradNorm: number;
  /** Steps between checkpoints (0: only the final state). */
  checkpointEvery: number;
  /** Steps between quick evaluations of the adapter on the demo suite (the last step is always one); 0 = off. */
  evalEvery: number;
  /** Items per task of a quick evaluation (the first ones). */
  evalItems: number;
}

export interface TrainRequest extends TrainSettings {
  run: TrainRun;
  records: AlpacaRecord[];
  /** A checkpoint of the same run and settings to continue from. */
  resume?: TrainCheckpoint;
}

export type TrainJobProgress = Progress & {
  run: TrainRun;
  report?: TrainStepReport;
  checkpoint?: TrainCheckpoint;
  quickEval?: QuickEvalPoint;
};

export interface TrainedAdapter extends FoldableAdapter {
  run: TrainRun;
  baseModel: string;
  history: TrainStepReport[];
  cancelled: boolean;
}

/** What a LoRA run's TrainConfig is built from; what is left out takes `trainDefaults` (src/train/train-loop.ts). */
export type LoraTrainSettings = Pick<TrainConfig, "lr" | "steps" | "batchSize" | "seed" | "maxLength"> &
  Partial<Pick<TrainConfig, "gradientAccumulation" | "warmupSteps" | "minLrRatio" | "weightDecay" | "maxGradNorm" | "checkpointEvery">> & {
    lora: LoraConfig;
  };

/**
 * The one TrainConfig builder (the workbench, `prunelab train`, `replay` and `paper` all train
 * through it): LoRA mode, the defaults for what the settings leave out, sequences no longer than
 * the model's context, and padding with the tokenizer's pad token (never counted in the loss).
 */
export function loraTrainConfig(
  settings: LoraTrainSettings,
  model: { maxPositionEmbeddings: number },
  tokenizer: Pick<Tokenizer, "padTokenId">,
): TrainConfig {
  return {
    ...trainDefaults,
    ...settings,
    mode: "lora",
    maxLength: Math.min(settings.maxLength, model.maxPositionEmbeddings),
    padId: tokenizer.padTokenId ?? 0,
  };
}

export async function trainJob(gpu: Gpu, state: ModelState, request: TrainRequest, job: Job<TrainJobProgress>): Promise<TrainedAdapter> {
  const { run, records } = request;
  if (records.length === 0) throw new Error(`train ${run}: the dataset holds no records`);
  const dataset = sftExamples(state.tokenizer, records);
  const { lora, lr, steps, batchSize, seed, maxLength, warmupSteps, weightDecay, maxGradNorm, checkpointEvery } = request;
  const config = loraTrainConfig(
    { lora, lr, steps, batchSize, seed, maxLength, warmupSteps, weightDecay, maxGradNorm, checkpointEvery },
    state.model.config,
    state.tokenizer,
  );
  const progress = (done: number, extra: Partial<TrainJobProgress> = {}) =>
    job.progress({ phase: `training ${run.toUpperCase()}`, done, total: request.steps, unit: "items", run, ...extra });
  progress(request.resume?.step ?? 0);
  // The demo world's suite at its default few-shot, as the Evaluate step scores it.
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed));
  const evaluate = quickEvaluation(
    gpu,
    state.weights,
    request.lora,
    state.tokenizer,
    suite,
    { every: request.evalEvery, items: request.evalItems },
    (quickEval) => progress(quickEval.step, { quickEval }),
    {
      signal: job.signal,
      onProgress: (p) =>
        job.progress({ phase: `quick evaluation of ${run.toUpperCase()}: ${p.task}`, done: p.done, total: p.total, unit: "items", run }),
    },
  );
  const result = await trainModel(gpu, state.model, dataset, config, {
    resume: request.resume,
    signal: job.signal,
    onStep: (report) => progress(report.step, { report }),
    onCheckpoint: (checkpoint) => progress(checkpoint.step, { checkpoint }),
    evaluate,
  });
  if (result.lora) releaseLlamaLora(gpu, result.lora);
  // A cancelled run's last state is what a resume continues from.
  if (result.cancelled) progress(result.checkpoint.step, { checkpoint: result.checkpoint });
  return {
    run,
    config: request.lora,
    tensors: result.checkpoint.parameters,
    layers: state.model.layers.length,
    baseModel: state.card.name,
    history: result.history,
    cancelled: result.cancelled,
  };
}
