/**
 * The Merge step: the study's SFT and SDD runs (each adapter folded into the pruned model), or the
 * model in use and a second model of the same architecture (a Hugging Face folder), SLERP- or
 * LERP-merged at the experiment's t, with a quick evaluation of a, b and each merge tried on the
 * first items of every benchmark task, again as the t slider is let go; the merge as a Hugging Face
 * folder and mergekit's SLERP YAML.
 */
import { useId, useState } from "react";
import { adapterLabel } from "../engine/experiment-plan";
import type { MergeResult } from "../engine/merge";
import type { PickedFile } from "../engine/requests";
import type { TrainRun } from "../engine/train";
import { mergekitSlerpYaml } from "../export/mergekit-slerp";
import type { MergeMethod } from "../merge/slerp";
import { useStudy } from "../store/study-store";
import {
  engineClient,
  engineMissing,
  type RunningJob,
  startJob,
  updateExperiment,
  useWorkbench,
  withProgress,
} from "../store/workbench-store";
import type { RpcError } from "../worker/rpc";
import { downloadFile } from "./AnalyzeExports";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { JobProgress } from "./JobProgress";
import { filesFromInput } from "./picked-files";

const percent = (score: number) => `${(100 * score).toFixed(1)} %`;

export function MergePanel() {
  const card = useWorkbench((s) => s.model.card);
  const t = useWorkbench((s) => s.experiment.merge.t);
  const runs = useStudy((s) => s.runs);
  const finished = (run: TrainRun) => {
    const adapter = runs[run]?.adapter;
    return adapter && !adapter.cancelled ? { ...adapter, label: adapterLabel(run) } : undefined;
  };
  const [sft, sdd] = [finished("sft"), finished("sdd")];
  const study = sft && sdd ? { a: sft, b: sdd } : undefined;
  const id = useId();
  const [pair, setPair] = useState<"study" | "files">(study ? "study" : "files");
  const [live, setLive] = useState(true);
  const [second, setSecond] = useState<PickedFile[]>();
  const [sent, setSent] = useState<PickedFile[]>();
  const [method, setMethod] = useState<MergeMethod>("slerp");
  const [items, setItems] = useState(8);
  const [job, setJob] = useState<RunningJob>();
  const [error, setError] = useState<RpcError>();
  const [results, setResults] = useState<MergeResult[]>([]);
  if (!card) {
    return (
      <div className="panel-body">
        <p className="note">Load a model in the Model step first: it is the first model of the merge (t = 0).</p>
      </div>
    );
  }
  const last = results.at(-1);
  const secondName = second?.[0]?.path.split("/")[0];

  const fromStudy = pair === "study" ? study : undefined;
  const ready = fromStudy !== undefined || (pair === "files" && second !== undefined);
  const run = async (at: number) => {
    const started = startJob("Merging");
    setJob(started);
    setError(undefined);
    const engine = engineClient();
    const fresh = !fromStudy && second !== sent ? second : undefined;
    const outcome = engine
      ? await engine.call(
          "merge",
          { ...(fromStudy ? { adapters: fromStudy } : { second: fresh }), t: at, method, items },
          { signal: started.controller.signal, onProgress: (p) => setJob((current) => current && withProgress(current, p)) },
        )
      : ({ ok: false, error: engineMissing } as const);
    setJob(undefined);
    if (!outcome.ok) {
      setError(outcome.error);
      return;
    }
    if (fresh) setSent(fresh);
    const value = outcome.value;
    // A new pair or item count makes the earlier rows incomparable.
    setResults((rows) => [...rows.filter((r) => r.second === value.second && r.first === value.first && r.items === value.items), value]);
  };

  const saveFolder = async () => {
    const engine = engineClient();
    const outcome = engine ? await engine.call("exportMerge", { t, method }) : ({ ok: false, error: engineMissing } as const);
    if (!outcome.ok) setError(outcome.error);
    else for (const f of outcome.value) downloadFile(f.name, new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
  };
  const yaml = mergekitSlerpYaml(
    fromStudy
      ? { modelA: `${card.name}-sft`, modelB: `${card.name}-sdd`, layers: card.layers, t }
      : { modelA: card.name, modelB: secondName ?? "second-model", layers: card.layers, t },
  );
  // A quick look at each new t the slider is let go at, once a first merge has been evaluated.
  const slide = (at: number) => {
    if (live && last && at !== last.t && !job && ready) void run(at);
  };

  return (
    <div className="panel-body">
      <fieldset className="row inline">
        <legend>Models to merge</legend>
        <label className="check">
          <input type="radio" name={`${id}-pair`} checked={pair === "study"} disabled={!study} onChange={() => setPair("study")} />
          The SFT (t = 0) and SDD (t = 1) runs of this study, each folded into {card.name}
          {study ? "" : " (train both in the Train step first)"}
        </label>
        <label className="check">
          <input type="radio" name={`${id}-pair`} checked={pair === "files"} onChange={() => setPair("files")} />
          {card.name} (t = 0) and another model's Hugging Face folder (t = 1)
        </label>
      </fieldset>
      {pair === "files" ? (
        <div className="field">
          <label htmlFor={`${id}-second`}>Second model (t = 1): a Hugging Face folder of the same architecture</label>
          <input
            id={`${id}-second`}
            type="file"
            multiple
            {...{ webkitdirectory: "" }}
            onChange={(e) => e.target.files && setSecond(filesFromInput(e.target.files))}
          />
          {secondName ? <span className="muted">{secondName}</span> : null}
        </div>
      ) : null}
      <ExperimentFields legend="Interpolation" fields={panelFields.merge ?? []} />
      <div className="field">
        <label htmlFor={`${id}-slider`}>t slider</label>
        <input
          id={`${id}-slider`}
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={t}
          onChange={(e) =>
            updateExperiment((d) => {
              d.merge.t = Number(e.target.value);
            })
          }
          onPointerUp={(e) => slide(Number(e.currentTarget.value))}
          onKeyUp={(e) => slide(Number(e.currentTarget.value))}
        />
        <label className="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
          Evaluate again when the slider is let go
        </label>
      </div>
      <fieldset className="row inline">
        <legend>Method</legend>
        {(["slerp", "lerp"] as const).map((m) => (
          <label key={m} className="check">
            <input type="radio" name={`${id}-method`} checked={method === m} onChange={() => setMethod(m)} />
            {m === "slerp" ? "SLERP (mergekit)" : "LERP, for comparison"}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-items`}>Quick evaluation: items per task</label>
        <input
          id={`${id}-items`}
          type="number"
          min={1}
          max={200}
          value={items}
          onChange={(e) => setItems(Math.max(1, Number(e.target.value)))}
        />
      </div>
      <div className="row">
        <button type="button" onClick={() => void run(t)} disabled={job !== undefined || !ready}>
          Merge and evaluate at t = {t}
        </button>
        <button type="button" className="secondary" onClick={() => void saveFolder()} disabled={job !== undefined || !last}>
          Download the merge as a Hugging Face folder
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => downloadFile("slerp-merge.yaml", new Blob([yaml], { type: "text/yaml" }))}
        >
          mergekit SLERP YAML
        </button>
      </div>
      {job ? <JobProgress job={job} /> : null}
      {error ? <ErrorNote error={error} context="The merge" /> : null}
      {last ? (
        <table className="runs" data-testid="merge-results">
          <thead>
            <tr>
              <th>Model</th>
              <th>Average</th>
              {last.merged.tasks.map((task) => (
                <th key={task.name}>{task.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[
              { name: `a: ${last.first}`, scores: last.a },
              ...results.map((r) => ({ name: `${r.method.toUpperCase()} t = ${r.t}`, scores: r.merged })),
              { name: `b: ${last.second}`, scores: last.b },
            ].map((row) => (
              <tr key={row.name}>
                <td>{row.name}</td>
                <td>{percent(row.scores.average)}</td>
                {row.scores.tasks.map((task) => (
                  <td key={task.name}>{percent(task.score)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <details>
        <summary>mergekit SLERP YAML</summary>
        <pre>{yaml}</pre>
      </details>
    </div>
  );
}
