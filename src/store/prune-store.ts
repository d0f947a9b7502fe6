/**
 * State of the Analyze and Prune steps (zustand): the calibration input, the last layer analysis,
 * the jobs in flight and the last prune's perplexity check. The chosen block itself lives in the
 * experiment (`prune.start`, `prune.count`) so that it travels in the link and the manifest.
 * Actions await the engine worker and never throw.
 */
import { create } from "zustand";
import { analyzeRequest, calibrationSetName } from "../engine/experiment-plan";
import type { AnalyzeResult, CalibrationInput, ExportedFile, PruneResult } from "../engine/requests";
import type { EngineMethods } from "../worker/protocol";
import type { RpcError } from "../worker/rpc";
import { engineClient, engineMissing, type RunningJob, startJob, updateExperiment, useWorkbench, withProgress } from "./workbench-store";

export interface PruneStepState {
  /** The calibration input chosen; how it is encoded and averaged is the experiment's (`calibration.*`). */
  calibration: CalibrationInput;
  analysis?: AnalyzeResult;
  analyzeJob?: RunningJob;
  analyzeError?: RpcError;
  pruneJob?: RunningJob;
  pruneError?: RpcError;
  pruned?: PruneResult & { start: number; count: number };
}

export const usePruneStep = create<PruneStepState>(() => ({
  calibration: { kind: "text", text: "" },
}));

const set = usePruneStep.setState;
const get = usePruneStep.getState;

// A newly loaded model makes the last analysis and prune meaningless.
useWorkbench.subscribe((s, prev) => {
  if (s.model.job && !prev.model.job) set({ analysis: undefined, analyzeError: undefined, pruned: undefined, pruneError: undefined });
});

export function updatePruneStep(change: Partial<Pick<PruneStepState, "calibration">>): void {
  set(change);
}

export async function analyzeModel(): Promise<void> {
  const { calibration } = get();
  // The experiment records which set was analysed, so that its manifest names it.
  updateExperiment((d) => {
    d.calibration.dataset = calibrationSetName(calibration);
  });
  const request = analyzeRequest(useWorkbench.getState().experiment, calibration.kind === "demo" ? {} : { calibration });
  const job = startJob("Analyzing layers");
  set({ analyzeJob: job, analyzeError: undefined });
  const engine = engineClient();
  const outcome = engine
    ? await engine.call("analyze", request, {
        signal: job.controller.signal,
        onProgress: (p) => {
          const current = get().analyzeJob;
          if (current) set({ analyzeJob: withProgress(current, p) });
        },
      })
    : ({ ok: false, error: engineMissing } as const);
  set(outcome.ok ? { analyzeJob: undefined, analysis: outcome.value } : { analyzeJob: undefined, analyzeError: outcome.error });
}

/** Drops blocks start … start+count−1 of the loaded model (count 0 restores it) and updates the model card. */
export async function pruneModel(start: number, count: number): Promise<void> {
  const job = startJob(count === 0 ? "Restoring the full model" : "Pruning");
  set({ pruneJob: job, pruneError: undefined });
  const engine = engineClient();
  const outcome = engine
    ? await engine.call(
        "prune",
        { start, count },
        {
          signal: job.controller.signal,
          onProgress: (p) => {
            const current = get().pruneJob;
            if (current) set({ pruneJob: withProgress(current, p) });
          },
        },
      )
    : ({ ok: false, error: engineMissing } as const);
  if (!outcome.ok) {
    set({ pruneJob: undefined, pruneError: outcome.error });
    return;
  }
  set({ pruneJob: undefined, pruned: count === 0 ? undefined : { ...outcome.value, start, count } });
  useWorkbench.setState({ model: { ...useWorkbench.getState().model, card: outcome.value.card } });
}

/** The model in use (pruned or not; with an adapter folded in when given) as a Hugging Face folder's files, or as GGUF. */
export async function exportModel(
  request: EngineMethods["exportModel"]["params"] = { format: "hf" },
): Promise<{ files?: ExportedFile[]; error?: RpcError }> {
  const engine = engineClient();
  const outcome = engine ? await engine.call("exportModel", request) : ({ ok: false, error: engineMissing } as const);
  return outcome.ok ? { files: outcome.value } : { error: outcome.error };
}
