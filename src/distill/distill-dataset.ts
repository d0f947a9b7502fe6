/**
 * Self-data distillation of a fine-tuning dataset: the teacher (the unpruned model) rewrites every
 * reference response with the SDFT prompt, in batches of left-padded prompts through the KV cache,
 * sampled (SDFT: temperature 0.95, top-p 0.7) and seeded; the filter keeps the rewrite or puts the
 * original response back. Batch k always holds examples [k·B, (k+1)·B) and samples from a seed
 * derived from (seed, k), so a run resumed from the examples an interrupted run finished (whole
 * batches) produces exactly what an uninterrupted run does.
 */

import { stopTokensOf } from "../eval/generative";
import type { Gpu } from "../gpu/context";
import { generate } from "../model/generate";
import type { LlamaGpu } from "../model/llama-gpu";
import type { AlpacaRecord } from "./alpaca-jsonl";
import { type FilterRules, judgeRewrite, type RejectReason } from "./rewrite-filter";
import { type DistillKind, type DistillTokenizer, type SdftTemplate, sdftPromptIds, sdftTemplates } from "./sdft-template";

export interface DistilledExample extends AlpacaRecord {
  /** Position in the source dataset. */
  index: number;
  /** The original response. */
  reference: string;
  /** What the teacher wrote (the opener included). */
  rewrite: string;
  /** Whether `output` is the rewrite (else it is the reference). */
  kept: boolean;
  reason?: RejectReason;
  detail?: string;
}

export interface DistillProgress {
  done: number;
  total: number;
  kept: number;
  replaced: number;
  /** The examples this batch finished, to persist for a resume. */
  batch: DistilledExample[];
}

export interface DistillOptions {
  kind: DistillKind;
  /** Default `sdftTemplates[kind]`. */
  template?: SdftTemplate;
  /** Filter phrases; default `referenceMentions`. */
  mentions?: FilterRules["mentions"];
  /** Default 0.95 (SDFT). */
  temperature?: number;
  /** Default 0.7 (SDFT). */
  topP?: number;
  topK?: number;
  /** Default 0. */
  seed?: number;
  /** Tokens per rewrite at most; default 256. */
  maxTokens?: number;
  /** Prompts generated together; default 4. A resume must use the same value to reproduce the run. */
  batchSize?: number;
  /** Examples an earlier run of the same settings finished: they are kept, not generated again. */
  done?: readonly DistilledExample[];
  /** Awaited, so that a caller saving each batch (file, IndexedDB) has it saved before the next one starts. */
  onProgress?: (progress: DistillProgress) => void | Promise<void>;
  /** Stops between batches (the current batch is discarded) by throwing its reason. */
  signal?: AbortSignal;
}

export interface DistillResult {
  /** One per source record, in order. */
  examples: DistilledExample[];
  kept: number;
  replaced: number;
}

export const sdftSampling = { temperature: 0.95, topP: 0.7 } as const;

export async function distillDataset(
  gpu: Gpu,
  teacher: LlamaGpu,
  tokenizer: DistillTokenizer,
  records: readonly AlpacaRecord[],
  options: DistillOptions,
): Promise<DistillResult> {
  const template = options.template ?? sdftTemplates[options.kind];
  const batchSize = options.batchSize ?? 4;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new Error(`distillDataset: batchSize must be an integer ≥ 1, got ${batchSize}`);
  const results = new Map<number, DistilledExample>();
  for (const example of options.done ?? []) {
    const source = records[example.index];
    if (!source || source.instruction !== example.instruction || source.input !== example.input || source.output !== example.reference) {
      throw new Error(
        `distillDataset: the finished example ${example.index} does not match the dataset (a partial result of another dataset?)`,
      );
    }
    results.set(example.index, example);
  }
  const count = () => {
    const kept = [...results.values()].filter((e) => e.kept).length;
    return { kept, replaced: results.size - kept };
  };
  for (let start = 0; start < records.length; start += batchSize) {
    const pending = Array.from({ length: Math.min(batchSize, records.length - start) }, (_, j) => start + j).filter((i) => !results.has(i));
    if (pending.length === 0) continue;
    options.signal?.throwIfAborted();
    const generations = await generate(
      gpu,
      teacher,
      pending.map((i) => sdftPromptIds(tokenizer, template, records[i])),
      {
        maxTokens: options.maxTokens ?? 256,
        temperature: options.temperature ?? sdftSampling.temperature,
        topP: options.topP ?? sdftSampling.topP,
        topK: options.topK,
        seed: batchSeed(options.seed ?? 0, start / batchSize),
        stopTokens: stopTokensOf(tokenizer, teacher),
        stopStrings: tokenizer.chatTemplate === undefined ? template.plainStopStrings : [],
        decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
        signal: options.signal,
      },
    );
    options.signal?.throwIfAborted();
    const batch = pending.map((index, row) => {
      const record = records[index];
      const rules = { kind: options.kind, mentions: options.mentions };
      const example = distilledExample(index, record, generations[row].text ?? "", template, rules);
      results.set(index, example);
      return example;
    });
    await options.onProgress?.({ done: results.size, total: records.length, ...count(), batch });
  }
  return { examples: records.map((_, i) => results.get(i) as DistilledExample), ...count() };
}

/**
 * One finished example: the opener plus what the teacher generated, kept when the filter passes it,
 * else the original response put back (the recipe's sdft.py mirrors this, and a test compares them).
 */
export function distilledExample(
  index: number,
  record: AlpacaRecord,
  generated: string,
  template: SdftTemplate,
  rules: FilterRules,
): DistilledExample {
  const rewrite = `${template.responseOpener.trimEnd()}${generated}`.trim();
  // The record's known answers (a generated world knows them) join the rules: the content check.
  const verdict = judgeRewrite(rewrite, record.output, { ...rules, answers: record.answers });
  const example: DistilledExample = { ...record, index, reference: record.output, rewrite, kept: verdict.kept };
  if (verdict.kept) example.output = rewrite;
  else Object.assign(example, { reason: verdict.reason, detail: verdict.detail });
  return example;
}

/** A well-mixed 32-bit seed per (run seed, batch), so neighbouring batches do not share sample streams. */
function batchSeed(seed: number, batch: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(batch + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** The fine-tuning dataset the distillation produced (for Alpaca JSONL export or training). */
export function distilledRecords(result: DistillResult): AlpacaRecord[] {
  return result.examples.map(({ instruction, input, output }) => ({ instruction, input, output }));
}
