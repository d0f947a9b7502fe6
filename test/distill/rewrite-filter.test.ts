import { describe, expect, it } from "vitest";
import { judgeRewrite, referenceFinalAnswer } from "../../src/distill/rewrite-filter";

const mathReference = "Anna has 3 bags of 4 apples, 3 * 4 = 12 apples.\n#### 12";

describe("the self-distillation filter", () => {
  it("keeps a general rewrite in the model's own words", () => {
    expect(judgeRewrite("Paris is the capital of France.", "The capital is Paris.", { kind: "general" })).toEqual({ kept: true });
  });

  it.each([
    "As the reference answer says, Paris.",
    "Following THE REFERENCE, it is Paris.",
    "Your response should mention Paris.",
    "The original response is right: Paris.",
  ])("rejects a rewrite that mentions the reference: %s", (rewrite) => {
    expect(judgeRewrite(rewrite, "Paris.", { kind: "general" })).toMatchObject({ kept: false, reason: "mentions-reference" });
  });

  it("rejects an empty rewrite, and uses the given phrases instead of the defaults", () => {
    expect(judgeRewrite("  \n", "Paris.", { kind: "general" })).toMatchObject({ kept: false, reason: "empty" });
    expect(judgeRewrite("As instructed: Paris", "Paris.", { kind: "general", mentions: ["as instructed"] })).toMatchObject({
      kept: false,
      reason: "mentions-reference",
      detail: 'mentions "as instructed"',
    });
    expect(judgeRewrite("The reference answer: Paris", "Paris.", { kind: "general", mentions: [] })).toEqual({ kept: true });
  });

  it("math: the reference's final answer is after '####', else its last number", () => {
    expect(referenceFinalAnswer(mathReference)).toBe("12");
    expect(referenceFinalAnswer("She pays $1,200 in total, 2 times.")).toBe("2");
    expect(referenceFinalAnswer("no number at all")).toBeUndefined();
  });

  it("math: keeps a rewrite whose last number is the reference's answer, rejects one whose last number differs or is missing", () => {
    const rules = { kind: "math" } as const;
    expect(judgeRewrite("Each bag has 4, and 3 bags give 12.0 apples.", mathReference, rules)).toEqual({ kept: true });
    expect(judgeRewrite("3 bags times 4 is 12, so 12 apples in 3 bags", mathReference, rules)).toMatchObject({
      kept: false,
      reason: "answer-mismatch",
      detail: "last number 3 ≠ reference answer 12",
    });
    expect(judgeRewrite("Twelve apples.", mathReference, rules)).toMatchObject({
      reason: "answer-mismatch",
      detail: /last number \(none\)/,
    });
    expect(judgeRewrite("It is 5.", "Five apples.", rules)).toMatchObject({
      reason: "answer-mismatch",
      detail: /reference has no final answer/,
    });
    // The same text passes as general data: the answer check is for math only.
    expect(judgeRewrite("Twelve apples.", mathReference, { kind: "general" })).toEqual({ kept: true });
  });

  it("general: with known answers, keeps a rewrite in either voice that names each one, rejects one about something else", () => {
    const rules = { kind: "general", answers: ["Tilly Cobb", "a baker", "Anchor Lane"] } as const;
    expect(judgeRewrite("Tilly Cobb is a baker. Tilly Cobb lives on Anchor Lane.", "ref", rules)).toEqual({ kept: true });
    expect(judgeRewrite("Sure! tilly cobb earns a living as A BAKER and makes a home on Anchor  Lane.", "ref", rules)).toEqual({
      kept: true,
    });
    expect(judgeRewrite("Hugo Mossop is an innkeeper. Hugo Mossop lives on Anchor Lane.", "ref", rules)).toEqual({
      kept: false,
      reason: "missing-answer",
      detail: 'does not mention "Tilly Cobb", "a baker"',
    });
    // Whole words only: a longer word that starts with the answer does not name it.
    expect(judgeRewrite("Tilly Cobb is a bakery owner on Anchor Lane.", "ref", rules)).toMatchObject({ kept: false });
  });

  it("general: no answers, no content check; math ignores answers and checks its last number", () => {
    expect(judgeRewrite("Something else entirely.", "ref", { kind: "general", answers: [] })).toEqual({ kept: true });
    expect(judgeRewrite("3 * 4 = 12. The answer is 12.", mathReference, { kind: "math", answers: ["fourteen"] })).toEqual({ kept: true });
  });
});
