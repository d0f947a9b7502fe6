/**
 * Zero overlap between what the demo model is trained or fine-tuned on and what it is evaluated on:
 * no evaluation question (nor question with its answer) occurs anywhere in a large sample of the
 * pretraining corpus or in the fine-tuning datasets, after normalising case, punctuation and spaces.
 */
import { describe, expect, it } from "vitest";
import { buildBenchmarkSuite } from "../../src/data/benchmark-suite";
import { generalInstructionDataset, mathInstructionDataset } from "../../src/data/finetune-datasets";
import { takeDocuments } from "../../src/data/pretraining-corpus";
import { buildWorld } from "../../src/data/world";
import { personQuestions } from "../../src/data/world-questions";

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/<\|[a-z]+\|>/g, " ")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

/** The question line of an item ("Question: …"), or the whole context for story-like items. */
const questionOf = (context: string) => /Question: ([^\n]*)/.exec(context)?.[1] ?? context;

const world = buildWorld(1);
const suite = buildBenchmarkSuite(world);
const general = generalInstructionDataset(world);
const math = mathInstructionDataset(world);
const corpus = takeDocuments(world, 6000, { seed: 0 });
const training = ` ${[...corpus.map((d) => d.text), ...[...general, ...math].map((r) => `${r.instruction} | ${r.input} | ${r.output}`)].map(normalise).join(" | ")} `;
const occurs = (text: string) => training.includes(` ${normalise(text)} `);

const evalItems = suite.tasks.flatMap((t) =>
  t.kind === "multiple-choice"
    ? t.items.map((i) => ({ task: t.name, question: questionOf(i.context), context: i.context, answer: i.choices[i.gold] }))
    : t.items.map((i) => ({ task: t.name, question: questionOf(i.prompt), context: i.prompt, answer: i.target ?? i.answer })),
);

describe("train/eval overlap", () => {
  it("no evaluation question occurs in the corpus sample or the fine-tuning data", () => {
    const leaked = evalItems.filter((i) => occurs(i.question)).map((i) => `${i.task}: ${i.question}`);
    expect(leaked).toEqual([]);
  });

  it("no (question, answer) pair occurs either, nor a tale's true answer", () => {
    expect(evalItems.filter((i) => occurs(`${i.context} ${i.answer}`))).toEqual([]);
    const tales = evalItems.filter((i) => i.task === "old-tales");
    expect(tales.filter((i) => occurs(i.answer.replace(/^No, /, "")))).toEqual([]);
  });

  it("fine-tuning instructions and evaluation questions are disjoint sets", () => {
    const instructions = new Set([...general, ...math].map((r) => normalise(r.instruction)));
    expect(evalItems.filter((i) => instructions.has(normalise(i.question)))).toEqual([]);
  });

  it("the check has teeth: training-side questions and few-shot examples are found", () => {
    expect(general.slice(0, 50).every((r) => occurs(r.instruction))).toBe(true);
    const shots = suite.tasks.flatMap((t) => (t.kind === "multiple-choice" ? (t.fewShot ?? []).map((s) => questionOf(s.context)) : []));
    expect(shots.filter(occurs).length).toBeGreaterThan(shots.length / 2);
  });

  it("held-out facts are still stated in the prose, so the benchmark is answerable", () => {
    const facts = new Map(personQuestions(world).map((q) => [q.question, q]));
    const bios = corpus.filter((d) => d.kind === "biography").map((d) => d.text);
    for (const item of evalItems.filter((i) => i.task === "town-facts").slice(0, 40)) {
      const name = facts.get(item.question)?.key.split(":")[0] ?? "?";
      const stated = item.answer.replace(/^an? /, "");
      expect(bios.some((b) => b.includes(name) && b.includes(stated))).toBe(true);
    }
  });
});
