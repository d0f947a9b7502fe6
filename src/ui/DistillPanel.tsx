/**
 * The Distill step: the unpruned model rewrites a fine-tuning dataset (the demo world's general or
 * math instructions, or an uploaded Alpaca JSONL) with the editable SDFT templates; progress,
 * cancel and resume (finished batches are saved in IndexedDB); kept/replaced counts, the original
 * and the rewrite side by side with the filter's reason, and the result as Alpaca JSONL.
 */
import { useEffect, useId } from "react";
import { toAlpacaJsonl } from "../distill/alpaca-jsonl";
import { distilledRecords } from "../distill/distill-dataset";
import { type DistillKind, sdftTemplates } from "../distill/sdft-template";
import { distill, restoreStudy, updateStudy, useStudy } from "../store/study-store";
import { useWorkbench } from "../store/workbench-store";
import { downloadFile } from "./AnalyzeExports";
import { ErrorNote } from "./ErrorNote";
import { JobProgress } from "./JobProgress";
import { NumberField } from "./TrainNumberField";

const shownExamples = 50;

export function DistillPanel() {
  const card = useWorkbench((s) => s.model.card);
  const request = useStudy((s) => s.distillRequest);
  const distillation = useStudy((s) => s.distillation);
  const job = useStudy((s) => (s.jobStep === "distill" ? s.job : undefined));
  const busy = useStudy((s) => s.job !== undefined);
  const error = useStudy((s) => (s.jobStep === "distill" ? s.error : undefined));
  const id = useId();
  useEffect(() => void restoreStudy(), []);
  if (!card) return <p className="note">Load a model in the Model step first: the unpruned model is the teacher.</p>;

  const change = (c: Partial<typeof request>) => updateStudy({ distillRequest: { ...request, ...c } });
  const source = request.source;
  const setKind = (kind: DistillKind) => change({ kind, template: sdftTemplates[kind] });
  const examples = distillation?.examples ?? [];
  const kept = examples.filter((e) => e.kept).length;
  const resumable = distillation && !distillation.finished && examples.length > 0;
  const template = request.template;

  return (
    <div className="panel-body">
      <fieldset className="settings">
        <legend>Dataset</legend>
        <div className="field">
          <label htmlFor={`${id}-source`}>Fine-tuning data</label>
          <select
            id={`${id}-source`}
            value={source.kind === "demo" ? source.dataset : "jsonl"}
            onChange={(e) => {
              const v = e.target.value;
              if (v === "general" || v === "math") {
                change({ source: { kind: "demo", dataset: v, count: source.count, seed: 0 }, kind: v, template: sdftTemplates[v] });
              }
            }}
          >
            <option value="general">Demo world: general instructions</option>
            <option value="math">Demo world: word problems (math)</option>
            {source.kind === "jsonl" ? <option value="jsonl">{source.name}</option> : null}
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
              if (file) change({ source: { kind: "jsonl", name: file.name, text: await file.text(), count: source.count } });
            }}
          />
        </div>
        <NumberField
          label="Examples"
          value={source.count}
          min={1}
          max={5000}
          integer
          onChange={(count) => change({ source: { ...source, count } })}
        />
        {source.kind === "demo" ? (
          <NumberField
            label="Dataset seed"
            value={source.seed}
            min={0}
            max={2 ** 31}
            integer
            onChange={(seed) => change({ source: { ...source, seed } })}
          />
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-kind`}>Filter</label>
          <select id={`${id}-kind`} value={request.kind} onChange={(e) => setKind(e.target.value as DistillKind)}>
            <option value="general">general: reject rewrites that mention the reference</option>
            <option value="math">math: the final number must also match</option>
          </select>
        </div>
      </fieldset>
      <fieldset className="settings">
        <legend>Sampling (SDFT: temperature 0.95, top-p 0.7)</legend>
        <NumberField label="Temperature" value={request.temperature} min={0} max={2} onChange={(temperature) => change({ temperature })} />
        <NumberField label="Top-p" value={request.topP} min={0} max={1} onChange={(topP) => change({ topP })} />
        <NumberField label="Seed" value={request.seed} min={0} max={2 ** 31} integer onChange={(seed) => change({ seed })} />
        <NumberField
          label="Max tokens per rewrite"
          value={request.maxTokens}
          min={1}
          max={2048}
          integer
          onChange={(maxTokens) => change({ maxTokens })}
        />
        <NumberField
          label="Batch size"
          value={request.batchSize}
          min={1}
          max={64}
          integer
          onChange={(batchSize) => change({ batchSize })}
        />
      </fieldset>
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
              onChange={(e) => change({ template: { ...template, [k]: e.target.value } })}
            />
          </div>
        ))}
      </details>
      <div className="row">
        <button type="button" onClick={() => void distill()} disabled={busy}>
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
