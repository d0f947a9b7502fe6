/**
 * State of the Distill, Train and Evaluate steps (zustand): their settings, jobs in flight, and
 * products (the distilled dataset, the SFT and SDD loss curves and adapters, the evaluation), kept
 * in IndexedDB (src/persist/study-records.ts) so that a reload shows them again and an interrupted
 * distillation or training run resumes where its last batch or checkpoint left it. Actions await the
 * engine worker and never throw.
 */
import { create } from "zustand";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import { type DistilledExample, distilledRecords, sdftSampling } from "../distill/distill-dataset";
import { sdftTemplates } from "../distill/sdft-template";
import type { Experiment } from "../experiment/experiment";
import { type SavedDistillation, type SavedTrainRun, StudyRecords, trainKey } from "../persist/study-records";
import { type LoraModule, loraDefaults, loraModules } from "../train/llama-lora";
import type { DistillRequest } from "../worker/distill-jobs";
import type { EvalModel, EvaluatedModel } from "../worker/eval-jobs";
import type { RpcError } from "../worker/rpc";
import type { TrainRun, TrainSettings } from "../worker/train-jobs";
import { engineClient, engineMissing, type RunningJob, startJob, useWorkbench, withProgress } from "./workbench-store";

export const trainRuns: readonly TrainRun[] = ["sft", "sdd"];

/**
 * The settings a training run uses: LoRA shape, learning rate, batch size and seed come from the
 * experiment (so a shared link or manifest reproduces the run); steps, length and checkpointing are
 * the Train step's own.
 */
export function effectiveTrainSettings(own: TrainSettings, experiment: Experiment): TrainSettings {
  const { lora } = experiment;
  const targets = lora.targets.split(",").map((t) => t.trim().replace(/_proj$/, ""));
  const modules = loraModules.filter((m: LoraModule) => targets.includes(m));
  return {
    ...own,
    lora: { rank: lora.rank, alpha: lora.alpha, dropout: lora.dropout, modules },
    lr: lora.learningRate,
    batchSize: lora.batchSize,
    seed: experiment.seeds.train,
  };
}

export interface StudyState {
  distillRequest: Omit<DistillRequest, "done">;
  distillation?: SavedDistillation;
  trainSettings: TrainSettings;
  runs: Partial<Record<TrainRun, SavedTrainRun>>;
  evaluation?: EvaluatedModel[];
  evalItems: number;
  evalFewShot: number;
  job?: RunningJob;
  error?: RpcError;
  /** Which step the job or error belongs to. */
  jobStep?: "distill" | "train" | "evaluate";
}

export const useStudy = create<StudyState>(() => ({
  distillRequest: {
    source: { kind: "demo", dataset: "general", count: 16, seed: 0 },
    kind: "general",
    template: sdftTemplates.general,
    temperature: sdftSampling.temperature,
    topP: sdftSampling.topP,
    seed: 0,
    maxTokens: 96,
    batchSize: 4,
  },
  trainSettings: { lora: loraDefaults, lr: 1e-4, steps: 20, batchSize: 8, seed: 1, maxLength: 256, checkpointEvery: 5 },
  runs: {},
  evalItems: 20,
  evalFewShot: 3,
}));

const set = useStudy.setState;
const get = useStudy.getState;

let records: Promise<StudyRecords | undefined> | undefined;

/** Opens the study's IndexedDB records (once) and shows what they hold; without IndexedDB the study lives in memory only. */
export function restoreStudy(): Promise<StudyRecords | undefined> {
  records ??= StudyRecords.open()
    .then(async (store) => {
      const [distillation, sft, sdd, evaluation] = await Promise.all([
        store.get("distillation"),
        store.get("train:sft"),
        store.get("train:sdd"),
        store.get("evaluation"),
      ]);
      set({
        ...(distillation ? { distillation, distillRequest: distillation.request } : {}),
        ...((sft ?? sdd) ? { trainSettings: (sft ?? sdd)?.settings } : {}),
        runs: { ...(sft ? { sft } : {}), ...(sdd ? { sdd } : {}) },
        evaluation,
      });
      return store;
    })
    .catch(() => undefined);
  return records;
}

export function updateStudy(change: Partial<Pick<StudyState, "distillRequest" | "trainSettings" | "evalItems" | "evalFewShot">>): void {
  set(change);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function begin(title: string, jobStep: StudyState["jobStep"]): RunningJob | undefined {
  if (get().job) return undefined;
  const job = startJob(title);
  set({ job, error: undefined, jobStep });
  return job;
}

function onProgress(progress: Parameters<typeof withProgress>[1]): void {
  const current = get().job;
  if (current) set({ job: withProgress(current, progress) });
}

export async function distill(): Promise<void> {
  const job = begin("Distilling", "distill");
  const engine = engineClient();
  if (!job) return;
  const store = await restoreStudy();
  const request = get().distillRequest;
  const earlier = get().distillation;
  const done = earlier && !earlier.finished && sameJson(earlier.request, request) ? earlier.examples : [];
  const distillation: SavedDistillation = { request, examples: [...done], finished: false };
  set({ distillation });
  const outcome = engine
    ? await engine.call(
        "distill",
        { ...request, done },
        {
          signal: job.controller.signal,
          onProgress: (p) => {
            onProgress(p);
            if (p.batch.length === 0) return;
            const current = get().distillation ?? distillation;
            const next = { ...current, examples: [...current.examples, ...p.batch] };
            set({ distillation: next });
            void store?.put("distillation", next);
          },
        },
      )
    : ({ ok: false, error: engineMissing } as const);
  if (outcome.ok) {
    const finished = { request, examples: outcome.value.examples, finished: true };
    set({ distillation: finished, job: undefined });
    await store?.put("distillation", finished);
  } else set({ job: undefined, error: outcome.error });
}

/** The two datasets of the study: the original responses (SFT) and the distilled ones (SDD), over the same instructions. */
export function studyDatasets(examples: readonly DistilledExample[]): Record<TrainRun, AlpacaRecord[]> {
  return {
    sft: examples.map(({ instruction, input, reference }) => ({ instruction, input, output: reference })),
    sdd: distilledRecords({ examples: [...examples], kept: 0, replaced: 0 }),
  };
}

/** FNV-1a of the dataset's JSON: enough to tell one dataset from another, never stored as a secret. */
function datasetKey(data: readonly AlpacaRecord[]): string {
  let h = 0x811c9dc5;
  for (const c of JSON.stringify(data)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return `${data.length}:${(h >>> 0).toString(16)}`;
}

/** Trains SFT then SDD on the pruned model, each continuing from its saved checkpoint when the settings and data are the same. */
export async function trainBoth(): Promise<void> {
  const examples = get().distillation?.finished ? get().distillation?.examples : undefined;
  if (!examples) return;
  const datasets = studyDatasets(examples);
  for (const run of trainRuns) {
    if (!(await trainRun(run, datasets[run]))) return;
  }
}

async function trainRun(run: TrainRun, data: AlpacaRecord[]): Promise<boolean> {
  const job = begin(`Training ${run.toUpperCase()}`, "train");
  const engine = engineClient();
  if (!job) return false;
  const store = await restoreStudy();
  const settings = effectiveTrainSettings(get().trainSettings, useWorkbench.getState().experiment);
  const key = datasetKey(data);
  const saved = get().runs[run];
  const same = saved && sameJson(saved.settings, settings) && saved.datasetKey === key;
  if (same && saved.adapter && !saved.adapter.cancelled) {
    set({ job: undefined });
    return true;
  }
  const resume = same ? saved.checkpoint : undefined;
  let state: SavedTrainRun = { settings, datasetKey: key, history: resume ? [...resume.history] : [], checkpoint: resume };
  const save = (next: SavedTrainRun, persist: boolean) => {
    state = next;
    set({ runs: { ...get().runs, [run]: next } });
    if (persist) void store?.put(trainKey(run), next);
  };
  save(state, true);
  const outcome = engine
    ? await engine.call(
        "train",
        { ...settings, run, records: data, resume },
        {
          signal: job.controller.signal,
          onProgress: (p) => {
            onProgress(p);
            if (p.report) save({ ...state, history: [...state.history, p.report] }, false);
            if (p.checkpoint) save({ ...state, checkpoint: p.checkpoint, history: p.checkpoint.history }, true);
          },
        },
      )
    : ({ ok: false, error: engineMissing } as const);
  if (!outcome.ok) {
    set({ job: undefined, error: outcome.error });
    return false;
  }
  save({ ...state, adapter: outcome.value, history: outcome.value.history }, true);
  set({ job: undefined });
  return !outcome.value.cancelled;
}

/** The models the Evaluate step can score: always the original and the model in use, plus each finished adapter. */
export function evaluableModels(runs: StudyState["runs"], pruned: boolean): EvalModel[] {
  const models: EvalModel[] = [{ label: "original", kind: "original" }];
  if (pruned) models.push({ label: "pruned", kind: "pruned" });
  for (const run of trainRuns) {
    const adapter = runs[run]?.adapter;
    if (adapter && !adapter.cancelled) models.push({ label: `pruned + ${run.toUpperCase()}`, kind: "adapter", adapter });
  }
  return models;
}

export async function evaluate(models: EvalModel[]): Promise<void> {
  const job = begin("Evaluating", "evaluate");
  const engine = engineClient();
  if (!job) return;
  const store = await restoreStudy();
  const { evalItems, evalFewShot } = get();
  const outcome = engine
    ? await engine.call(
        "evaluate",
        { items: evalItems, fewShot: evalFewShot, models },
        { signal: job.controller.signal, onProgress: (p) => onProgress(p) },
      )
    : ({ ok: false, error: engineMissing } as const);
  if (!outcome.ok) {
    set({ job: undefined, error: outcome.error });
    return;
  }
  set({ job: undefined, evaluation: outcome.value });
  await store?.put("evaluation", outcome.value);
}
