/**
 * The paper's whole experiment as one plain async function: analyse the layers → for each block size
 * drop the run of blocks with the smallest angular distance → self-distil the fine-tuning data with
 * the unpruned model → LoRA fine-tune the pruned model on the original data (SFT) and on the
 * distilled data (SDD) with the same seed and steps → evaluate original, pruned, SFT, SDD and their
 * SLERP merge → measure each pruned model as a speculative-decoding draft for the original; repeated
 * over seeds. Front-ends (CLI, worker) add only I/O.
 *
 * What does not depend on the seed is done once (analysis, original and pruned evaluations, the
 * pruned draft); distillation depends on the seed but not on the block size (the teacher is the
 * unpruned model). Every finished piece goes to `store` under its own key and is taken from there
 * when present, so an interrupted study resumes at the first missing (block size, seed) unit.
 */
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import { distillDataset, distilledRecords } from "../distill/distill-dataset";
import type { DistillKind } from "../distill/sdft-template";
import { sftExamples } from "../distill/sft-examples";
import { evaluateSuite, type SuiteResult } from "../eval/suite-runner";
import type { EvalSuite } from "../eval/task-format";
import type { Gpu } from "../gpu/context";
import { mergeWeights } from "../merge/slerp";
import type { ModelWeights } from "../model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../model/llama-gpu";
import type { Tokenizer } from "../model/tokenizer";
import { dropBlocks, dropBlocksFromWeights } from "../prune/drop-blocks";
import { analyzeLayers, bestStarts } from "../prune/layer-analysis";
import { compareDrafts } from "../spec/draft-comparison";
import type { SpeculationStats } from "../spec/speculative-decoding";
import { foldLora } from "../train/fold-lora";
import { type LoraConfig, releaseLlamaLora } from "../train/llama-lora";
import { type TrainConfig, type TrainExample, type TrainStepReport, trainDefaults, trainModel } from "../train/train-loop";
import { defaultExperiment } from "./experiment";
import { loraTrainConfig } from "./train";

/** The data a study runs on: calibration token ids, fine-tuning records, the suite, draft prompts (token ids). */
export interface StudyData {
  calibration: readonly (readonly number[])[];
  general: readonly AlpacaRecord[];
  math: readonly AlpacaRecord[];
  suite: EvalSuite;
  speculationPrompts: readonly (readonly number[])[];
}

export interface StudySettings {
  /** Block sizes n to prune. */
  blocks: readonly number[];
  seeds: readonly number[];
  lora: LoraConfig;
  train: Pick<
    TrainConfig,
    "steps" | "batchSize" | "gradientAccumulation" | "maxLength" | "lr" | "warmupSteps" | "minLrRatio" | "weightDecay" | "maxGradNorm"
  >;
  distill: { maxTokens: number; batchSize: number; temperature: number; topP: number };
  /** Items per task (undefined: all). */
  evalLimit?: number;
  evalBatchSize?: number;
  /** SLERP factor between the SFT (t = 0) and SDD (t = 1) models. */
  mergeT: number;
  speculation: { k: number; maxTokens: number };
}

const experimentDefaults = defaultExperiment();

/**
 * The paper study's settings: the experiment's one table of defaults (src/engine/experiment.ts),
 * with the departures `prunelab paper` was calibrated with on the demo model stated here: LoRA on
 * q and v only (SDFT's targets), 24 steps at lr 2e-3 after 4 warmup steps (a model as small as the
 * demo one needs a larger rate than 2e-4 to move in so few steps), and 16 rewrites per batch.
 */
export const studyDefaults: Omit<StudySettings, "blocks" | "seeds"> = {
  lora: {
    rank: experimentDefaults.lora.rank,
    alpha: experimentDefaults.lora.alpha,
    dropout: experimentDefaults.lora.dropout,
    modules: ["q", "v"],
  },
  train: {
    steps: 24,
    batchSize: experimentDefaults.lora.batchSize,
    gradientAccumulation: trainDefaults.gradientAccumulation,
    maxLength: experimentDefaults.lora.maxLength,
    lr: 2e-3,
    warmupSteps: 4,
    minLrRatio: trainDefaults.minLrRatio,
    weightDecay: experimentDefaults.lora.weightDecay,
    maxGradNorm: experimentDefaults.lora.maxGradNorm,
  },
  distill: {
    maxTokens: experimentDefaults.distill.maxNewTokens,
    batchSize: 16,
    temperature: experimentDefaults.distill.temperature,
    topP: experimentDefaults.distill.topP,
  },
  evalLimit: experimentDefaults.evaluate.items,
  evalBatchSize: 16,
  mergeT: experimentDefaults.merge.t,
  speculation: { k: 4, maxTokens: 32 },
};

export type DraftStats = Omit<SpeculationStats, "seconds"> & { speedup: number; seconds: number };

export interface PrunedResult {
  n: number;
  /** First dropped block (0-based), the start with the smallest angular distance for this n. */
  start: number;
  distance: number;
  eval: SuiteResult;
  draft: DraftStats;
}

export interface DistillSummary {
  seed: number;
  general: { kept: number; replaced: number };
  math: { kept: number; replaced: number };
  records: AlpacaRecord[];
  seconds: number;
}

export interface FineTuneResult {
  history: TrainStepReport[];
  eval: SuiteResult;
  draft: DraftStats;
  seconds: number;
}

export interface UnitResult {
  n: number;
  start: number;
  seed: number;
  sft: FineTuneResult;
  sdd: FineTuneResult;
  merged: { eval: SuiteResult; draft: DraftStats };
  seconds: number;
}

export interface StudyResult {
  settings: StudySettings;
  layers: number;
  /** angular[n − 1][l] = d(l, n). */
  angular: number[][];
  original: SuiteResult;
  pruned: PrunedResult[];
  distilled: Omit<DistillSummary, "records">[];
  units: UnitResult[];
}

/** Where finished pieces are kept (a folder of JSON files, IndexedDB…); values are JSON-serialisable. */
export interface StudyStore {
  load(key: string): Promise<unknown | undefined>;
  save(key: string, value: unknown): Promise<void>;
}

export interface StudyProgress {
  /** What runs now, e.g. "n=2 seed=1: SDD training". */
  phase: string;
  done: number;
  total: number;
}

export interface StudyHooks {
  onProgress?: (p: StudyProgress) => void;
  signal?: AbortSignal;
  store?: StudyStore;
}

export interface StudyModel {
  weights: ModelWeights;
  tokenizer: Tokenizer;
}

export interface StudyOptions {
  model: StudyModel;
  data: StudyData;
  settings: StudySettings;
}

export async function runStudy(gpu: Gpu, { model, data, settings }: StudyOptions, hooks: StudyHooks = {}): Promise<StudyResult> {
  checkSettings(settings, model.weights.config.numHiddenLayers);
  const { tokenizer } = model;
  const store = hooks.store ?? memoryStore();
  const report = (phase: string, done = 0, total = 0) => hooks.onProgress?.({ phase, done, total });
  const cached = async <T>(key: string, make: () => Promise<T>): Promise<T> => {
    const hit = (await store.load(key)) as T | undefined;
    if (hit !== undefined) return hit;
    hooks.signal?.throwIfAborted();
    const value = await make();
    await store.save(key, value);
    return value;
  };
  // f32 everywhere, so every adapter computes the same numbers (f16 exists only on some).
  const upload = (weights: ModelWeights) => uploadLlama(gpu, weights, { weightDtype: "f32" });
  const original = upload(model.weights);
  const evaluate = (m: LlamaGpu, label: string) =>
    evaluateSuite(gpu, m, tokenizer, data.suite, {
      limit: settings.evalLimit,
      batchSize: settings.evalBatchSize,
      signal: hooks.signal,
      onProgress: (p) => report(`${label}: evaluating ${p.task}`, p.done, p.total),
    });
  const stopTokens = [...new Set([...tokenizer.stopTokenIds, ...(model.weights.config.eosTokenId ?? [])])];
  const asDraft = async (m: LlamaGpu, label: string): Promise<DraftStats> => {
    report(`${label}: drafting for the original`);
    const { rows } = await compareDrafts(gpu, original, [{ name: label, model: m }], data.speculationPrompts, {
      ...settings.speculation,
      temperature: 0,
      stopTokens,
      signal: hooks.signal,
    });
    const { runs: _, name: __, ...stats } = rows[0];
    return stats;
  };
  try {
    const analysis = await cached("analysis", async () => {
      const a = await analyzeLayers(gpu, original, data.calibration, {
        signal: hooks.signal,
        onProgress: (p) => report("analysing layers", p.samples, p.totalSamples),
      });
      return { layers: a.layers, angular: a.angular, starts: bestStarts(a) };
    });
    const originalEval = await cached("original", () => evaluate(original, "original"));
    const pruned: PrunedResult[] = [];
    for (const n of settings.blocks) {
      const start = analysis.starts[n - 1];
      pruned.push(
        await cached(`pruned-n${n}`, async () => {
          const view = dropBlocks(original, start, n);
          const label = `pruned n=${n}`;
          return {
            n,
            start,
            distance: analysis.angular[n - 1][start],
            eval: await evaluate(view, label),
            draft: await asDraft(view, label),
          };
        }),
      );
    }
    const distilled: DistillSummary[] = [];
    for (const seed of settings.seeds) {
      distilled.push(
        await cached(`distilled-seed${seed}`, () => distill(gpu, original, tokenizer, data, settings, seed, report, hooks.signal)),
      );
    }
    const sftData = sftExamples(tokenizer, [...data.general, ...data.math]);
    const units: UnitResult[] = [];
    for (const p of pruned) {
      for (const [i, seed] of settings.seeds.entries()) {
        units.push(
          await cached(`unit-n${p.n}-seed${seed}`, async () => {
            const started = performance.now();
            const label = `n=${p.n} seed=${seed}`;
            const base = dropBlocks(original, p.start, p.n);
            const baseWeights = dropBlocksFromWeights(model.weights, p.start, p.n);
            const config = loraTrainConfig({ ...settings.train, lora: settings.lora, seed, checkpointEvery: 0 }, base.config, tokenizer);
            const fineTune = async (kind: "SFT" | "SDD", examples: readonly TrainExample[]) => {
              const t0 = performance.now();
              const run = await trainModel(gpu, base, examples, config, {
                signal: hooks.signal,
                onStep: (s) => report(`${label}: ${kind} training (loss ${s.loss.toFixed(3)})`, s.step, config.steps),
              });
              if (run.lora) releaseLlamaLora(gpu, run.lora);
              hooks.signal?.throwIfAborted();
              const weights = foldLora(baseWeights, run.checkpoint.parameters, settings.lora);
              const tuned = upload(weights);
              const result = {
                history: run.history,
                eval: await evaluate(tuned, `${label}: ${kind}`),
                draft: await asDraft(tuned, `${label}: ${kind}`),
                seconds: 0,
              };
              releaseLlama(gpu, tuned);
              result.seconds = (performance.now() - t0) / 1000;
              return { result, weights };
            };
            const sft = await fineTune("SFT", sftData);
            const sdd = await fineTune("SDD", sftExamples(tokenizer, distilled[i].records));
            const merged = upload(mergeWeights(sft.weights, sdd.weights, settings.mergeT));
            const mergedResult = { eval: await evaluate(merged, `${label}: merged`), draft: await asDraft(merged, `${label}: merged`) };
            releaseLlama(gpu, merged);
            return {
              n: p.n,
              start: p.start,
              seed,
              sft: sft.result,
              sdd: sdd.result,
              merged: mergedResult,
              seconds: (performance.now() - started) / 1000,
            };
          }),
        );
      }
    }
    return {
      settings,
      layers: analysis.layers,
      angular: analysis.angular,
      original: originalEval,
      pruned,
      distilled: distilled.map(({ records: _, ...summary }) => summary),
      units,
    };
  } finally {
    releaseLlama(gpu, original);
  }
}

/** SDD data of one seed: the general and the math records rewritten by the unpruned model, each with its own prompt. */
async function distill(
  gpu: Gpu,
  teacher: LlamaGpu,
  tokenizer: Tokenizer,
  data: StudyData,
  settings: StudySettings,
  seed: number,
  report: (phase: string, done?: number, total?: number) => void,
  signal: AbortSignal | undefined,
): Promise<DistillSummary> {
  const started = performance.now();
  const run = (kind: DistillKind, records: readonly AlpacaRecord[]) =>
    distillDataset(gpu, teacher, tokenizer, records, {
      kind,
      ...settings.distill,
      seed,
      signal,
      onProgress: (p) => report(`seed=${seed}: distilling ${kind} data (kept ${p.kept})`, p.done, p.total),
    });
  const general = await run("general", data.general);
  const math = await run("math", data.math);
  return {
    seed,
    general: { kept: general.kept, replaced: general.replaced },
    math: { kept: math.kept, replaced: math.replaced },
    records: [...distilledRecords(general), ...distilledRecords(math)],
    seconds: (performance.now() - started) / 1000,
  };
}

function checkSettings(settings: StudySettings, layers: number): void {
  const bad = settings.blocks.find((n) => !(Number.isInteger(n) && n >= 1 && n < layers));
  if (bad !== undefined)
    throw new Error(`runStudy: block size ${bad} must be an integer in [1, ${layers - 1}] for a ${layers}-block model`);
  if (settings.blocks.length === 0 || settings.seeds.length === 0) throw new Error("runStudy: needs at least one block size and one seed");
  if (new Set(settings.seeds).size !== settings.seeds.length) throw new Error(`runStudy: seeds repeat (${settings.seeds.join(", ")})`);
}

function memoryStore(): StudyStore {
  const values = new Map<string, unknown>();
  return { load: async (key) => values.get(key), save: async (key, value) => void values.set(key, value) };
}
