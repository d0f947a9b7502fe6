/**
 * The workbench's state (zustand): the experiment being edited, the open panel, the GPU and model
 * status reported by the engine worker, the playground's conversation, and the saved runs. Actions
 * that talk to the engine keep the main thread free: they await worker replies and never throw.
 */
import { create } from "zustand";
import { defaultExperiment, type Experiment } from "../engine/experiment";
import type { Progress } from "../engine/job";
import type { ChatMessage, GenerateResult, ModelCard, ModelRequest } from "../engine/requests";
import type { GpuInfo } from "../gpu/context";
import type { RunRecord, RunStore } from "../persist/run-store";
import type { EngineClient } from "../worker/protocol";
import type { RpcError } from "../worker/rpc";
import type { PanelId } from "./panels";

export type GpuStatus =
  | { state: "starting" }
  | { state: "ready"; info: GpuInfo }
  | { state: "unavailable"; error: RpcError; navigatorHasGpu: boolean };

/** A long job in flight: what it reports, when its current phase started (for the time-left estimate), and how to stop it. */
export interface RunningJob {
  title: string;
  progress?: Progress;
  /** When the current phase (e.g. one file's download) began, and how much of it was done then. */
  phaseStart: { at: number; done: number };
  controller: AbortController;
}

/** The job with new progress; a new phase restarts the rate measurement, since each phase has its own speed. */
export function withProgress(job: RunningJob, progress: Progress): RunningJob {
  const samePhase = job.progress?.phase === progress.phase;
  return { ...job, progress, phaseStart: samePhase ? job.phaseStart : { at: performance.now(), done: progress.done } };
}

export interface ModelState {
  card?: ModelCard;
  job?: RunningJob;
  error?: RpcError;
}

export interface PlaygroundState {
  mode: "chat" | "completion";
  messages: ChatMessage[];
  prompt: string;
  /** Text streamed so far by the generation in flight (or the last completion). */
  output: string;
  job?: RunningJob;
  error?: RpcError;
  last?: GenerateResult;
}

export interface WorkbenchState {
  panel: PanelId;
  experiment: Experiment;
  /** Notes about the experiment as it was read (from the link, a manifest or a run). */
  notices: string[];
  gpu: GpuStatus;
  model: ModelState;
  playground: PlaygroundState;
  runs: RunRecord[];
  runStore?: RunStore;
}

export const useWorkbench = create<WorkbenchState>(() => ({
  panel: "model",
  experiment: defaultExperiment(),
  notices: [],
  gpu: { state: "starting" },
  model: {},
  playground: { mode: "chat", messages: [], prompt: "", output: "" },
  runs: [],
}));

const set = useWorkbench.setState;
const get = useWorkbench.getState;

let engine: EngineClient | undefined;

export function showPanel(panel: PanelId): void {
  set({ panel });
}

export function setExperiment(experiment: Experiment, notices: string[] = []): void {
  set({ experiment, notices });
  void get().runStore?.setSetting("experiment", experiment);
}

export function updateExperiment(change: (draft: Experiment) => void): void {
  const draft = structuredClone(get().experiment);
  change(draft);
  setExperiment(draft, get().notices);
}

export function dismissNotices(): void {
  set({ notices: [] });
}

/** The engine worker's client (undefined until `connectEngine`), for the stores of individual steps. */
export function engineClient(): EngineClient | undefined {
  return engine;
}

export async function connectEngine(client: EngineClient): Promise<void> {
  engine = client;
  const navigatorHasGpu = "gpu" in navigator;
  const outcome = await client.call("gpu", {});
  set({ gpu: outcome.ok ? { state: "ready", info: outcome.value } : { state: "unavailable", error: outcome.error, navigatorHasGpu } });
}

export function startJob(title: string): RunningJob {
  return { title, phaseStart: { at: performance.now(), done: 0 }, controller: new AbortController() };
}

export const engineMissing: RpcError = { name: "WorkerError", message: "The engine worker is not running." };

export async function loadModel(request: ModelRequest): Promise<void> {
  const job = startJob(request.kind === "hub" ? `Downloading ${request.repo}` : "Loading model");
  set({ model: { ...get().model, job, error: undefined } });
  const onProgress = (progress: Progress) => {
    const current = get().model.job;
    if (current) set({ model: { ...get().model, job: withProgress(current, progress) } });
  };
  const outcome = engine
    ? await engine.call("loadModel", request, { onProgress, signal: job.controller.signal })
    : ({ ok: false, error: engineMissing } as const);
  if (outcome.ok) {
    set({ model: { card: outcome.value } });
    updatePlayground({
      mode: outcome.value.hasChatTemplate ? "chat" : "completion",
      messages: [],
      output: "",
      last: undefined,
      error: undefined,
    });
  } else {
    // A failed load leaves the engine with no model (the old one was released before the new one was read).
    set({ model: { error: outcome.error } });
  }
}

export function cancelJob(job: RunningJob | undefined): void {
  job?.controller.abort();
}

export function updatePlayground(change: Partial<PlaygroundState>): void {
  set({ playground: { ...get().playground, ...change } });
}

export async function generate(): Promise<void> {
  const { experiment, playground } = get();
  const prompt = playground.prompt;
  const job = startJob("Generating");
  const messages: ChatMessage[] = playground.mode === "chat" ? [...playground.messages, { role: "user", content: prompt }] : [];
  updatePlayground({ job, error: undefined, output: "", messages, prompt: playground.mode === "chat" ? "" : prompt });
  const request =
    playground.mode === "chat"
      ? { mode: "chat" as const, messages, sampling: experiment.sampling }
      : { mode: "completion" as const, prompt, sampling: experiment.sampling };
  const outcome = engine
    ? await engine.call("generate", request, {
        signal: job.controller.signal,
        onProgress: (delta) =>
          updatePlayground({
            output: get().playground.output + delta.text,
            job: { ...job, progress: { phase: "tokens", done: delta.tokens, total: experiment.sampling.maxTokens, unit: "tokens" } },
          }),
      })
    : ({ ok: false, error: engineMissing } as const);
  const output = get().playground.output;
  if (outcome.ok && playground.mode === "chat") {
    updatePlayground({
      job: undefined,
      last: outcome.value,
      output: "",
      messages: [...messages, { role: "assistant", content: outcome.value.text }],
    });
  } else if (outcome.ok) {
    updatePlayground({ job: undefined, last: outcome.value, output: outcome.value.text });
  } else {
    const kept = playground.mode === "chat" && output ? [...messages, { role: "assistant" as const, content: output }] : messages;
    updatePlayground({ job: undefined, error: outcome.error, messages: kept, output: playground.mode === "chat" ? "" : output });
  }
}

export async function attachRunStore(store: RunStore): Promise<void> {
  set({ runStore: store, runs: await store.list() });
}

export async function saveRun(name: string): Promise<void> {
  const store = get().runStore;
  if (!store) return;
  await store.create(name, get().experiment);
  set({ runs: await store.list() });
}

export async function deleteRun(id: string): Promise<void> {
  const store = get().runStore;
  if (!store) return;
  await store.delete(id);
  set({ runs: await store.list() });
}

export function openRun(run: RunRecord): void {
  setExperiment(run.experiment, [`Opened run "${run.name}".`]);
  set({ panel: "model" });
}
