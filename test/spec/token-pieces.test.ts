import { describe, expect, it } from "vitest";
import { speculationPieces } from "../../src/spec/token-pieces";

/** Token i decodes to words[i] with a leading space, except at the start, as SentencePiece does. */
const words = ["zero", "one", "two", "three", "four", "five", "six"];
const decode = (ids: number[]) => ids.map((id) => words[id]).join(" ");

describe("speculationPieces", () => {
  it("marks accepted drafts, rejected ones, the correction and bonus tokens, in reading order", () => {
    const rounds = [
      { drafts: [1, 2, 3], accepted: 1, next: 4 },
      { drafts: [5, 6], accepted: 2, next: 0 },
    ];
    expect(speculationPieces(rounds, [1, 4, 5, 6, 0], decode)).toEqual([
      { text: "one", fate: "accepted" },
      { text: " two", fate: "rejected" },
      { text: " three", fate: "rejected" },
      { text: " four", fate: "corrected" },
      { text: " five", fate: "accepted" },
      { text: " six", fate: "accepted" },
      { text: " zero", fate: "bonus" },
    ]);
  });

  it("leaves out what follows the output's end (a stop token)", () => {
    const pieces = speculationPieces([{ drafts: [1, 2], accepted: 2, next: 3 }], [1, 2], decode);
    expect(pieces.map((p) => p.fate)).toEqual(["accepted", "accepted"]);
    // The kept pieces are exactly the output's text.
    expect(pieces.map((p) => p.text).join("")).toBe(decode([1, 2]));
  });
});
