/**
 * Hidden-state similarity for choosing blocks to prune: per-row cosine similarity and angular
 * distance acos(cos)/π (Gromov et al. 2024), summed over selected rows on the GPU. Block Influence
 * (ShortGPT) is 1 − mean cosine of the same sums.
 */
import shader from "../../shaders/similarity.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, expectShape, numel, type Tensor } from "../gpu/tensor";

/** Which rows count: a u32 list of row indices, or a u32 mask with one entry per row (non-zero = counted). */
export type RowSelection = { rows: Tensor } | { mask: Tensor };

/** Below this norm a row counts as zero (torch.nn.functional.cosine_similarity's eps). */
export const zeroRowNorm = 1e-8;

/** Positions in the f32 [3] totals tensor. */
export const similarityTotalsIndex = { cosine: 0, angularDistance: 1, rows: 2 } as const;

/**
 * cos[r] for each row of a and b ([..., D], same shape), or for each listed row when `rows` (u32 [R])
 * is given; clamped to [−1, 1]; 0 where either row is zero (see `zeroRowNorm`).
 */
export function rowCosineSimilarity(gpu: Gpu, a: Tensor, b: Tensor, rows?: Tensor): Tensor {
  const [n, dim] = rowsDim("rowCosineSimilarity", a, b);
  if (rows) expectRowList("rowCosineSimilarity", rows);
  const count = rows ? numel(rows.shape) : n;
  const cosines = gpu.tensor([count], "f32", "similarity.cos");
  gpu.dispatch({
    op: "similarity.cosine",
    shader,
    entryPoint: rows ? "cosine_listed" : "cosine_all",
    uniforms: { p: { rows: n, dim, count } },
    bindings: rows ? { a, b, rows, cosines } : { a, b, cosines },
    workgroups: grid(count),
  });
  return cosines;
}

export function createSimilarityTotals(gpu: Gpu): Tensor {
  return gpu.zeros([3], "f32", "similarity.totals");
}

/**
 * Adds Σ cos, Σ acos(cos)/π and the number of selected rows of a, b into `totals` (f32 [3], from
 * `createSimilarityTotals`), so a whole calibration set accumulates without a readback; listed rows
 * past the end are not counted. Read `totals` once at the end and pass it to `similarityMeans`.
 */
export function accumulateSimilarity(gpu: Gpu, a: Tensor, b: Tensor, selection: RowSelection, totals: Tensor): void {
  const op = "accumulateSimilarity";
  const [n, dim] = rowsDim(op, a, b);
  expectShape(op, "totals", totals, [3]);
  if ("mask" in selection) {
    const { mask } = selection;
    if (mask.dtype !== "u32" || numel(mask.shape) !== n) {
      throw new Error(`${op}: mask ${describe(mask)} must be u32 with one entry per row of a [${a.shape.join(", ")}]`);
    }
  }
  const cosines = rowCosineSimilarity(gpu, a, b, "rows" in selection ? selection.rows : undefined);
  const count = numel(cosines.shape);
  gpu.dispatch({
    op: "similarity.accumulate",
    shader,
    entryPoint: "rows" in selection ? "accumulate_listed" : "accumulate_masked",
    uniforms: { p: { rows: n, dim, count } },
    bindings: "rows" in selection ? { rows: selection.rows, cosines, totals } : { mask: selection.mask, cosines, totals },
    workgroups: [1],
  });
  gpu.release(cosines);
}

/** Means from read-back totals; NaN when no row was selected. */
export function similarityMeans(totals: ArrayLike<number>): { cosine: number; angularDistance: number; rows: number } {
  const rows = totals[similarityTotalsIndex.rows];
  return {
    cosine: totals[similarityTotalsIndex.cosine] / rows,
    angularDistance: totals[similarityTotalsIndex.angularDistance] / rows,
    rows,
  };
}

function rowsDim(op: string, a: Tensor, b: Tensor): [number, number] {
  const dim = a.shape.at(-1);
  if (dim === undefined) throw new Error(`${op}: a must have at least one dimension`);
  expectShape(op, "b", b, a.shape);
  for (const [name, t] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (t.dtype !== "f32") throw new Error(`${op}: ${name} ${describe(t)} must be f32`);
  }
  return [numel(a.shape) / dim, dim];
}

function expectRowList(op: string, rows: Tensor): void {
  if (rows.dtype !== "u32" || rows.shape.length !== 1) throw new Error(`${op}: rows ${describe(rows)} must be a 1-D u32 list`);
}

/** CPU reference in float64: cos per row of a, b ([n, dim]). */
export function rowCosineSimilarityCpu(a: ArrayLike<number>, b: ArrayLike<number>, n: number, dim: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < dim; i++) {
      const x = a[r * dim + i];
      const y = b[r * dim + i];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const c = ab / (Math.max(Math.sqrt(aa), zeroRowNorm) * Math.max(Math.sqrt(bb), zeroRowNorm));
    out[r] = Math.min(1, Math.max(-1, c));
  }
  return out;
}

/** CPU reference: mean cosine and mean angular distance over `selected` row indices. */
export function meanSimilarityCpu(cosines: ArrayLike<number>, selected: readonly number[]): { cosine: number; angularDistance: number } {
  let c = 0;
  let d = 0;
  for (const r of selected) {
    c += cosines[r];
    d += Math.acos(cosines[r]) / Math.PI;
  }
  return { cosine: c / selected.length, angularDistance: d / selected.length };
}
