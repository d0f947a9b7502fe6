/**
 * Paired comparisons over evaluation items, and the two sources of error a study table mixes up:
 *   - pairedBootstrap: the mean per-item difference between two arms scored on the same items (e.g.
 *     SDD − SFT), with a seeded percentile-bootstrap 95 % CI that resamples items within each task
 *     (stratified, so every resample keeps each task's size and the suite's task weights);
 *   - errorComponents: for one arm trained with several seeds, the evaluation error (how much the
 *     score would move on other items from the same distribution) apart from the seed spread (how
 *     much it moves between training runs on these items).
 */
import { mulberry32 } from "../seeded-random";
import { z95 } from "./confidence-interval";

export interface PairedTask {
  /** Per-item scores of arm A (0/1 or partial), each item averaged over seeds when there are several. */
  a: readonly number[];
  /** Arm B on the same items, in the same order. */
  b: readonly number[];
}

export interface PairedDifference {
  /** Mean over tasks of the mean per-item A − B. */
  mean: number;
  /** Percentile bootstrap interval of `mean`. */
  ci: [number, number];
  /** Items in all tasks. */
  items: number;
  resamples: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Two-sided coverage, default 0.95. */
  level?: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** The `q` quantile of sorted values, linearly interpolated (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
}

export function pairedBootstrap(
  tasks: readonly PairedTask[],
  { resamples = 10_000, seed = 1, level = 0.95 }: BootstrapOptions = {},
): PairedDifference {
  if (tasks.length === 0) throw new Error("pairedBootstrap: no tasks");
  const differences = tasks.map((t, i) => {
    if (t.a.length !== t.b.length || t.a.length === 0) {
      throw new Error(`pairedBootstrap: task ${i} pairs ${t.a.length} items of A with ${t.b.length} of B`);
    }
    return t.a.map((x, j) => x - t.b[j]);
  });
  const estimate = mean(differences.map(mean));
  const random = mulberry32(seed);
  const draws = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (const d of differences) {
      let taskSum = 0;
      for (let k = 0; k < d.length; k++) taskSum += d[Math.floor(random() * d.length)];
      sum += taskSum / d.length;
    }
    draws[r] = sum / differences.length;
  }
  const sorted = Array.from(draws).sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    mean: estimate,
    ci: [quantile(sorted, tail), quantile(sorted, 1 - tail)],
    items: differences.reduce((s, d) => s + d.length, 0),
    resamples,
  };
}

export interface ErrorComponents {
  /** Mean score over seeds and items. */
  mean: number;
  /** Standard error from the items: SD over items of each item's seed-averaged score / √items. */
  evalSe: number;
  /** 95 % normal interval from the evaluation error alone. */
  evalCi: [number, number];
  /** Sample SD (n − 1) of the per-seed mean scores: the run-to-run spread on these items; 0 for one seed. */
  seedSd: number;
  seeds: number;
  items: number;
}

/** `scores[seed][item]`: one arm's per-item scores for each training seed, items in the same order. */
export function errorComponents(scores: readonly (readonly number[])[]): ErrorComponents {
  const seeds = scores.length;
  if (seeds === 0) throw new Error("errorComponents: no seeds");
  const items = scores[0].length;
  if (items < 2 || scores.some((s) => s.length !== items)) {
    throw new Error(`errorComponents: every seed needs the same items (at least 2); got ${scores.map((s) => s.length).join(", ")}`);
  }
  const perItem = Array.from({ length: items }, (_, j) => mean(scores.map((s) => s[j])));
  const m = mean(perItem);
  const evalSe = Math.sqrt(perItem.reduce((s, x) => s + (x - m) ** 2, 0) / (items - 1) / items);
  const seedMeans = scores.map(mean);
  const seedSd = seeds < 2 ? 0 : Math.sqrt(seedMeans.reduce((s, x) => s + (x - m) ** 2, 0) / (seeds - 1));
  return { mean: m, evalSe, evalCi: [m - z95 * evalSe, m + z95 * evalSe], seedSd, seeds, items };
}
