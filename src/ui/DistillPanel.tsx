/**
 * The Distill step: the unpruned model rewrites a fine-tuning dataset (the demo world's general or
 * math instructions, or an uploaded Alpaca JSONL) with the editable SDFT templates; progress,
 * cancel and resume (finished batches are saved in IndexedDB); kept/replaced counts, the original
 * and the rewrite side by side with the filter's reason, and the result as Alpaca JSONL.
 */
import { useEffect, useId } from "react";
import { toAlpacaJsonl } from "../distill/alpaca-jsonl";
import { distilledRecords } from "../distill/distill-dataset";
import { sdftTemplates } from "../distill/sdft-template";
import type { DistillRequest } from "../engine/distill";
import { demoFinetuneSet, distillRequest, PlanError } from "../engine/experiment-plan";
import { distill, restoreStudy, updateStudy, useStudy } from "../store/study-store";
import { updateExperiment, useWorkbench } from "../store/workbench-store";
import { downloadFile } from "./AnalyzeExports";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { JobProgress } from "./JobProgress";

const shownExamples = 50;

export function DistillPanel() {
  const card = useWorkbench((s) => s.model.card);
  const experiment = useWorkbench((s) => s.experiment);
  const inputs = useStudy((s) => s.distillInputs);
  const distillation = useStudy((s) => s.distillation);
  const job = useStudy((s) => (s.jobStep === "distill" ? s.job : undefined));
  const busy = useStudy((s) => s.job !== undefined);
  const error = useStudy((s) => (s.jobStep === "distill" ? s.error : undefined));
  const id = useId();
  useEffect(() => void restoreStudy(), []);
  if (!card) return <p className="note">Load a model in the Model step first: the unpruned model is the teacher.</p>;

  const dataset = experiment.distill.dataset;
  const setDataset = (name: string) =>
    updateExperiment((d) => {
      d.distill.dataset = name;
    });
  // The request the Distill button sends; the templates shown are its own (edits included).
  let planned: DistillRequest | undefined;
  let unplanned: string | undefined;
  try {
    planned = distillRequest(experiment, inputs);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    unplanned = e.message;
  }
  const template = planned?.template ?? sdftTemplates.general;
  const examples = distillation?.examples ?? [];
  const kept = examples.filter((e) => e.kept).length;
  const resumable = distillation && !distillation.finished && examples.length > 0;

  return (
    <div className="panel-body">
      <fieldset className="settings">
        <legend>Dataset</legend>
        <div className="field">
          <label htmlFor={`${id}-source`}>Fine-tuning data</label>
          <select
            id={`${id}-source`}
            value={dataset}
            onChange={(e) => {
              setDataset(e.target.value);
              // SDFT's templates differ for math; edits made for the other set do not carry over.
              updateStudy({ distillInputs: { ...inputs, template: undefined } });
            }}
          >
            <option value={demoFinetuneSet("general")}>Demo world: general instructions</option>
            <option value={demoFinetuneSet("math")}>Demo world: word problems (math)</option>
            {planned?.source.kind === "demo" ? null : <option value={dataset}>{dataset}</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-jsonl`}>…or an Alpaca JSONL file</label>
          <input
            id={`${id}-jsonl`}
            type="file"
            accept=".jsonl,.json,application/jsonl"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              updateStudy({ distillInputs: { finetune: { name: file.name, text: await file.text() } } });
              setDataset(file.name);
            }}
          />
        </div>
      </fieldset>
      <ExperimentFields legend="Examples, filter and sampling (SDFT: temperature 0.95, top-p 0.7)" fields={panelFields.distill ?? []} />
      <details>
        <summary>
          SDFT templates ({"{instruction}"}, {"{input}"}, {"{reference}"} are filled in)
        </summary>
        {(["prompt", "promptWithoutInput", "responseOpener"] as const).map((k) => (
          <div className="field" key={k}>
            <label htmlFor={`${id}-${k}`}>
              {k === "prompt" ? "Prompt" : k === "promptWithoutInput" ? "Prompt without input" : "Response opener"}
            </label>
            <textarea
              id={`${id}-${k}`}
              rows={k === "responseOpener" ? 1 : 8}
              value={template[k]}
              onChange={(e) => updateStudy({ distillInputs: { ...inputs, template: { ...template, [k]: e.target.value } } })}
            />
          </div>
        ))}
      </details>
      <div className="row">
        <button type="button" onClick={() => void distill()} disabled={busy || !planned}>
          {resumable ? `Resume distilling (${examples.length} done)` : "Distill"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!distillation?.finished}
          onClick={() => downloadFile("sdd.jsonl", new Blob([toAlpacaJsonl(distilledRecords({ examples, kept: 0, replaced: 0 }))]))}
        >
          Download the distilled dataset (JSONL)
        </button>
      </div>
      {unplanned ? <p className="note">{unplanned}.</p> : null}
      {job ? <JobProgress job={job} /> : null}
      {error ? <ErrorNote error={error} context="The distillation" /> : null}
      {examples.length > 0 ? (
        <>
          <p data-testid="distill-counts">
            {examples.length} examples{distillation?.finished ? "" : " so far"}: <strong>{kept} rewrites kept</strong>,{" "}
            <strong>{examples.length - kept} replaced</strong> by the original response.
          </p>
          <table className="runs" data-testid="distill-examples">
            <thead>
              <tr>
                <th>Instruction</th>
                <th>Original response</th>
                <th>Rewrite</th>
                <th>Kept?</th>
              </tr>
            </thead>
            <tbody>
              {examples.slice(0, shownExamples).map((e) => (
                <tr key={e.index}>
                  <td>{e.input ? `${e.instruction}\n${e.input}` : e.instruction}</td>
                  <td>{e.reference}</td>
                  <td>{e.rewrite}</td>
                  <td>{e.kept ? "kept" : `replaced: ${e.reason}${e.detail ? ` (${e.detail})` : ""}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {examples.length > shownExamples ? <p className="muted">The first {shownExamples} shown; the download has them all.</p> : null}
        </>
      ) : null}
    </div>
  );
}
