/**
 * Whether a model can be the SDD teacher of a dataset: it rewrites the records as distillation does
 * (distillDataset, the filter included), and the check reports its pass rate (rewrites the filter
 * kept / all, before the fallback puts references back) with the reasons for the rest, and the NLL
 * per token, under the same model, of the SFT references beside the SDD data (kept rewrites plus
 * fallbacks, what SDD trains on) and of the kept rewrites alone. A teacher that fails most rewrites
 * makes "SDD" mostly SFT; SDD data no closer to the model than the references tests nothing.
 */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import type { AlpacaRecord } from "./alpaca-jsonl";
import { type DistillOptions, distillDataset, distilledRecords } from "./distill-dataset";
import { responseNll, sftPromptedResponses } from "./response-nll";
import type { RejectReason } from "./rewrite-filter";
import type { DistillKind, DistillTokenizer } from "./sdft-template";
import type { InstructionTokenizer } from "./sft-examples";

export interface TeacherCheck {
  kind: DistillKind;
  examples: number;
  kept: number;
  /** kept / examples. */
  passRate: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Nats per token under the teacher, on the tokens SFT trains on. */
  nll: { references: number; sddData: number; keptRewrites: number | null };
  /** The first few rewrites, for the card. */
  samples: { instruction: string; rewrite: string; kept: boolean; detail?: string }[];
}

export async function checkTeacher(
  gpu: Gpu,
  teacher: LlamaGpu,
  tokenizer: DistillTokenizer & InstructionTokenizer,
  records: readonly AlpacaRecord[],
  options: Pick<DistillOptions, "kind" | "seed" | "batchSize" | "maxTokens" | "onProgress">,
): Promise<TeacherCheck> {
  const result = await distillDataset(gpu, teacher, tokenizer, records, options);
  const rejected: Partial<Record<RejectReason, number>> = {};
  for (const e of result.examples) if (!e.kept && e.reason) rejected[e.reason] = (rejected[e.reason] ?? 0) + 1;
  const nll = async (rs: readonly AlpacaRecord[]) => (await responseNll(gpu, teacher, sftPromptedResponses(tokenizer, rs))).perToken;
  const keptRecords = distilledRecords(result).filter((_, i) => result.examples[i].kept);
  return {
    kind: options.kind,
    examples: records.length,
    kept: result.kept,
    passRate: result.kept / records.length,
    rejected,
    nll: {
      references: await nll(records),
      sddData: await nll(distilledRecords(result)),
      keptRewrites: keptRecords.length > 0 ? await nll(keptRecords) : null,
    },
    samples: result.examples
      .slice(0, 3)
      .map((e) => ({ instruction: e.instruction, rewrite: e.rewrite, kept: e.kept, ...(e.detail ? { detail: e.detail } : {}) })),
  };
}
