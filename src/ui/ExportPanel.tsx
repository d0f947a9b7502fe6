/**
 * The Export step: every file the study produced, in the formats the Python ecosystem reads — the
 * model in use (pruned) as a Hugging Face folder, the SFT and SDD adapters as PEFT folders, the
 * datasets as Alpaca JSONL, layer_distances.csv, mergekit YAML for the slice and the SLERP merge,
 * results.json and the run manifest; and the experiment as a cluster recipe for the Python stack. Saved into a folder the user picks where the browser has the
 * File System Access API, else downloaded one file at a time.
 */
import { useEffect, useState } from "react";
import { version } from "../../package.json";
import { studyDatasets, trainRuns } from "../experiment/experiment-plan";
import { createManifest } from "../experiment/manifest";
import { buildRecipe } from "../export/recipe/build-recipe";
import { configFromCard, experimentModelRef } from "../export/recipe/recipe-model";
import { exportModel, usePruneStep } from "../store/prune-store";
import { restoreStudy, useStudy } from "../store/study-store";
import { useWorkbench } from "../store/workbench-store";
import { studyFiles } from "../worker/export-jobs";
import type { ExportedFile } from "../worker/protocol";
import type { RpcError } from "../worker/rpc";
import { downloadFile } from "./AnalyzeExports";
import { ErrorNote } from "./ErrorNote";

interface DirectoryPicker {
  showDirectoryPicker(options: { mode: "readwrite" }): Promise<FileSystemDirectoryHandle>;
}

async function writeToFolder(folder: FileSystemDirectoryHandle, files: readonly ExportedFile[]): Promise<void> {
  for (const f of files) {
    const parts = f.name.split("/");
    let dir = folder;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
    const writable = await (await dir.getFileHandle(parts.at(-1) as string, { create: true })).createWritable();
    await writable.write(f.bytes as Uint8Array<ArrayBuffer>);
    await writable.close();
  }
}

export function ExportPanel() {
  const card = useWorkbench((s) => s.model.card);
  const experiment = useWorkbench((s) => s.experiment);
  const analysis = usePruneStep((s) => s.analysis);
  const pruned = usePruneStep((s) => s.pruned);
  const distillation = useStudy((s) => s.distillation);
  const runs = useStudy((s) => s.runs);
  const evaluation = useStudy((s) => s.evaluation);
  const [error, setError] = useState<RpcError>();
  const [saved, setSaved] = useState<string>();
  const [cluster, setCluster] = useState({ gpus: 8, nodes: 1 });
  useEffect(() => void restoreStudy(), []);

  // The pruned card's name is the full model's followed by " without block(s) …" (src/worker/prune-jobs.ts).
  const fullName = (pruned && card ? card.name.slice(0, card.name.lastIndexOf(" without ")) : card?.name) || "model";
  const examples = distillation?.finished ? distillation.examples : undefined;
  const datasets = examples ? studyDatasets(examples) : undefined;
  const study = () =>
    studyFiles({
      manifest: createManifest(experiment, version),
      model: { name: fullName, layers: (card?.layers ?? 0) + (pruned?.count ?? 0) },
      pruned: pruned ? { start: pruned.start, count: pruned.count } : undefined,
      analysis: analysis?.analysis,
      datasets: datasets ? trainRuns.map((r) => ({ name: r === "sft" ? "original" : "self-distilled", records: datasets[r] })) : [],
      adapters: trainRuns.flatMap((r) => {
        const adapter = runs[r]?.adapter;
        return adapter && !adapter.cancelled ? [adapter] : [];
      }),
      evalCurves: trainRuns.map((run) => ({ run, points: runs[run]?.evalCurve ?? [] })),
      evaluation,
    });
  const everything = async (): Promise<ExportedFile[] | undefined> => {
    const model = await exportModel();
    if (model.error) {
      setError(model.error);
      return undefined;
    }
    return [...(model.files ?? []).map((f) => ({ ...f, name: `model/${f.name}` })), ...study()];
  };

  const picker = (globalThis as unknown as Partial<DirectoryPicker>).showDirectoryPicker;
  const saveFolder = async () => {
    setError(undefined);
    try {
      const files = await everything();
      if (!files || !picker) return;
      const folder = await picker.call(globalThis, { mode: "readwrite" });
      await writeToFolder(folder, files);
      setSaved(`${files.length} files written to ${folder.name}/`);
    } catch (e) {
      setError({ name: (e as Error).name, message: (e as Error).message });
    }
  };
  const downloadAll = async () => {
    setError(undefined);
    const files = await everything();
    for (const f of files ?? []) downloadFile(f.name.replaceAll("/", "__"), new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
  };

  // The cluster recipe: the same experiment for the Python stack, built by the library the CLI uses.
  const recipeFiles = (): ExportedFile[] => {
    if (!card) return [];
    const fullLayers = card.layers + (pruned?.count ?? 0);
    const files = buildRecipe({
      manifest: createManifest(experiment, version),
      ...experimentModelRef(experiment.model),
      config: configFromCard(card, fullLayers),
      sourceLayers: fullLayers,
      gpusPerNode: cluster.gpus,
      nodes: cluster.nodes,
      appVersion: version,
    });
    return files.map((f) => ({ name: `recipe/${f.path}`, bytes: new TextEncoder().encode(f.text) }));
  };
  const downloadRecipe = async () => {
    setError(undefined);
    try {
      const files = recipeFiles();
      if (picker) {
        const folder = await picker.call(globalThis, { mode: "readwrite" });
        await writeToFolder(folder, files);
        setSaved(`${files.length} recipe files written to ${folder.name}/recipe/`);
      } else {
        for (const f of files) downloadFile(f.name.replaceAll("/", "__"), new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
      }
    } catch (e) {
      setError({ name: (e as Error).name, message: (e as Error).message });
    }
  };
  const clusterField = (key: "gpus" | "nodes", label: string) => (
    <label>
      {label}{" "}
      <input
        type="number"
        min={1}
        step={1}
        value={cluster[key]}
        onChange={(e) => setCluster({ ...cluster, [key]: Math.max(1, Math.round(Number(e.target.value)) || 1) })}
      />
    </label>
  );

  if (!card) return <p className="note">Load a model in the Model step first.</p>;
  const listed = study();
  return (
    <div className="panel-body">
      <p>
        The study of <strong>{card.name}</strong>: the model in use as a Hugging Face folder (<code>model/</code>), and:
      </p>
      <ul data-testid="export-files">
        {listed.map((f) => (
          <li key={f.name}>
            <button
              type="button"
              className="link"
              onClick={() => downloadFile(f.name.replaceAll("/", "__"), new Blob([f.bytes as Uint8Array<ArrayBuffer>]))}
            >
              {f.name}
            </button>{" "}
            <span className="muted">{f.bytes.length.toLocaleString()} bytes</span>
          </li>
        ))}
      </ul>
      {analysis ? null : <p className="muted">Run the Analyze step to add layer_distances.csv.</p>}
      <div className="row">
        {picker ? (
          <button type="button" onClick={() => void saveFolder()}>
            Save everything into a folder…
          </button>
        ) : null}
        <button type="button" className={picker ? "secondary" : undefined} onClick={() => void downloadAll()}>
          Download every file
        </button>
      </div>
      <h3>Cluster recipe</h3>
      <p>
        The same experiment at full scale on a GPU cluster with transformers, peft, trl, accelerate, vLLM, lm-eval and mergekit: a README
        with the commands in order and the cost of each step, the scripts and their configs (the same as <code>prunelab recipe</code>).
      </p>
      <div className="row">
        {clusterField("gpus", "GPUs per node")}
        {clusterField("nodes", "nodes")}
        <button type="button" className="secondary" onClick={() => void downloadRecipe()} data-testid="download-recipe">
          Download cluster recipe
        </button>
      </div>
      {saved ? <p role="status">{saved}</p> : null}
      {error ? <ErrorNote error={error} context="The export" /> : null}
    </div>
  );
}
