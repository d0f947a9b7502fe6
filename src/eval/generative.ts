/**
 * Generative exact match: greedy completion of the few-shot prompt (batched, KV cache, stopping at
 * the task's stop strings or a stop token), the answer extracted by the task's rule and compared
 * with the item's answer after normalisation.
 */
import type { Gpu } from "../gpu/context";
import { generate } from "../model/generate";
import type { LlamaGpu } from "../model/llama-gpu";
import { answersMatch, extractAnswer } from "./answer-extractor";
import { type EvalTokenizer, encodeDocument } from "./eval-tokenizer";
import { generativePrompt } from "./few-shot-prompt";
import type { GenerativeItem, GenerativeTask } from "./task-format";

export interface GenerativeOutcome {
  completion: string;
  extracted: string | undefined;
  correct: boolean;
}

export interface GenerativeOptions {
  /** Prompts generated together (default 8). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

/** Stop tokens of both the tokenizer and the model config: checkpoints often list only one of them. */
export function stopTokensOf(tokenizer: EvalTokenizer, model: LlamaGpu): number[] {
  return [...new Set([...tokenizer.stopTokenIds, ...(model.config.eosTokenId ?? [])])];
}

export async function scoreGenerative(
  gpu: Gpu,
  model: LlamaGpu,
  tokenizer: EvalTokenizer,
  task: GenerativeTask,
  items: readonly GenerativeItem[],
  options: GenerativeOptions = {},
): Promise<GenerativeOutcome[]> {
  const batchSize = options.batchSize ?? 8;
  const outcomes: GenerativeOutcome[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    options.signal?.throwIfAborted();
    const batch = items.slice(start, start + batchSize);
    const generations = await generate(
      gpu,
      model,
      batch.map((item) => encodeDocument(tokenizer, generativePrompt(task, item))),
      {
        maxTokens: task.maxTokens ?? 128,
        stopTokens: stopTokensOf(tokenizer, model),
        stopStrings: task.stopStrings ?? ["\n\n"],
        decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
        signal: options.signal,
      },
    );
    options.signal?.throwIfAborted();
    generations.forEach((g, i) => {
      const completion = g.text ?? "";
      const extracted = extractAnswer(completion, task.extractor, batch[i].answer);
      outcomes.push({ completion, extracted, correct: answersMatch(extracted, batch[i].answer) });
    });
    options.onProgress?.(start + batch.length);
  }
  return outcomes;
}
