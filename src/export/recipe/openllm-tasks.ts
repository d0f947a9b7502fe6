/**
 * The OpenLLM Leaderboard v1 suite the paper reports, as lm-evaluation-harness names it: task,
 * shots (the paper's: ARC-c 25, HellaSwag 10, MMLU 5, TruthfulQA 0, Winogrande 5, GSM8K 5), the
 * primary metric the leaderboard averaged and the key lm-eval writes it under. The sizes are for
 * the cost estimate only: items in the evaluated split, requests per item (answer choices), and an
 * assumed mean request length with its few-shot context (rounded from the tasks' prompts).
 */

export interface LeaderboardTask {
  task: string;
  fewShot: number;
  kind: "multiple-choice" | "generative";
  /** Named as Prunelab's TaskResult.metric names it. */
  metric: "acc" | "acc_norm" | "exact_match";
  /** The metric's key in lm-eval's results_*.json ("metric,filter"). */
  key: string;
  items: number;
  requestsPerItem: number;
  tokensPerRequest: number;
  /** Tokens generated per item (generative tasks). */
  generatedTokens: number;
}

export const openLlmV1Suite = "OpenLLM Leaderboard v1";

export const openLlmV1Tasks: readonly LeaderboardTask[] = [
  {
    task: "arc_challenge",
    fewShot: 25,
    kind: "multiple-choice",
    metric: "acc_norm",
    key: "acc_norm,none",
    items: 1172,
    requestsPerItem: 4,
    tokensPerRequest: 1400,
    generatedTokens: 0,
  },
  {
    task: "hellaswag",
    fewShot: 10,
    kind: "multiple-choice",
    metric: "acc_norm",
    key: "acc_norm,none",
    items: 10042,
    requestsPerItem: 4,
    tokensPerRequest: 1100,
    generatedTokens: 0,
  },
  {
    task: "mmlu",
    fewShot: 5,
    kind: "multiple-choice",
    metric: "acc",
    key: "acc,none",
    items: 14042,
    requestsPerItem: 4,
    tokensPerRequest: 600,
    generatedTokens: 0,
  },
  {
    task: "truthfulqa_mc2",
    fewShot: 0,
    kind: "multiple-choice",
    metric: "acc",
    key: "acc,none",
    items: 817,
    requestsPerItem: 8,
    tokensPerRequest: 150,
    generatedTokens: 0,
  },
  {
    task: "winogrande",
    fewShot: 5,
    kind: "multiple-choice",
    metric: "acc",
    key: "acc,none",
    items: 1267,
    requestsPerItem: 2,
    tokensPerRequest: 170,
    generatedTokens: 0,
  },
  {
    task: "gsm8k",
    fewShot: 5,
    kind: "generative",
    metric: "exact_match",
    key: "exact_match,strict-match",
    items: 1319,
    requestsPerItem: 1,
    tokensPerRequest: 800,
    generatedTokens: 256,
  },
];
