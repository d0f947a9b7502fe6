/**
 * Seeded random draws for the demo world's generators: every list, item and document is a pure
 * function of its seed, on every platform (mulberry32 underneath).
 */
import { mulberry32 } from "../seeded-random";
import { stableHash } from "./held-out";

export class Draws {
  private readonly next: () => number;

  /** `label` separates streams drawn from one seed (e.g. "facts" and "routines" never share draws). */
  constructor(seed: number, label = "") {
    this.next = mulberry32(stableHash(`${seed >>> 0}:${label}`));
  }

  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Draws.pick: nothing to pick from");
    return items[Math.floor(this.next() * items.length)];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** `k` distinct items in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new Error(`Draws.sample: asked for ${k} of ${items.length} items`);
    return this.shuffle(items).slice(0, k);
  }

  /** One of `weights`' keys, drawn in proportion to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    const total = keys.reduce((s, k) => s + weights[k], 0);
    let r = this.next() * total;
    for (const k of keys) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return keys[keys.length - 1];
  }
}
