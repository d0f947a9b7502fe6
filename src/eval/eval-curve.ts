/** A training run's evaluation curve: the quick-evaluation points (suite average and per-task scores vs step) and their CSV. */
import type { SuiteResult } from "./suite-runner";

export interface QuickEvalPoint {
  /** Optimizer steps done when the adapter was scored. */
  step: number;
  /** Suite average of the primary metrics, in [0, 1]. */
  average: number;
  /** Each task's primary metric, in [0, 1], in the suite's order. */
  tasks: { name: string; score: number }[];
}

export function quickEvalPoint(step: number, result: SuiteResult): QuickEvalPoint {
  return { step, average: result.average, tasks: result.tasks.map((t) => ({ name: t.name, score: t.score })) };
}

/** Every run's evaluation points, one row each (scores in %), for plotting elsewhere. */
export function evalCurvesCsv(runs: readonly { run: string; points: readonly QuickEvalPoint[] }[]): string {
  const tasks =
    runs
      .flatMap((r) => r.points)
      .at(0)
      ?.tasks.map((t) => t.name) ?? [];
  const percent = (x: number | undefined) => (x === undefined ? "" : (100 * x).toFixed(2));
  const rows = runs.flatMap(({ run, points }) =>
    points.map((p) =>
      [run, p.step, percent(p.average), ...tasks.map((name) => percent(p.tasks.find((t) => t.name === name)?.score))].join(","),
    ),
  );
  return `${[["run", "step", "average", ...tasks].join(","), ...rows].join("\n")}\n`;
}
