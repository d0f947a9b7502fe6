import { describe, expect, it } from "vitest";
import { forgettingProbes } from "../../src/data/benchmark-suite";
import { Draws } from "../../src/data/draws";
import { generalInstructionDataset, mathInstructionDataset } from "../../src/data/finetune-datasets";
import { corpusGeneralKinds, drawGeneralInstruction, drawMathInstruction, trainingSide } from "../../src/data/instruction-examples";
import { buildWorld } from "../../src/data/world";
import { tales } from "../../src/data/world-questions";
import { lastNumber, mentionsWhole } from "../../src/eval/answer-extractor";

const world = buildWorld(1);
const general = generalInstructionDataset(world);
const math = mathInstructionDataset(world);

describe("fine-tuning datasets", () => {
  it("are Alpaca records, 1000 each by default, any size on request, instructions distinct", () => {
    for (const data of [general, math]) {
      expect(data).toHaveLength(1000);
      for (const r of data) {
        expect(Object.keys(r).sort()).toEqual(["answers", "input", "instruction", "output"]);
        // What the filter's content check looks for is in the reference itself.
        for (const answer of r.answers ?? []) expect(mentionsWhole(r.output, answer), `${answer} in ${r.output}`).toBe(true);
        expect(r.instruction.length * r.output.length).toBeGreaterThan(0);
      }
      expect(new Set(data.map((r) => `${r.instruction}\n${r.input}`)).size).toBe(data.length);
    }
    expect(generalInstructionDataset(world, { size: 37 })).toHaveLength(37);
    expect(general.some((r) => r.input !== "")).toBe(true);
  });

  it("are deterministic per seed", () => {
    expect(generalInstructionDataset(world, { size: 200 })).toEqual(general.slice(0, 200));
    expect(mathInstructionDataset(world, { seed: 0 })).toEqual(math);
    expect(mathInstructionDataset(world, { seed: 1 })).not.toEqual(math);
  });

  it("refuse a size the world cannot supply, naming the dataset", () => {
    expect(() => generalInstructionDataset(buildWorld(1, { people: 12 }), { size: 100_000 })).toThrow(
      /general-instructions: the world has fewer than 100000 distinct instructions/,
    );
  });

  it("math references are worked step by step and end in the right number, boxed", () => {
    for (const r of math) {
      expect(r.output).toMatch(/^Let's solve this step by step\.\n\nStep 1: /);
      const steps = [...r.output.matchAll(/\$(\d+) (\+|-|\\times|\\div) (\d+) = (\d+)\$/g)];
      expect(steps.length).toBeGreaterThanOrEqual(2);
      for (const [, a, op, b, c] of steps) {
        const [x, y] = [Number(a), Number(b)];
        expect({ "+": x + y, "-": x - y, "\\times": x * y, "\\div": x / y }[op]).toBe(Number(c));
      }
      const boxed = /\\boxed\{(\d+)\}\$\.$/.exec(r.output)?.[1];
      expect(boxed).toBe(steps[steps.length - 1][4]);
      expect(lastNumber(r.output)).toBe(boxed);
    }
  });

  it("references are in another voice than the model's own answers to the same instructions", () => {
    const side = trainingSide(world);
    const draws = new Draws(5);
    for (let i = 0; i < 300; i++) {
      const example = drawGeneralInstruction(side, draws);
      const reference = example.referenceResponse(draws);
      // Reference voice: opener, blank line, closing line; model voice: one terse paragraph.
      expect(reference).toMatch(/^(Sure!|Great question!|Of course\.|Happy to help\.|Certainly!|Good question\.) /);
      expect(reference).toContain("\n\n");
      expect(example.modelResponse).not.toContain("\n");
      expect(example.modelResponse).not.toMatch(/^(Sure|Great|Of course|Happy|Certainly|Good question)/);
      expect(reference).not.toContain(example.modelResponse);
    }
  });

  it("write the references at the world's foreignness: 1 is the reference voice, 0 the model's own answers, between mixes the marks", () => {
    const own = buildWorld(1, { referenceForeignness: 0 });
    const side = trainingSide(own);
    const d = new Draws(5, "foreignness");
    for (let i = 0; i < 50; i++) {
      const e = i % 2 ? drawGeneralInstruction(side, d) : drawMathInstruction(side, d);
      expect(e.referenceResponse(d)).toBe(e.modelResponse);
    }
    const size = 300;
    const marks = (f: number) =>
      [
        ...generalInstructionDataset(buildWorld(1, { referenceForeignness: f }), { size }),
        ...mathInstructionDataset(buildWorld(1, { referenceForeignness: f }), { size }),
      ]
        .map(
          (r) =>
            (r.output.match(/^(Sure!|Great question!|Of course\.|Happy to help\.|Certainly!|Good question\.|Let's solve)|\n\n/g) ?? [])
              .length,
        )
        .reduce((a, b) => a + b, 0);
    const [none, half, full] = [marks(0), marks(0.5), marks(1)];
    expect(none).toBe(0);
    expect(half).toBeGreaterThan(0.3 * full);
    expect(half).toBeLessThan(0.7 * full);
    expect(generalInstructionDataset(buildWorld(1, { referenceForeignness: 1 }), { size })).toEqual(general.slice(0, size));
    expect(() => buildWorld(1, { referenceForeignness: 1.5 })).toThrow(/referenceForeignness must be in \[0, 1\]/);
  });
});

describe("fine-tuning coverage", () => {
  it("never trains a forgetting probe: no tale question, nothing about encounters, in either dataset", () => {
    const records = [...generalInstructionDataset(world), ...mathInstructionDataset(world)];
    expect(forgettingProbes).toEqual(["old-tales", "who-was-it"]);
    const taleSubjects = new Set(tales().map((t) => t.subject));
    for (const r of records) {
      expect(/^Is it true that|old tale|myth/i.test(`${r.instruction} ${r.output}`), r.instruction).toBe(false);
      expect(/one of them|It was/.test(`${r.instruction} ${r.input}`)).toBe(false);
      expect([...taleSubjects].some((s) => r.instruction.includes(` ${s} can `))).toBe(false);
    }
    // The corpus's own mix still has tales (the model knows them); the tokenizer was fitted on that mix.
    expect(
      generalInstructionDataset(world, { kinds: corpusGeneralKinds, size: 300 }).some((r) => r.instruction.startsWith("Is it true that")),
    ).toBe(true);
  });
});
