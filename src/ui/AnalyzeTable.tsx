/** Every (l, n) with its distance and what dropping it saves, sortable by any column; a row's button chooses it. */
import { useMemo, useState } from "react";
import type { LlamaConfig } from "../model/config";
import { pruneSavings } from "../prune/accounting";
import type { LayerAnalysis } from "../prune/layer-analysis";
import type { BlockChoice } from "./Heatmap";
import { formatCount } from "./quantities";

type Column = "start" | "count" | "distance" | "parameters" | "flops";

const columns: { key: Column; label: string }[] = [
  { key: "start", label: "Start l" },
  { key: "count", label: "Size n" },
  { key: "distance", label: "Distance" },
  { key: "parameters", label: "Parameters saved" },
  { key: "flops", label: "FLOPs saved" },
];

export function AnalyzeTable({
  analysis,
  config,
  onSelect,
}: {
  analysis: LayerAnalysis;
  config: LlamaConfig;
  onSelect: (choice: BlockChoice) => void;
}) {
  const [sort, setSort] = useState<{ key: Column; ascending: boolean }>({ key: "distance", ascending: true });
  const rows = useMemo(() => {
    const contextLength = Math.min(2048, config.maxPositionEmbeddings);
    // n = L (every block) is no model any more: it stays in the heatmap but cannot be chosen here.
    return analysis.angular.slice(0, analysis.layers - 1).flatMap((row, k) =>
      row.map((distance, start) => {
        const saved = pruneSavings(config, start, k + 1, { contextLength });
        return { start, count: k + 1, distance, parameters: saved.parameters, flops: saved.flopsFraction };
      }),
    );
  }, [analysis, config]);
  const sorted = [...rows].sort(
    (a, b) => (sort.ascending ? 1 : -1) * (a[sort.key] - b[sort.key]) || a.count - b.count || a.start - b.start,
  );
  return (
    <table data-testid="distance-table">
      <caption>All {rows.length} runs of blocks that leave at least one</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.key} scope="col" aria-sort={sort.key === c.key ? (sort.ascending ? "ascending" : "descending") : "none"}>
              <button
                type="button"
                className="secondary"
                onClick={() => setSort({ key: c.key, ascending: sort.key === c.key ? !sort.ascending : true })}
              >
                {c.label}
                {sort.key === c.key ? (sort.ascending ? " ▲" : " ▼") : ""}
              </button>
            </th>
          ))}
          <th scope="col">Choose</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((r) => (
          <tr key={`${r.start}-${r.count}`}>
            <td>{r.start}</td>
            <td>{r.count}</td>
            <td>{r.distance.toFixed(4)}</td>
            <td>{formatCount(r.parameters)}</td>
            <td>{(100 * r.flops).toFixed(1)} %</td>
            <td>
              <button type="button" className="secondary" onClick={() => onSelect({ start: r.start, count: r.count })}>
                Choose l={r.start}, n={r.count}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
