import { describe, expect, it } from "vitest";
import { argmax, argmaxCpu, sampleFrom, sampleToken, samplingDistribution, softmax, softmaxCpu } from "../../src/ops/sampling";
import { mulberry32 } from "../../src/seeded-random";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

function argmaxRows(logits: ArrayLike<number>, vocab: number): number[] {
  return Array.from({ length: logits.length / vocab }, (_, r) => argmaxCpu(logits, r * vocab, vocab));
}

describe("argmax", () => {
  it.each([
    [1, 1],
    [7, 33],
    [67, 33],
    [1, 50000],
    [7, 50000],
  ])("matches the CPU reference on random logits (B %i, V %i)", async (rows, vocab) => {
    const gpu = await testGpu();
    const logits = randn(rows * vocab, rows * 3 + vocab, 10);
    const lt = gpu.upload(logits, [rows, vocab]);
    const index = argmax(gpu, lt);
    expect(index.dtype).toBe("u32");
    expect(Array.from(await gpu.read(index))).toEqual(argmaxRows(logits, vocab));
    gpu.release(lt, index);
  });

  it("returns the lowest index among tied maxima, wherever the threads' strides put them", async () => {
    const gpu = await testGpu();
    const vocab = 50000;
    // Ties between indices in the same thread's stride (5, 261), in different threads (300, 40000),
    // a whole row equal, the most negative finite value everywhere, and a tie at the very end.
    const ties = [[5, 261, 40000], [40000, 300], [], [], [49998, 49999]];
    const fill = [-1, -1, 7, -3.4028234e38, 0];
    const logits = new Float32Array(ties.length * vocab);
    ties.forEach((at, r) => {
      logits.fill(fill[r], r * vocab, (r + 1) * vocab);
      for (const i of at) logits[r * vocab + i] = 2;
    });
    const lt = gpu.upload(logits, [ties.length, vocab]);
    const index = argmax(gpu, lt);
    expect(Array.from(await gpu.read(index))).toEqual([5, 300, 0, 0, 49998]);
    expect(argmaxRows(logits, vocab)).toEqual([5, 300, 0, 0, 49998]);
    gpu.release(lt, index);
  });
});

describe("softmax with temperature", () => {
  // Each probability is exp(x/T − max) / sum: a few ulp from exp plus the sum's ~log2(V)·2^-24
  // relative error, so 2e-5 relative is a wide margin even at V = 50,000.
  it.each([
    [1, 1, 1],
    [7, 33, 0.7],
    [67, 45, 1],
    [3, 50000, 2],
  ])("matches the CPU reference (B %i, V %i, T %f)", async (rows, vocab, temperature) => {
    const gpu = await testGpu();
    const logits = randn(rows * vocab, rows + vocab, 6);
    const lt = gpu.upload(logits, [rows, vocab]);
    const probs = softmax(gpu, lt, temperature);
    expectClose(await gpu.read(probs), softmaxCpu(logits, vocab, temperature), 2e-5, 1e-9, "probs");
    gpu.release(lt, probs);
  });

  // Extreme but with logits / temperature still finite in f32 (|x/T| ≤ 1e38).
  it("is NaN-free and sums to 1 for extreme logits and temperatures", async () => {
    const gpu = await testGpu();
    const logits = Float32Array.from([1e36, -1e36, 0, 1e30, -1e30, 5, 5, 5, 5, 5, 5, 5]);
    const lt = gpu.upload(logits, [4, 3]);
    for (const t of [0.01, 1, 100]) {
      const probs = softmax(gpu, lt, t);
      const p = await gpu.read(probs);
      expect(p.every(Number.isFinite)).toBe(true);
      for (let r = 0; r < 4; r++) expect(Math.abs(p[3 * r] + p[3 * r + 1] + p[3 * r + 2] - 1)).toBeLessThan(1e-6);
      gpu.release(probs);
    }
    gpu.release(lt);
  });

  it("rejects a temperature that is not positive", async () => {
    const gpu = await testGpu();
    const lt = gpu.upload(randn(3, 1), [1, 3]);
    expect(() => softmax(gpu, lt, 0)).toThrow(/softmax: temperature must be positive, got 0/);
    gpu.release(lt);
  });
});

describe("sampleToken", () => {
  it("greedy decoding (temperature 0 or top-k 1) equals argmax and never draws a random number", () => {
    const noRandom = () => {
      throw new Error("greedy decoding drew a random number");
    };
    for (let seed = 1; seed <= 20; seed++) {
      const logits = randn(1000, seed, 5);
      const best = argmaxCpu(logits);
      expect(sampleToken(logits, { temperature: 0 }, noRandom)).toBe(best);
      expect(sampleToken(logits, { temperature: 0.8, topK: 1, topP: 0.9 }, noRandom)).toBe(best);
    }
    expect(sampleToken(Float32Array.from([1, 3, 3, 2]), { temperature: 0 }, noRandom)).toBe(1);
  });

  it("top-p keeps the smallest most-likely set whose mass reaches p", () => {
    const logits = Float32Array.from([0.15, 0.5, 0.05, 0.3].map(Math.log));
    const kept = (topP: number) => Array.from(samplingDistribution(logits, { temperature: 1, topP }), (p) => (p > 0 ? 1 : 0));
    expect(kept(0.4)).toEqual([0, 1, 0, 0]);
    expect(kept(0.75)).toEqual([0, 1, 0, 1]);
    expect(kept(0.85)).toEqual([1, 1, 0, 1]);
    expect(kept(1)).toEqual([1, 1, 1, 1]);
    expectClose(
      samplingDistribution(logits, { temperature: 1, topP: 0.75 }),
      [0, 0.625, 0, 0.375],
      1e-7,
      0,
      "renormalised (logits are f32)",
    );
    for (let seed = 1; seed <= 20; seed++) {
      const l = randn(500, seed, 4);
      const topP = 0.05 + 0.9 * mulberry32(seed)();
      const full = samplingDistribution(l, { temperature: 0.9 });
      const filtered = samplingDistribution(l, { temperature: 0.9, topP });
      const keptIds = Array.from(filtered.keys()).filter((i) => filtered[i] > 0);
      const mass = keptIds.reduce((s, i) => s + full[i], 0);
      const smallest = Math.min(...keptIds.map((i) => full[i]));
      const largestDropped = Math.max(0, ...Array.from(full).filter((_, i) => !keptIds.includes(i)));
      expect(mass).toBeGreaterThanOrEqual(topP);
      expect(mass - smallest).toBeLessThan(topP);
      expect(largestDropped).toBeLessThanOrEqual(smallest);
    }
  });

  // An independent oracle: sort every id by (logit desc, id asc), cut at k, then walk to mass p.
  function bruteForceDistribution(logits: Float32Array, temperature: number, topK: number, topP: number): Float64Array {
    const full = softmaxCpu(logits, logits.length, temperature);
    const order = Array.from(full.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    const top = order.slice(0, topK || order.length);
    const topMass = top.reduce((s, i) => s + full[i], 0);
    let mass = 0;
    const kept = top.filter((i) => {
      const inside = mass < topP * topMass;
      mass += full[i];
      return inside;
    });
    const keptMass = kept.reduce((s, i) => s + full[i], 0);
    const out = new Float64Array(logits.length);
    for (const i of kept) out[i] = full[i] / keptMass;
    return out;
  }

  it.each([
    [0, 0.9],
    [0, 0.999],
    [50, 1],
    [50, 0.5],
    [7, 0.95],
    [3000, 0.99],
  ])("equals a brute-force sort for top-k %i, top-p %f, with and without tied logits", (topK, topP) => {
    for (const [seed, scale, quantum] of [
      [1, 8, 0],
      [2, 0.05, 0],
      [3, 6, 1],
    ]) {
      // quantum 1 rounds logits to integers: many ties, including at the cut.
      const logits = randn(2000, seed, scale).map((x) => (quantum ? Math.round(x) : x));
      const got = samplingDistribution(logits, { temperature: 0.9, topK, topP });
      expectClose(got, bruteForceDistribution(logits, 0.9, topK, topP), 1e-12, 1e-15, `seed ${seed}`);
    }
  });

  it("top-k keeps the k most likely tokens, lower ids first on ties", () => {
    const logits = Float32Array.from([1, 4, 2, 4, 3, 2]);
    const kept = (topK: number) => Array.from(samplingDistribution(logits, { temperature: 1, topK }), (p) => (p > 0 ? 1 : 0));
    expect(kept(2)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(kept(4)).toEqual([0, 1, 1, 1, 1, 0]);
    expect(kept(10)).toEqual([1, 1, 1, 1, 1, 1]);
    // top-p applies to the top-k renormalised distribution: 3 of 4 equal tokens reach 0.7.
    expect(Array.from(samplingDistribution(Float32Array.from([0, 0, 0, 0, 0]), { temperature: 1, topK: 4, topP: 0.7 }))).toEqual([
      1 / 3,
      1 / 3,
      1 / 3,
      0,
      0,
    ]);
  });

  // 40,000 draws from a fixed seed: each frequency is within 4 standard errors sqrt(p(1−p)/n) of its
  // probability (deterministic, so never flaky; a wrong distribution would miss by far more).
  it.each([[{ temperature: 1 }], [{ temperature: 0.6 }], [{ temperature: 1.5, topK: 4 }], [{ temperature: 1, topP: 0.8 }]])(
    "draws tokens with the frequencies of the sampling distribution (%j)",
    (options) => {
      const logits = Float32Array.from([1.2, -0.3, 0.5, 2.0, 0.0, -1.0, 0.9, 1.7]);
      const probs = samplingDistribution(logits, options);
      const random = mulberry32(1234);
      const draws = 40000;
      const counts = new Array(logits.length).fill(0);
      for (let i = 0; i < draws; i++) counts[sampleToken(logits, options, random)]++;
      probs.forEach((p, i) => {
        expect(Math.abs(counts[i] / draws - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / draws));
      });
      if (!("topK" in options) && !("topP" in options)) expectClose(probs, softmaxCpu(logits, 8, options.temperature), 1e-12, 0, "probs");
    },
  );

  it("draws from explicit probabilities by inverse CDF, skipping zeros", () => {
    const probs = [0, 0.25, 0, 0.75];
    expect(sampleFrom(probs, () => 0)).toBe(1);
    expect(sampleFrom(probs, () => 0.2499)).toBe(1);
    expect(sampleFrom(probs, () => 0.25)).toBe(3);
    expect(sampleFrom(probs, () => 0.999999999)).toBe(3);
  });

  it("rejects NaN logits and invalid options, naming them", () => {
    const r = mulberry32(1);
    expect(() => sampleToken(Float32Array.from([0, Number.NaN]), { temperature: 1 }, r)).toThrow(/sampleToken: logit 1 is NaN/);
    expect(() => sampleToken(Float32Array.from([0, 1]), { temperature: -1 }, r)).toThrow(/temperature must be ≥ 0, got -1/);
    expect(() => sampleToken(Float32Array.from([0, 1]), { temperature: 1, topK: 1.5 }, r)).toThrow(/topK must be a whole number/);
    expect(() => sampleToken(Float32Array.from([0, 1]), { temperature: 1, topP: 0 }, r)).toThrow(/topP must be in \(0, 1\], got 0/);
  });
});
