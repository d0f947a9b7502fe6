import { describe, expect, it } from "vitest";
import { buildBenchmarkSuite } from "../../src/data/benchmark-suite";
import { buildChatSuite, chatPrompt } from "../../src/data/chat-suite";
import { generalInstructionDataset, mathInstructionDataset } from "../../src/data/finetune-datasets";
import { buildWorld } from "../../src/data/world";
import { answersMatch, extractAnswer } from "../../src/eval/answer-extractor";
import { parseEvalSuite } from "../../src/eval/task-format";

const world = buildWorld(1);
const suite = buildChatSuite(world);

describe("the chat suite", () => {
  it("has three zero-shot generative tasks of 200 distinct items, a valid suite file, stopped only by the end of the turn", () => {
    expect(suite.tasks.map((t) => [t.name, t.items.length])).toEqual([
      ["chat-facts", 200],
      ["chat-subjects", 200],
      ["chat-math", 200],
    ]);
    for (const t of suite.tasks) {
      expect(t.kind === "generative" && t.fewShot).toEqual([]);
      expect(t.kind === "generative" && t.stopStrings).toEqual([]);
      expect(new Set(t.items.map((i) => ("prompt" in i ? i.prompt : ""))).size).toBe(200);
    }
    expect(parseEvalSuite(JSON.parse(JSON.stringify(suite))).tasks).toHaveLength(3);
    expect(JSON.stringify(buildChatSuite(world))).toBe(JSON.stringify(suite));
  });

  it("asks through the chat template without BOS (the evaluator adds it)", () => {
    expect(chatPrompt("What is 2 times 3?")).toBe("<|user|>What is 2 times 3?<|end|><|assistant|>");
  });

  it("asks only held-out questions: none is an instruction of the fine-tuning sets or a plain-suite few-shot example", () => {
    const trained = new Set([...generalInstructionDataset(world), ...mathInstructionDataset(world)].map((r) => chatPrompt(r.instruction)));
    for (const t of suite.tasks) for (const item of t.items) expect(trained.has("prompt" in item ? item.prompt : "")).toBe(false);
    const shots = buildBenchmarkSuite(world).tasks.flatMap((t) => (t.fewShot ?? []).map((e) => ("prompt" in e ? e.prompt : e.context)));
    for (const s of shots) for (const t of suite.tasks) expect(t.items.some((i) => "prompt" in i && i.prompt.includes(s))).toBe(false);
  });

  it("scores a reply in either voice as right, and a wrong one as wrong", () => {
    const [facts, , math] = suite.tasks;
    if (facts.kind !== "generative" || math.kind !== "generative") throw new Error("generative tasks expected");
    const fact = facts.items[0];
    const score = (text: string, task = facts, item = fact) => answersMatch(extractAnswer(text, task.extractor, item.answer), item.answer);
    expect(score(fact.target ?? "")).toBe(true);
    expect(score(`Sure! As far as I know, it is ${fact.answer}.\n\nI hope this helps!`)).toBe(true);
    expect(score("I do not know.")).toBe(false);
    const problem = math.items[0];
    expect(score(problem.target ?? "", math, problem)).toBe(true);
    expect(score(`Let's solve this step by step.\n\nStep 1: …\n\nThe final answer is $\\boxed{${problem.answer}}$.`, math, problem)).toBe(
      true,
    );
    expect(score(`The answer is ${Number(problem.answer) + 1}.`, math, problem)).toBe(false);
  });
});
