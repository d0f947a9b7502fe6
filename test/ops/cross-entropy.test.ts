import { describe, expect, it } from "vitest";
import {
  crossEntropy,
  crossEntropyBackward,
  crossEntropyBackwardCpu,
  crossEntropyCpu,
  logSoftmaxGather,
  logSoftmaxGatherCpu,
} from "../../src/ops/cross-entropy";
import { testGpu } from "../gpu-harness";
import { expectClose, finiteDifferences, randn, rng } from "../numerics";

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

/** About a third of the rows masked out, some weighted ½, the rest 1 (the first row always counted). */
function randomMask(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => {
    const u = r();
    return i === 0 || u > 0.5 ? 1 : u > 0.33 ? 0.5 : 0;
  });
}

// The log-sum-exp of V f32 terms is accurate to about log2(V)·2^-24 relative in the sum plus a few ulp
// from exp/log, and a loss lse − logit[t] of size ~10 keeps that absolute error: 2e-5 abs/rel is a
// margin of ~10× for V = 50,000. dlogits are probabilities ~1/V with errors relative to themselves.
const rtol = 2e-5;
const atol = 2e-5;

describe("cross-entropy", () => {
  it.each([
    [1, 1],
    [7, 33],
    [67, 33],
    [1, 50000],
    [7, 50000],
    [67, 50000],
  ])("forward, mean and backward match the CPU reference (N %i, V %i)", async (rows, vocab) => {
    const gpu = await testGpu();
    const logits = randn(rows * vocab, rows * 5 + vocab, 8);
    const targets = randomIds(rows, vocab, rows + vocab);
    const mask = randomMask(rows, rows);
    const lt = gpu.upload(logits, [rows, vocab]);
    const mt = gpu.upload(mask, [rows]);
    const ref = crossEntropyCpu(logits, targets, mask, vocab);
    const res = crossEntropy(gpu, lt, targets, mt);
    expectClose(await gpu.read(res.lse), ref.lse, rtol, atol, "lse");
    expectClose(await gpu.read(res.losses), ref.losses, rtol, atol, "losses");
    expectClose(await gpu.read(res.mean), [ref.mean], rtol, atol, "mean");
    expect(Array.from(await gpu.read(res.counted))).toEqual([ref.counted]);
    const dlogits = crossEntropyBackward(gpu, lt, targets, mt, res);
    expectClose(await gpu.read(dlogits), crossEntropyBackwardCpu(logits, targets, mask, vocab), rtol, 1e-7, "dlogits");
    const logp = logSoftmaxGather(gpu, lt, targets);
    expectClose(await gpu.read(logp), logSoftmaxGatherCpu(logits, targets, vocab), rtol, atol, "logp");
    gpu.release(lt, mt, res.losses, res.lse, res.mean, res.counted, dlogits, logp);
  });

  it("scales the gradient by a caller-given count and takes targets already on the GPU", async () => {
    const gpu = await testGpu();
    const rows = 7;
    const vocab = 33;
    const logits = randn(rows * vocab, 21, 4);
    const targets = randomIds(rows, vocab, 22);
    const mask = randomMask(rows, 23);
    const lt = gpu.upload(logits, [rows, vocab]);
    const mt = gpu.upload(mask, [rows]);
    const tt = gpu.upload(targets, [rows]);
    const res = crossEntropy(gpu, lt, tt, mt);
    const dlogits = crossEntropyBackward(gpu, lt, tt, mt, res, { count: 40 });
    expectClose(await gpu.read(dlogits), crossEntropyBackwardCpu(logits, targets, mask, vocab, 40), rtol, 1e-7, "dlogits");
    gpu.release(lt, mt, tt, res.losses, res.lse, res.mean, res.counted, dlogits);
  });

  it("stays finite for extreme logits and gives mean 0 and zero gradients when nothing is counted", async () => {
    const gpu = await testGpu();
    const logits = Float32Array.from([3e38, -3e38, 0, -3e38, 1e4, -1e4]);
    const lt = gpu.upload(logits, [2, 3]);
    const mt = gpu.upload(new Float32Array(2), [2]);
    const targets = Uint32Array.from([0, 2]);
    const res = crossEntropy(gpu, lt, targets, mt);
    expectClose(await gpu.read(res.lse), [3e38, 1e4], 1e-6, 0, "lse");
    expectClose(await gpu.read(res.losses), [0, 2e4], 1e-6, 0, "losses");
    expect(Array.from(await gpu.read(res.mean))).toEqual([0]);
    const dlogits = crossEntropyBackward(gpu, lt, targets, mt, res);
    expect(Array.from(await gpu.read(dlogits))).toEqual([0, 0, 0, 0, 0, 0]);
    gpu.release(lt, mt, res.losses, res.lse, res.mean, res.counted, dlogits);
  });

  it("CPU backward equals finite differences of the CPU mean loss", () => {
    const rows = 4;
    const vocab = 5;
    const logits = randn(rows * vocab, 31, 3);
    const targets = Uint32Array.from([0, 4, 2, 2]);
    const mask = Float32Array.from([1, 0, 1, 0.5]);
    const fd = finiteDifferences((l) => crossEntropyCpu(l, targets, mask, vocab).mean, logits);
    expectClose(crossEntropyBackwardCpu(logits, targets, mask, vocab), fd, 1e-6, 1e-9, "dlogits");
    const fdCount = finiteDifferences((l) => (crossEntropyCpu(l, targets, mask, vocab).mean * 2.5) / 9, logits);
    expectClose(crossEntropyBackwardCpu(logits, targets, mask, vocab, 9), fdCount, 1e-6, 1e-9, "dlogits with count");
  });

  it("log-softmax gather gives probabilities that sum to 1 over every token of a row", async () => {
    const gpu = await testGpu();
    const vocab = 45;
    const row = randn(vocab, 41, 5);
    const logits = new Float32Array(vocab * vocab);
    for (let r = 0; r < vocab; r++) logits.set(row, r * vocab);
    const lt = gpu.upload(logits, [vocab, vocab]);
    const logp = logSoftmaxGather(gpu, lt, Uint32Array.from(row.keys()));
    const total = Array.from(await gpu.read(logp), Math.exp).reduce((s, v) => s + v, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-6);
    gpu.release(lt, logp);
  });

  it("rejects out-of-range targets and mismatched shapes, naming the op and tensor", async () => {
    const gpu = await testGpu();
    const lt = gpu.upload(randn(6, 1), [2, 3]);
    const mt = gpu.upload(new Float32Array(2).fill(1), [2]);
    expect(() => crossEntropy(gpu, lt, Uint32Array.from([0, 3]), mt)).toThrow(
      /crossEntropy: token id 3 at position 1 is outside the vocabulary of 3 ids/,
    );
    expect(() => crossEntropy(gpu, lt, Uint32Array.from([0]), mt)).toThrow(/crossEntropy: targets has 1 ids, expected 2/);
    expect(() => logSoftmaxGather(gpu, lt, Uint32Array.from([0, 1, 2]))).toThrow(/logSoftmaxGather: ids has 3 ids, expected 2/);
    const signed = gpu.upload(Int32Array.from([0, 1]), [2]);
    expect(() => crossEntropy(gpu, lt, signed, mt)).toThrow(/crossEntropy: targets must be u32, got i32/);
    gpu.release(lt, mt, signed);
  });
});
