import { describe, expect, it } from "vitest";
import {
  accumulateSimilarity,
  createSimilarityTotals,
  meanSimilarityCpu,
  rowCosineSimilarity,
  rowCosineSimilarityCpu,
  similarityMeans,
} from "../../src/ops/similarity";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

// cos is a quotient of three dim-term f32 sums (~dim·2^-24 relative each) and lies in [-1, 1], so
// 2e-6 absolute covers it for dim ≤ 1000. acos has slope 1/√(1−c²): for the rows here (|c| ≤ 0.999)
// that is ≤ 23, so angular distance (÷π) is within 2e-5; rows identical up to rounding may compute
// c = 1 − 2^-24 instead of 1, i.e. acos = √(2·2^-24)/π ≈ 1.1e-4, hence a separate looser bound.
const cosAtol = 2e-6;
const angleAtol = 2e-5;
const identicalAngleAtol = 1.2e-4;

/**
 * Pairs of rows with a spread of similarities: b = t·a + (1−t)·noise, t from 0 to 0.95, plus a zero
 * row in a (row 1), and a negated row (row 2).
 */
function hiddenStates(n: number, dim: number, seed: number): { a: Float32Array; b: Float32Array } {
  const a = randn(n * dim, seed, 3);
  const noise = randn(n * dim, seed + 1, 3);
  const b = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const t = (0.95 * r) / Math.max(1, n - 1);
    for (let i = 0; i < dim; i++) b[r * dim + i] = t * a[r * dim + i] + (1 - t) * noise[r * dim + i];
  }
  if (n > 1) a.fill(0, dim, 2 * dim);
  if (n > 2) for (let i = 0; i < dim; i++) b[2 * dim + i] = -a[2 * dim + i];
  return { a, b };
}

describe("similarity", () => {
  it.each([[[33, 67]], [[5, 1]], [[3, 1000]], [[2, 3, 45]]])(
    "row cosine similarity matches the CPU reference (shape %j)",
    async (shape) => {
      const gpu = await testGpu();
      const dim = shape.at(-1) ?? 0;
      const n = shape.reduce((x, y) => x * y, 1) / dim;
      const { a, b } = hiddenStates(n, dim, n + dim);
      const at = gpu.upload(a, shape);
      const bt = gpu.upload(b, shape);
      const cos = await gpu.read(rowCosineSimilarity(gpu, at, bt));
      const ref = rowCosineSimilarityCpu(a, b, n, dim);
      expectClose(cos, ref, 0, cosAtol, "cos");
      if (n > 2 && dim > 1) {
        expect(cos[1]).toBe(0);
        expect(cos[2]).toBeCloseTo(-1, 6);
      }
      gpu.release(at, bt);
    },
  );

  it("accumulates mean cosine and angular distance over masked and listed rows across batches", async () => {
    const gpu = await testGpu();
    const [n, dim] = [33, 67];
    const batches = [hiddenStates(n, dim, 1), hiddenStates(n, dim, 2)];
    const maskValues = Uint32Array.from({ length: n }, (_, r) => (r % 3 === 0 ? 0 : 1 + (r % 2)));
    const list = [5, 0, 32, 5, 17];
    const masked = createSimilarityTotals(gpu);
    const listed = createSimilarityTotals(gpu);
    const mask = gpu.upload(maskValues, [3, 11]);
    const rows = gpu.upload(Uint32Array.from([...list, n, 1000]), [list.length + 2]);
    const uploads = [mask, rows];
    const cosRef: number[] = [];
    const maskedRows: number[] = [];
    const listedRows: number[] = [];
    batches.forEach(({ a, b }, k) => {
      const at = gpu.upload(a, [n, dim]);
      const bt = gpu.upload(b, [n, dim]);
      uploads.push(at, bt);
      accumulateSimilarity(gpu, at, bt, { mask }, masked);
      accumulateSimilarity(gpu, at, bt, { rows }, listed);
      cosRef.push(...rowCosineSimilarityCpu(a, b, n, dim));
      for (let r = 0; r < n; r++) if (maskValues[r] !== 0) maskedRows.push(k * n + r);
      listedRows.push(...list.map((r) => k * n + r));
    });
    for (const [totals, selected, what] of [
      [masked, maskedRows, "masked"],
      [listed, listedRows, "listed"],
    ] as const) {
      const got = similarityMeans(await gpu.read(totals));
      const ref = meanSimilarityCpu(cosRef, selected);
      expect(got.rows, `${what} rows`).toBe(selected.length);
      expectClose([got.cosine], [ref.cosine], 0, cosAtol, `${what} mean cosine`);
      expectClose([got.angularDistance], [ref.angularDistance], 0, angleAtol, `${what} mean angular distance`);
    }
    gpu.release(masked, listed, ...uploads);
  });

  it("gives distance 0 for identical rows, 1 for opposite rows and 1/2 for a zero row", async () => {
    const gpu = await testGpu();
    const dim = 45;
    const a = randn(3 * dim, 9);
    const b = a.slice();
    for (let i = dim; i < 2 * dim; i++) b[i] = -a[i];
    b.fill(0, 2 * dim);
    const at = gpu.upload(a, [3, dim]);
    const bt = gpu.upload(b, [3, dim]);
    const expected = [0, 1, 0.5];
    for (let r = 0; r < 3; r++) {
      const totals = createSimilarityTotals(gpu);
      const rows = gpu.upload(Uint32Array.of(r), [1]);
      accumulateSimilarity(gpu, at, bt, { rows }, totals);
      const { angularDistance } = similarityMeans(await gpu.read(totals));
      expectClose([angularDistance], [expected[r]], 0, identicalAngleAtol, `row ${r}`);
      gpu.release(totals, rows);
    }
    gpu.release(at, bt);
  });

  it("rejects mismatched shapes and a mask of the wrong size, naming them", async () => {
    const gpu = await testGpu();
    const a = gpu.upload(randn(12, 1), [3, 4], undefined, "h5");
    const b = gpu.upload(randn(12, 2), [4, 3], undefined, "h7");
    const mask = gpu.upload(new Uint32Array(4), [4], undefined, "keymask");
    const totals = createSimilarityTotals(gpu);
    expect(() => rowCosineSimilarity(gpu, a, b)).toThrow(/rowCosineSimilarity: b has shape \[4, 3\], expected \[3, 4\]/);
    expect(() => accumulateSimilarity(gpu, a, a, { mask }, totals)).toThrow(
      /accumulateSimilarity: mask keymask\[4\] u32 must be u32 with one entry per row/,
    );
    gpu.release(a, b, mask, totals);
  });
});
