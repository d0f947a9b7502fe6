/**
 * The evaluation task format, plain JSON: multiple-choice tasks (context, choices, gold) scored by
 * the log-likelihood of each choice after the context, and generative tasks (prompt, answer,
 * extractor) scored by exact match of the answer extracted from a greedy completion. Few-shot
 * examples travel with the task (drawn from a split apart from `items`), so a file fixes every prompt.
 */
import { type AnswerExtractor, checkAnswerExtractor } from "./answer-extractor";

export interface MultipleChoiceItem {
  context: string;
  choices: string[];
  /** Index of the correct choice. */
  gold: number;
}

export interface GenerativeItem {
  prompt: string;
  /** The final answer compared with what the extractor finds in the completion. */
  answer: string;
  /** The full reference completion (e.g. a worked solution ending in "#### 42") shown in few-shot examples; default `answer`. */
  target?: string;
}

interface TaskCommon {
  name: string;
  /** Between few-shot examples and before the item; default "\n\n". */
  fewShotSeparator?: string;
  /** The metric's value for random guessing (1/choices for multiple choice), shown beside the score. */
  chance?: number;
}

export interface MultipleChoiceTask extends TaskCommon {
  kind: "multiple-choice";
  /** Between the context and a choice; default " " (lm-eval-harness's target_delimiter). */
  targetDelimiter?: string;
  /** Which accuracy enters the suite average; default "acc". */
  metric?: "acc" | "acc_norm";
  fewShot?: MultipleChoiceItem[];
  items: MultipleChoiceItem[];
}

export interface GenerativeTask extends TaskCommon {
  kind: "generative";
  extractor: AnswerExtractor;
  /** Greedy generation stops at the first of these; default ["\n\n"]. */
  stopStrings?: string[];
  /** Default 128. */
  maxTokens?: number;
  fewShot?: GenerativeItem[];
  items: GenerativeItem[];
}

export type EvalTask = MultipleChoiceTask | GenerativeTask;

export interface EvalSuite {
  name: string;
  tasks: EvalTask[];
}

type Json = Record<string, unknown>;

/** Validates a suite (`{ name, tasks }`, or a bare array of tasks) read from `source`; errors name the task, item and field. */
export function parseEvalSuite(json: unknown, source = "suite"): EvalSuite {
  const suite = Array.isArray(json) ? { name: source, tasks: json } : (json as Json);
  if (suite === null || typeof suite !== "object" || !Array.isArray(suite.tasks)) {
    throw new Error(`${source}: expected { "name", "tasks": [...] } or an array of tasks`);
  }
  if (suite.tasks.length === 0) throw new Error(`${source}: the suite has no tasks`);
  const tasks = suite.tasks.map((t, i) => checkTask(t, `${source}: task ${i}`));
  const names = tasks.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new Error(`${source}: two tasks are named "${duplicate}"`);
  return { name: typeof suite.name === "string" ? suite.name : source, tasks };
}

function checkTask(value: unknown, where: string): EvalTask {
  const task = (value ?? {}) as Json;
  if (typeof task.name !== "string" || task.name === "") throw new Error(`${where}: "name" must be a non-empty string`);
  const at = `${where.replace(/task \d+$/, "")}task "${task.name}"`;
  for (const key of ["fewShotSeparator", "targetDelimiter"]) {
    if (task[key] !== undefined && typeof task[key] !== "string") throw new Error(`${at}: "${key}" must be a string`);
  }
  if (task.chance !== undefined && typeof task.chance !== "number") throw new Error(`${at}: "chance" must be a number`);
  if (!Array.isArray(task.items) || task.items.length === 0) throw new Error(`${at}: "items" must be a non-empty array`);
  if (task.fewShot !== undefined && !Array.isArray(task.fewShot)) throw new Error(`${at}: "fewShot" must be an array`);
  const examples = [
    ...(task.fewShot ?? []).map((e, i) => [e, `fewShot ${i}`] as const),
    ...task.items.map((e, i) => [e, `item ${i}`] as const),
  ];
  if (task.kind === "multiple-choice") {
    if (task.metric !== undefined && task.metric !== "acc" && task.metric !== "acc_norm") {
      throw new Error(`${at}: "metric" must be "acc" or "acc_norm"`);
    }
    for (const [item, name] of examples) checkMultipleChoiceItem(item, `${at}, ${name}`);
  } else if (task.kind === "generative") {
    checkAnswerExtractor(task.extractor, at);
    if (task.stopStrings !== undefined && !(Array.isArray(task.stopStrings) && task.stopStrings.every((s) => typeof s === "string" && s))) {
      throw new Error(`${at}: "stopStrings" must be an array of non-empty strings`);
    }
    if (task.maxTokens !== undefined && !(Number.isInteger(task.maxTokens) && (task.maxTokens as number) > 0)) {
      throw new Error(`${at}: "maxTokens" must be a positive integer`);
    }
    for (const [item, name] of examples) checkGenerativeItem(item, `${at}, ${name}`);
  } else {
    throw new Error(`${at}: "kind" must be "multiple-choice" or "generative", got ${JSON.stringify(task.kind)}`);
  }
  return task as unknown as EvalTask;
}

function checkMultipleChoiceItem(value: unknown, where: string): void {
  const item = (value ?? {}) as Json;
  if (typeof item.context !== "string") throw new Error(`${where}: "context" must be a string`);
  if (!Array.isArray(item.choices) || item.choices.length < 2 || !item.choices.every((c) => typeof c === "string" && c !== "")) {
    throw new Error(`${where}: "choices" must be at least two non-empty strings`);
  }
  if (!Number.isInteger(item.gold) || (item.gold as number) < 0 || (item.gold as number) >= item.choices.length) {
    throw new Error(`${where}: "gold" must be an index into its ${item.choices.length} choices, got ${JSON.stringify(item.gold)}`);
  }
}

function checkGenerativeItem(value: unknown, where: string): void {
  const item = (value ?? {}) as Json;
  if (typeof item.prompt !== "string") throw new Error(`${where}: "prompt" must be a string`);
  if (typeof item.answer !== "string" || item.answer.trim() === "") throw new Error(`${where}: "answer" must be a non-empty string`);
  if (item.target !== undefined && typeof item.target !== "string") throw new Error(`${where}: "target" must be a string`);
}
