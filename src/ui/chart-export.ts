/**
 * Charts as image files: a chart's <svg> made standalone (namespace, rendered size, font, and the
 * legend Recharts draws in HTML outside the SVG), and any SVG drawn onto a white canvas as a PNG.
 */

export interface LegendEntry {
  name: string;
  colour: string;
}

const svgNs = "http://www.w3.org/2000/svg";
const legendHeight = 24;

/**
 * The chart's <svg> inside `container` as a standalone SVG document at its rendered size; undefined
 * without one. Recharts' HTML legend holds small <svg> icons of its own: those are passed over.
 */
export function chartSvg(container: Element | null, legend: readonly LegendEntry[] = []): string | undefined {
  const svg = [...(container?.querySelectorAll("svg") ?? [])].find((s) => !s.closest(".recharts-legend-wrapper"));
  if (!svg) return undefined;
  const { width, height } = svg.getBoundingClientRect();
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const total = Math.round(height) + (legend.length > 0 ? legendHeight : 0);
  copy.setAttribute("xmlns", svgNs);
  copy.setAttribute("width", String(Math.round(width)));
  copy.setAttribute("height", String(total));
  copy.setAttribute("viewBox", `0 0 ${Math.round(width)} ${total}`);
  // The page's stylesheet does not travel with the file; the font is the one thing the chart takes from it.
  copy.setAttribute("font-family", getComputedStyle(svg).fontFamily);
  copy.setAttribute("font-size", "12");
  let x = 56;
  for (const entry of legend) {
    const y = Math.round(height) + legendHeight / 2;
    const line = document.createElementNS(svgNs, "line");
    for (const [k, v] of Object.entries({ x1: x, x2: x + 16, y1: y, y2: y, stroke: entry.colour, "stroke-width": 2 })) {
      line.setAttribute(k, String(v));
    }
    const text = document.createElementNS(svgNs, "text");
    for (const [k, v] of Object.entries({ x: x + 22, y: y + 4, fill: "#333" })) text.setAttribute(k, String(v));
    text.textContent = entry.name;
    copy.append(line, text);
    x += 40 + 8 * entry.name.length;
  }
  return new XMLSerializer().serializeToString(copy);
}

/** The SVG (with width and height) drawn at `scale`× its size on white, as a PNG Blob. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const image = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  try {
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth * scale;
    canvas.height = image.naturalHeight * scale;
    const context = canvas.getContext("2d");
    if (!context) throw new Error("svgToPng: this browser gives no 2D canvas");
    // PNG keeps transparency; charts are drawn for a white page.
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, image.naturalWidth, image.naturalHeight);
    return await new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("svgToPng: PNG encoding failed"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}
