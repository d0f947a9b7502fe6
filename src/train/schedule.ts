/** Learning-rate schedule: linear warmup, then cosine decay to a floor (Hugging Face's cosine schedule with a minimum). */

export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** The rate the cosine ends at, as a fraction of `lr` (0: decays to zero). */
  minLrRatio: number;
}

/**
 * The rate of optimizer step `step` (0-based). Warmup rises as (step + 1) / warmupSteps, so the first
 * step already moves (Hugging Face's starts at 0 and wastes it); the cosine then runs from lr at the
 * end of warmup towards lr·minLrRatio, which it would reach one step *after* the last, as Hugging
 * Face's cosine schedule does: with a floor of 0 the last update still has a rate above 0, so
 * `steps: N` makes N updates (reaching the floor at the last step would waste it).
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.lr * (s.minLrRatio + (1 - s.minLrRatio) * cosine);
}
