import { describe, expect, it } from "vitest";
import { z95 } from "../../src/eval/confidence-interval";
import { errorComponents, pairedBootstrap, quantile } from "../../src/eval/paired-bootstrap";
import { mulberry32 } from "../../src/seeded-random";

describe("paired bootstrap", () => {
  it("quantile interpolates as numpy does", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it("a constant per-item difference has a point interval; identical arms give 0", () => {
    const d = pairedBootstrap([{ a: [1, 1, 0, 1], b: [0, 0, -1, 0] }], { resamples: 200 });
    expect(d).toMatchObject({ mean: 1, ci: [1, 1], items: 4, resamples: 200 });
    expect(pairedBootstrap([{ a: [1, 0, 1], b: [1, 0, 1] }], { resamples: 50 }).ci).toEqual([0, 0]);
  });

  it("agrees with the normal interval of a mean difference on many items, and is reproducible by seed", () => {
    const random = mulberry32(7);
    const a = Array.from({ length: 400 }, () => (random() < 0.6 ? 1 : 0));
    const b = Array.from({ length: 400 }, () => (random() < 0.5 ? 1 : 0));
    const diffs = a.map((x, i) => x - b[i]);
    const m = diffs.reduce((s, x) => s + x, 0) / diffs.length;
    const se = Math.sqrt(diffs.reduce((s, x) => s + (x - m) ** 2, 0) / (diffs.length - 1) / diffs.length);
    const boot = pairedBootstrap([{ a, b }], { resamples: 4000, seed: 3 });
    expect(boot.mean).toBeCloseTo(m, 12);
    expect(boot.ci[0]).toBeCloseTo(m - z95 * se, 2);
    expect(boot.ci[1]).toBeCloseTo(m + z95 * se, 2);
    expect(pairedBootstrap([{ a, b }], { resamples: 4000, seed: 3 })).toEqual(boot);
    expect(pairedBootstrap([{ a, b }], { resamples: 4000, seed: 4 }).ci).not.toEqual(boot.ci);
  });

  it("weighs tasks equally (a suite average), resampling within each task", () => {
    const d = pairedBootstrap(
      [
        { a: [1, 1], b: [0, 0] },
        { a: [0, 0, 0, 0, 0, 0], b: [0, 0, 0, 0, 0, 0] },
      ],
      { resamples: 100 },
    );
    expect(d.mean).toBe(0.5);
    expect(d.ci).toEqual([0.5, 0.5]);
    expect(() => pairedBootstrap([{ a: [1], b: [1, 0] }])).toThrow(/pairs 1 items of A with 2 of B/);
  });
});

describe("error components", () => {
  it("separates the items' error from the seeds' spread (hand-computed)", () => {
    // Seed means 0.75 and 0.25: spread √((0.25² + 0.25²)/1) = 0.3536. Items averaged over seeds:
    // 1, 0.5, 0, 0.5 → mean 0.5, s² = (0.25 + 0 + 0.25 + 0)/3, SE = √(s²/4).
    const c = errorComponents([
      [1, 1, 0, 1],
      [1, 0, 0, 0],
    ]);
    expect(c.mean).toBe(0.5);
    expect(c.seedSd).toBeCloseTo(Math.SQRT2 * 0.25, 12);
    expect(c.evalSe).toBeCloseTo(Math.sqrt(0.5 / 3 / 4), 12);
    expect(c.evalCi[0]).toBeCloseTo(0.5 - z95 * c.evalSe, 12);
    expect(c).toMatchObject({ seeds: 2, items: 4 });
  });

  it("has no seed spread for one seed or identical seeds, and refuses ragged input", () => {
    expect(errorComponents([[1, 0, 1]]).seedSd).toBe(0);
    expect(
      errorComponents([
        [1, 0],
        [1, 0],
      ]).seedSd,
    ).toBe(0);
    expect(() => errorComponents([[1, 0], [1]])).toThrow(/same items/);
  });
});
