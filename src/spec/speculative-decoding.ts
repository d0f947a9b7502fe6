/**
 * Speculative decoding: a small draft model (e.g. the pruned one) proposes k tokens one by one with
 * its own KV cache; the target model scores the pending token and all k drafts in ONE batched
 * forward over its cache; `verifyDrafts` keeps a prefix of the drafts and adds the target's own
 * next token; both caches are rewound past the rejected drafts. Greedy (temperature 0) output is
 * exactly the target's greedy output; sampled output follows the target's distribution.
 */
import type { Gpu } from "../gpu/context";
import {
  createLlamaKvCache,
  type LlamaGpu,
  type LlamaKvCache,
  llamaForward,
  releaseLlamaKvCache,
  rewindLlamaKvCache,
} from "../model/llama-gpu";
import { type SamplingOptions, sampleFrom, samplingDistribution } from "../ops/sampling";
import { mulberry32 } from "../seeded-random";
import { verifyDrafts } from "./verify-drafts";

export interface SpeculativeOptions {
  /** Drafts per round (≥ 1). */
  k: number;
  maxTokens: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Defaults to the target config's eos ids. */
  stopTokens?: readonly number[];
  /** Called after each round, e.g. to show accepted / rejected / corrected tokens as they come. */
  onRound?: (round: SpeculationRound) => void;
  signal?: AbortSignal;
}

/** One draft-and-verify round. */
export interface SpeculationRound {
  drafts: number[];
  /** drafts[0 … accepted − 1] were kept, the rest rejected. */
  accepted: number;
  /** The target's token after the kept drafts: a correction when accepted < drafts.length, else a bonus. */
  next: number;
}

export interface SpeculationStats {
  /** acceptedTokens / draftTokens. */
  acceptanceRate: number;
  /**
   * Tokens per target forward (kept drafts + the target's own token), τ in the literature:
   * plain decoding has 1, so this is the reduction in target forwards.
   */
  meanAcceptedLength: number;
  targetForwards: number;
  draftTokens: number;
  acceptedTokens: number;
  /** Wall-clock time of the whole decode, prompt included. */
  seconds: number;
}

export interface Speculation extends SpeculationStats {
  /** Generated ids (a stop token is not included). */
  tokens: number[];
  rounds: SpeculationRound[];
  stopReason: "length" | "stop-token" | "aborted";
}

export async function speculativeDecode(
  gpu: Gpu,
  draft: LlamaGpu,
  target: LlamaGpu,
  prompt: readonly number[],
  options: SpeculativeOptions,
): Promise<Speculation> {
  const { k, maxTokens } = options;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`speculativeDecode: k must be an integer ≥ 1, got ${k}`);
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1))
    throw new Error(`speculativeDecode: maxTokens must be an integer ≥ 1, got ${maxTokens}`);
  if (prompt.length === 0) throw new Error("speculativeDecode: the prompt needs at least one token");
  if (draft.config.vocabSize !== target.config.vocabSize) {
    throw new Error(
      `speculativeDecode: draft and target vocabularies differ (${draft.config.vocabSize} vs ${target.config.vocabSize} tokens)`,
    );
  }
  const start = performance.now();
  const sampling: SamplingOptions = { temperature: options.temperature ?? 0, topK: options.topK, topP: options.topP };
  const stopTokens = new Set(options.stopTokens ?? target.config.eosTokenId ?? []);
  const random = mulberry32(options.seed ?? 0);
  // Neither cache ever holds the last committed token (it is fed with the next forward), nor drafts past maxTokens.
  const capacity = prompt.length + maxTokens;
  const draftCache = createLlamaKvCache(gpu, draft, 1, capacity);
  const targetCache = createLlamaKvCache(gpu, target, 1, capacity);
  const sequence = [...prompt];
  const tokens: number[] = [];
  const rounds: SpeculationRound[] = [];
  let stopReason: Speculation["stopReason"] = "length";
  try {
    while (tokens.length < maxTokens && stopReason === "length") {
      if (options.signal?.aborted) {
        stopReason = "aborted";
        break;
      }
      // Fewer drafts near the end, so a round never commits more than maxTokens.
      const kRound = Math.min(k, maxTokens - tokens.length - 1);
      const drafts: number[] = [];
      const draftDistributions: Float64Array[] = [];
      for (let i = 0; i < kRound; i++) {
        const q = await nextDistributions(gpu, draft, draftCache, [...sequence, ...drafts], 1, sampling);
        draftDistributions.push(q[0]);
        drafts.push(sampleFrom(q[0], random));
      }
      const targetDistributions = await nextDistributions(gpu, target, targetCache, [...sequence, ...drafts], kRound + 1, sampling);
      const { accepted, next } = verifyDrafts(targetDistributions, draftDistributions, drafts, random);
      rewindLlamaKvCache(targetCache, sequence.length + accepted);
      rewindLlamaKvCache(draftCache, Math.min(draftCache.length, sequence.length + accepted));
      const round = { drafts, accepted, next };
      rounds.push(round);
      options.onRound?.(round);
      for (const token of [...drafts.slice(0, accepted), next]) {
        if (stopTokens.has(token)) {
          stopReason = "stop-token";
          break;
        }
        sequence.push(token);
        tokens.push(token);
      }
    }
  } finally {
    releaseLlamaKvCache(gpu, draftCache);
    releaseLlamaKvCache(gpu, targetCache);
  }
  return { tokens, rounds, stopReason, ...speculationStats(rounds, (performance.now() - start) / 1000) };
}

/**
 * Feeds the tokens of `sequence` the cache does not hold yet and returns the sampling distributions
 * after each of the last `count` of them.
 */
async function nextDistributions(
  gpu: Gpu,
  model: LlamaGpu,
  cache: LlamaKvCache,
  sequence: readonly number[],
  count: number,
  sampling: SamplingOptions,
): Promise<Float64Array[]> {
  const input = sequence.slice(cache.length);
  const rows = Array.from({ length: count }, (_, i) => input.length - count + i);
  const { logits } = llamaForward(gpu, model, [input], { cache, logits: rows });
  if (!logits) throw new Error("speculativeDecode: the forward returned no logits");
  const values = await gpu.readF32(logits);
  gpu.release(logits);
  const vocab = model.config.vocabSize;
  return rows.map((_, i) => samplingDistribution(values.subarray(i * vocab, (i + 1) * vocab), sampling));
}

export function speculationStats(rounds: readonly SpeculationRound[], seconds: number): SpeculationStats {
  const draftTokens = rounds.reduce((sum, r) => sum + r.drafts.length, 0);
  const acceptedTokens = rounds.reduce((sum, r) => sum + r.accepted, 0);
  const targetForwards = rounds.length;
  return {
    acceptanceRate: draftTokens > 0 ? acceptedTokens / draftTokens : 0,
    meanAcceptedLength: targetForwards > 0 ? (acceptedTokens + targetForwards) / targetForwards : 0,
    targetForwards,
    draftTokens,
    acceptedTokens,
    seconds,
  };
}
