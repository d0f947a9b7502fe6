/**
 * The Merge step: the model in use (a) SLERP- or LERP-merged with a second model of the same
 * architecture (b, e.g. the other fine-tune of the same pruned base, as a Hugging Face folder), at
 * the experiment's t, with a quick evaluation of a, b and each merge tried on the first items of
 * every benchmark task; the merge as a Hugging Face folder and mergekit's SLERP YAML.
 */
import { useId, useState } from "react";
import { mergekitSlerpYaml } from "../export/mergekit-slerp";
import type { MergeResult } from "../merge/merge-jobs";
import type { MergeMethod } from "../merge/slerp";
import { engineClient, engineMissing, type RunningJob, startJob, useWorkbench, withProgress } from "../store/workbench-store";
import type { PickedFile } from "../worker/protocol";
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
  const id = useId();
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

  const run = async () => {
    const started = startJob("Merging");
    setJob(started);
    setError(undefined);
    const engine = engineClient();
    const fresh = second !== sent ? second : undefined;
    const outcome = engine
      ? await engine.call(
          "merge",
          { second: fresh, t, method, items },
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
  const yaml = mergekitSlerpYaml({ modelA: card.name, modelB: secondName ?? "second-model", layers: card.layers, t });

  return (
    <div className="panel-body">
      <p>
        First model (t = 0): <strong>{card.name}</strong>, the model in use.
      </p>
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
      <ExperimentFields legend="Interpolation" fields={panelFields.merge ?? []} />
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
        <button type="button" onClick={() => void run()} disabled={job !== undefined || !second}>
          Merge and evaluate at t = {t}
        </button>
        <button type="button" className="secondary" onClick={() => void saveFolder()} disabled={job !== undefined || !sent}>
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
