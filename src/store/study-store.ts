/**
 * State of the Distill, Train and Evaluate steps (zustand): their settings, jobs in flight, and
 * products (the distilled dataset, the SFT and SDD loss and quick-evaluation curves and adapters,
 * the evaluation), kept in IndexedDB (src/persist/study-records.ts) so that a reload shows them
 * again and an interrupted distillation or training run resumes where its last batch or checkpoint
 * left it. Actions await the engine worker and never throw.
 */
import { create } from "zustand";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import type { DistillRequest } from "../engine/distill";
import type { EvalModel, EvaluatedModel } from "../engine/evaluate";
import {
  distillRequest,
  effectiveTrainSettings,
  evaluateRequest,
  type OwnTrainSettings,
  type PlanInputs,
  studyDatasets,
  trainRuns,
} from "../engine/experiment-plan";
import type { TrainRun } from "../engine/train";
import { type SavedDistillation, type SavedTrainRun, StudyRecords, trainKey } from "../persist/study-records";
import type { RpcError } from "../worker/rpc";
import { engineClient, engineMissing, type RunningJob, startJob, useWorkbench, withProgress } from "./workbench-store";

export interface StudyState {
  /** What the experiment names but cannot hold: an uploaded fine-tuning JSONL, edited SDFT templates. */
  distillInputs: Pick<PlanInputs, "finetune" | "template">;
  distillation?: SavedDistillation;
  /** Checkpointing and quick evaluation: everything else comes from the experiment (effectiveTrainSettings). */
  trainSettings: OwnTrainSettings;
  runs: Partial<Record<TrainRun, SavedTrainRun>>;
  evaluation?: EvaluatedModel[];
  job?: RunningJob;
  error?: RpcError;
  /** Which step the job or error belongs to. */
  jobStep?: "distill" | "train" | "evaluate";
}

export const useStudy = create<StudyState>(() => ({
  distillInputs: {},
  trainSettings: {
    checkpointEvery: 5,
    // A quarter of the run, on a handful of items per task: a curve of 4 points that costs little.
    evalEvery: 5,
    evalItems: 8,
  },
  runs: {},
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
        ...(distillation ? { distillation } : {}),
        // Over the defaults: runs saved before a setting existed lack it.
        ...((sft ?? sdd) ? { trainSettings: ownSettings({ ...get().trainSettings, ...(sft ?? sdd)?.settings }) } : {}),
        runs: { ...(sft ? { sft } : {}), ...(sdd ? { sdd } : {}) },
        evaluation,
      });
      return store;
    })
    .catch(() => undefined);
  return records;
}

/** The caller's own part of saved run settings (a saved run also holds what the experiment set). */
function ownSettings({ checkpointEvery, evalEvery, evalItems }: OwnTrainSettings): OwnTrainSettings {
  return { checkpointEvery, evalEvery, evalItems };
}

export function updateStudy(change: Partial<Pick<StudyState, "distillInputs" | "trainSettings">>): void {
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
  let request: DistillRequest;
  try {
    request = distillRequest(useWorkbench.getState().experiment, get().distillInputs);
  } catch (e) {
    set({ job: undefined, error: { name: (e as Error).name, message: (e as Error).message } });
    return;
  }
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
  let state: SavedTrainRun = {
    settings,
    datasetKey: key,
    history: resume ? [...resume.history] : [],
    evalCurve: resume ? (saved?.evalCurve ?? []).filter((p) => p.step <= resume.step) : [],
    checkpoint: resume,
  };
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
            if (p.quickEval) save({ ...state, evalCurve: [...(state.evalCurve ?? []), p.quickEval] }, true);
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

export async function evaluate(models: EvalModel[]): Promise<void> {
  const job = begin("Evaluating", "evaluate");
  const engine = engineClient();
  if (!job) return;
  const store = await restoreStudy();
  const outcome = engine
    ? await engine.call("evaluate", evaluateRequest(useWorkbench.getState().experiment, models), {
        signal: job.controller.signal,
        onProgress: (p) => onProgress(p),
      })
    : ({ ok: false, error: engineMissing } as const);
  if (!outcome.ok) {
    set({ job: undefined, error: outcome.error });
    return;
  }
  set({ job: undefined, evaluation: outcome.value });
  await store?.put("evaluation", outcome.value);
}
