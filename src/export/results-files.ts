/**
 * The results as files: results.json (the one writer: `prunelab replay`, `prunelab paper` and the
 * workbench's Export step all serialise through it, indented, newline-terminated) and the
 * Evaluate step's results.csv (one row per model: each task's primary metric, the average and
 * the quality recovery against the "original" row, in %).
 */
import { qualityRecovery } from "../eval/quality-recovery";
import type { SuiteResult } from "../eval/suite-runner";

export function resultsJson(results: object): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

type ResultRow = { label: string; result: SuiteResult };

/** A score as the tables show it: percent, one decimal. */
export const percent = (x: number) => (100 * x).toFixed(1);

/** Recovery is against the "original" row; without one (or with a zero average) it is not defined. */
export function recoveryCell(row: ResultRow, rows: readonly ResultRow[]): string {
  const original = rows.find((r) => r.label === "original")?.result.average;
  return original ? qualityRecovery(row.result.average, original).toFixed(1) : "—";
}

export function resultsCsv(rows: readonly ResultRow[]): string {
  const tasks = rows[0]?.result.tasks ?? [];
  const header = ["model", ...tasks.map((t) => `${t.name} (${t.metric})`), "average", "recovery %"];
  const lines = rows.map((r) => [
    r.label,
    ...r.result.tasks.map((t) => percent(t.score)),
    percent(r.result.average),
    recoveryCell(r, rows),
  ]);
  return `${[header, ...lines].map((cells) => cells.map((c) => JSON.stringify(c)).join(",")).join("\n")}\n`;
}
