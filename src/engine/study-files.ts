/**
 * Everything a study produced, as the files of one folder that the Python ecosystem reads: datasets
 * as Alpaca JSONL, adapters in PEFT's format, PruneMe's layer_distances.csv, mergekit YAML for the
 * slice and for the SLERP merge of the two fine-tunes (at the experiment's t), the loss and quick-evaluation
 * curves as CSV, the results JSON and the run manifest. The
 * pruned model's Hugging Face folder comes from the engine (`exportModel`) and is added under
 * `pruned-model/` by the caller.
 */
import { type AlpacaRecord, toAlpacaJsonl } from "../distill/alpaca-jsonl";
import { evalCurvesCsv, type QuickEvalPoint } from "../eval/eval-curve";
import { lossCsv } from "../export/loss-csv";
import { mergekitSlerpYaml } from "../export/mergekit-slerp";
import { peftAdapterFiles } from "../export/peft-adapter";
import { resultsJson } from "../export/results-files";
import type { LayerAnalysis } from "../prune/layer-analysis";
import { layerDistancesCsv } from "../prune/layer-analysis-files";
import { mergekitSliceYaml } from "../prune/mergekit-slice";
import type { EvaluatedModel } from "./evaluate";
import type { Manifest } from "./manifest";
import { manifestToJson } from "./manifest";
import type { ExportedFile } from "./requests";
import type { TrainedAdapter } from "./train";

export interface StudyOutputs {
  manifest: Manifest;
  /** The full model's name and block count. */
  model: { name: string; layers: number };
  pruned?: { start: number; count: number };
  analysis?: LayerAnalysis;
  datasets: { name: string; records: AlpacaRecord[] }[];
  adapters: TrainedAdapter[];
  /** Each run's quick-evaluation points while it trained. */
  evalCurves?: { run: string; points: QuickEvalPoint[] }[];
  evaluation?: EvaluatedModel[];
}

/** Every run's steps, one row each, for plotting elsewhere (loss_curves.csv). */
export function lossCurvesCsv(adapters: readonly Pick<TrainedAdapter, "run" | "history">[]): string {
  return lossCsv(
    ["run"],
    ["step", "loss", "grad_norm", "lr", "counted_tokens", "skipped"],
    adapters.map((a) => ({ labels: { run: a.run }, history: a.history })),
  );
}

const text = (name: string, contents: string): ExportedFile => ({ name, bytes: new TextEncoder().encode(contents) });

export function studyFiles(study: StudyOutputs): ExportedFile[] {
  const files = [text("manifest.json", manifestToJson(study.manifest))];
  if (study.analysis) files.push(text("layer_distances.csv", layerDistancesCsv(study.analysis)));
  const { pruned, model } = study;
  const prunedName = pruned ? `${model.name}-pruned-${pruned.start}-${pruned.count}` : model.name;
  if (pruned) files.push(text("mergekit/slice.yaml", mergekitSliceYaml(model.name, model.layers, pruned.start, pruned.count)));
  for (const d of study.datasets) files.push(text(`datasets/${d.name}.jsonl`, toAlpacaJsonl(d.records)));
  for (const a of study.adapters) {
    const adapterFiles = peftAdapterFiles({ config: a.config, tensors: a.tensors, layers: a.layers, baseModel: prunedName });
    for (const [name, bytes] of adapterFiles) files.push({ name: `adapters/${a.run}/${name}`, bytes });
  }
  const runs = new Set(study.adapters.map((a) => a.run));
  if (runs.has("sft") && runs.has("sdd")) {
    const layers = model.layers - (pruned?.count ?? 0);
    files.push(
      text(
        "mergekit/slerp.yaml",
        mergekitSlerpYaml({ modelA: `${prunedName}-sft`, modelB: `${prunedName}-sdd`, layers, t: study.manifest.experiment.merge.t }),
      ),
    );
  }
  const results = {
    model: model.name,
    pruned: pruned ?? null,
    training: study.adapters.map((a) => ({
      run: a.run,
      lora: a.config,
      history: a.history,
      evalCurve: study.evalCurves?.find((c) => c.run === a.run)?.points ?? [],
      cancelled: a.cancelled,
    })),
    evaluation: study.evaluation ?? [],
  };
  if (study.adapters.length > 0) files.push(text("loss_curves.csv", lossCurvesCsv(study.adapters)));
  if (study.evalCurves?.some((c) => c.points.length > 0)) files.push(text("eval_curves.csv", evalCurvesCsv(study.evalCurves)));
  files.push(text("results.json", resultsJson(results)));
  return files;
}
