/**
 * Several tensors in one buffer (an arena), each a view at a 256-byte aligned offset (WebGPU's
 * storage binding alignment), the gaps zero. Ops bind a view like any tensor; an op that treats all
 * of an arena's tensors alike (AdamW, the gradient norm) runs once over the whole arena instead of
 * once per tensor. Arenas made from the same shapes in the same order have the same layout, so
 * element i of one lines up with element i of the other (parameters, gradients, moments).
 */
import type { Gpu } from "./context";
import { type Tensor, tensorBytes } from "./tensor";

const alignment = 256;

/** Every view of each arena, in order: whether a list of tensors is a whole arena. */
const arenaViews = new WeakMap<Tensor, readonly Tensor[]>();

/** A zeroed f32 arena holding tensors of these shapes, and its views, or undefined if it would exceed one storage binding. */
export function createArena(
  gpu: Gpu,
  parts: readonly { shape: readonly number[]; label: string }[],
  label: string,
): { arena: Tensor; views: Tensor[] } | undefined {
  const offsets: number[] = [];
  let bytes = 0;
  for (const p of parts) {
    offsets.push(bytes);
    bytes += Math.ceil(tensorBytes(p.shape, "f32") / alignment) * alignment;
  }
  if (parts.length === 0 || bytes > gpu.limits.maxStorageBufferBindingSize) return undefined;
  const arena = gpu.zeros([bytes / 4], "f32", label);
  const views = parts.map(
    (p, i): Tensor => ({ buffer: arena.buffer, shape: [...p.shape], dtype: "f32", label: p.label, offset: offsets[i], parent: arena }),
  );
  arenaViews.set(arena, views);
  return { arena, views };
}

/** The arena whose views are exactly `tensors` (all of them, in order), or undefined. */
export function wholeArena(tensors: readonly Tensor[]): Tensor | undefined {
  const parent = tensors[0]?.parent;
  const views = parent && arenaViews.get(parent);
  if (!parent || !views || views.length !== tensors.length) return undefined;
  return tensors.every((t, i) => t.parent === parent && t.offset === views[i].offset) ? parent : undefined;
}

/** Whether two whole arenas line up element for element (same view offsets and shapes). */
export function sameLayout(a: Tensor, b: Tensor): boolean {
  const va = arenaViews.get(a);
  const vb = arenaViews.get(b);
  return (
    va !== undefined &&
    vb !== undefined &&
    va.length === vb.length &&
    a.shape[0] === b.shape[0] &&
    va.every((v, i) => v.offset === vb[i].offset && v.shape.join() === vb[i].shape.join())
  );
}
