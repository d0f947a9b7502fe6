/**
 * What every engine step is given besides its settings: one AbortSignal to honour and one callback
 * to report progress through. The worker's RPC and the CLI both build a `Job`; the steps never
 * know which front-end drives them.
 */

/** Progress of a long step; `total` 0 means unknown. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  unit: "bytes" | "tokens" | "items";
}

export interface Job<P> {
  signal: AbortSignal;
  progress(p: P): void;
}

/** The error a step ends with when its signal was aborted (the RPC reports it by this name). */
export class CancelledError extends Error {
  override name = "CancelledError";
}
