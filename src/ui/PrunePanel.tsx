/**
 * The Prune step: the chosen block (from the heatmap or typed in), what dropping it saves, the
 * prune itself with a before/after perplexity check on the calibration text, the model card of the
 * model now in use, and the exports: the pruned model as a Hugging Face folder and the mergekit
 * passthrough YAML that rebuilds it from the original at full scale.
 */
import { useState } from "react";
import { mergekitSliceYaml } from "../prune/mergekit-slice";
import { exportModel, pruneModel, usePruneStep } from "../store/prune-store";
import { useWorkbench } from "../store/workbench-store";
import type { RpcError } from "../worker/rpc";
import { downloadFile } from "./AnalyzeExports";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { describeBlocks } from "./Heatmap";
import { JobProgress } from "./JobProgress";
import { ModelCardView } from "./ModelCardView";

export function PrunePanel() {
  const card = useWorkbench((s) => s.model.card);
  const { start, count } = useWorkbench((s) => s.experiment.prune);
  const step = usePruneStep();
  const [exportError, setExportError] = useState<RpcError>();
  const [exporting, setExporting] = useState(false);
  if (!card) {
    return (
      <div className="panel-body">
        <p className="note">Load a model in the Model step first.</p>
      </div>
    );
  }
  const config = step.analysis?.config;
  const layers = config?.numHiddenLayers ?? (step.pruned ? step.pruned.card.layers + step.pruned.count : card.layers);
  const valid = count > 0 && start + count <= layers && count < layers;
  const busy = step.pruneJob !== undefined;
  const distance = valid ? step.analysis?.analysis.angular[count - 1]?.[start] : undefined;
  const modelName = card.name.replace(/ without blocks? .*$/, "");

  const saveFolder = async () => {
    setExporting(true);
    setExportError(undefined);
    const { files, error } = await exportModel();
    setExporting(false);
    if (error) setExportError(error);
    for (const f of files ?? []) downloadFile(f.name, new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
  };

  return (
    <div className="panel-body">
      <ExperimentFields legend="Blocks to drop" fields={panelFields.prune ?? []} />
      <p data-testid="prune-choice">
        {valid
          ? `Blocks ${start}–${start + count - 1} of ${layers}${distance !== undefined ? `, angular distance ${distance.toFixed(4)}` : ""}. ${config ? describeBlocks(config, start, count, Math.min(2048, config.maxPositionEmbeddings)) : ""}`
          : `Choose a block in the Analyze step's heatmap, or set the first block and a count (1 … ${layers - 1}) above.`}
      </p>
      <div className="row">
        <button type="button" onClick={() => void pruneModel(start, count)} disabled={!valid || busy}>
          Prune
        </button>
        <button type="button" className="secondary" onClick={() => void pruneModel(0, 0)} disabled={!step.pruned || busy}>
          Restore the full model
        </button>
      </div>
      {step.pruneJob ? <JobProgress job={step.pruneJob} /> : null}
      {step.pruneError ? <ErrorNote error={step.pruneError} context="Pruning" /> : null}
      {step.pruned ? (
        <p role="status" data-testid="prune-check">
          Dropped blocks {step.pruned.start}–{step.pruned.start + step.pruned.count - 1}.{" "}
          {step.pruned.perplexity
            ? `Perplexity on the calibration text: ${step.pruned.perplexity.before.toFixed(2)} before, ${step.pruned.perplexity.after.toFixed(2)} after.`
            : "Run the analysis first to see the perplexity before and after."}
        </p>
      ) : null}
      <ModelCardView card={card} />
      <h3>Export</h3>
      <div className="row">
        <button type="button" className="secondary" onClick={() => void saveFolder()} disabled={exporting || busy}>
          {exporting ? "Preparing files…" : `Download ${step.pruned ? "the pruned" : "the"} model as a Hugging Face folder`}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!valid}
          onClick={() =>
            downloadFile("prune-slice.yaml", new Blob([mergekitSliceYaml(modelName, layers, start, count)], { type: "text/yaml" }))
          }
        >
          mergekit passthrough YAML
        </button>
      </div>
      {exportError ? <ErrorNote error={exportError} context="The export" /> : null}
      {valid ? (
        <details>
          <summary>mergekit passthrough YAML</summary>
          <pre>{mergekitSliceYaml(modelName, layers, start, count)}</pre>
        </details>
      ) : null}
    </div>
  );
}
