/** Block Influence (ShortGPT: 1 − mean cos between a block's input and output) as a bar per block; low bars are the blocks that change least. */
import { useRef } from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { blockInfluenceCsv } from "../prune/layer-analysis-files";
import { ChartDownloads } from "./ChartDownloads";

export function AnalyzeInfluenceChart({ blockInfluence }: { blockInfluence: readonly number[] }) {
  const data = blockInfluence.map((bi, l) => ({ block: l, bi }));
  const figure = useRef<HTMLElement>(null);
  return (
    <figure ref={figure} data-testid="block-influence">
      <figcaption>
        Block Influence BI_l = 1 − mean cos(h_l, h_l+1) over every token{" "}
        <ChartDownloads
          figure={figure}
          name="block_influence"
          label="Block Influence"
          csv={() => blockInfluenceCsv({ blockInfluence: [...blockInfluence] })}
        />
      </figcaption>
      <BarChart width={Math.max(320, 28 * data.length + 80)} height={220} data={data} accessibilityLayer>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="block" label={{ value: "block l", position: "insideBottom", offset: -2 }} height={36} />
        <YAxis tickFormatter={(v: number) => v.toFixed(2)} width={48} />
        <Tooltip formatter={(v) => (typeof v === "number" ? v.toFixed(4) : String(v))} labelFormatter={(l) => `block ${l}`} />
        <Bar dataKey="bi" name="BI" fill="#3b528b" isAnimationActive={false} />
      </BarChart>
    </figure>
  );
}
