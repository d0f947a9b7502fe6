import { describe, expect, it } from "vitest";
import { generativePrompt, multipleChoicePrompt } from "../../src/eval/few-shot-prompt";
import type { GenerativeTask, MultipleChoiceTask } from "../../src/eval/task-format";
import { parseEvalSuite } from "../../src/eval/task-format";

const mc: MultipleChoiceTask = {
  name: "colors",
  kind: "multiple-choice",
  fewShot: [{ context: "Q: sky?\nA:", choices: ["green", "blue"], gold: 1 }],
  items: [{ context: "Q: grass?\nA:", choices: ["green", "red"], gold: 0 }],
};
const gen: GenerativeTask = {
  name: "sums",
  kind: "generative",
  extractor: { kind: "after-marker", marker: "####" },
  fewShotSeparator: "\n---\n",
  fewShot: [
    { prompt: "Q: 1+1?\nA:", answer: "2", target: " 1+1=2. #### 2" },
    { prompt: "Q: 2+2?\nA:", answer: "4" },
  ],
  items: [{ prompt: "Q: 3+4?\nA:", answer: "7" }],
};

describe("few-shot prompts", () => {
  it("multiple choice: each example is its context, the delimiter and its gold choice; then the item's context", () => {
    expect(multipleChoicePrompt(mc, mc.items[0])).toBe("Q: sky?\nA: blue\n\nQ: grass?\nA:");
    expect(multipleChoicePrompt({ ...mc, targetDelimiter: "->", fewShot: [] }, mc.items[0])).toBe("Q: grass?\nA:");
  });

  it("generative: each example is its prompt and its target (else its answer), joined by the task's separator", () => {
    expect(generativePrompt(gen, gen.items[0])).toBe("Q: 1+1?\nA: 1+1=2. #### 2\n---\nQ: 2+2?\nA:4\n---\nQ: 3+4?\nA:");
  });
});

describe("parseEvalSuite", () => {
  it("accepts a suite object or a bare array of tasks", () => {
    expect(parseEvalSuite({ name: "mini", tasks: [mc, gen] })).toEqual({ name: "mini", tasks: [mc, gen] });
    expect(parseEvalSuite([mc], "tasks.json").name).toBe("tasks.json");
  });

  it.each([
    [{ tasks: [] }, /suite: the suite has no tasks/],
    [
      { tasks: [{ ...mc, items: [{ context: "c", choices: ["a", "b"], gold: 2 }] }] },
      /task "colors", item 0: "gold" must be an index into its 2 choices, got 2/,
    ],
    [
      { tasks: [{ ...mc, fewShot: [{ context: "c", choices: ["a"], gold: 0 }] }] },
      /task "colors", fewShot 0: "choices" must be at least two/,
    ],
    [{ tasks: [{ ...gen, items: [{ prompt: "p" }] }] }, /task "sums", item 0: "answer" must be a non-empty string/],
    [{ tasks: [{ ...gen, extractor: { kind: "regex", pattern: "[" } }] }, /task "sums": invalid regex/],
    [{ tasks: [{ ...mc, kind: "ranking" }] }, /task "colors": "kind" must be/],
    [{ tasks: [mc, mc] }, /two tasks are named "colors"/],
    [{ tasks: [{ ...mc, name: "" }] }, /suite: task 0: "name" must be a non-empty string/],
  ])("%# names the task, item and field of an error", (suite, message) => {
    expect(() => parseEvalSuite(suite)).toThrow(message);
  });
});
