/**
 * The Analyze step: a calibration set (the demo world's prose, pasted text or a JSONL file), how
 * to encode and average it, the run with progress and cancel, and the results: heatmap, Block
 * Influence chart, sortable table and exports. Choosing a cell sets the experiment's block to drop
 * (the Prune step acts on it).
 */
import { useId } from "react";
import { analyzeModel, updatePruneStep, usePruneStep } from "../store/prune-store";
import { showPanel, updateExperiment, useWorkbench } from "../store/workbench-store";
import { AnalyzeExports } from "./AnalyzeExports";
import { AnalyzeInfluenceChart } from "./AnalyzeInfluenceChart";
import { AnalyzeTable } from "./AnalyzeTable";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { type BlockChoice, Heatmap } from "./Heatmap";
import { JobProgress } from "./JobProgress";

export function chooseBlocks({ start, count }: BlockChoice): void {
  updateExperiment((d) => {
    d.prune.start = start;
    d.prune.count = count;
  });
}

export function AnalyzePanel() {
  const id = useId();
  const card = useWorkbench((s) => s.model.card);
  const prune = useWorkbench((s) => s.experiment.prune);
  const settings = useWorkbench((s) => s.experiment.calibration);
  const step = usePruneStep();
  const { calibration, analysis } = step;
  const busy = step.analyzeJob !== undefined;
  const hasInput = calibration.kind === "demo" || calibration.text.trim() !== "";
  if (!card) {
    return (
      <div className="panel-body">
        <p className="note">Load a model in the Model step first.</p>
      </div>
    );
  }
  return (
    <div className="panel-body">
      <fieldset>
        <legend>Calibration set</legend>
        <div className="row inline" role="radiogroup" aria-label="Calibration source">
          <label className="check">
            <input
              type="radio"
              name={`${id}-calib`}
              checked={calibration.kind === "text"}
              onChange={() => updatePruneStep({ calibration: { kind: "text", text: "" } })}
            />
            Paste text (one sample per paragraph)
          </label>
          <label className="check">
            <input
              type="radio"
              name={`${id}-calib`}
              checked={calibration.kind === "jsonl"}
              onChange={() => updatePruneStep({ calibration: { kind: "jsonl", name: "", text: "" } })}
            />
            JSONL file ({"{"}"text"{"}"} or Alpaca fields)
          </label>
          <label className="check">
            <input
              type="radio"
              name={`${id}-calib`}
              checked={calibration.kind === "demo"}
              onChange={() => updatePruneStep({ calibration: { kind: "demo" } })}
            />
            Demo world text
          </label>
        </div>
        {calibration.kind === "demo" ? (
          <p className="note">Prose about the demo world's town (biographies, trades, tales), the first samples of a fixed draw.</p>
        ) : calibration.kind === "text" ? (
          <div className="field grow">
            <label htmlFor={`${id}-text`}>Calibration text</label>
            <textarea
              id={`${id}-text`}
              rows={6}
              value={calibration.text}
              onChange={(e) => updatePruneStep({ calibration: { kind: "text", text: e.target.value } })}
            />
          </div>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-file`}>Calibration JSONL</label>
            <input
              id={`${id}-file`}
              type="file"
              accept=".jsonl,.json,.txt"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (file) updatePruneStep({ calibration: { kind: "jsonl", name: file.name, text: await file.text() } });
              }}
            />
            {calibration.name ? <span className="muted">{calibration.name}</span> : null}
          </div>
        )}
        <div className="row inline">
          <label className="check">
            <input
              type="checkbox"
              checked={settings.chatTemplate}
              disabled={!card.hasChatTemplate}
              onChange={(e) =>
                updateExperiment((d) => {
                  d.calibration.chatTemplate = e.target.checked;
                })
              }
            />
            Through the chat template{card.hasChatTemplate ? "" : " (this model has none)"}
          </label>
          <div className="field">
            <label htmlFor={`${id}-tokens`}>Distance over</label>
            <select
              id={`${id}-tokens`}
              value={settings.tokens}
              onChange={(e) =>
                updateExperiment((d) => {
                  d.calibration.tokens = e.target.value as "last" | "all";
                })
              }
            >
              <option value="last">the last token of each sample</option>
              <option value="all">every token</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-batch`}>Batch size</label>
            <input
              id={`${id}-batch`}
              type="number"
              min={1}
              max={64}
              value={settings.batchSize}
              onChange={(e) =>
                updateExperiment((d) => {
                  d.calibration.batchSize = Math.max(1, Math.round(Number(e.target.value)) || 1);
                })
              }
            />
          </div>
        </div>
      </fieldset>
      <ExperimentFields
        legend="Analysis settings"
        fields={(panelFields.analyze ?? []).filter((f) => f.path.startsWith("calibration.") && f.path !== "calibration.dataset")}
      />
      <div className="row">
        <button type="button" onClick={() => void analyzeModel()} disabled={busy || !hasInput}>
          Analyze layers
        </button>
      </div>
      {step.analyzeJob ? <JobProgress job={step.analyzeJob} /> : null}
      {step.analyzeError ? <ErrorNote error={step.analyzeError} context="The analysis" /> : null}
      {analysis ? (
        <>
          <Heatmap
            analysis={analysis.analysis}
            config={analysis.config}
            selected={{ start: prune.start, count: prune.count }}
            onSelect={chooseBlocks}
          />
          {prune.count > 0 ? (
            <div className="row">
              <button type="button" onClick={() => showPanel("prune")}>
                Prune blocks {prune.start}–{prune.start + prune.count - 1}…
              </button>
            </div>
          ) : null}
          <AnalyzeInfluenceChart blockInfluence={analysis.analysis.blockInfluence} />
          <AnalyzeExports analysis={analysis.analysis} />
          <details>
            <summary>Table of every (l, n)</summary>
            <AnalyzeTable analysis={analysis.analysis} config={analysis.config} onSelect={chooseBlocks} />
          </details>
        </>
      ) : null}
    </div>
  );
}
