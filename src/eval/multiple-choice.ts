/**
 * Multiple-choice scoring by log-likelihood, as lm-eval-harness does it: the log-likelihood of each
 * choice (after the target delimiter) given the few-shot prompt; `acc` picks the most likely choice,
 * `acc_norm` the most likely per character of the choice (which removes the bias towards short
 * choices). Requests of many items go through `scoreContinuations` in batches.
 */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import { type ScoreRequest, scoreContinuations } from "../model/score";
import { type EvalTokenizer, encodeDocument } from "./eval-tokenizer";
import { multipleChoicePrompt } from "./few-shot-prompt";
import type { MultipleChoiceItem, MultipleChoiceTask } from "./task-format";

export interface MultipleChoiceOutcome {
  /** Natural-log likelihood of each choice's tokens. */
  logLikelihoods: number[];
  /** argmax of the log-likelihoods (the first on ties, like numpy). */
  predicted: number;
  /** argmax of log-likelihood / characters of the choice. */
  predictedNorm: number;
  correct: boolean;
  correctNorm: boolean;
}

export function multipleChoiceOutcome(logLikelihoods: readonly number[], choices: readonly string[], gold: number): MultipleChoiceOutcome {
  // Characters as Python's len() counts them (code points), which lm-eval-harness divides by.
  const perChar = logLikelihoods.map((ll, i) => ll / [...choices[i]].length);
  const predicted = firstArgmax(logLikelihoods);
  const predictedNorm = firstArgmax(perChar);
  return {
    logLikelihoods: [...logLikelihoods],
    predicted,
    predictedNorm,
    correct: predicted === gold,
    correctNorm: predictedNorm === gold,
  };
}

function firstArgmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]) best = i;
  });
  return best;
}

/**
 * Context and continuation tokens of one choice, split as lm-eval-harness's `_encode_pair`: trailing
 * spaces of the context move to the continuation, the whole text is encoded once, and the
 * continuation is what follows the context's own token count (so the scored tokens are exactly how
 * the model would read the full text).
 */
export function choiceRequest(tokenizer: EvalTokenizer, prompt: string, continuation: string, where: string): ScoreRequest {
  const whole = encodeDocument(tokenizer, prompt + continuation);
  const contextLength = encodeDocument(tokenizer, prompt.trimEnd()).length;
  if (contextLength === 0) throw new Error(`${where}: the context encodes to no tokens (empty prompt and no BOS)`);
  const request = { context: whole.slice(0, contextLength), continuation: whole.slice(contextLength) };
  if (request.continuation.length === 0) throw new Error(`${where}: the choice ${JSON.stringify(continuation)} encodes to no tokens`);
  return request;
}

export interface MultipleChoiceOptions {
  /** Choices scored per forward (default 8). */
  batchSize?: number;
  signal?: AbortSignal;
  /** After each batch of items: how many of `items` are done. */
  onProgress?: (done: number) => void;
}

export async function scoreMultipleChoice(
  gpu: Gpu,
  model: LlamaGpu,
  tokenizer: EvalTokenizer,
  task: MultipleChoiceTask,
  items: readonly MultipleChoiceItem[],
  options: MultipleChoiceOptions = {},
): Promise<MultipleChoiceOutcome[]> {
  const batchSize = options.batchSize ?? 8;
  const delimiter = task.targetDelimiter ?? " ";
  const outcomes: MultipleChoiceOutcome[] = [];
  // Whole items per batch (at least one), so progress and cancellation fall between items.
  let start = 0;
  while (start < items.length) {
    options.signal?.throwIfAborted();
    let end = start + 1;
    let choices = items[start].choices.length;
    while (end < items.length && choices + items[end].choices.length <= batchSize) choices += items[end++].choices.length;
    const batch = items.slice(start, end);
    const requests = batch.flatMap((item, i) => {
      const prompt = multipleChoicePrompt(task, item);
      return item.choices.map((c, j) => choiceRequest(tokenizer, prompt, delimiter + c, `${task.name}, item ${start + i}, choice ${j}`));
    });
    const scores = await scoreContinuations(gpu, model, requests, { batchSize });
    let at = 0;
    for (const item of batch) {
      const lls = scores.slice(at, at + item.choices.length).map((s) => s.logProb);
      at += item.choices.length;
      outcomes.push(multipleChoiceOutcome(lls, item.choices, item.gold));
    }
    start = end;
    options.onProgress?.(start);
  }
  return outcomes;
}
