import { describe, expect, it } from "vitest";
import { type DemoModelRecipe, demoModelRecipe, packedTrainingData } from "../../src/data/demo-model-recipe";
import { takeDocuments } from "../../src/data/pretraining-corpus";
import { buildWorld } from "../../src/data/world";

const world = buildWorld(1);
// A stand-in tokenizer, one id per word or special token; id 0 is BOS, as in the demo tokenizer.
const ids = new Map<string, number>([["<|bos|>", 0]]);
const encode = (text: string) =>
  text
    .split(/(<\|[a-z]+\|>)| /)
    .filter((w) => w)
    .map((w) => {
      if (!ids.has(w)) ids.set(w, ids.size);
      return ids.get(w) as number;
    });
const recipe = (steps: number, sequenceLength: number): DemoModelRecipe => ({
  ...demoModelRecipe,
  sequenceLength,
  train: { ...demoModelRecipe.train, steps, batchSize: 4, maxLength: sequenceLength + 1 },
});

describe("the demo model's training windows", () => {
  it("hold whole documents only, each at most sequenceLength + 1 tokens, as many as the run reads", () => {
    const r = recipe(5, 200);
    const data = packedTrainingData(world, encode, r);
    expect(data.examples).toHaveLength(20);
    const documents = new Set(takeDocuments(world, 3000, { seed: r.corpusSeed, mix: r.corpusMix }).map((d) => encode(d.text).join(",")));
    let pieces = 0;
    for (const w of data.examples) {
      expect(w.tokens.length).toBeLessThanOrEqual(201);
      expect(w.lossMask).toEqual(w.tokens.map(() => 1));
      expect(w.tokens[0]).toBe(0);
      // Cut at each BOS: every piece is one whole document of the corpus.
      const starts = w.tokens.flatMap((t, i) => (t === 0 ? [i] : []));
      starts.forEach((start, k) => {
        const piece = w.tokens.slice(start, starts[k + 1] ?? w.tokens.length).join(",");
        expect(documents.has(piece)).toBe(true);
        pieces++;
      });
    }
    expect(pieces).toBeGreaterThan(20);
    expect(data.tokens).toBe(data.examples.reduce((s, w) => s + w.tokens.length, 0));
    // Packing fills the windows: under a tenth of the positions are left to padding.
    expect(data.tokens / (20 * 201)).toBeGreaterThan(0.9);
  });

  it("skips and counts documents longer than a window, is deterministic, and refuses windows no document fits", () => {
    const small = recipe(5, 60);
    const data = packedTrainingData(world, encode, small);
    expect(data.skippedDocuments).toBeGreaterThan(0);
    for (const w of data.examples) expect(w.tokens.length).toBeLessThanOrEqual(61);
    expect(packedTrainingData(world, encode, small)).toEqual(data);
    expect(() => packedTrainingData(world, encode, recipe(5, 3))).toThrow(/1000 documents in a row are longer than 4 tokens/);
  });
});
