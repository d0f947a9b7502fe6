/** A chart's downloads: its drawing as PNG (white background, twice its size) and the data it plots as CSV. */
import type { RefObject } from "react";
import { downloadFile } from "./AnalyzeExports";
import { chartSvg, type LegendEntry, svgToPng } from "./chart-export";

export interface ChartDownloadsProps {
  /** The element holding the chart's <svg>. */
  figure: RefObject<HTMLElement | null>;
  /** File name without extension. */
  name: string;
  /** What the buttons say before "PNG" and "CSV". */
  label: string;
  csv: () => string;
  legend?: readonly LegendEntry[];
}

export function ChartDownloads({ figure, name, label, csv, legend }: ChartDownloadsProps) {
  const savePng = async () => {
    const svg = chartSvg(figure.current, legend);
    if (svg) downloadFile(`${name}.png`, await svgToPng(svg));
  };
  return (
    <span className="row inline">
      <button type="button" className="secondary" onClick={() => void savePng()}>
        {label} PNG
      </button>
      <button type="button" className="secondary" onClick={() => downloadFile(`${name}.csv`, new Blob([csv()], { type: "text/csv" }))}>
        {label} CSV
      </button>
    </span>
  );
}
