/** Perplexity of a model on calibration samples: the quick before/after check of a prune. */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import { scoreContinuations } from "../model/score";

/** exp(−mean log P(token | everything before it)) over every token after each sample's first; samples of one token are skipped. */
export async function calibrationPerplexity(
  gpu: Gpu,
  model: LlamaGpu,
  samples: readonly (readonly number[])[],
  batchSize = 8,
): Promise<number> {
  const requests = samples.filter((s) => s.length > 1).map((s) => ({ context: s.slice(0, 1), continuation: s.slice(1) }));
  if (requests.length === 0) throw new Error("calibrationPerplexity: no sample has two or more tokens");
  const scores = await scoreContinuations(gpu, model, requests, { batchSize });
  const tokens = requests.reduce((sum, r) => sum + r.continuation.length, 0);
  return Math.exp(-scores.reduce((sum, s) => sum + s.logProb, 0) / tokens);
}
