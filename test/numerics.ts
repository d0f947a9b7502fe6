/** Seeded inputs, finite differences and tolerance checks shared by the kernel tests. */
import { expect } from "vitest";
import { mulberry32, uniformValues } from "../src/seeded-random";

export const rng = mulberry32;

/** Uniform values in [-scale, scale), as f32. */
export const randn = uniformValues;

/**
 * Central differences of a scalar function of `x`, in float64, at every element (or at `indices`).
 * The step is relative to each element's size so that large and small inputs are both resolved.
 */
export function finiteDifferences(f: (x: Float64Array) => number, x: ArrayLike<number>, indices?: number[], eps = 1e-6): Float64Array {
  const at = Float64Array.from(x);
  const grad = new Float64Array(at.length);
  for (const i of indices ?? at.keys()) {
    const v = at[i];
    const h = eps * Math.max(1, Math.abs(v));
    at[i] = v + h;
    const up = f(at);
    at[i] = v - h;
    const down = f(at);
    at[i] = v;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Σ w·y: turns a tensor output into the scalar whose gradient w.r.t. y is w. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Asserts |actual - expected| <= atol + rtol·|expected| elementwise and reports the worst element.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what = "values"): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
