/**
 * Log-likelihood scoring: log P(continuation | context) token by token, for multiple-choice
 * evaluation. Requests are run in right-padded batches (causal attention never lets a real token
 * see the padding after it, so no mask is needed) and only the rows that predict continuation
 * tokens are projected to logits.
 */
import type { Gpu } from "../gpu/context";
import { type LlamaGpu, llamaForward } from "./llama-gpu";

export interface ScoreRequest {
  /** Token ids before the continuation (BOS included when wanted); at least one. */
  context: readonly number[];
  continuation: readonly number[];
}

export interface ContinuationScore {
  /** Σ log P(token | everything before it) over the continuation, natural log. */
  logProb: number;
  tokenLogProbs: number[];
  /** Whether every continuation token is the argmax of its prediction (greedy decoding would produce it). */
  isGreedy: boolean;
}

export interface ScoreOptions {
  /** Requests per forward (default 8). */
  batchSize?: number;
}

/** Bytes of logits read back per forward at most; larger batches are split. */
const maxLogitBytes = 64 * 1024 * 1024;

export async function scoreContinuations(
  gpu: Gpu,
  model: LlamaGpu,
  requests: readonly ScoreRequest[],
  options: ScoreOptions = {},
): Promise<ContinuationScore[]> {
  requests.forEach((r, i) => {
    if (r.context.length === 0) throw new Error(`scoreContinuations: request ${i} has an empty context`);
    if (r.continuation.length === 0) throw new Error(`scoreContinuations: request ${i} has an empty continuation`);
  });
  const vocab = model.config.vocabSize;
  const scores: ContinuationScore[] = [];
  let start = 0;
  while (start < requests.length) {
    let end = start;
    let rows = 0;
    while (end < requests.length && end - start < (options.batchSize ?? 8)) {
      const more = requests[end].continuation.length;
      if (end > start && (rows + more) * vocab * 4 > maxLogitBytes) break;
      rows += more;
      end++;
    }
    scores.push(...(await scoreBatch(gpu, model, requests.slice(start, end))));
    start = end;
  }
  return scores;
}

async function scoreBatch(gpu: Gpu, model: LlamaGpu, batch: readonly ScoreRequest[]): Promise<ContinuationScore[]> {
  const length = Math.max(...batch.map((r) => r.context.length + r.continuation.length - 1));
  const tokens = batch.map((r) => {
    const seq = [...r.context, ...r.continuation].slice(0, length);
    return [...seq, ...new Array(length - seq.length).fill(0)];
  });
  const rows = batch.flatMap((r, b) => r.continuation.map((_, j) => b * length + r.context.length - 1 + j));
  const { logits } = llamaForward(gpu, model, tokens, { logits: rows });
  if (!logits) throw new Error("scoreContinuations: the forward returned no logits");
  const values = await gpu.readF32(logits);
  gpu.release(logits);
  const vocab = model.config.vocabSize;
  let row = 0;
  return batch.map((r) => {
    const tokenLogProbs: number[] = [];
    let isGreedy = true;
    for (const token of r.continuation) {
      const { logProb, isMax } = logSoftmaxAt(values.subarray(row * vocab, (row + 1) * vocab), token);
      tokenLogProbs.push(logProb);
      isGreedy &&= isMax;
      row++;
    }
    return { logProb: tokenLogProbs.reduce((a, b) => a + b, 0), tokenLogProbs, isGreedy };
  });
}

/** log softmax(logits)[token] in float64, and whether `token` is the (first) argmax. */
function logSoftmaxAt(logits: Float32Array, token: number): { logProb: number; isMax: boolean } {
  let max = -Infinity;
  let argmax = 0;
  logits.forEach((v, i) => {
    if (v > max) {
      max = v;
      argmax = i;
    }
  });
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return { logProb: logits[token] - max - Math.log(sum), isMax: argmax === token };
}
