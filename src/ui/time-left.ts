/** Progress arithmetic for long jobs: the estimated time left from the average rate so far. */

/**
 * Seconds left at the average rate since `startedAt` (ms), when `doneAtStart` was already done (a
 * resumed download starts part-way), or undefined while that cannot be judged.
 */
export function estimateSecondsLeft(done: number, total: number, startedAt: number, now: number, doneAtStart = 0): number | undefined {
  const elapsed = (now - startedAt) / 1000;
  const progressed = done - doneAtStart;
  // Under a second or 1 % in, the rate is mostly start-up cost and the estimate would jump around.
  if (total <= 0 || progressed <= 0 || elapsed < 1 || progressed / total < 0.01) return undefined;
  return Math.max(0, (elapsed * (total - done)) / progressed);
}
