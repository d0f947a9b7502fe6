/**
 * 95 % confidence intervals for the study's numbers, from per-item outcomes, so a table can tell
 * evaluation error from a real difference:
 *   - an accuracy: the Wilson score interval (it stays inside [0, 1] and is not degenerate at 0 or
 *     n successes, where the normal interval collapses to a point);
 *   - a ratio of means, such as recovery (arm score / original score on the same items) or a
 *     spec-decoding acceptance rate (accepted / proposed tokens, one pair per prompt): the delta
 *     method for the ratio estimator, stratified by task, so items of one task stay paired and
 *     tokens of one prompt stay together (they are not independent draws).
 */

/** z for a two-sided 95 % interval. */
export const z95 = 1.959963984540054;

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

/** Wilson score interval for `successes` out of `n` trials. */
export function wilsonInterval(successes: number, n: number, z = z95): Interval {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`wilsonInterval: n must be a positive integer, got ${n}`);
  if (!(successes >= 0 && successes <= n)) throw new Error(`wilsonInterval: successes must be in [0, ${n}], got ${successes}`);
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** The Wilson interval of the mean of 0/1 outcomes (partial credit is rounded away: use ratioInterval for scores). */
export function accuracyInterval(outcomes: readonly (boolean | number)[], z = z95): Interval {
  const successes = outcomes.filter((o) => o === true || o === 1).length;
  return wilsonInterval(successes, outcomes.length, z);
}

export interface RatioStratum {
  /** Per item (or per prompt): the numerator's value, e.g. the arm's score or the accepted tokens. */
  numerator: readonly number[];
  /** Per item, paired with `numerator`: e.g. the original model's score or the proposed tokens. */
  denominator: readonly number[];
}

export interface RatioInterval extends Interval {
  /** Delta-method standard error of the estimate. */
  se: number;
}

/**
 * R = Σ_t mean(numerator_t) / Σ_t mean(denominator_t) over strata t (tasks weighted equally, as a
 * suite average weights them), with the delta-method variance of the ratio estimator:
 * Var(R) ≈ Σ_t s²_t(num − R·den) / n_t / (Σ_t mean(den_t))², s² the sample variance (n_t − 1).
 * One stratum gives the classic ratio estimator, e.g. acceptance = Σ accepted / Σ proposed over prompts.
 */
export function ratioInterval(strata: readonly RatioStratum[], z = z95): RatioInterval {
  if (strata.length === 0) throw new Error("ratioInterval: no strata");
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  for (const [i, s] of strata.entries()) {
    if (s.numerator.length !== s.denominator.length) {
      throw new Error(`ratioInterval: stratum ${i} pairs ${s.numerator.length} numerators with ${s.denominator.length} denominators`);
    }
    if (s.numerator.length < 2) throw new Error(`ratioInterval: stratum ${i} needs at least 2 items for a variance`);
  }
  const top = strata.reduce((sum, s) => sum + mean(s.numerator), 0);
  const bottom = strata.reduce((sum, s) => sum + mean(s.denominator), 0);
  if (bottom === 0) throw new Error("ratioInterval: the denominator's mean is 0");
  const r = top / bottom;
  let variance = 0;
  for (const s of strata) {
    const residuals = s.numerator.map((x, i) => x - r * s.denominator[i]);
    const m = mean(residuals);
    const n = residuals.length;
    variance += residuals.reduce((acc, e) => acc + (e - m) ** 2, 0) / (n - 1) / n;
  }
  const se = Math.sqrt(variance) / Math.abs(bottom);
  return { estimate: r, se, lo: r - z * se, hi: r + z * se };
}
