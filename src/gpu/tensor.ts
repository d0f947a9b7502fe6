/** A tensor is a GPU buffer with a shape and an element type; it owns no data on the CPU. */

export type DType = "f32" | "f16" | "u32" | "i32";

export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
  /** Set on a view into another tensor's buffer (src/gpu/arena.ts): its byte offset there (a multiple of 256). */
  readonly offset?: number;
  /** The tensor that owns the buffer of a view; releasing a view releases nothing. */
  readonly parent?: Tensor;
}

export const bytesPerElement: Record<DType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes the tensor's data occupies, rounded up to 4 (WebGPU binds and copies whole words). */
export function tensorBytes(shape: readonly number[], dtype: DType): number {
  return Math.ceil((numel(shape) * bytesPerElement[dtype]) / 4) * 4;
}

export function describe(t: Tensor): string {
  return `${t.label}[${t.shape.join("×")}] ${t.dtype}`;
}

/** Throws naming the op and both shapes when `t` does not have `expected` (-1 matches any size). */
export function expectShape(op: string, name: string, t: Tensor, expected: readonly number[]): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    throw new Error(`${op}: ${name} has shape [${t.shape.join(", ")}], expected [${expected.join(", ")}]`);
  }
}

/** The same buffer seen with another shape of the same element count (no copy). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== numel(t.shape)) {
    throw new Error(`cannot view ${describe(t)} as [${shape.join(", ")}]: element counts differ`);
  }
  return { ...t, shape: [...shape] };
}
