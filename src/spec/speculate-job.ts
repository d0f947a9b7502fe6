/**
 * The engine's Speculate job: the model in use (the pruned view, once pruned) drafts for the full
 * model it was cut from; the prompt is decoded by the target alone and speculatively with the same
 * sampling settings, for the acceptance statistics, the speed-up and the text as coloured pieces.
 */
import type { Gpu } from "../gpu/context";
import type { Progress, Sampling } from "../worker/protocol";
import type { PrunableModel } from "../worker/prune-jobs";
import { CancelledError, type Job } from "../worker/rpc";
import { compareDrafts } from "./draft-comparison";
import type { SpeculationStats } from "./speculative-decoding";
import { speculationPieces, type TokenPiece } from "./token-pieces";

export interface SpeculateRequest {
  prompt: string;
  k: number;
  sampling: Sampling;
}

export interface SpeculateResult extends SpeculationStats {
  /** The continuation, token by token, each marked accepted / rejected / corrected / bonus. */
  pieces: TokenPiece[];
  draft: string;
  target: string;
  /** Decoding the same prompt with the target alone. */
  plainSeconds: number;
  speedup: number;
}

export async function speculateJob(
  gpu: Gpu,
  ready: PrunableModel,
  request: SpeculateRequest,
  job: Job<Progress>,
): Promise<SpeculateResult> {
  const { tokenizer } = ready;
  const prompt = tokenizer.encode(request.prompt, { bos: tokenizer.bosTokenId !== undefined });
  const { temperature, topK, topP, maxTokens, seed } = request.sampling;
  const room = ready.full.config.maxPositionEmbeddings - prompt.length;
  if (room < 1)
    throw new Error(`The prompt has ${prompt.length} tokens; this model's context holds ${ready.full.config.maxPositionEmbeddings}.`);
  job.progress({ phase: "decoding with the target alone, then with the draft", done: 0, total: 0, unit: "tokens" });
  const { plainSeconds, rows } = await compareDrafts(gpu, ready.full, [{ name: ready.card.name, model: ready.model }], [prompt], {
    k: request.k,
    maxTokens: Math.min(maxTokens, room),
    temperature,
    topK: topK > 0 ? topK : undefined,
    topP,
    seed,
    stopTokens: [...new Set([...tokenizer.stopTokenIds, ...(ready.full.config.eosTokenId ?? [])])],
    signal: job.signal,
  });
  if (job.signal.aborted) throw new CancelledError("cancelled by the user");
  const { runs, name, ...stats } = rows[0];
  const [run] = runs;
  return {
    ...stats,
    pieces: speculationPieces(run.rounds, run.tokens, (ids) => tokenizer.decode(ids, { skipSpecialTokens: true })),
    draft: name,
    target: ready.fullCard.name,
    plainSeconds,
  };
}
