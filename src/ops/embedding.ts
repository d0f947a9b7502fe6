/** Token embedding lookup, its deterministic backward to the table, and their CPU references. */
import shaderF32 from "../../shaders/embedding.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { expectShape, type Tensor } from "../gpu/tensor";
import { checkTokenIds, withTokenIds } from "./token-ids";

const shaderF16 = `enable f16;\n${shaderF32.replace("alias TableType = f32;", "alias TableType = f16;")}`;
const forwardWorkgroup = 256;

/**
 * ids u32 [N], table [V, D] (f32, or f16 where the adapter has shader-f16) → [N, D] f32.
 * Host ids are checked against V (an out-of-range id throws, naming it) and uploaded; ids already on
 * the GPU (e.g. from `argmax`) cannot be checked, and an out-of-range one yields a NaN row.
 */
export function embedding(gpu: Gpu, ids: Tensor | Uint32Array, table: Tensor): Tensor {
  expectShape("embedding", "table", table, [-1, -1]);
  const [vocab, dim] = table.shape;
  if (table.dtype === "f16" && !gpu.hasF16) throw new Error("embedding: table is f16 but this adapter has no shader-f16");
  if (table.dtype !== "f32" && table.dtype !== "f16") throw new Error(`embedding: table must be f32 or f16, got ${table.dtype}`);
  return withTokenIds(gpu, "embedding", "ids", ids, vocab, -1, (idTensor) => {
    const tokens = idTensor.shape[0];
    const out = gpu.tensor([tokens, dim], "f32", "embedding.out");
    gpu.dispatch({
      op: "embedding.forward",
      shader: table.dtype === "f16" ? shaderF16 : shaderF32,
      entryPoint: "forward",
      uniforms: { p: { tokens, vocab, dim, used: 0, accumulate: 0 } },
      bindings: { ids: idTensor, table, out },
      workgroups: grid(Math.ceil((tokens * dim) / forwardWorkgroup)),
    });
    return out;
  });
}

/**
 * dTable [V, D] from dOut [N, D] and the host ids of the forward. Rows of unused ids are zero, or
 * untouched when `accumulate` (an existing [V, D] gradient, e.g. of a tied lm_head) is given; the
 * result is then added into it and it is returned.
 */
export function embeddingBackward(
  gpu: Gpu,
  dOut: Tensor,
  ids: Uint32Array,
  vocabSize: number,
  options: { accumulate?: Tensor } = {},
): Tensor {
  expectShape("embeddingBackward", "dOut", dOut, [ids.length, -1]);
  if (dOut.dtype !== "f32") throw new Error(`embeddingBackward: dOut must be f32, got ${dOut.dtype}`);
  const dim = dOut.shape[1];
  checkTokenIds("embeddingBackward", ids, vocabSize);
  const { accumulate } = options;
  if (accumulate) expectShape("embeddingBackward", "accumulate", accumulate, [vocabSize, dim]);
  const dTable = accumulate ?? gpu.zeros([vocabSize, dim], "f32", "embedding.dTable");
  const csr = positionsById(ids, vocabSize);
  const used = csr.usedIds.length;
  if (used === 0) return dTable;
  const usedIds = gpu.upload(csr.usedIds, [used], "u32", "embedding.used_ids");
  const offsets = gpu.upload(csr.offsets, [used + 1], "u32", "embedding.offsets");
  const positions = gpu.upload(csr.positions, [ids.length], "u32", "embedding.positions");
  gpu.dispatch({
    op: "embedding.backward",
    shader: shaderF32,
    entryPoint: "backward",
    uniforms: { p: { tokens: ids.length, vocab: vocabSize, dim, used, accumulate: accumulate ? 1 : 0 } },
    bindings: { used_ids: usedIds, offsets, positions, dOut, dTable },
    workgroups: grid(used),
  });
  gpu.release(usedIds, offsets, positions);
  return dTable;
}

/**
 * The positions of each used id, grouped by id (ids ascending, positions ascending within an id):
 * a counting sort, so the GPU can sum each gradient row in a fixed order.
 */
function positionsById(ids: Uint32Array, vocabSize: number): { usedIds: Uint32Array; offsets: Uint32Array; positions: Uint32Array } {
  const counts = new Uint32Array(vocabSize);
  for (const id of ids) counts[id]++;
  let used = 0;
  for (const c of counts) if (c > 0) used++;
  const usedIds = new Uint32Array(used);
  const offsets = new Uint32Array(used + 1);
  const start = new Uint32Array(vocabSize);
  for (let v = 0, u = 0, total = 0; v < vocabSize; v++) {
    if (counts[v] === 0) continue;
    usedIds[u] = v;
    start[v] = total;
    total += counts[v];
    offsets[++u] = total;
  }
  const positions = new Uint32Array(ids.length);
  ids.forEach((id, n) => {
    positions[start[id]++] = n;
  });
  return { usedIds, offsets, positions };
}

/** CPU reference in float64: [N, D]. */
export function embeddingCpu(ids: ArrayLike<number>, table: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let n = 0; n < ids.length; n++) for (let d = 0; d < dim; d++) out[n * dim + d] = table[ids[n] * dim + d];
  return out;
}

/** CPU reference in float64: dTable [V, D]. */
export function embeddingBackwardCpu(dOut: ArrayLike<number>, ids: ArrayLike<number>, vocabSize: number, dim: number): Float64Array {
  const dTable = new Float64Array(vocabSize * dim);
  for (let n = 0; n < ids.length; n++) for (let d = 0; d < dim; d++) dTable[ids[n] * dim + d] += dOut[n * dim + d];
  return dTable;
}
