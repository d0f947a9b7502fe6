/**
 * Quality recovery, the paper's headline number: a model's suite average as a percentage of the
 * original (unpruned) model's average; and the per-task table that shows it.
 */
import type { SuiteResult } from "./suite-runner";

/** model average / original average × 100. */
export function qualityRecovery(average: number, originalAverage: number): number {
  if (!(originalAverage > 0)) {
    throw new Error(`qualityRecovery: the original model's average must be > 0 to divide by, got ${originalAverage}`);
  }
  return (average / originalAverage) * 100;
}

/** Throws unless both results cover the same tasks with the same item counts: otherwise their averages do not compare. */
export function checkComparable(result: SuiteResult, original: SuiteResult, label: string): void {
  const names = result.tasks.map((t) => `${t.name}:${t.n}`).join(", ");
  const originalNames = original.tasks.map((t) => `${t.name}:${t.n}`).join(", ");
  if (names !== originalNames) {
    throw new Error(`${label} was evaluated on other tasks or item counts (${names}) than the original (${originalNames})`);
  }
}

const percent = (x: number) => (x * 100).toFixed(1);

/**
 * A Markdown table: one row per model, one column per task (its primary metric, %), the average and
 * the recovery against `original` (which should be one of the rows, at 100 %).
 */
export function recoveryTable(rows: readonly { label: string; result: SuiteResult }[], original: SuiteResult): string {
  for (const row of rows) checkComparable(row.result, original, row.label);
  const header = ["model", ...original.tasks.map((t) => `${t.name} (${t.metric})`), "average", "recovery %"];
  const lines = [header, header.map(() => "---")];
  for (const { label, result } of rows) {
    lines.push([
      label,
      ...result.tasks.map((t) => percent(t.score)),
      percent(result.average),
      qualityRecovery(result.average, original.average).toFixed(1),
    ]);
  }
  const chance = original.tasks.map((t) => (t.chance === undefined ? "" : percent(t.chance)));
  if (chance.some(Boolean)) lines.push(["chance", ...chance, "", ""]);
  return `${lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n")}\n`;
}

/** A Markdown table of one result: per task its metric with its standard error, acc, acc_norm, items and chance. */
export function taskTable(result: SuiteResult): string {
  const lines = [
    ["task", "metric", "score %", "± %", "acc %", "acc_norm %", "n", "chance %"],
    ["---", "---", "---", "---", "---", "---", "---", "---"],
    ...result.tasks.map((t) => [
      t.name,
      t.metric,
      percent(t.score),
      percent(t.stderr),
      percent(t.acc),
      t.accNorm === undefined ? "" : percent(t.accNorm),
      String(t.n),
      t.chance === undefined ? "" : percent(t.chance),
    ]),
    ["average", "", percent(result.average), "", "", "", "", ""],
  ];
  return `${lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n")}\n`;
}
