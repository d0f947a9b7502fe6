/**
 * What an experiment asks each step of the study to do: the one mapping from experiment fields to
 * the engine's job requests (analysis, block choice, distillation, training, evaluation, merge).
 * The workbench's stores and `prunelab replay` both build their requests here, so that a run
 * manifest replayed by the CLI computes exactly what the UI computed.
 */
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import { type DistilledExample, distilledRecords } from "../distill/distill-dataset";
import { type DistillKind, type SdftTemplate, sdftTemplates } from "../distill/sdft-template";
import { bestStarts, type LayerAnalysis } from "../prune/layer-analysis";
import { type LoraModule, loraModules } from "../train/llama-lora";
import type { DatasetSource, DistillRequest } from "./distill";
import type { EvalModel, EvaluateRequest } from "./evaluate";
import type { Experiment } from "./experiment";
import type { AnalyzeRequest, CalibrationInput } from "./requests";
import type { TrainedAdapter, TrainRun, TrainSettings } from "./train";

/** The calibration set that comes with the app (src/data/demo-calibration.ts). */
export const demoCalibrationSet = "demo-calibration";

/** The fine-tuning sets of the demo world, by the names `distill.dataset` gives them. */
const demoFinetuneSets: Record<string, DistillKind> = { "demo-train": "general", "demo-math": "math" };

/** The experiment's name for a fine-tuning set of the demo world. */
export function demoFinetuneSet(kind: DistillKind): string {
  return Object.keys(demoFinetuneSets).find((name) => demoFinetuneSets[name] === kind) as string;
}

/** What the experiment names but cannot hold: the user's own data, and edited SDFT templates. */
export interface PlanInputs {
  /** The text behind a `calibration.dataset` other than the demo set. */
  calibration?: Exclude<CalibrationInput, { kind: "demo" }>;
  /** The Alpaca JSONL behind a `distill.dataset` that is not a demo set. */
  finetune?: { name: string; text: string };
  /** Edited SDFT templates; absent: SDFT's own for the dataset's kind. */
  template?: SdftTemplate;
}

export class PlanError extends Error {
  override name = "PlanError";
}

/** The experiment's name for a calibration input: what `calibration.dataset` records after an analysis. */
export function calibrationSetName(input: CalibrationInput): string {
  return input.kind === "demo" ? demoCalibrationSet : input.kind === "jsonl" ? input.name : "pasted text";
}

export function analyzeRequest(experiment: Experiment, inputs: PlanInputs = {}): AnalyzeRequest {
  const { dataset, samples, maxTokens, tokens, chatTemplate, batchSize } = experiment.calibration;
  let calibration: CalibrationInput;
  if (dataset === demoCalibrationSet) calibration = { kind: "demo" };
  else if (inputs.calibration) calibration = inputs.calibration;
  else
    throw new PlanError(
      `calibration.dataset is "${dataset}", not the bundled "${demoCalibrationSet}": give its text again (prunelab replay: --calib FILE)`,
    );
  return { calibration, chatTemplate, tokens, batchSize, maxSamples: samples, seqLen: maxTokens };
}

/**
 * The block to drop: the experiment's own when count > 0; else the start of `n` blocks (n: the block count, the paper's notation) that the
 * metric finds most redundant (smallest angular distance, or smallest summed Block Influence).
 */
export function chooseBlock(experiment: Experiment, analysis: LayerAnalysis, n: number): { start: number; count: number } {
  const { start, count, metric } = experiment.prune;
  if (count > 0) {
    if (start + count > analysis.layers || count >= analysis.layers)
      throw new PlanError(`prune.start ${start} and prune.count ${count} do not fit a ${analysis.layers}-block model`);
    return { start, count };
  }
  if (!(Number.isInteger(n) && n >= 1 && n < analysis.layers))
    throw new PlanError(`prune.count is 0: choose a block count n from 1 to ${analysis.layers - 1}, got ${n}`);
  if (metric === "angular") return { start: bestStarts(analysis)[n - 1], count: n };
  const sums = Array.from({ length: analysis.layers - n + 1 }, (_, l) =>
    analysis.blockInfluence.slice(l, l + n).reduce((a, b) => a + b, 0),
  );
  return { start: sums.reduce((best, v, l) => (v < sums[best] ? l : best), 0), count: n };
}

export function distillRequest(experiment: Experiment, inputs: PlanInputs = {}): DistillRequest {
  const { dataset, consistencyFilter, maxNewTokens, count, temperature, topP, batchSize } = experiment.distill;
  const seed = experiment.seeds.data;
  const demoKind = Object.hasOwn(demoFinetuneSets, dataset) ? demoFinetuneSets[dataset] : undefined;
  let source: DatasetSource;
  if (demoKind) source = { kind: "demo", dataset: demoKind, count, seed };
  else if (inputs.finetune) source = { kind: "jsonl", ...inputs.finetune, count };
  else
    throw new PlanError(
      `distill.dataset is "${dataset}", not one of the demo sets: give that Alpaca JSONL file again (prunelab replay: --data FILE)`,
    );
  const dataKind = demoKind ?? "general";
  return {
    source,
    // The final-number check is the consistency filter; it needs math data (a general answer has no final number).
    kind: consistencyFilter && dataKind === "math" ? "math" : "general",
    template: inputs.template ?? sdftTemplates[dataKind],
    temperature,
    topP,
    seed,
    maxTokens: maxNewTokens,
    batchSize,
  };
}

type TrainedByExperiment = "lora" | "lr" | "steps" | "batchSize" | "seed" | "maxLength" | "warmupSteps" | "weightDecay" | "maxGradNorm";

/** What a training run's caller chooses itself: only how the run saves and measures itself, never what it computes. */
export type OwnTrainSettings = Omit<TrainSettings, TrainedByExperiment>;

/**
 * The settings both training runs use: everything that changes the trained numbers (LoRA shape,
 * learning rate and schedule, weight decay, clipping, batch, steps, length, seed) comes from the experiment; what only changes when
 * the run saves or measures itself (checkpoints, quick evaluations) is the caller's `own`.
 */
export function effectiveTrainSettings(own: OwnTrainSettings, experiment: Experiment): TrainSettings {
  const { lora } = experiment;
  const targets = lora.targets.split(",").map((t) => t.trim().replace(/_proj$/, ""));
  const modules = loraModules.filter((m: LoraModule) => targets.includes(m));
  return {
    ...own,
    lora: { rank: lora.rank, alpha: lora.alpha, dropout: lora.dropout, modules },
    lr: lora.learningRate,
    steps: lora.steps,
    batchSize: lora.batchSize,
    seed: experiment.seeds.train,
    maxLength: lora.maxLength,
    warmupSteps: lora.warmupSteps,
    weightDecay: lora.weightDecay,
    maxGradNorm: lora.maxGradNorm,
  };
}

/** How the study's tables name the pruned model with a run's adapter folded in. */
export function adapterLabel(run: TrainRun): string {
  return `pruned + ${run.toUpperCase()}`;
}

export const trainRuns: readonly TrainRun[] = ["sft", "sdd"];

/** The two datasets of the study: the original responses (SFT) and the distilled ones (SDD), over the same instructions. */
export function studyDatasets(examples: readonly DistilledExample[]): Record<TrainRun, AlpacaRecord[]> {
  return {
    sft: examples.map(({ instruction, input, reference }) => ({ instruction, input, output: reference })),
    sdd: distilledRecords({ examples: [...examples], kept: 0, replaced: 0 }),
  };
}

/** The models the study evaluates: the original, the model in use, each finished adapter, and their SLERP merge at merge.t. */
export function studyEvalModels(
  experiment: Experiment,
  adapters: Partial<Record<TrainRun, Pick<TrainedAdapter, "config" | "tensors" | "layers" | "cancelled">>>,
  pruned: boolean,
): EvalModel[] {
  const models: EvalModel[] = [{ label: "original", kind: "original" }];
  if (pruned) models.push({ label: "pruned", kind: "pruned" });
  const finished = trainRuns.flatMap((run) => {
    const adapter = adapters[run];
    return adapter && !adapter.cancelled ? [{ run, adapter }] : [];
  });
  for (const { run, adapter } of finished) models.push({ label: adapterLabel(run), kind: "adapter", adapter });
  if (finished.length === 2) {
    const { t } = experiment.merge;
    models.push({ label: `pruned + SLERP(SFT, SDD) t = ${t}`, kind: "merged", a: finished[0].adapter, b: finished[1].adapter, t });
  }
  return models;
}

export function evaluateRequest(experiment: Experiment, models: EvalModel[]): EvaluateRequest {
  return { items: experiment.evaluate.items, fewShot: experiment.evaluate.fewShot, models };
}
