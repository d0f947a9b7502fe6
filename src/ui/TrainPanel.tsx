/**
 * The Train step: LoRA fine-tuning of the pruned model on the original responses (SFT) and on the
 * self-distilled ones (SDD), one after the other with the same settings and seed, their loss curves
 * and quick-evaluation curves (suite average every K steps) drawn together as they arrive, each
 * downloadable as PNG and CSV; checkpoints are saved in IndexedDB, so a run interrupted by
 * a reload or a cancel continues from its last one; skipped (NaN/Inf) steps are listed.
 */
import { useEffect, useRef } from "react";
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { evalCurvesCsv } from "../eval/eval-curve";
import { effectiveTrainSettings, trainRuns } from "../experiment/experiment-plan";
import { usePruneStep } from "../store/prune-store";
import { restoreStudy, trainBoth, updateStudy, useStudy } from "../store/study-store";
import { useWorkbench } from "../store/workbench-store";
import { lossCurvesCsv } from "../worker/export-jobs";
import { ChartDownloads } from "./ChartDownloads";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { JobProgress } from "./JobProgress";
import { NumberField } from "./TrainNumberField";

const runColours = { sft: "#b5651d", sdd: "#3b528b" } as const;
const legend = trainRuns.map((r) => ({ name: r.toUpperCase(), colour: runColours[r] }));
/** Two charts side by side in the panel's width at 1280 px. */
const chartWidth = 480;

export function TrainPanel() {
  const card = useWorkbench((s) => s.model.card);
  const pruned = usePruneStep((s) => s.pruned);
  const own = useStudy((s) => s.trainSettings);
  const experiment = useWorkbench((s) => s.experiment);
  const settings = effectiveTrainSettings(own, experiment);
  const runs = useStudy((s) => s.runs);
  const distilled = useStudy((s) => s.distillation?.finished === true);
  const job = useStudy((s) => (s.jobStep === "train" ? s.job : undefined));
  const busy = useStudy((s) => s.job !== undefined);
  const error = useStudy((s) => (s.jobStep === "train" ? s.error : undefined));
  const lossFigure = useRef<HTMLElement>(null);
  const evalFigure = useRef<HTMLElement>(null);
  useEffect(() => void restoreStudy(), []);
  const loraFields = (
    <ExperimentFields
      legend="LoRA and optimisation (AdamW, cosine; SDFT: r 8, alpha 16, q and v, lr 1e-4, batch 8)"
      fields={panelFields.train ?? []}
    />
  );
  if (!card)
    return (
      <div className="panel-body">
        <p className="note">Load a model in the Model step first.</p>
        {loraFields}
      </div>
    );

  const change = (c: Partial<typeof own>) => updateStudy({ trainSettings: { ...own, ...c } });
  const lora = settings.lora;
  const steps = Math.max(0, ...trainRuns.map((r) => runs[r]?.history.at(-1)?.step ?? 0));
  const curve = Array.from({ length: steps }, (_, i) => {
    const point: Record<string, number | null> = { step: i + 1 };
    for (const r of trainRuns) {
      const loss = runs[r]?.history[i]?.loss;
      point[r] = loss !== undefined && Number.isFinite(loss) ? loss : null;
    }
    return point;
  });
  // One point per evaluated step of either run; a run not evaluated at that step leaves a gap its line bridges.
  const evalSteps = [...new Set(trainRuns.flatMap((r) => (runs[r]?.evalCurve ?? []).map((p) => p.step)))].sort((a, b) => a - b);
  const evalCurve = evalSteps.map((step) => {
    const point: Record<string, number | null> = { step };
    for (const r of trainRuns) {
      const average = runs[r]?.evalCurve?.find((p) => p.step === step)?.average;
      point[r] = average === undefined ? null : 100 * average;
    }
    return point;
  });
  const skipped = trainRuns.flatMap((r) => (runs[r]?.history ?? []).filter((h) => h.skipped).map((h) => ({ run: r, ...h })));
  const rolledBack = trainRuns.flatMap((r) => (runs[r]?.history ?? []).filter((h) => h.rolledBack?.length).map((h) => ({ run: r, ...h })));

  return (
    <div className="panel-body">
      <p>
        Trains <strong>{card.name}</strong>
        {pruned ? "" : " (not pruned: prune it in the Prune step to study recovery)"} with LoRA adapters; the base stays frozen.
      </p>
      {distilled ? null : (
        <p className="note">Distill a dataset in the Distill step first: SFT trains on its original responses, SDD on the rewrites.</p>
      )}
      {loraFields}
      <fieldset className="settings">
        <legend>Measuring and saving (the numbers trained do not depend on these)</legend>
        <NumberField
          label="Quick evaluation every (steps, 0 = off)"
          value={own.evalEvery}
          min={0}
          max={100_000}
          integer
          onChange={(evalEvery) => change({ evalEvery })}
        />
        <NumberField
          label="Quick evaluation items per task"
          value={own.evalItems}
          min={1}
          max={200}
          integer
          onChange={(evalItems) => change({ evalItems })}
        />
        <NumberField
          label="Checkpoint every (steps)"
          value={own.checkpointEvery}
          min={0}
          max={100_000}
          integer
          onChange={(checkpointEvery) => change({ checkpointEvery })}
        />
      </fieldset>
      <div className="row">
        <button type="button" onClick={() => void trainBoth()} disabled={busy || !distilled || lora.modules.length === 0}>
          Train SFT and SDD
        </button>
      </div>
      {job ? <JobProgress job={job} /> : null}
      {error ? <ErrorNote error={error} context="Training" /> : null}
      <table className="runs" data-testid="train-runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Steps</th>
            <th>Last loss</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {trainRuns.map((r) => {
            const run = runs[r];
            const last = run?.history.at(-1);
            const state = !run
              ? "not started"
              : run.adapter && !run.adapter.cancelled
                ? "finished"
                : run.checkpoint
                  ? `resumable from step ${run.checkpoint.step}`
                  : "running or interrupted";
            return (
              <tr key={r}>
                <td>{r.toUpperCase()}</td>
                <td>
                  {last?.step ?? 0} / {run?.settings.steps ?? settings.steps}
                </td>
                <td>{last ? last.loss.toFixed(4) : "—"}</td>
                <td>{state}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="charts">
        {curve.length > 0 ? (
          <figure ref={lossFigure} data-testid="loss-curves">
            <figcaption>
              Training loss (response tokens) per step{" "}
              <ChartDownloads
                figure={lossFigure}
                name="loss_curves"
                label="Loss"
                legend={legend}
                csv={() => lossCurvesCsv(trainRuns.map((run) => ({ run, history: runs[run]?.history ?? [] })))}
              />
            </figcaption>
            <LineChart width={chartWidth} height={260} data={curve} accessibilityLayer>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="step" label={{ value: "step", position: "insideBottom", offset: -2 }} height={36} />
              <YAxis tickFormatter={(v: number) => v.toFixed(2)} width={56} domain={["auto", "auto"]} />
              <Tooltip formatter={(v) => (typeof v === "number" ? v.toFixed(4) : String(v))} />
              <Legend />
              {trainRuns.map((r) => (
                <Line
                  key={r}
                  dataKey={r}
                  name={r.toUpperCase()}
                  stroke={runColours[r]}
                  dot={false}
                  isAnimationActive={false}
                  connectNulls={false}
                />
              ))}
            </LineChart>
          </figure>
        ) : null}
        {evalCurve.length > 0 ? (
          <figure ref={evalFigure} data-testid="eval-curves">
            <figcaption>
              Quick evaluation: suite average (%) per step{" "}
              <ChartDownloads
                figure={evalFigure}
                name="eval_curves"
                label="Evaluation"
                legend={legend}
                csv={() => evalCurvesCsv(trainRuns.map((run) => ({ run, points: runs[run]?.evalCurve ?? [] })))}
              />
            </figcaption>
            <LineChart width={chartWidth} height={260} data={evalCurve} accessibilityLayer>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="step"
                type="number"
                domain={[0, "dataMax"]}
                allowDecimals={false}
                label={{ value: "step", position: "insideBottom", offset: -2 }}
                height={36}
              />
              <YAxis domain={[0, 100]} width={40} />
              <Tooltip formatter={(v) => (typeof v === "number" ? `${v.toFixed(1)} %` : String(v))} />
              <Legend />
              {trainRuns.map((r) => (
                <Line key={r} dataKey={r} name={r.toUpperCase()} stroke={runColours[r]} isAnimationActive={false} connectNulls />
              ))}
            </LineChart>
          </figure>
        ) : null}
      </div>
      {skipped.length > 0 ? (
        <div className="note error" role="alert" data-testid="skipped-steps">
          <strong>Steps skipped (not trained on)</strong>
          <ul>
            {skipped.map((s) => (
              <li key={`${s.run}-${s.step}`}>
                {s.run.toUpperCase()} step {s.step}: {s.skipped} (loss {String(s.loss)}, gradient norm {String(s.gradNorm)})
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {rolledBack.length > 0 ? (
        <div className="note" role="status" data-testid="rolled-back-steps">
          <strong>Updates undone (they broke the weights; the step was retried at half the learning rate)</strong>
          <ul>
            {rolledBack.map((s) => (
              <li key={`${s.run}-${s.step}`}>
                {s.run.toUpperCase()} step {s.step}:{" "}
                {(s.rolledBack ?? []).map((r) => `${r.reason} at lr ${r.lr.toExponential(2)}`).join("; ")}, kept at lr{" "}
                {s.lr.toExponential(2)}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
