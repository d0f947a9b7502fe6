/** Token ids given to an op either on the GPU or from the host, where they can be range-checked. */
import type { Gpu } from "../gpu/context";
import { expectShape, type Tensor } from "../gpu/tensor";

/** Throws naming the op, the first id ≥ vocabSize, its position and the vocabulary size. */
export function checkTokenIds(op: string, ids: ArrayLike<number>, vocabSize: number): void {
  for (let n = 0; n < ids.length; n++) {
    if (ids[n] >= vocabSize) throw new Error(`${op}: token id ${ids[n]} at position ${n} is outside the vocabulary of ${vocabSize} ids`);
  }
}

/**
 * Runs `record` (which records dispatches reading the ids) with the ids as a u32 [length] tensor
 * (length −1: any). Host ids are checked and uploaded.
 */
export function withTokenIds<T>(
  gpu: Gpu,
  op: string,
  name: string,
  ids: Tensor | Uint32Array,
  vocabSize: number,
  length: number,
  record: (ids: Tensor) => T,
): T {
  if (!(ids instanceof Uint32Array)) {
    expectShape(op, name, ids, [length]);
    if (ids.dtype !== "u32") throw new Error(`${op}: ${name} must be u32, got ${ids.dtype}`);
    return record(ids);
  }
  if (length !== -1 && ids.length !== length) throw new Error(`${op}: ${name} has ${ids.length} ids, expected ${length}`);
  checkTokenIds(op, ids, vocabSize);
  const uploaded = gpu.upload(ids, [ids.length], "u32", `${op}.${name}`);
  try {
    return record(uploaded);
  } finally {
    gpu.release(uploaded);
  }
}
