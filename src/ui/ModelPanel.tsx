/** The Model step: choose a source (bundled demo, local files, Hub repo), load it with progress, see its card. */
import { useId, useState } from "react";
import type { ModelSourceKind } from "../experiment/experiment";
import { formatBytes } from "../gpu/errors";
import { loadModel, updateExperiment, useWorkbench } from "../store/workbench-store";
import type { PickedFile } from "../worker/protocol";
import { ErrorNote } from "./ErrorNote";
import { consentToHubEndpoint } from "./hub-endpoint-consent";
import { JobProgress } from "./JobProgress";
import { ModelCardView } from "./ModelCardView";
import { filesFromDrop, filesFromInput } from "./picked-files";

const sources: { kind: ModelSourceKind; label: string; hint: string }[] = [
  {
    kind: "demo",
    label: "Bundled demo model",
    hint: "A 12-block Llama trained by Prunelab's own script on its demo world; works offline.",
  },
  {
    kind: "local",
    label: "Local files",
    hint: "A Hugging Face folder (config.json, *.safetensors, tokenizer.json), a .gguf file, or a llama2.c .bin with its tokenizer.",
  },
  {
    kind: "hub",
    label: "Hugging Face Hub",
    hint: "A repo id such as HuggingFaceTB/SmolLM2-135M-Instruct; downloaded with progress and cached in the browser.",
  },
];

export function ModelPanel() {
  const experiment = useWorkbench((s) => s.experiment);
  const model = useWorkbench((s) => s.model);
  const gpuReady = useWorkbench((s) => s.gpu.state === "ready");
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [dragging, setDragging] = useState(false);
  const id = useId();
  const source = experiment.model.source;
  const busy = model.job !== undefined;

  const pick = (picked: PickedFile[]) => {
    setFiles(picked);
    const top = picked[0]?.path.split("/")[0] ?? "";
    updateExperiment((d) => {
      d.model.localName = picked.length === 1 ? picked[0].path : top;
    });
  };

  const canLoad =
    gpuReady &&
    !busy &&
    (source === "demo" || (source === "hub" && experiment.model.repo.trim() !== "") || (source === "local" && files.length > 0));
  const load = () => {
    if (source === "demo") void loadModel({ kind: "demo" });
    else if (source === "hub") {
      const { repo, revision, endpoint } = experiment.model;
      if (!consentToHubEndpoint(endpoint, repo.trim(), (q) => window.confirm(q))) return;
      void loadModel({ kind: "hub", repo: repo.trim(), revision: revision.trim() || "main", endpoint });
    } else void loadModel({ kind: "files", files });
  };

  return (
    <div className="panel-body">
      <fieldset className="sources">
        <legend>Model source</legend>
        {sources.map((s) => (
          <label key={s.kind} className={source === s.kind ? "source selected" : "source"}>
            <input
              type="radio"
              name={`${id}-source`}
              value={s.kind}
              checked={source === s.kind}
              aria-label={s.label}
              aria-describedby={`${id}-${s.kind}-hint`}
              onChange={() =>
                updateExperiment((d) => {
                  d.model.source = s.kind;
                })
              }
            />
            <span className="source-title">{s.label}</span>
            <span className="source-hint" id={`${id}-${s.kind}-hint`}>
              {s.hint}
            </span>
          </label>
        ))}
      </fieldset>

      {source === "local" ? (
        <section
          className={dragging ? "dropzone dragging" : "dropzone"}
          aria-label="Model files"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={async (e) => {
            e.preventDefault();
            setDragging(false);
            pick(await filesFromDrop(e.dataTransfer));
          }}
        >
          <p>Drop a model folder or files here, or choose them:</p>
          <div className="row">
            <label className="button secondary" htmlFor={`${id}-folder`}>
              Choose a folder…
            </label>
            <input
              id={`${id}-folder`}
              className="visually-hidden"
              type="file"
              {...{ webkitdirectory: "" }}
              onChange={(e) => e.target.files && pick(filesFromInput(e.target.files))}
            />
            <label className="button secondary" htmlFor={`${id}-files`}>
              Choose files…
            </label>
            <input
              id={`${id}-files`}
              className="visually-hidden"
              type="file"
              multiple
              accept=".gguf,.bin,.safetensors,.json,.model,.txt"
              onChange={(e) => e.target.files && pick(filesFromInput(e.target.files))}
            />
          </div>
          {files.length > 0 ? (
            <ul className="file-list" aria-label="Chosen files">
              {files.slice(0, 12).map((f) => (
                <li key={f.path}>
                  {f.path} <span className="muted">{formatBytes(f.file.size)}</span>
                </li>
              ))}
              {files.length > 12 ? <li className="muted">and {files.length - 12} more</li> : null}
            </ul>
          ) : experiment.model.localName ? (
            <p className="muted">This experiment used “{experiment.model.localName}”; choose it again (files cannot travel in a link).</p>
          ) : null}
        </section>
      ) : null}

      {source === "hub" ? (
        <div className="row">
          <ModelTextField field="repo" label="Repo id" className="field grow" placeholder="HuggingFaceTB/SmolLM2-135M-Instruct" />
          <ModelTextField field="revision" label="Revision" className="field" />
          <ModelTextField field="endpoint" label="Hub endpoint (a mirror works too)" className="field endpoint" type="url" />
        </div>
      ) : null}

      <div className="row">
        <button type="button" onClick={load} disabled={!canLoad}>
          Load model
        </button>
        {gpuReady ? null : <span className="muted">Loading needs a WebGPU adapter.</span>}
      </div>
      {model.job ? <JobProgress job={model.job} /> : null}
      {model.error ? <ErrorNote error={model.error} context="Loading the model" /> : null}
      {model.card ? <ModelCardView card={model.card} /> : <p className="muted">No model loaded yet.</p>}
    </div>
  );
}

function ModelTextField(props: {
  field: "repo" | "revision" | "endpoint";
  label: string;
  className: string;
  placeholder?: string;
  type?: "text" | "url";
}) {
  const value = useWorkbench((s) => s.experiment.model[props.field]);
  const id = useId();
  return (
    <div className={props.className}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type={props.type ?? "text"}
        spellCheck={false}
        placeholder={props.placeholder}
        value={value}
        onChange={(e) =>
          updateExperiment((d) => {
            d.model[props.field] = e.target.value;
          })
        }
      />
    </div>
  );
}
