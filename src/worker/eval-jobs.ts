/**
 * The engine's Evaluate job: the demo world's benchmark suite (the first `items` of each task) on
 * the original model, the pruned model, and the pruned model with each trained adapter folded in,
 * so that the paper's table (recovery % against the original) can be drawn from one call.
 */
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import { evaluateSuite, type SuiteResult } from "../eval/suite-runner";
import type { Gpu } from "../gpu/context";
import type { ModelWeights } from "../model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../model/llama-gpu";
import { dropBlocksFromWeights } from "../prune/drop-blocks";
import { foldLora } from "../train/fold-lora";
import type { Progress } from "./protocol";
import type { PrunableModel } from "./prune-jobs";
import type { Job } from "./rpc";
import type { TrainedAdapter } from "./train-jobs";

export type EvalModel =
  | { label: string; kind: "original" }
  | { label: string; kind: "pruned" }
  | { label: string; kind: "adapter"; adapter: Pick<TrainedAdapter, "config" | "tensors" | "layers"> };

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

export function prunedWeights(ready: PrunableModel): ModelWeights {
  const { loaded, pruned } = ready;
  return pruned ? dropBlocksFromWeights(loaded.weights, pruned.start, pruned.count) : loaded.weights;
}

export async function evaluateJob(gpu: Gpu, ready: PrunableModel, request: EvaluateRequest, job: Job<Progress>): Promise<EvaluatedModel[]> {
  if (request.models.length === 0) throw new Error("evaluate: choose at least one model");
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed), { fewShot: request.fewShot });
  const evaluate = (model: LlamaGpu, label: string) =>
    evaluateSuite(gpu, model, ready.tokenizer, suite, {
      limit: request.items,
      signal: job.signal,
      onProgress: (p) => job.progress({ phase: `${label}: ${p.task}`, done: p.done, total: p.total, unit: "items" }),
    });
  const rows: EvaluatedModel[] = [];
  for (const m of request.models) {
    if (m.kind === "original") rows.push({ label: m.label, result: await evaluate(ready.full, m.label) });
    else if (m.kind === "pruned") rows.push({ label: m.label, result: await evaluate(ready.model, m.label) });
    else {
      const base = prunedWeights(ready);
      if (m.adapter.layers !== base.config.numHiddenLayers) {
        throw new Error(
          `evaluate: ${m.label}'s adapter has ${m.adapter.layers} blocks, the model in use ${base.config.numHiddenLayers}: train it on this pruned model`,
        );
      }
      const model = uploadLlama(gpu, foldLora(base, m.adapter.tensors, m.adapter.config));
      try {
        rows.push({ label: m.label, result: await evaluate(model, m.label) });
      } finally {
        releaseLlama(gpu, model);
      }
    }
  }
  return rows;
}
