import { describe, expect, it } from "vitest";
import { learningRate } from "../../src/train/schedule";

describe("learning-rate schedule", () => {
  const s = { lr: 1e-3, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 };
  const rates = Array.from({ length: s.totalSteps }, (_, step) => learningRate(step, s));

  it("rises linearly through warmup, starting above zero", () => {
    expect(rates.slice(0, 4)).toEqual([0.25e-3, 0.5e-3, 0.75e-3, 1e-3].map((v) => expect.closeTo(v, 15)));
  });

  it("decays by a cosine from the peak towards the floor, which it reaches one step after the last", () => {
    expect(rates[4]).toBeCloseTo(1e-3, 15);
    // 10 decay steps: halfway (step 4 + 5) the cosine term is 1/2: lr·(min + (1 − min)/2).
    expect(rates[9]).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 15);
    expect(rates[13]).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * 9) / 10))), 15);
    expect(rates[13]).toBeGreaterThan(1e-4);
    expect(learningRate(14, s)).toBeCloseTo(1e-4, 15);
    for (let i = 5; i < rates.length; i++) expect(rates[i]).toBeLessThan(rates[i - 1]);
  });

  it("makes N updates in N steps: with a floor of 0 no step has a rate of 0", () => {
    for (const totalSteps of [1, 2, 3, 24]) {
      for (const warmupSteps of [0, 1]) {
        const schedule = { lr: 2e-4, warmupSteps, totalSteps, minLrRatio: 0 };
        for (let step = 0; step < totalSteps; step++) expect(learningRate(step, schedule)).toBeGreaterThan(0);
      }
    }
    // `--steps 2` without warmup: the full rate, then half of it (it used to be the full rate, then 0).
    expect([0, 1].map((step) => learningRate(step, { lr: 2e-4, warmupSteps: 0, totalSteps: 2, minLrRatio: 0 }))).toEqual([
      2e-4,
      expect.closeTo(1e-4, 18),
    ]);
  });

  it("is constant without warmup and with a floor of 1", () => {
    expect(learningRate(0, { ...s, warmupSteps: 0, minLrRatio: 1 })).toBe(1e-3);
    expect(learningRate(13, { ...s, warmupSteps: 0, minLrRatio: 1 })).toBe(1e-3);
  });
});
