/**
 * The engine's Evaluate job: the demo world's benchmark suite (the first `items` of each task) on
 * the original model, the pruned model, the pruned model with each trained adapter folded in, and
 * the SLERP merge of two such folds, so that the paper's table (recovery % against the original)
 * can be drawn from one call.
 */
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import { evaluateFolded } from "../eval/quick-eval";
import { type EvaluateSuiteOptions, evaluateSuite, type SuiteResult } from "../eval/suite-runner";
import type { Gpu } from "../gpu/context";
import { mergeWeights } from "../merge/slerp";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../model/llama-gpu";
import type { Job, Progress } from "./job";
import { adapterBase, type FoldableAdapter, foldedWeights, type ModelState } from "./model-state";

export type EvalModel =
  | { label: string; kind: "original" }
  | { label: string; kind: "pruned" }
  | { label: string; kind: "adapter"; adapter: FoldableAdapter }
  /** The SLERP merge at t of the model in use with adapter a folded in (t = 0) and with b folded in (t = 1). */
  | { label: string; kind: "merged"; a: FoldableAdapter; b: FoldableAdapter; t: number };

export interface EvaluateRequest {
  /** Items per task (the first ones). */
  items: number;
  fewShot: number;
  models: EvalModel[];
}

export interface EvaluatedModel {
  label: string;
  result: SuiteResult;
}

export async function evaluateJob(gpu: Gpu, state: ModelState, request: EvaluateRequest, job: Job<Progress>): Promise<EvaluatedModel[]> {
  if (request.models.length === 0) throw new Error("evaluate: choose at least one model");
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed), { fewShot: request.fewShot });
  const suiteOptions = (label: string): EvaluateSuiteOptions => ({
    limit: request.items,
    signal: job.signal,
    onProgress: (p) => job.progress({ phase: `${label}: ${p.task}`, done: p.done, total: p.total, unit: "items" }),
  });
  const evaluate = (model: LlamaGpu, label: string) => evaluateSuite(gpu, model, state.tokenizer, suite, suiteOptions(label));
  const rows: EvaluatedModel[] = [];
  for (const m of request.models) {
    if (m.kind === "original") rows.push({ label: m.label, result: await evaluate(state.full, m.label) });
    else if (m.kind === "pruned") rows.push({ label: m.label, result: await evaluate(state.model, m.label) });
    else if (m.kind === "adapter") {
      const base = adapterBase(state, m.adapter, `evaluate: ${m.label}`);
      rows.push({ label: m.label, result: await evaluateFolded(gpu, base, m.adapter, state.tokenizer, suite, suiteOptions(m.label)) });
    } else {
      const model = uploadLlama(
        gpu,
        mergeWeights(foldedWeights(state, m.a, `evaluate: ${m.label}`), foldedWeights(state, m.b, `evaluate: ${m.label}`), m.t),
      );
      try {
        rows.push({ label: m.label, result: await evaluate(model, m.label) });
      } finally {
        releaseLlama(gpu, model);
      }
    }
  }
  return rows;
}
