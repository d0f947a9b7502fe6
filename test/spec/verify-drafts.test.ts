import { describe, expect, it } from "vitest";
import { sampleFrom } from "../../src/ops/sampling";
import { verifyDrafts } from "../../src/spec/verify-drafts";
import { rng } from "../numerics";

/** A Markov chain over a tiny vocabulary stands in for a model: row j is the next-token distribution after token j. */
function chain(seed: number, vocab: number, sharpness: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: vocab }, () => {
    const w = Array.from({ length: vocab }, () => Math.exp(sharpness * r()));
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / total);
  });
}

/** The first two generated tokens of speculative sampling over the chains, from `start`, k drafts per round. */
function speculateTwo(target: number[][], draft: number[][], start: number, k: number, random: () => number): [number, number] {
  const out: number[] = [];
  let last = start;
  while (out.length < 2) {
    const drafts: number[] = [];
    for (let i = 0; i < k; i++) drafts.push(sampleFrom(draft[drafts.at(-1) ?? last], random));
    const contexts = [last, ...drafts];
    const { accepted, next } = verifyDrafts(
      contexts.map((c) => target[c]),
      contexts.slice(0, k).map((c) => draft[c]),
      drafts,
      random,
    );
    out.push(...drafts.slice(0, accepted), next);
    last = out.at(-1) ?? last;
  }
  return [out[0], out[1]];
}

function chiSquare(counts: number[], expected: number[]): number {
  return counts.reduce((sum, c, i) => sum + (c - expected[i]) ** 2 / expected[i], 0);
}

describe("verifyDrafts", () => {
  const vocab = 4;
  const target = chain(1, vocab, 3);
  const draft = chain(2, vocab, 3);
  const exactJoint = (m: number[][]) => m[0].flatMap((p1, a) => m[a].map((p2) => n * p1 * p2));
  const n = 100_000;

  it("reproduces the target's joint distribution of the first two tokens (chi-square, 15 dof, fixed seed)", () => {
    for (const k of [1, 3]) {
      const random = rng(42 + k);
      const counts = new Array(vocab * vocab).fill(0);
      for (let run = 0; run < n; run++) {
        const [a, b] = speculateTwo(target, draft, 0, k, random);
        counts[a * vocab + b]++;
      }
      // 37.7 is the 0.999 quantile of chi-square with 15 degrees of freedom.
      expect(chiSquare(counts, exactJoint(target)), `k = ${k}`).toBeLessThan(37.7);
      // The same statistic tells the draft's distribution apart, so the test can fail.
      expect(chiSquare(counts, exactJoint(draft)), `k = ${k}`).toBeGreaterThan(1000);
    }
  });

  it("with one-hot distributions keeps drafts while they are the target's argmax, then corrects", () => {
    const oneHot = (i: number) => Array.from({ length: vocab }, (_, j) => (j === i ? 1 : 0));
    const fixed = () => 0.999999;
    expect(verifyDrafts([oneHot(2), oneHot(3), oneHot(1)], [oneHot(2), oneHot(3)], [2, 3], fixed)).toEqual({ accepted: 2, next: 1 });
    expect(verifyDrafts([oneHot(2), oneHot(0), oneHot(1)], [oneHot(2), oneHot(3)], [2, 3], fixed)).toEqual({ accepted: 1, next: 0 });
  });

  it("names the mismatch when distributions and drafts disagree", () => {
    expect(() => verifyDrafts([[1]], [[1]], [0], Math.random)).toThrow(/1 drafts need 1 draft and 2 target distributions, got 1 and 1/);
    expect(() =>
      verifyDrafts(
        [
          [0.5, 0.5],
          [1, 0],
        ],
        [[1, 0]],
        [1],
        Math.random,
      ),
    ).toThrow(/draft 0 \(token 1\) has probability 0/);
  });
});
