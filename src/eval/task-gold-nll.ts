/**
 * Per-task loss: the mean negative log-likelihood per token of each item's gold continuation after
 * its prompt (multiple choice: the gold choice after the few-shot context; generative: the item's
 * target, else its answer). Where accuracy saturates or sits at chance, this still moves, so it
 * says which procedures a prune damages before any fine-tuning is tried.
 */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import { scoreContinuations } from "../model/score";
import type { EvalTokenizer } from "./eval-tokenizer";
import { generativePrompt, multipleChoicePrompt } from "./few-shot-prompt";
import { choiceRequest } from "./multiple-choice";
import type { EvalTask } from "./task-format";

export interface TaskGoldNll {
  name: string;
  /** Σ NLL / Σ gold tokens, nats per token. */
  perToken: number;
  items: number;
}

export async function taskGoldNll(
  gpu: Gpu,
  model: LlamaGpu,
  tokenizer: EvalTokenizer,
  task: EvalTask,
  { limit = Number.POSITIVE_INFINITY, batchSize = 8 } = {},
): Promise<TaskGoldNll> {
  const requests =
    task.kind === "multiple-choice"
      ? task.items
          .slice(0, limit)
          .map((item, i) =>
            choiceRequest(
              tokenizer,
              multipleChoicePrompt(task, item),
              (task.targetDelimiter ?? " ") + item.choices[item.gold],
              `${task.name}, item ${i}`,
            ),
          )
      : task.items
          .slice(0, limit)
          .map((item, i) => choiceRequest(tokenizer, generativePrompt(task, item), item.target ?? item.answer, `${task.name}, item ${i}`));
  if (requests.length === 0) throw new Error(`taskGoldNll: ${task.name} has no items`);
  const scores = await scoreContinuations(gpu, model, requests, { batchSize });
  const tokens = requests.reduce((s, r) => s + r.continuation.length, 0);
  return { name: task.name, perToken: -scores.reduce((s, x) => s + x.logProb, 0) / tokens, items: requests.length };
}
