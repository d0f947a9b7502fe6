/**
 * Softmax cross-entropy over the vocabulary (training loss, fused backward) and the log-softmax
 * gather used to score given continuations, with their float64 CPU references.
 */
import shader from "../../shaders/softmax.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { expectShape, type Tensor } from "../gpu/tensor";
import { withTokenIds } from "./token-ids";

export interface CrossEntropyResult {
  /** [N] −log softmax(logits[n])[targets[n]] for every row, counted or not. */
  losses: Tensor;
  /** [N] log Σ exp(logits[n]), kept for the backward. */
  lse: Tensor;
  /** [1] Σ mask·loss / Σ mask over the counted rows (0 when none is counted). */
  mean: Tensor;
  /** [1] Σ mask. */
  counted: Tensor;
}

/**
 * logits [N, V] f32, targets u32 [N] (host ids are range-checked), mask f32 [N] (1 = counted) →
 * per-token losses and their mean over the counted tokens. Logits over 128 MiB must be split by rows.
 */
export function crossEntropy(gpu: Gpu, logits: Tensor, targets: Tensor | Uint32Array, mask: Tensor): CrossEntropyResult {
  const [rows, vocab] = logitsShape("crossEntropy", logits);
  expectShape("crossEntropy", "mask", mask, [rows]);
  return withTokenIds(gpu, "crossEntropy", "targets", targets, vocab, rows, (t) => {
    const losses = gpu.tensor([rows], "f32", "crossEntropy.losses");
    const lse = gpu.tensor([rows], "f32", "crossEntropy.lse");
    const mean = gpu.tensor([1], "f32", "crossEntropy.mean");
    const counted = gpu.tensor([1], "f32", "crossEntropy.counted");
    const uniforms = { p: { rows, vocab, scale: 1, count: 0 } };
    gpu.dispatch({
      op: "crossEntropy.forward",
      shader,
      entryPoint: "forward",
      uniforms,
      bindings: { logits, targets: t, losses, lse },
      workgroups: grid(rows),
    });
    gpu.dispatch({
      op: "crossEntropy.mean",
      shader,
      entryPoint: "mean_loss",
      uniforms,
      bindings: { mask, losses, mean, counted },
      workgroups: [1],
    });
    return { losses, lse, mean, counted };
  });
}

/**
 * dlogits [N, V] = (softmax(logits) − onehot(targets))·mask / count, the gradient of the mean loss.
 * `count` defaults to the forward's Σ mask; give it to average over more tokens than this call sees
 * (gradient accumulation over micro-batches).
 */
export function crossEntropyBackward(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor | Uint32Array,
  mask: Tensor,
  saved: Pick<CrossEntropyResult, "lse" | "counted">,
  options: { count?: number } = {},
): Tensor {
  const [rows, vocab] = logitsShape("crossEntropyBackward", logits);
  expectShape("crossEntropyBackward", "mask", mask, [rows]);
  expectShape("crossEntropyBackward", "lse", saved.lse, [rows]);
  const { count = 0 } = options;
  if (options.count !== undefined && !(count > 0)) throw new Error(`crossEntropyBackward: count must be positive, got ${count}`);
  return withTokenIds(gpu, "crossEntropyBackward", "targets", targets, vocab, rows, (t) => {
    const dlogits = gpu.tensor([rows, vocab], "f32", "crossEntropy.dlogits");
    gpu.dispatch({
      op: "crossEntropy.backward",
      shader,
      entryPoint: "backward",
      uniforms: { p: { rows, vocab, scale: 1, count } },
      bindings: { logits, targets: t, mask, lse: saved.lse, counted: saved.counted, dlogits },
      workgroups: grid(rows),
    });
    return dlogits;
  });
}

/** logits [N, V], ids u32 [N] → logp [N] = log softmax(logits[n])[ids[n]]. */
export function logSoftmaxGather(gpu: Gpu, logits: Tensor, ids: Tensor | Uint32Array): Tensor {
  const [rows, vocab] = logitsShape("logSoftmaxGather", logits);
  return withTokenIds(gpu, "logSoftmaxGather", "ids", ids, vocab, rows, (t) => {
    const logp = gpu.tensor([rows], "f32", "logSoftmaxGather.logp");
    gpu.dispatch({
      op: "logSoftmaxGather",
      shader,
      entryPoint: "logp_gather",
      uniforms: { p: { rows, vocab, scale: 1, count: 0 } },
      bindings: { logits, targets: t, logp },
      workgroups: grid(rows),
    });
    return logp;
  });
}

export function logitsShape(op: string, logits: Tensor): [number, number] {
  expectShape(op, "logits", logits, [-1, -1]);
  if (logits.dtype !== "f32") throw new Error(`${op}: logits must be f32, got ${logits.dtype}`);
  return [logits.shape[0], logits.shape[1]];
}

/** log Σ exp(scale·x) over x = values[start … start + length − 1], in float64, shifted by the maximum. */
export function logSumExpCpu(values: ArrayLike<number>, start: number, length: number, scale = 1): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = start; i < start + length; i++) m = Math.max(m, scale * values[i]);
  let s = 0;
  for (let i = start; i < start + length; i++) s += Math.exp(scale * values[i] - m);
  return m + Math.log(s);
}

/** CPU reference in float64. */
export function crossEntropyCpu(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number>,
  vocab: number,
): { losses: Float64Array; lse: Float64Array; mean: number; counted: number } {
  const rows = targets.length;
  const losses = new Float64Array(rows);
  const lse = new Float64Array(rows);
  let total = 0;
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    lse[r] = logSumExpCpu(logits, r * vocab, vocab);
    losses[r] = lse[r] - logits[r * vocab + targets[r]];
    if (mask[r] !== 0) {
      total += mask[r] * losses[r];
      counted += mask[r];
    }
  }
  return { losses, lse, mean: counted === 0 ? 0 : total / counted, counted };
}

export function crossEntropyBackwardCpu(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number>,
  vocab: number,
  count?: number,
): Float64Array {
  const { lse, counted } = crossEntropyCpu(logits, targets, mask, vocab);
  const n = count ?? counted;
  const d = new Float64Array(logits.length);
  for (let r = 0; r < targets.length; r++) {
    if (mask[r] === 0 || n === 0) continue;
    const w = mask[r] / n;
    for (let i = 0; i < vocab; i++) d[r * vocab + i] = (Math.exp(logits[r * vocab + i] - lse[r]) - (i === targets[r] ? 1 : 0)) * w;
  }
  return d;
}

export function logSoftmaxGatherCpu(logits: ArrayLike<number>, ids: ArrayLike<number>, vocab: number): Float64Array {
  const { losses } = crossEntropyCpu(logits, ids, new Float64Array(ids.length), vocab);
  return losses.map((l) => -l);
}
