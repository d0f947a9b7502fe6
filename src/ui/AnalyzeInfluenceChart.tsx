/** Block Influence (ShortGPT: 1 − mean cos between a block's input and output) as a bar per block; low bars are the blocks that change least. */
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";

export function AnalyzeInfluenceChart({ blockInfluence }: { blockInfluence: readonly number[] }) {
  const data = blockInfluence.map((bi, l) => ({ block: l, bi }));
  return (
    <figure data-testid="block-influence">
      <figcaption>Block Influence BI_l = 1 − mean cos(h_l, h_l+1) over every token</figcaption>
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
