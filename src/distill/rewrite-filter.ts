/**
 * The consistency filter of SDFT: a teacher rewrite is kept only when it does not talk about the
 * reference it was shown (a sign it answered the prompt's framing instead of the task), for math
 * when its last number equals the reference's final answer, and for general instructions whose
 * answer is known (a generated world knows every answer) when it mentions each part of it: a
 * fluent rewrite about the wrong person must not pass as self-distilled data. A rejected rewrite
 * is replaced by the original response by the caller, never dropped.
 */
import { answersMatch, lastNumber, mentionsWhole } from "../eval/answer-extractor";
import type { DistillKind } from "./sdft-template";

/** Phrases (matched case-insensitively) that betray a rewrite talking about the prompt rather than the task. */
export const referenceMentions: readonly string[] = [
  "reference answer",
  "reference solution",
  "reference response",
  "the reference",
  "your response",
  "original response",
  "given answer",
  "provided answer",
];

export type RejectReason = "empty" | "mentions-reference" | "answer-mismatch" | "missing-answer";

export type RewriteVerdict = { kept: true } | { kept: false; reason: RejectReason; detail: string };

export interface FilterRules {
  kind: DistillKind;
  /** Default `referenceMentions`. */
  mentions?: readonly string[];
  /** What a correct general response mentions (case-insensitive, whole words); unchecked when absent or for math. */
  answers?: readonly string[];
}

/** The reference's final answer: after GSM8k's "####" when present, else its last number. */
export function referenceFinalAnswer(reference: string): string | undefined {
  const marked = reference.lastIndexOf("####");
  if (marked >= 0) {
    const after = reference
      .slice(marked + 4)
      .trim()
      .split("\n")[0];
    if (after !== "") return after;
  }
  return lastNumber(reference);
}

export function judgeRewrite(rewrite: string, reference: string, rules: FilterRules): RewriteVerdict {
  if (rewrite.trim() === "") return { kept: false, reason: "empty", detail: "the rewrite is empty" };
  const lower = rewrite.toLowerCase();
  const mention = (rules.mentions ?? referenceMentions).find((m) => lower.includes(m.toLowerCase()));
  if (mention !== undefined) return { kept: false, reason: "mentions-reference", detail: `mentions "${mention}"` };
  if (rules.kind === "math") {
    const expected = referenceFinalAnswer(reference);
    const got = lastNumber(rewrite);
    if (expected === undefined)
      return { kept: false, reason: "answer-mismatch", detail: "the reference has no final answer to check against" };
    if (!answersMatch(got, expected)) {
      return { kept: false, reason: "answer-mismatch", detail: `last number ${got ?? "(none)"} ≠ reference answer ${expected}` };
    }
  }
  if (rules.kind === "general") {
    const missing = (rules.answers ?? []).filter((a) => !mentionsWhole(rewrite, a));
    if (missing.length > 0)
      return { kept: false, reason: "missing-answer", detail: `does not mention ${missing.map((m) => `"${m}"`).join(", ")}` };
  }
  return { kept: true };
}
