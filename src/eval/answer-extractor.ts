/**
 * Final answers pulled out of generated text, for exact-match scoring (generative tasks) and for the
 * self-distillation consistency filter: the last number, the text after a marker such as GSM8k's
 * "####", or a regular expression's group. Answers are compared after normalisation, as
 * lm-eval-harness's GSM8k task does (commas, "$" and a final "." ignored), plus numeric equality so
 * "42.0" matches "42".
 */

export type AnswerExtractor =
  | { kind: "last-number" }
  /** The first line after the first occurrence of `marker`. */
  | { kind: "after-marker"; marker: string }
  /** The first match of `pattern`; its capture `group` (default 1, or the whole match without groups). */
  | { kind: "regex"; pattern: string; flags?: string; group?: number }
  /**
   * The item's own answer when the text mentions it as a whole phrase, case-insensitively: for
   * free-form replies whose wording varies ("Mara is a baker." and "She earns a living as a baker"
   * both name "a baker").
   */
  | { kind: "mentions" };

const numberPattern = /-?\d[\d,]*(?:\.\d+)?/g;

export function lastNumber(text: string): string | undefined {
  return text.match(numberPattern)?.at(-1);
}

/** Whether `text` contains `phrase` case-insensitively, not as part of a longer word or number ("a cat" is not in "a caterpillar"). */
export function mentionsWhole(text: string, phrase: string): boolean {
  const escaped = phrase
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\s+/g, "\\s+");
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, "iu").test(text);
}

/** The answer `extractor` finds in `text` (for "mentions", `answer` itself when mentioned), or undefined when there is none. */
export function extractAnswer(text: string, extractor: AnswerExtractor, answer?: string): string | undefined {
  switch (extractor.kind) {
    case "mentions":
      return answer !== undefined && mentionsWhole(text, answer) ? answer : undefined;
    case "last-number":
      return lastNumber(text);
    case "after-marker": {
      const at = text.indexOf(extractor.marker);
      if (at < 0) return undefined;
      const line = text
        .slice(at + extractor.marker.length)
        .split("\n")[0]
        .trim();
      return line === "" ? undefined : line;
    }
    case "regex": {
      const match = new RegExp(extractor.pattern, (extractor.flags ?? "").replace("g", "")).exec(text);
      if (!match) return undefined;
      return match[extractor.group ?? (match.length > 1 ? 1 : 0)];
    }
  }
}

/** Throws when `extractor` is not a valid extractor (a bad regex included); `where` names it in the message. */
export function checkAnswerExtractor(extractor: unknown, where: string): asserts extractor is AnswerExtractor {
  const e = (extractor ?? {}) as Record<string, unknown>;
  if (e.kind === "last-number" || e.kind === "mentions") return;
  if (e.kind === "after-marker") {
    if (typeof e.marker !== "string" || e.marker === "") throw new Error(`${where}: an after-marker extractor needs a non-empty "marker"`);
    return;
  }
  if (e.kind === "regex") {
    if (typeof e.pattern !== "string") throw new Error(`${where}: a regex extractor needs a "pattern" string`);
    try {
      new RegExp(e.pattern, typeof e.flags === "string" ? e.flags : "");
    } catch (err) {
      throw new Error(`${where}: invalid regex extractor: ${(err as Error).message}`);
    }
    if (e.group !== undefined && !(Number.isInteger(e.group) && (e.group as number) >= 0)) {
      throw new Error(`${where}: a regex extractor's "group" must be an integer ≥ 0`);
    }
    return;
  }
  throw new Error(`${where}: unknown extractor ${JSON.stringify(extractor)} (kinds: last-number, after-marker, regex, mentions)`);
}

/** Case, surrounding space, a final ".", and in numbers "," and "$" do not count; numbers compare by value. */
export function normalizeAnswer(answer: string): string {
  const text = answer.trim().replace(/\.$/, "").replace(/\s+/g, " ").toLowerCase();
  const numeric = text.replace(/[,$]/g, "");
  return /^-?\d+(\.\d+)?$/.test(numeric) ? String(Number(numeric)) : text;
}

export function answersMatch(extracted: string | undefined, reference: string): boolean {
  return extracted !== undefined && normalizeAnswer(extracted) === normalizeAnswer(reference);
}
