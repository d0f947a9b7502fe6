import { Float16Array } from "@petamoriken/float16";
import { describe, expect, it } from "vitest";
import { embedding, embeddingBackward, embeddingBackwardCpu, embeddingCpu } from "../../src/ops/embedding";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn, rng } from "../numerics";

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

describe("embedding", () => {
  // The forward copies values exactly; the backward sums at most N f32 terms per element
  // (N·2^-24 relative, under 1e-5 for N ≤ 67), atol for sums that cancel.
  it.each([
    [1, 1, 1],
    [7, 33, 45],
    [67, 33, 8],
    [67, 50000, 8],
    [7, 50000, 64],
  ])("forward and backward match the CPU reference (N %i, V %i, D %i)", async (tokens, vocab, dim) => {
    const gpu = await testGpu();
    const table = randn(vocab * dim, vocab + dim);
    // Few distinct ids for small vocabularies, so many positions share a gradient row.
    const ids = randomIds(tokens, vocab, tokens * 7 + vocab);
    const dOut = randn(tokens * dim, tokens + 3);
    const tt = gpu.upload(table, [vocab, dim]);
    const out = embedding(gpu, ids, tt);
    expect(out.shape).toEqual([tokens, dim]);
    expectClose(await gpu.read(out), embeddingCpu(ids, table, dim), 0, 0, "out");
    const dt = gpu.upload(dOut, [tokens, dim]);
    const dTable = embeddingBackward(gpu, dt, ids, vocab);
    expectClose(await gpu.read(dTable), embeddingBackwardCpu(dOut, ids, vocab, dim), 1e-5, 1e-6, "dTable");
    gpu.release(tt, out, dt, dTable);
  });

  it("sums repeated ids and adds into an existing gradient when accumulating", async () => {
    const gpu = await testGpu();
    const vocab = 5;
    const dim = 3;
    const ids = Uint32Array.from([4, 1, 4, 4, 0, 1]);
    const dOut = randn(ids.length * dim, 11);
    const prior = randn(vocab * dim, 12);
    const dt = gpu.upload(dOut, [ids.length, dim]);
    const acc = gpu.upload(prior, [vocab, dim]);
    const result = embeddingBackward(gpu, dt, ids, vocab, { accumulate: acc });
    expect(result).toBe(acc);
    const expected = embeddingBackwardCpu(dOut, ids, vocab, dim).map((g, i) => g + prior[i]);
    expectClose(await gpu.read(acc), expected, 1e-6, 1e-7, "dTable");
    gpu.release(dt, acc);
  });

  it("reads an f16 table where the adapter has shader-f16, and says so where it has not", async () => {
    const gpu = await testGpu();
    const vocab = 33;
    const dim = 45;
    const table = randn(vocab * dim, 3, 4);
    const ids = randomIds(67, vocab, 4);
    const tt = gpu.uploadF16(table, [vocab, dim]);
    if (gpu.hasF16) {
      const out = embedding(gpu, ids, tt);
      // f16 → f32 is exact, so the output is the f16-rounded table, bit for bit.
      expectClose(await gpu.read(out), embeddingCpu(ids, Float32Array.from(new Float16Array(table)), dim), 0, 0, "out");
      gpu.release(out);
    } else {
      expect(() => embedding(gpu, ids, tt)).toThrow(/embedding: table is f16 but this adapter has no shader-f16/);
    }
    gpu.release(tt);
  });

  it("takes ids already on the GPU, and gives NaN rows for out-of-range ones it cannot check", async () => {
    const gpu = await testGpu();
    const table = randn(4 * 2, 5);
    const tt = gpu.upload(table, [4, 2]);
    const ids = gpu.upload(Uint32Array.from([3, 9, 0]), [3]);
    const out = embedding(gpu, ids, tt);
    expect(Array.from(await gpu.read(out))).toEqual([table[6], table[7], Number.NaN, Number.NaN, table[0], table[1]]);
    gpu.release(tt, ids, out);
  });

  it("CPU backward equals finite differences of the CPU forward", () => {
    const vocab = 6;
    const dim = 4;
    const ids = Uint32Array.from([2, 5, 2, 0, 2]);
    const table = randn(vocab * dim, 8);
    const dOut = randn(ids.length * dim, 9);
    const fd = finiteDifferences((t) => dot(embeddingCpu(ids, t, dim), dOut), table);
    expectClose(embeddingBackwardCpu(dOut, ids, vocab, dim), fd, 1e-6, 1e-8, "dTable");
  });

  it("rejects out-of-range host ids, naming the id and the vocabulary size", async () => {
    const gpu = await testGpu();
    const tt = gpu.upload(randn(4 * 2, 5), [4, 2]);
    expect(() => embedding(gpu, Uint32Array.from([1, 4]), tt)).toThrow(
      /embedding: token id 4 at position 1 is outside the vocabulary of 4 ids/,
    );
    const dt = gpu.upload(randn(2 * 2, 1), [2, 2]);
    expect(() => embeddingBackward(gpu, dt, Uint32Array.from([7, 0]), 4)).toThrow(/embeddingBackward: token id 7 at position 0/);
    expect(() => embeddingBackward(gpu, dt, Uint32Array.from([1, 2, 3]), 4)).toThrow(
      /embeddingBackward: dOut has shape \[2, 2\], expected \[3, -1\]/,
    );
    gpu.release(tt, dt);
  });
});
