/**
 * Global gradient L2 norm over many tensors, clipping by a max norm, and an Inf/NaN flag, all on the
 * GPU: the trainer reads the result (or hands it to `adamwStep`) without stalling the queue.
 */
import shader from "../../shaders/grad-norm.wgsl?raw";
import { wholeArena } from "../gpu/arena";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, expectShape, numel, type Tensor } from "../gpu/tensor";

/** Positions in the f32 [3] tensor `gradNorm` returns. */
export const gradStatsIndex = { norm: 0, scale: 1, nonFinite: 2 } as const;

/** Elements one partial_sums workgroup reduces (CHUNK in grad-norm.wgsl). */
const chunk = 256 * 16;

/**
 * ‖grads‖₂ over all tensors together → stats f32 [3] = [norm, clip scale, nonFinite (0 or 1)].
 * The scale is min(1, maxNorm / (norm + 1e-6)) as in torch.nn.utils.clip_grad_norm_; maxNorm ≤ 0
 * means no clipping (scale 1).
 */
export function gradNorm(gpu: Gpu, tensors: readonly Tensor[], maxNorm = 0): Tensor {
  if (tensors.length === 0) throw new Error("gradNorm: no gradient tensors given");
  for (const g of tensors) if (g.dtype !== "f32") throw new Error(`gradNorm: gradient ${describe(g)} must be f32`);
  // All the views of one arena: one launch over it (its gaps are zero and add nothing).
  const arena = wholeArena(tensors);
  const grads = arena ? [arena] : tensors;
  const counts = grads.map((g) => Math.ceil(numel(g.shape) / chunk));
  const total = counts.reduce((a, b) => a + b, 0);
  const partials = gpu.tensor([Math.max(1, total), 2], "f32", "grad_norm.partials");
  const stats = gpu.tensor([3], "f32", "grad_norm.stats");
  let offset = 0;
  grads.forEach((grad, i) => {
    gpu.dispatch({
      op: "grad_norm.partial_sums",
      shader,
      entryPoint: "partial_sums",
      uniforms: { p: { n: numel(grad.shape), offset, count: 0, max_norm: 0 } },
      bindings: { grad, partials },
      workgroups: grid(counts[i]),
    });
    offset += counts[i];
  });
  gpu.dispatch({
    op: "grad_norm.finalize",
    shader,
    entryPoint: "finalize",
    uniforms: { p: { n: 0, offset: 0, count: total, max_norm: maxNorm } },
    bindings: { partials, stats },
    workgroups: [1],
  });
  gpu.release(partials);
  return stats;
}

/** Multiplies every gradient in place by the clip scale held in `stats` (from `gradNorm`). */
export function clipGradients(gpu: Gpu, grads: readonly Tensor[], stats: Tensor): void {
  expectShape("clipGradients", "stats", stats, [3]);
  for (const grad of grads) {
    if (grad.dtype !== "f32") throw new Error(`clipGradients: gradient ${describe(grad)} must be f32`);
    const n = numel(grad.shape);
    gpu.dispatch({
      op: "grad_norm.scale",
      shader,
      entryPoint: "scale",
      uniforms: { p: { n, offset: 0, count: 0, max_norm: 0 } },
      bindings: { grad, stats },
      workgroups: grid(Math.ceil(n / 256)),
    });
  }
}

/**
 * CPU reference in float64. Unlike the GPU's f32 sum, a finite value whose square overflows f32
 * (|g| > 1.8e19) is not flagged here.
 */
export function gradNormCpu(grads: readonly ArrayLike<number>[], maxNorm = 0): { norm: number; scale: number; nonFinite: boolean } {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  const norm = Math.sqrt(sum);
  const nonFinite = !Number.isFinite(norm);
  const scale = maxNorm > 0 && !nonFinite ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  return { norm, scale, nonFinite };
}
