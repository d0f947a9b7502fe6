/**
 * Few-shot prompts as lm-eval-harness builds them: each example is its question followed by its
 * answer (for multiple choice, the gold choice after the target delimiter), the examples and the
 * item's question joined by the separator.
 */
import type { GenerativeItem, GenerativeTask, MultipleChoiceItem, MultipleChoiceTask } from "./task-format";

const defaultSeparator = "\n\n";

export function multipleChoicePrompt(task: MultipleChoiceTask, item: MultipleChoiceItem): string {
  const delimiter = task.targetDelimiter ?? " ";
  const shots = (task.fewShot ?? []).map((e) => `${e.context}${delimiter}${e.choices[e.gold]}`);
  return [...shots, item.context].join(task.fewShotSeparator ?? defaultSeparator);
}

export function generativePrompt(task: GenerativeTask, item: GenerativeItem): string {
  const shots = (task.fewShot ?? []).map((e) => `${e.prompt}${e.target ?? e.answer}`);
  return [...shots, item.prompt].join(task.fewShotSeparator ?? defaultSeparator);
}
