/**
 * The l × n angular-distance heatmap as a standalone SVG document (start block across, block size
 * down, the best start of each size outlined, a colour legend), and the colour scale the
 * interactive heatmap shares with it.
 */
import { bestStarts, type LayerAnalysis } from "./layer-analysis";

/** Viridis at 9 stops: perceptually even and readable in greyscale and by most colour-blind readers. */
const viridis = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];

/** Colour of `t` ∈ [0, 1] (clamped), dark for small distances (the blocks worth pruning). */
export function heatmapColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (viridis.length - 1);
  const i = Math.min(viridis.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [viridis[i], viridis[i + 1]].map((hex) => [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16)));
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(", ")})`;
}

/** Smallest and largest distance over every (l, n). */
export function distanceRange(analysis: LayerAnalysis): { min: number; max: number } {
  const all = analysis.angular.flat();
  return { min: Math.min(...all), max: Math.max(...all) };
}

export function heatmapSvg(analysis: LayerAnalysis, { cell = 20, title = "Angular distance d(l, n)" } = {}): string {
  const L = analysis.layers;
  const { min, max } = distanceRange(analysis);
  const scale = (d: number) => (max > min ? (d - min) / (max - min) : 0);
  const best = bestStarts(analysis);
  const left = 48;
  const top = 54;
  const legendWidth = 200;
  const width = Math.max(left + L * cell + 16, left + legendWidth + 40);
  const height = top + L * cell + 96;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="16" font-size="13">${title}</text>`,
    `<text x="${left}" y="34">start block l →</text>`,
    `<text x="12" y="${top + (L * cell) / 2}" transform="rotate(-90 12 ${top + (L * cell) / 2})" text-anchor="middle">← block size n</text>`,
  ];
  for (let l = 0; l < L; l++) {
    parts.push(`<text x="${left + l * cell + cell / 2}" y="${top - 4}" text-anchor="middle">${l}</text>`);
  }
  analysis.angular.forEach((row, k) => {
    const y = top + k * cell;
    parts.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end">${k + 1}</text>`);
    row.forEach((d, l) => {
      const x = left + l * cell;
      const outline = best[k] === l ? ` stroke="#e0245e" stroke-width="2"` : "";
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heatmapColor(scale(d))}"${outline}><title>l=${l} n=${k + 1} d=${d.toFixed(4)}</title></rect>`,
      );
    });
  });
  const legendY = top + L * cell + 24;
  parts.push('<defs><linearGradient id="legend">');
  viridis.forEach((c, i) => {
    parts.push(`<stop offset="${(i / (viridis.length - 1)).toFixed(3)}" stop-color="${c}"/>`);
  });
  parts.push("</linearGradient></defs>");
  parts.push(`<rect x="${left}" y="${legendY}" width="${legendWidth}" height="12" fill="url(#legend)"/>`);
  parts.push(`<text x="${left}" y="${legendY + 26}">${min.toFixed(3)}</text>`);
  parts.push(`<text x="${left + legendWidth}" y="${legendY + 26}" text-anchor="end">${max.toFixed(3)}</text>`);
  parts.push(`<text x="${left}" y="${legendY + 44}">outlined: the best start for each size</text>`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
