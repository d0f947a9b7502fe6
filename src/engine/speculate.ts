/**
 * The engine's Speculate job: the model in use (the pruned view, once pruned) drafts for the full
 * model it was cut from; the prompt is decoded by the target alone and speculatively with the same
 * sampling settings, for the acceptance statistics, the speed-up and the text as coloured pieces.
 */
import type { Gpu } from "../gpu/context";
import { compareDrafts } from "../spec/draft-comparison";
import type { SpeculationStats } from "../spec/speculative-decoding";
import { speculationPieces, type TokenPiece } from "../spec/token-pieces";
import { CancelledError, type Job, type Progress } from "./job";
import type { ModelState } from "./model-state";
import type { Sampling } from "./requests";

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

export async function speculateJob(gpu: Gpu, state: ModelState, request: SpeculateRequest, job: Job<Progress>): Promise<SpeculateResult> {
  const { tokenizer } = state;
  const prompt = tokenizer.encode(request.prompt, { bos: tokenizer.bosTokenId !== undefined });
  const { temperature, topK, topP, maxTokens, seed } = request.sampling;
  const room = state.full.config.maxPositionEmbeddings - prompt.length;
  if (room < 1)
    throw new Error(`The prompt has ${prompt.length} tokens; this model's context holds ${state.full.config.maxPositionEmbeddings}.`);
  job.progress({ phase: "decoding with the target alone, then with the draft", done: 0, total: 0, unit: "tokens" });
  const { plainSeconds, rows } = await compareDrafts(gpu, state.full, [{ name: state.card.name, model: state.model }], [prompt], {
    k: request.k,
    maxTokens: Math.min(maxTokens, room),
    temperature,
    topK: topK > 0 ? topK : undefined,
    topP,
    seed,
    stopTokens: [...new Set([...tokenizer.stopTokenIds, ...(state.full.config.eosTokenId ?? [])])],
    signal: job.signal,
  });
  if (job.signal.aborted) throw new CancelledError("cancelled by the user");
  const { runs, name, ...stats } = rows[0];
  const [run] = runs;
  return {
    ...stats,
    pieces: speculationPieces(run.rounds, run.tokens, (ids) => tokenizer.decode(ids, { skipSpecialTokens: true })),
    draft: name,
    target: state.fullCard.name,
    plainSeconds,
  };
}
