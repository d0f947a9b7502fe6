/**
 * The Evaluate step: the demo world's benchmark suite (the first items of each task, few-shot) on
 * the original model, the pruned one, the pruned one with each trained adapter folded in and the
 * SLERP merge of the two at the experiment's t; the per-task table and the paper's table in
 * miniature (average and quality recovery % against the original), a chart of the averages, and
 * both as downloads (CSV; SVG and PNG).
 */
import { useEffect, useRef, useState } from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { studyEvalModels } from "../engine/experiment-plan";
import { percent, recoveryCell, resultsCsv } from "../export/results-files";
import { usePruneStep } from "../store/prune-store";
import { evaluate, restoreStudy, useStudy } from "../store/study-store";
import { useWorkbench } from "../store/workbench-store";
import { downloadFile } from "./AnalyzeExports";
import { chartSvg, svgToPng } from "./chart-export";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { JobProgress } from "./JobProgress";

export function EvaluatePanel() {
  const card = useWorkbench((s) => s.model.card);
  const pruned = usePruneStep((s) => s.pruned);
  const runs = useStudy((s) => s.runs);
  const rows = useStudy((s) => s.evaluation);
  const experiment = useWorkbench((s) => s.experiment);
  const job = useStudy((s) => (s.jobStep === "evaluate" ? s.job : undefined));
  const busy = useStudy((s) => s.job !== undefined);
  const error = useStudy((s) => (s.jobStep === "evaluate" ? s.error : undefined));
  const [excluded, setExcluded] = useState<string[]>([]);
  const chart = useRef<HTMLElement>(null);
  useEffect(() => void restoreStudy(), []);
  if (!card) return <p className="note">Load a model in the Model step first.</p>;

  const models = studyEvalModels(experiment, { sft: runs.sft?.adapter, sdd: runs.sdd?.adapter }, pruned !== undefined);
  const chosen = models.filter((m) => !excluded.includes(m.label));
  const tasks = rows?.[0]?.result.tasks ?? [];

  const saveChart = async (format: "svg" | "png") => {
    const svg = chartSvg(chart.current);
    if (!svg) return;
    downloadFile(`recovery.${format}`, format === "png" ? await svgToPng(svg) : new Blob([svg], { type: "image/svg+xml" }));
  };

  return (
    <div className="panel-body">
      <fieldset className="settings">
        <legend>Suite: the demo world's benchmark (Open LLM Leaderboard v1 analogues)</legend>
        <ExperimentFields legend="Items and shots" fields={panelFields.evaluate ?? []} />
        <fieldset className="row inline">
          <legend>Models</legend>
          {models.map((m) => (
            <label key={m.label} className="check">
              <input
                type="checkbox"
                checked={!excluded.includes(m.label)}
                onChange={(e) => setExcluded((x) => (e.target.checked ? x.filter((l) => l !== m.label) : [...x, m.label]))}
              />
              {m.label}
            </label>
          ))}
        </fieldset>
      </fieldset>
      <div className="row">
        <button type="button" onClick={() => void evaluate(chosen)} disabled={busy || chosen.length === 0}>
          Evaluate {chosen.length} model{chosen.length === 1 ? "" : "s"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!rows}
          onClick={() => rows && downloadFile("results.csv", new Blob([resultsCsv(rows)], { type: "text/csv" }))}
        >
          Table as CSV
        </button>
        <button type="button" className="secondary" disabled={!rows} onClick={() => void saveChart("svg")}>
          Chart as SVG
        </button>
        <button type="button" className="secondary" disabled={!rows} onClick={() => void saveChart("png")}>
          Chart as PNG
        </button>
      </div>
      {job ? <JobProgress job={job} /> : null}
      {error ? <ErrorNote error={error} context="The evaluation" /> : null}
      {rows ? (
        <>
          <table className="runs" data-testid="recovery-table">
            <thead>
              <tr>
                <th>Model</th>
                {tasks.map((t) => (
                  <th key={t.name} title={`${t.metric}, ${t.n} items${t.chance === undefined ? "" : `, chance ${percent(t.chance)} %`}`}>
                    {t.name}
                  </th>
                ))}
                <th>Average %</th>
                <th>Recovery %</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.label}>
                  <td>{r.label}</td>
                  {r.result.tasks.map((t) => (
                    <td key={t.name} title={`± ${percent(t.stderr)}`}>
                      {percent(t.score)}
                    </td>
                  ))}
                  <td>{percent(r.result.average)}</td>
                  <td>{recoveryCell(r, rows)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <figure ref={chart} data-testid="recovery-chart">
            <figcaption>Suite average per model (%)</figcaption>
            <BarChart
              width={Math.max(360, 120 * rows.length)}
              height={240}
              data={rows.map((r) => ({ model: r.label, average: 100 * r.result.average }))}
              accessibilityLayer
            >
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="model" />
              <YAxis domain={[0, 100]} width={40} />
              <Tooltip formatter={(v) => (typeof v === "number" ? `${v.toFixed(1)} %` : String(v))} />
              <Bar dataKey="average" name="average %" fill="#3b528b" isAnimationActive={false} />
            </BarChart>
          </figure>
        </>
      ) : null}
    </div>
  );
}
