/**
 * The engine's Distill job: the fine-tuning dataset (the demo world's general or math instructions,
 * or the user's Alpaca JSONL) rewritten by the unpruned model with the SDFT prompt, each finished
 * batch reported so that the UI can save it and a later run resume from it.
 */

import { generalInstructionDataset, mathInstructionDataset } from "../data/finetune-datasets";
import { buildWorld, demoWorldSeed } from "../data/world";
import { type AlpacaRecord, parseAlpacaJsonl } from "../distill/alpaca-jsonl";
import { type DistilledExample, distillDataset } from "../distill/distill-dataset";
import type { DistillKind, SdftTemplate } from "../distill/sdft-template";
import type { Gpu } from "../gpu/context";
import type { Job, Progress } from "./job";
import type { ModelState } from "./model-state";

/** Where the examples come from: `count` demo-world records drawn with `seed`, or the user's JSONL (its first `count` records). */
export type DatasetSource =
  | { kind: "demo"; dataset: DistillKind; count: number; seed: number }
  | { kind: "jsonl"; name: string; text: string; count: number };

export interface DistillRequest {
  source: DatasetSource;
  /** Which filter applies (math: the final number must match the reference's). */
  kind: DistillKind;
  template: SdftTemplate;
  temperature: number;
  topP: number;
  seed: number;
  maxTokens: number;
  batchSize: number;
  /** Examples an earlier run of the same request finished. */
  done?: DistilledExample[];
}

export type DistillJobProgress = Progress & { kept: number; replaced: number; batch: DistilledExample[] };

export interface DistillJobResult {
  examples: DistilledExample[];
  kept: number;
  replaced: number;
}

export function datasetRecords(source: DatasetSource): AlpacaRecord[] {
  if (source.kind === "jsonl") return parseAlpacaJsonl(source.text, source.name).slice(0, source.count);
  const world = buildWorld(demoWorldSeed);
  const draw = source.dataset === "math" ? mathInstructionDataset : generalInstructionDataset;
  return draw(world, { size: source.count, seed: source.seed });
}

/** The teacher is always the full model, whatever the Prune step chose. */
export async function distillJob(
  gpu: Gpu,
  state: ModelState,
  request: DistillRequest,
  job: Job<DistillJobProgress>,
): Promise<DistillJobResult> {
  const records = datasetRecords(request.source);
  if (records.length === 0) throw new Error("distill: the dataset holds no records");
  job.progress({
    phase: "rewriting",
    done: request.done?.length ?? 0,
    total: records.length,
    unit: "items",
    kept: 0,
    replaced: 0,
    batch: [],
  });
  return distillDataset(gpu, state.full, state.tokenizer, records, {
    kind: request.kind,
    template: request.template,
    temperature: request.temperature,
    topP: request.topP,
    seed: request.seed,
    maxTokens: request.maxTokens,
    batchSize: request.batchSize,
    done: request.done,
    signal: job.signal,
    onProgress: (p) =>
      job.progress({ phase: "rewriting", done: p.done, total: p.total, unit: "items", kept: p.kept, replaced: p.replaced, batch: p.batch }),
  });
}
