/**
 * A study's numbers as the paper shows them: per block size the rows original / pruned / pruned+SFT /
 * pruned+SDD / merged, with each task's score, the average, the quality recovery and the draft
 * acceptance rate as mean ± sample standard deviation over the seeds; and the training-loss curves
 * as one long CSV.
 */
import { qualityRecovery } from "../eval/quality-recovery";
import type { SuiteResult } from "../eval/suite-runner";
import { lossCsv } from "../export/loss-csv";
import type { DraftStats, StudyResult } from "./study";

export type StudyRowLabel = "original" | "pruned" | "pruned+SFT" | "pruned+SDD" | "merged";

export interface Spread {
  mean: number;
  std: number;
  /** Values it summarises (one per seed, or one for what no seed changes). */
  n: number;
}

export interface StudyRow {
  n: number;
  label: StudyRowLabel;
  /** Per task, in the suite's order: primary metric in %. */
  tasks: Spread[];
  average: Spread;
  recovery: Spread;
  /** Acceptance rate as a draft for the original (none for the original itself). */
  acceptance?: Spread;
}

/** Mean and sample standard deviation (0 for a single value). */
export function spread(values: readonly number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export function studyRows(result: StudyResult): StudyRow[] {
  const originalAverage = result.original.average;
  const row = (n: number, label: StudyRowLabel, evals: SuiteResult[], drafts?: DraftStats[]): StudyRow => ({
    n,
    label,
    tasks: result.original.tasks.map((_, t) => spread(evals.map((e) => e.tasks[t].score * 100))),
    average: spread(evals.map((e) => e.average * 100)),
    recovery: spread(evals.map((e) => qualityRecovery(e.average, originalAverage))),
    ...(drafts ? { acceptance: spread(drafts.map((d) => d.acceptanceRate)) } : {}),
  });
  return result.pruned.flatMap((p) => {
    const units = result.units.filter((u) => u.n === p.n);
    return [
      row(p.n, "original", [result.original]),
      row(p.n, "pruned", [p.eval], [p.draft]),
      row(
        p.n,
        "pruned+SFT",
        units.map((u) => u.sft.eval),
        units.map((u) => u.sft.draft),
      ),
      row(
        p.n,
        "pruned+SDD",
        units.map((u) => u.sdd.eval),
        units.map((u) => u.sdd.draft),
      ),
      row(
        p.n,
        "merged",
        units.map((u) => u.merged.eval),
        units.map((u) => u.merged.draft),
      ),
    ];
  });
}

const show = (s: Spread, digits = 1) => (s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits));

/** The Markdown table: one block of five rows per block size. */
export function studyTable(result: StudyResult): string {
  const header = [
    "blocks dropped",
    "model",
    ...result.original.tasks.map((t) => `${t.name} (${t.metric} %)`),
    "average %",
    "recovery %",
    "acceptance rate",
  ];
  const lines = [header, header.map(() => "---")];
  for (const r of studyRows(result)) {
    const p = result.pruned.find((x) => x.n === r.n);
    const where = p ? `${r.n} (${p.start}…${p.start + r.n - 1})` : String(r.n);
    lines.push([
      where,
      r.label,
      ...r.tasks.map((t) => show(t)),
      show(r.average),
      show(r.recovery),
      r.acceptance ? show(r.acceptance, 3) : "—",
    ]);
  }
  return `${lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n")}\n`;
}

/** Training loss per step of every fine-tuning run (curves.csv). */
export function studyCurvesCsv(result: StudyResult): string {
  return lossCsv(
    ["blocks", "start", "seed", "run"],
    ["step", "loss", "lr", "grad_norm", "skipped"],
    result.units.flatMap((u) =>
      (["sft", "sdd"] as const).map((run) => ({ labels: { blocks: u.n, start: u.start, seed: u.seed, run }, history: u[run].history })),
    ),
  );
}
