import { describe, expect, it } from "vitest";
import {
  answersMatch,
  checkAnswerExtractor,
  extractAnswer,
  lastNumber,
  mentionsWhole,
  normalizeAnswer,
} from "../../src/eval/answer-extractor";

describe("answer extractors", () => {
  it("last number: signs, thousands separators and decimals; a sentence's final period is not a decimal", () => {
    expect(lastNumber("3 apples and 4 pears make 7.")).toBe("7");
    expect(lastNumber("she owes -12.5 coins")).toBe("-12.5");
    expect(lastNumber("a total of 1,250 stones")).toBe("1,250");
    expect(lastNumber("no digits here")).toBeUndefined();
    expect(extractAnswer("2 + 3 = 5, then 5 * 2 = 10", { kind: "last-number" })).toBe("10");
  });

  it("after a marker: the first line after the first '####'", () => {
    const solution = "Tom has 3 + 4 = 7 cats.\n#### 7\nunrelated 99";
    expect(extractAnswer(solution, { kind: "after-marker", marker: "####" })).toBe("7");
    expect(extractAnswer("no marker 7", { kind: "after-marker", marker: "####" })).toBeUndefined();
    expect(extractAnswer("#### \nlater", { kind: "after-marker", marker: "####" })).toBeUndefined();
  });

  it("regex: the first group, or the whole match when there are no groups; a 'g' flag does not change that", () => {
    expect(extractAnswer("The answer is Blue. The answer is Red.", { kind: "regex", pattern: "answer is (\\w+)" })).toBe("Blue");
    expect(extractAnswer("id: AB-12", { kind: "regex", pattern: "[A-Z]+-\\d+", flags: "g" })).toBe("AB-12");
    expect(extractAnswer("x=1 y=2", { kind: "regex", pattern: "(x)=(\\d)", group: 2 })).toBe("1");
    expect(extractAnswer("nothing", { kind: "regex", pattern: "answer is (\\w+)" })).toBeUndefined();
  });

  it("mentions: the item's answer when the text names it as whole words, whatever the case and spacing", () => {
    const mentions = { kind: "mentions" } as const;
    expect(extractAnswer("Sure! Mara earns a living as A  Baker.", mentions, "a baker")).toBe("a baker");
    expect(extractAnswer("Mara runs a bakery.", mentions, "a baker")).toBeUndefined();
    expect(extractAnswer("6 times 7 is 42.", mentions, "42")).toBe("42");
    expect(extractAnswer("6 times 7 is 420.", mentions, "42")).toBeUndefined();
    expect(extractAnswer("The price is $3 (not 3.5).", mentions, "$3 (not")).toBe("$3 (not");
    expect(extractAnswer("anything", mentions)).toBeUndefined();
    expect(mentionsWhole("Café au lait", "café")).toBe(true);
    expect(() => checkAnswerExtractor(mentions, "t")).not.toThrow();
  });

  it("normalisation ignores case, commas and $ in numbers, a final period, and compares numbers by value", () => {
    expect(normalizeAnswer(" $1,250. ")).toBe("1250");
    expect(answersMatch("42.0", "42")).toBe(true);
    expect(answersMatch("Blue", "blue.")).toBe(true);
    expect(answersMatch("41", "42")).toBe(false);
    expect(answersMatch(undefined, "42")).toBe(false);
  });

  it("rejects malformed extractors, naming where they are", () => {
    expect(() => checkAnswerExtractor({ kind: "regex", pattern: "(" }, "task x")).toThrow(/task x: invalid regex/);
    expect(() => checkAnswerExtractor({ kind: "after-marker" }, "task x")).toThrow(/task x: .*"marker"/);
    expect(() => checkAnswerExtractor({ kind: "first-word" }, "task x")).toThrow(/task x: unknown extractor/);
    expect(() => checkAnswerExtractor({ kind: "last-number" }, "task x")).not.toThrow();
  });
});
