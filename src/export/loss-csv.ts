/**
 * The one training-loss CSV writer: one row per optimizer step of each run, the run's own label
 * columns first (run, or blocks/start/seed/run), then the step columns a file asks for. The three
 * files it writes keep the columns scripts already read: `prunelab train`'s loss.csv, the
 * workbench's loss_curves.csv and `prunelab paper`'s curves.csv.
 */
import type { TrainStepReport } from "../train/train-loop";

const stepColumns = {
  step: (s: TrainStepReport) => s.step,
  loss: (s: TrainStepReport) => s.loss,
  lr: (s: TrainStepReport) => s.lr,
  grad_norm: (s: TrainStepReport) => s.gradNorm,
  counted_tokens: (s: TrainStepReport) => s.countedTokens,
  tokens: (s: TrainStepReport) => s.tokens,
  skipped: (s: TrainStepReport) => s.skipped ?? "",
};

export type LossColumn = keyof typeof stepColumns;

export interface LossRun<L extends string> {
  labels: Record<L, string | number>;
  history: readonly TrainStepReport[];
}

export function lossCsv<L extends string>(labelColumns: readonly L[], columns: readonly LossColumn[], runs: readonly LossRun<L>[]): string {
  const lines = [[...labelColumns, ...columns].join(",")];
  for (const run of runs) {
    for (const s of run.history)
      lines.push([...labelColumns.map((c) => run.labels[c]), ...columns.map((c) => stepColumns[c](s))].join(","));
  }
  return `${lines.join("\n")}\n`;
}
