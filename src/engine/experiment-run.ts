/**
 * One experiment, start to finish, as the workbench's steps run it: load → analyze → choose and
 * drop the block → distil → SFT and SDD → evaluate the original, the pruned model, both fine-tunes
 * and their SLERP merge. Every request comes from the experiment through experiment-plan.ts. The
 * steps are the engine's methods, called in-process (`prunelab replay`) or through the worker's RPC
 * (as test/cli/replay.test.ts does), so both front-ends compute the same numbers by construction.
 */
import type { Engine } from "./engine";
import type { Experiment } from "./experiment";
import {
  analyzeRequest,
  chooseBlock,
  distillRequest,
  effectiveTrainSettings,
  evaluateRequest,
  type OwnTrainSettings,
  type PlanInputs,
  studyDatasets,
  studyEvalModels,
  trainRuns,
} from "./experiment-plan";
import type { Job, Progress } from "./job";
import type { ModelRequest } from "./requests";
import type { TrainedAdapter, TrainRun } from "./train";

/** The engine's steps this run calls, however they are reached. */
export type ExperimentSteps = Pick<Engine, "loadModel" | "analyze" | "prune" | "distill" | "train" | "evaluate">;

export interface ExperimentRunOptions {
  model: ModelRequest;
  /** What the experiment names but cannot hold (the user's own calibration text or fine-tuning data). */
  inputs?: PlanInputs;
  /** The block count n to drop when the experiment chose none (prune.count 0): the run its metric finds most redundant. */
  n?: number;
  /** Checkpointing and quick evaluation; they never change what is trained. Default: neither. */
  own?: OwnTrainSettings;
  /** Every step's progress, as one stream. */
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export async function runExperiment(steps: ExperimentSteps, experiment: Experiment, options: ExperimentRunOptions) {
  const inputs = options.inputs ?? {};
  // Built before the model loads, so that data the experiment names but nobody gave is said at once.
  const analysis = analyzeRequest(experiment, inputs);
  const distillation = distillRequest(experiment, inputs);
  const job = <P extends Progress>(): Job<P> => ({
    signal: options.signal ?? new AbortController().signal,
    progress: (p) => options.onProgress?.(p),
  });
  const card = await steps.loadModel(options.model, job());
  const analyzed = (await steps.analyze(analysis, job())).analysis;
  const block = chooseBlock(experiment, analyzed, options.n ?? 0);
  const pruned = await steps.prune(block, job());
  const distilled = await steps.distill(distillation, job());
  const datasets = studyDatasets(distilled.examples);
  const settings = effectiveTrainSettings(options.own ?? { checkpointEvery: 0, evalEvery: 0, evalItems: 1 }, experiment);
  const adapters: Partial<Record<TrainRun, TrainedAdapter>> = {};
  for (const run of trainRuns) adapters[run] = await steps.train({ ...settings, run, records: datasets[run] }, job());
  const evaluation = await steps.evaluate(evaluateRequest(experiment, studyEvalModels(experiment, adapters, true)), job());
  return { card, analysis: analyzed, block, perplexity: pruned.perplexity, distilled, adapters, evaluation };
}

export type ExperimentRun = Awaited<ReturnType<typeof runExperiment>>;
