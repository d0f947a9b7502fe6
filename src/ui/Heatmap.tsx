/**
 * The l × n angular-distance heatmap: start block across, block size down, one button per (l, n)
 * coloured on the shared viridis scale, the best start of each size marked ★. Hover or focus shows
 * the distance and what dropping those blocks saves; click or Enter selects. Keyboard: a single tab
 * stop, arrow keys move between cells (roving tabindex).
 */
import { type KeyboardEvent, useRef, useState } from "react";
import type { LlamaConfig } from "../model/config";
import { pruneSavings } from "../prune/accounting";
import { distanceRange, heatmapColor } from "../prune/heatmap-svg";
import { bestStarts, type LayerAnalysis } from "../prune/layer-analysis";
import { formatCount } from "./quantities";

export interface BlockChoice {
  start: number;
  count: number;
}

/** "Dropping blocks 3–5 saves 12 M parameters (9.1 %) and 10.2 % of FLOPs per token": what a hover shows. */
export function describeBlocks(config: LlamaConfig, start: number, count: number, contextLength: number): string {
  if (count >= config.numHiddenLayers) return "Every block: nothing would be left.";
  const saved = pruneSavings(config, start, count, { contextLength });
  const blocks = count === 1 ? `block ${start}` : `blocks ${start}–${start + count - 1}`;
  return `Dropping ${blocks} saves ${formatCount(saved.parameters)} parameters (${(100 * saved.parametersFraction).toFixed(1)} %) and ${(100 * saved.flopsFraction).toFixed(1)} % of FLOPs per token at ${contextLength} tokens of context.`;
}

export function Heatmap({
  analysis,
  config,
  selected,
  onSelect,
}: {
  analysis: LayerAnalysis;
  /** The full model's config, for the savings. */
  config: LlamaConfig;
  selected?: BlockChoice;
  onSelect: (choice: BlockChoice) => void;
}) {
  const L = analysis.layers;
  const { min, max } = distanceRange(analysis);
  const best = bestStarts(analysis);
  const blocks = [...Array(L).keys()];
  const [focus, setFocus] = useState<BlockChoice>(selected && selected.count > 0 ? selected : { start: best[0], count: 1 });
  const [shown, setShown] = useState<BlockChoice | undefined>();
  const grid = useRef<HTMLTableElement>(null);
  const contextLength = Math.min(2048, config.maxPositionEmbeddings);
  const info = shown ?? (selected && selected.count > 0 ? selected : undefined);

  const move = (e: KeyboardEvent, start: number, count: number) => {
    const step: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const d = step[e.key];
    if (!d) return;
    e.preventDefault();
    const n = Math.min(L, Math.max(1, count + d[1]));
    const l = Math.min(L - n, Math.max(0, start + d[0]));
    setFocus({ start: l, count: n });
    setShown({ start: l, count: n });
    grid.current?.querySelector<HTMLButtonElement>(`[data-l="${l}"][data-n="${n}"]`)?.focus();
  };

  return (
    <figure className="heatmap" data-testid="heatmap">
      <figcaption>
        Angular distance d(l, n) between the hidden state entering block l and entering block l + n, averaged over {analysis.numSamples}{" "}
        samples ({analysis.tokens === "last" ? "last token of each" : "every token"}). Dark: the blocks change little — candidates to drop.
      </figcaption>
      <table ref={grid} aria-label="Angular distance by start block (columns) and block size (rows)" style={{ borderCollapse: "collapse" }}>
        <thead>
          <tr>
            <th scope="col">n \ l</th>
            {blocks.map((l) => (
              <th key={l} scope="col" style={{ fontWeight: "normal", fontSize: "0.75rem" }}>
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {analysis.angular.map((row, k) => {
            const n = k + 1;
            return (
              <tr key={n}>
                <th scope="row" style={{ fontWeight: "normal", fontSize: "0.75rem" }}>
                  {n}
                </th>
                {blocks.map((l) => {
                  if (l >= row.length) return <td key={l} />;
                  const d = row[l];
                  const isSelected = selected?.start === l && selected.count === n;
                  const isBest = best[k] === l;
                  const t = max > min ? (d - min) / (max - min) : 0;
                  return (
                    <td key={l} style={{ padding: 0 }}>
                      <button
                        type="button"
                        data-l={l}
                        data-n={n}
                        tabIndex={focus.start === l && focus.count === n ? 0 : -1}
                        aria-pressed={isSelected}
                        aria-label={`start ${l}, size ${n}: distance ${d.toFixed(4)}${isBest ? ", best start for this size" : ""}`}
                        onClick={() => {
                          if (n < L) onSelect({ start: l, count: n });
                        }}
                        onMouseEnter={() => setShown({ start: l, count: n })}
                        onMouseLeave={() => setShown(undefined)}
                        onFocus={() => {
                          setFocus({ start: l, count: n });
                          setShown({ start: l, count: n });
                        }}
                        onKeyDown={(e) => move(e, l, n)}
                        style={{
                          width: "1.6rem",
                          height: "1.6rem",
                          padding: 0,
                          border: isSelected ? "3px solid #e0245e" : "1px solid rgba(255,255,255,0.4)",
                          borderRadius: 0,
                          background: heatmapColor(t),
                          color: t > 0.6 ? "#000" : "#fff",
                          fontSize: "0.7rem",
                          cursor: "pointer",
                        }}
                      >
                        {isBest ? "★" : ""}
                      </button>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="row" aria-hidden="true" style={{ alignItems: "center", gap: "0.5rem" }}>
        <span>{min.toFixed(3)}</span>
        <span
          style={{
            width: "12rem",
            height: "0.8rem",
            background: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(heatmapColor).join(", ")})`,
          }}
        />
        <span>{max.toFixed(3)}</span>
        <span className="muted">★ best start for each size</span>
      </div>
      <p className="muted" role="status" aria-live="polite" data-testid="heatmap-info">
        {info
          ? `l = ${info.start}, n = ${info.count}: distance ${analysis.angular[info.count - 1][info.start].toFixed(4)}. ${describeBlocks(config, info.start, info.count, contextLength)}`
          : "Hover or focus a cell for its distance and savings; click or press Enter to choose it."}
      </p>
    </figure>
  );
}
