/**
 * How good a draft each candidate model is for the target (the paper's comparison of the pruned
 * model without fine-tuning, after SFT, after SDD and merged), and the wall-clock speed-up over
 * plain target decoding of the same prompts with the same sampling settings.
 */
import type { Gpu } from "../gpu/context";
import { generate } from "../model/generate";
import type { LlamaGpu } from "../model/llama-gpu";
import {
  type Speculation,
  type SpeculationStats,
  type SpeculativeOptions,
  speculationStats,
  speculativeDecode,
} from "./speculative-decoding";

export interface DraftComparisonRow extends SpeculationStats {
  name: string;
  /** Plain target decoding time / speculative decoding time, over the same prompts. */
  speedup: number;
  /** Each prompt's decode. */
  runs: Speculation[];
}

export type DraftComparisonOptions = Omit<SpeculativeOptions, "onRound">;

/**
 * Every draft on every prompt. The target alone runs first, also as the warm-up that compiles the
 * shared pipelines, so no row pays for compilation.
 */
export async function compareDrafts(
  gpu: Gpu,
  target: LlamaGpu,
  drafts: readonly { name: string; model: LlamaGpu }[],
  prompts: readonly (readonly number[])[],
  options: DraftComparisonOptions,
): Promise<{ plainSeconds: number; rows: DraftComparisonRow[] }> {
  const plain = { ...options, stopTokens: options.stopTokens ?? target.config.eosTokenId };
  await generate(gpu, target, [prompts[0]], { ...plain, maxTokens: 1 });
  let plainSeconds = 0;
  for (const prompt of prompts) {
    const start = performance.now();
    await generate(gpu, target, [prompt], plain);
    plainSeconds += (performance.now() - start) / 1000;
  }
  const rows: DraftComparisonRow[] = [];
  for (const { name, model } of drafts) {
    await speculativeDecode(gpu, model, target, prompts[0], { ...options, maxTokens: Math.min(options.maxTokens, options.k + 1) });
    const runs = [];
    for (const prompt of prompts) runs.push(await speculativeDecode(gpu, model, target, prompt, options));
    const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
    rows.push({
      name,
      ...speculationStats(
        runs.flatMap((r) => r.rounds),
        seconds,
      ),
      speedup: plainSeconds / seconds,
      runs,
    });
  }
  return { plainSeconds, rows };
}
