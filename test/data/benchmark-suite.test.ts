import { describe, expect, it } from "vitest";
import { buildBenchmarkSuite } from "../../src/data/benchmark-suite";
import { buildWorld } from "../../src/data/world";
import { personQuestions } from "../../src/data/world-questions";
import { answersMatch, extractAnswer } from "../../src/eval/answer-extractor";
import { generativePrompt, multipleChoicePrompt } from "../../src/eval/few-shot-prompt";
import { type MultipleChoiceTask, parseEvalSuite } from "../../src/eval/task-format";

const world = buildWorld(1);
const suite = buildBenchmarkSuite(world);
const task = (name: string) => {
  const t = suite.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`no task ${name}`);
  return t;
};
const mc = (name: string) => task(name) as MultipleChoiceTask;

describe("benchmark suite", () => {
  it("has six tasks mirroring Open LLM v1, ≥ 200 items each, in the eval task format", () => {
    expect(suite.tasks.map((t) => t.name)).toEqual([
      "town-facts",
      "daily-routines",
      "town-subjects",
      "old-tales",
      "who-was-it",
      "word-problems",
    ]);
    const parsed = parseEvalSuite(JSON.parse(JSON.stringify(suite)), "demo suite");
    expect(parsed.tasks).toHaveLength(6);
    for (const t of suite.tasks) {
      expect(t.items.length).toBeGreaterThanOrEqual(200);
      expect(t.fewShot).toHaveLength(3);
      expect(t.description).not.toBe("");
    }
  });

  it("states chance as 1/choices for multiple choice and 0 for exact match", () => {
    for (const t of suite.tasks) {
      if (t.kind === "multiple-choice") for (const item of t.items) expect(t.chance).toBe(1 / item.choices.length);
      else expect(t.chance).toBe(0);
    }
  });

  it("has distinct items, distinct choices, and few-shot examples apart from the items", () => {
    for (const t of suite.tasks) {
      const text = (i: unknown) => JSON.stringify(i);
      const items = new Set(t.items.map(text));
      expect(items.size).toBe(t.items.length);
      for (const shot of t.fewShot ?? []) expect(items.has(text(shot))).toBe(false);
      if (t.kind === "multiple-choice") for (const item of t.items) expect(new Set(item.choices).size).toBe(item.choices.length);
    }
  });

  it("spreads the gold answer over the positions", () => {
    for (const name of ["town-facts", "daily-routines", "town-subjects", "old-tales", "who-was-it"]) {
      const t = mc(name);
      const positions = new Set(t.items.map((i) => i.gold));
      expect(positions.size).toBe(t.items[0].choices.length);
    }
  });

  it("marks the world's truth as gold", () => {
    const answers = new Map(personQuestions(world).map((q) => [`Question: ${q.question}\nAnswer:`, q.answer]));
    for (const item of mc("town-facts").items) expect(item.choices[item.gold]).toBe(answers.get(item.context));

    for (const item of mc("daily-routines").items) {
      const person = world.people.find((p) => item.context.includes(` ${p.name} the ${p.trade.name} `));
      const shown = item.context.split("After that,").length - 1;
      expect(item.choices[item.gold]).toBe(`${person?.trade.routine[shown]}.`);
    }

    for (const item of mc("old-tales").items) {
      const gold = item.choices[item.gold];
      expect(gold).toMatch(/^No, \w+( \w+)? cannot /);
      expect(item.choices.filter((c) => c.startsWith("No,"))).toHaveLength(1);
    }

    for (const item of mc("who-was-it").items) {
      const people = item.choices.map((name) => world.people.find((p) => p.name === name));
      const clue = item.context.slice(item.context.indexOf("one of them"));
      const mentions = (word: string) => new RegExp(`\\b${word}\\b`).test(clue);
      const fits = people.map((p) => !!p && [...p.trade.tools, p.trade.goods, p.trade.workplace].some(mentions));
      expect(fits).toEqual(item.choices.map((_, i) => i === item.gold));
    }

    for (const item of mc("town-subjects").items) {
      const sum = /What is (\d+) (plus|minus|times) (\d+)\?/.exec(item.context);
      if (!sum) continue;
      const [a, b] = [Number(sum[1]), Number(sum[3])];
      const value = sum[2] === "plus" ? a + b : sum[2] === "minus" ? a - b : a * b;
      expect(item.choices[item.gold]).toBe(String(value));
    }
  });

  it("word problems: worked targets end in the answer the extractor finds, and the arithmetic is right", () => {
    const t = task("word-problems");
    if (t.kind !== "generative") throw new Error("word-problems must be generative");
    for (const item of [...t.items, ...(t.fewShot ?? [])]) {
      expect(answersMatch(extractAnswer(item.target ?? "", t.extractor), item.answer)).toBe(true);
      for (const [, a, op, b, c] of (item.target ?? "").matchAll(/(\d+) ([-+*/]) (\d+) = (\d+)\./g)) {
        const [x, y] = [Number(a), Number(b)];
        expect(op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : x / y).toBe(Number(c));
      }
      expect(item.target).not.toContain("\n\n");
      expect(Number(item.answer)).toBeGreaterThanOrEqual(0);
    }
    expect(generativePrompt(t, t.items[0]).split("Question:")).toHaveLength(5);
  });

  it("few-shot prompts read as lm-eval-harness builds them", () => {
    const t = mc("town-facts");
    const prompt = multipleChoicePrompt(t, t.items[0]);
    expect(prompt.split("\n\n")).toHaveLength(4);
    expect(prompt.endsWith("\nAnswer:")).toBe(true);
  });

  it("is deterministic per (world, seed) and changes with either", () => {
    const json = JSON.stringify(suite);
    expect(JSON.stringify(buildBenchmarkSuite(buildWorld(1)))).toBe(json);
    expect(JSON.stringify(buildBenchmarkSuite(world, { seed: 1 }))).not.toBe(json);
    expect(JSON.stringify(buildBenchmarkSuite(buildWorld(2)))).not.toBe(json);
  });

  it("says which task cannot supply the items asked for", () => {
    expect(() => buildBenchmarkSuite(buildWorld(1, { people: 24 }))).toThrow(/town-facts has \d+ items, 200 asked for/);
    expect(buildBenchmarkSuite(world, { items: 20, fewShot: 1 }).tasks.every((t) => t.items.length === 20 && t.fewShot?.length === 1)).toBe(
      true,
    );
  });
});
