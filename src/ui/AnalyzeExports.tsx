/** The analysis as downloads: PruneMe's layer_distances.csv, the CLI's JSON, and the heatmap as SVG and PNG (drawn through a canvas). */
import { heatmapSvg } from "../prune/heatmap-svg";
import type { LayerAnalysis } from "../prune/layer-analysis";
import { layerAnalysisJson, layerDistancesCsv } from "../prune/layer-analysis-files";
import { svgToPng } from "./chart-export";

/** Saves `contents` under `name` through a temporary object URL. */
export function downloadFile(name: string, contents: Blob): void {
  const url = URL.createObjectURL(contents);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  // The download has started once click() returns; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function AnalyzeExports({ analysis }: { analysis: LayerAnalysis }) {
  const svg = () => heatmapSvg(analysis);
  return (
    <fieldset className="row">
      <legend>Export the analysis</legend>
      <button
        type="button"
        className="secondary"
        onClick={() => downloadFile("layer_distances.csv", new Blob([layerDistancesCsv(analysis)], { type: "text/csv" }))}
      >
        layer_distances.csv
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() =>
          downloadFile("layer_analysis.json", new Blob([JSON.stringify(layerAnalysisJson(analysis))], { type: "application/json" }))
        }
      >
        layer_analysis.json
      </button>
      <button type="button" className="secondary" onClick={() => downloadFile("heatmap.svg", new Blob([svg()], { type: "image/svg+xml" }))}>
        Heatmap SVG
      </button>
      <button type="button" className="secondary" onClick={async () => downloadFile("heatmap.png", await svgToPng(svg()))}>
        Heatmap PNG
      </button>
      <span className="muted">
        CSV columns as PruneMe writes them: block_start = l (0-based first dropped block), block_end = l + n (exclusive).
      </span>
    </fieldset>
  );
}
