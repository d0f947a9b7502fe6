/**
 * Runs an evaluation suite on a model: every task (optionally its first `limit` items), with
 * progress over all items and cancellation between batches; per-task scores and the suite average
 * of each task's primary metric (acc or acc_norm for multiple choice, exact match for generative).
 */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import type { EvalTokenizer } from "./eval-tokenizer";
import { type GenerativeOutcome, scoreGenerative } from "./generative";
import { type MultipleChoiceOutcome, scoreMultipleChoice } from "./multiple-choice";
import type { EvalSuite, EvalTask } from "./task-format";

export interface TaskResult {
  name: string;
  kind: EvalTask["kind"];
  metric: "acc" | "acc_norm" | "exact_match";
  /** The primary metric, in [0, 1]. */
  score: number;
  /** Standard error of `score` over the items (as lm-eval-harness's `_stderr`), to tell real differences from noise. */
  stderr: number;
  /** Fraction correct by plain argmax (multiple choice) or exact match (generative). */
  acc: number;
  /** Multiple choice only. */
  accNorm?: number;
  /** Items evaluated. */
  n: number;
  chance?: number;
  /** Per-item detail, when asked for. */
  items?: (MultipleChoiceOutcome | GenerativeOutcome)[];
}

export interface SuiteResult {
  suite: string;
  tasks: TaskResult[];
  /** Mean of the tasks' primary metrics, in [0, 1]. */
  average: number;
}

export interface SuiteProgress {
  task: string;
  /** Items done over the whole suite, of `total`. */
  done: number;
  total: number;
}

export interface EvaluateSuiteOptions {
  /** At most this many items per task (the first ones). */
  limit?: number;
  batchSize?: number;
  /** Keep per-item outcomes in the result. */
  keepItems?: boolean;
  onProgress?: (progress: SuiteProgress) => void;
  signal?: AbortSignal;
}

export async function evaluateSuite(
  gpu: Gpu,
  model: LlamaGpu,
  tokenizer: EvalTokenizer,
  suite: EvalSuite,
  options: EvaluateSuiteOptions = {},
): Promise<SuiteResult> {
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1)) {
    throw new Error(`evaluateSuite: limit must be an integer ≥ 1, got ${options.limit}`);
  }
  const sizes = suite.tasks.map((t) => Math.min(t.items.length, options.limit ?? Infinity));
  const total = sizes.reduce((a, b) => a + b, 0);
  const tasks: TaskResult[] = [];
  let before = 0;
  for (const [i, task] of suite.tasks.entries()) {
    const common = {
      batchSize: options.batchSize,
      signal: options.signal,
      onProgress: (done: number) => options.onProgress?.({ task: task.name, done: before + done, total }),
    };
    const mean = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;
    let result: TaskResult;
    if (task.kind === "multiple-choice") {
      const outcomes = await scoreMultipleChoice(gpu, model, tokenizer, task, task.items.slice(0, sizes[i]), common);
      const acc = mean(outcomes.map((o) => o.correct));
      const accNorm = mean(outcomes.map((o) => o.correctNorm));
      const metric = task.metric ?? "acc";
      const score = metric === "acc" ? acc : accNorm;
      result = {
        name: task.name,
        kind: task.kind,
        metric,
        score,
        stderr: meanStderr(score, outcomes.length),
        acc,
        accNorm,
        n: outcomes.length,
      };
      if (options.keepItems) result.items = outcomes;
    } else {
      const outcomes = await scoreGenerative(gpu, model, tokenizer, task, task.items.slice(0, sizes[i]), common);
      const acc = mean(outcomes.map((o) => o.correct));
      result = {
        name: task.name,
        kind: task.kind,
        metric: "exact_match",
        score: acc,
        stderr: meanStderr(acc, outcomes.length),
        acc,
        n: outcomes.length,
      };
      if (options.keepItems) result.items = outcomes;
    }
    if (task.chance !== undefined) result.chance = task.chance;
    tasks.push(result);
    before += sizes[i];
  }
  return { suite: suite.name, tasks, average: tasks.reduce((s, t) => s + t.score, 0) / tasks.length };
}

/** Sample standard deviation of n outcomes of 0 or 1 with mean p, over √n. */
export function meanStderr(p: number, n: number): number {
  return n > 1 ? Math.sqrt((p * (1 - p)) / (n - 1)) : 0;
}
