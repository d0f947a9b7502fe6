import { describe, expect, it } from "vitest";
import { accuracyInterval, ratioInterval, wilsonInterval, z95 } from "../../src/eval/confidence-interval";

describe("confidence intervals", () => {
  it("Wilson: the textbook values (8 of 10, 0 of 10, 10 of 10, 50 of 100)", () => {
    // Reference values: statsmodels proportion_confint(method="wilson").
    const near = (i: { lo: number; hi: number }, lo: number, hi: number) => {
      expect(i.lo).toBeCloseTo(lo, 4);
      expect(i.hi).toBeCloseTo(hi, 4);
    };
    near(wilsonInterval(8, 10), 0.49016, 0.94331);
    near(wilsonInterval(0, 10), 0, 0.27753);
    near(wilsonInterval(10, 10), 0.72247, 1);
    near(wilsonInterval(50, 100), 0.40383, 0.59617);
    expect(wilsonInterval(8, 10).estimate).toBe(0.8);
  });

  it("Wilson from outcomes counts true and 1, and refuses impossible counts", () => {
    expect(accuracyInterval([true, false, 1, 0, true])).toEqual(wilsonInterval(3, 5));
    expect(() => wilsonInterval(3, 0)).toThrow(/positive integer/);
    expect(() => wilsonInterval(11, 10)).toThrow(/in \[0, 10\]/);
  });

  it("ratio: one stratum of 0/1 items against a perfect original is the proportion with an (n − 1) standard error", () => {
    // R = 3/4; residuals a − R·o = 0.25, −0.75, 0.25, 0.25; s² = 0.75/3 = 0.25; SE = √(0.25/4) = 0.25.
    const r = ratioInterval([{ numerator: [1, 0, 1, 1], denominator: [1, 1, 1, 1] }]);
    expect(r.estimate).toBe(0.75);
    expect(r.se).toBeCloseTo(0.25, 12);
    expect(r.lo).toBeCloseTo(0.75 - z95 * 0.25, 12);
    expect(r.hi).toBeCloseTo(0.75 + z95 * 0.25, 12);
  });

  it("ratio: an arm that is exactly half the original on every item has no error; strata weigh tasks equally", () => {
    const half = ratioInterval([{ numerator: [0.5, 1, 0.25], denominator: [1, 2, 0.5] }]);
    expect(half.estimate).toBeCloseTo(0.5, 12);
    expect(half.se).toBeCloseTo(0, 12);
    // Task means 1 and 0.5 over originals 1 and 1: (1 + 0.5) / 2 = 0.75, whatever the item counts.
    const two = ratioInterval([
      { numerator: [1, 1], denominator: [1, 1] },
      { numerator: [1, 0, 1, 0, 1, 0], denominator: [1, 1, 1, 1, 1, 1] },
    ]);
    expect(two.estimate).toBeCloseTo(0.75, 12);
    // Only the second task varies: residuals 0.25 and −0.75 around their mean −0.25, so s² = 6·0.5²/5;
    // SE = √(s²/6) / (1 + 1).
    expect(two.se).toBeCloseTo(Math.sqrt((6 * 0.5 ** 2) / 5 / 6) / 2, 12);
  });

  it("ratio: acceptance over prompts pools tokens (Σ accepted / Σ proposed), not per-prompt rates", () => {
    const r = ratioInterval([{ numerator: [60, 10], denominator: [64, 64] }]);
    expect(r.estimate).toBeCloseTo(70 / 128, 12);
    expect(r.hi - r.lo).toBeGreaterThan(0.5);
    expect(() => ratioInterval([{ numerator: [1], denominator: [1] }])).toThrow(/at least 2/);
    expect(() => ratioInterval([{ numerator: [1, 2], denominator: [0, 0] }])).toThrow(/mean is 0/);
  });
});
