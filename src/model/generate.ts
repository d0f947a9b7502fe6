/**
 * Text generation with the KV cache: a batch of prompts (left-padded) is prefilled once, then one
 * token per row per step. Greedy or sampled (temperature, top-k, top-p, seeded), stopping on stop
 * tokens or stop strings, streaming each token, cancellable with an AbortSignal.
 */
import type { Gpu } from "../gpu/context";
import { sampleToken } from "../ops/sampling";
import { mulberry32 } from "../seeded-random";
import { createLlamaKvCache, type LlamaGpu, llamaForward, releaseLlamaKvCache } from "./llama-gpu";

export interface GenerateOptions {
  maxTokens: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Defaults to the config's eos ids. */
  stopTokens?: readonly number[];
  /** Needs `decode`; the text is cut before the first stop string. */
  stopStrings?: readonly string[];
  /** Token ids → text, for stop strings, streaming text and the result's text. */
  decode?: (ids: number[]) => string;
  /** Called for every generated token; `text` is the new text since the last call when `decode` is given. */
  onToken?: (event: { row: number; token: number; text?: string }) => void;
  signal?: AbortSignal;
  /** Called once at the end with the wall time of the prefill and of the decode steps. */
  onTiming?: (timing: GenerationTiming) => void;
}

/**
 * Wall time of one `generate` call. The prefill is the first forward (all prompt tokens) up to its
 * logits on the host; the decode is every later step, one token per active row each.
 */
export interface GenerationTiming {
  promptTokens: number;
  prefillSeconds: number;
  decodeTokens: number;
  decodeSeconds: number;
}

/** Prompt and decode throughput in tokens/s (0 where nothing was decoded). */
export function tokensPerSecond(t: GenerationTiming): { prompt: number; decode: number } {
  return {
    prompt: t.prefillSeconds > 0 ? t.promptTokens / t.prefillSeconds : 0,
    decode: t.decodeTokens > 0 && t.decodeSeconds > 0 ? t.decodeTokens / t.decodeSeconds : 0,
  };
}

export type StopReason = "length" | "stop-token" | "stop-string" | "aborted";

export interface Generation {
  /** Generated ids (a stop token is not included). */
  tokens: number[];
  text?: string;
  stopReason: StopReason;
}

/** Generates a continuation for every prompt (token ids, BOS included when wanted). */
export async function generate(
  gpu: Gpu,
  model: LlamaGpu,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<Generation[]> {
  if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new Error("generate: every prompt needs at least one token");
  if (options.stopStrings?.length && !options.decode) throw new Error("generate: stopStrings need a decode function");
  const stopTokens = new Set(options.stopTokens ?? model.config.eosTokenId ?? []);
  const longest = Math.max(...prompts.map((p) => p.length));
  const rows = prompts.map(() => ({ tokens: [] as number[], text: "", streamed: 0, stopReason: undefined as StopReason | undefined }));
  const random = mulberry32(options.seed ?? 0);
  const sampling = { temperature: options.temperature ?? 0, topK: options.topK, topP: options.topP };
  const cache = createLlamaKvCache(gpu, model, prompts.length, longest + options.maxTokens);
  const started = performance.now();
  let prefilled = started;
  let decodeTokens = 0;
  try {
    let input = prompts.map((p) => [...new Array(longest - p.length).fill(0), ...p]);
    let mask = prompts.map((p) => input[0].map((_, t) => (t >= longest - p.length ? 1 : 0)));
    for (let step = 0; step < options.maxTokens; step++) {
      if (options.signal?.aborted) {
        for (const row of rows) row.stopReason ??= "aborted";
        break;
      }
      const { logits } = llamaForward(gpu, model, input, { cache, keyMask: mask, logits: "last" });
      if (!logits) throw new Error("generate: the forward returned no logits");
      const values = await gpu.readF32(logits);
      gpu.release(logits);
      if (step === 0) prefilled = performance.now();
      else decodeTokens += input.filter((_, b) => mask[b][0] === 1).length;
      const vocab = model.config.vocabSize;
      rows.forEach((row, b) => {
        if (row.stopReason) return;
        const token = sampleToken(values.subarray(b * vocab, (b + 1) * vocab), sampling, random);
        if (stopTokens.has(token)) {
          row.stopReason = "stop-token";
          return;
        }
        row.tokens.push(token);
        let text: string | undefined;
        if (options.decode) {
          row.text = options.decode(row.tokens);
          const cut = firstStop(row.text, options.stopStrings ?? []);
          if (cut >= 0) {
            row.text = row.text.slice(0, cut);
            row.stopReason = "stop-string";
          }
          const ready = row.stopReason ? row.text.length : streamableLength(row.text, options.stopStrings ?? []);
          text = row.text.slice(row.streamed, Math.max(row.streamed, ready));
          row.streamed = Math.max(row.streamed, ready);
        }
        options.onToken?.({ row: b, token, text });
      });
      if (rows.every((row) => row.stopReason)) break;
      input = rows.map((row) => [row.tokens.at(-1) ?? 0]);
      mask = rows.map((row) => [row.stopReason ? 0 : 1]);
    }
  } finally {
    releaseLlamaKvCache(gpu, cache);
  }
  options.onTiming?.({
    promptTokens: prompts.reduce((sum, p) => sum + p.length, 0),
    prefillSeconds: (prefilled - started) / 1000,
    decodeTokens,
    decodeSeconds: decodeTokens > 0 ? (performance.now() - prefilled) / 1000 : 0,
  });
  return rows.map((row) => ({
    tokens: row.tokens,
    ...(options.decode ? { text: row.text } : {}),
    stopReason: row.stopReason ?? "length",
  }));
}

/**
 * How much of the text can be streamed: not a trailing U+FFFD (a multi-byte character split over
 * tokens, incomplete so far), nor a tail that may be the start of a stop string.
 */
function streamableLength(text: string, stops: readonly string[]): number {
  const settled = text.replace(/\uFFFD+$/, "");
  let keep = settled.length;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, settled.length); n > 0; n--) {
      if (settled.endsWith(s.slice(0, n))) {
        keep = Math.min(keep, settled.length - n);
        break;
      }
    }
  }
  return keep;
}

function firstStop(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (first < 0 || i < first)) first = i;
  }
  return first;
}
