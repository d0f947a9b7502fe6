import { describe, expect, it } from "vitest";
import { learningRate } from "../../src/train/schedule";

describe("learning-rate schedule", () => {
  const s = { lr: 1e-3, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 };
  const rates = Array.from({ length: s.totalSteps }, (_, step) => learningRate(step, s));

  it("rises linearly through warmup, starting above zero", () => {
    expect(rates.slice(0, 4)).toEqual([0.25e-3, 0.5e-3, 0.75e-3, 1e-3].map((v) => expect.closeTo(v, 15)));
  });

  it("decays by a cosine from the peak to the floor at the last step", () => {
    expect(rates[4]).toBeCloseTo(1e-3, 15);
    // Halfway through the decay the cosine term is 1/2: lr·(min + (1 − min)/2).
    expect(learningRate(4 + 4.5, s)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 15);
    expect(rates[13]).toBeCloseTo(1e-4, 15);
    for (let i = 5; i < rates.length; i++) expect(rates[i]).toBeLessThan(rates[i - 1]);
  });

  it("is constant without warmup and with a floor of 1", () => {
    expect(learningRate(0, { ...s, warmupSteps: 0, minLrRatio: 1 })).toBe(1e-3);
    expect(learningRate(13, { ...s, warmupSteps: 0, minLrRatio: 1 })).toBe(1e-3);
  });
});
