/**
 * Quick evaluation during training: every K steps the adapter as trained so far is folded into the
 * base weights (as the Evaluate step folds a finished one), scored on the first items of each task,
 * and kept as one point of the run's evaluation curve (suite average and per-task scores vs step).
 */
import type { Gpu } from "../gpu/context";
import type { ModelWeights } from "../model/host-tensor";
import { releaseLlama, type UploadOptions, uploadLlama } from "../model/llama-gpu";
import { foldLora, type LoraTensors } from "../train/fold-lora";
import type { LoraConfig } from "../train/llama-lora";
import type { TrainOptions } from "../train/train-loop";
import { type QuickEvalPoint, quickEvalPoint } from "./eval-curve";
import type { EvalTokenizer } from "./eval-tokenizer";
import { type EvaluateSuiteOptions, evaluateSuite, type SuiteResult } from "./suite-runner";
import type { EvalSuite } from "./task-format";

export interface QuickEvalSettings {
  /** Steps between evaluations (the last step is always evaluated); 0 = off. */
  every: number;
  /** Items per task (the first ones). */
  items: number;
}

/** The base weights with the adapter folded in, uploaded, scored on the suite, and released again. */
export async function evaluateFolded(
  gpu: Gpu,
  base: ModelWeights,
  adapter: { tensors: LoraTensors; config: Pick<LoraConfig, "rank" | "alpha" | "modules"> },
  tokenizer: EvalTokenizer,
  suite: EvalSuite,
  options: EvaluateSuiteOptions & { upload?: UploadOptions } = {},
): Promise<SuiteResult> {
  const model = uploadLlama(gpu, foldLora(base, adapter.tensors, adapter.config), options.upload);
  try {
    return await evaluateSuite(gpu, model, tokenizer, suite, options);
  } finally {
    releaseLlama(gpu, model);
  }
}

/**
 * trainModel's `evaluate` option for a LoRA run on `base`: each evaluation step's adapter scored on
 * the first `settings.items` of each task of `suite`; undefined when quick evaluation is off.
 */
export function quickEvaluation(
  gpu: Gpu,
  base: ModelWeights,
  lora: LoraConfig,
  tokenizer: EvalTokenizer,
  suite: EvalSuite,
  settings: QuickEvalSettings,
  onPoint: (point: QuickEvalPoint) => void,
  options: Omit<EvaluateSuiteOptions, "limit"> & { upload?: UploadOptions } = {},
): TrainOptions["evaluate"] {
  if (settings.every === 0) return undefined;
  if (!(Number.isInteger(settings.items) && settings.items >= 1)) {
    throw new Error(`quick evaluation: items per task must be an integer ≥ 1, got ${settings.items}`);
  }
  return {
    every: settings.every,
    at: async (step, tensors) => {
      const result = await evaluateFolded(gpu, base, { tensors, config: lora }, tokenizer, suite, { ...options, limit: settings.items });
      onPoint(quickEvalPoint(step, result));
    },
  };
}
