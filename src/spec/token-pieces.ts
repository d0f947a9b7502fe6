/**
 * The generated text of a speculative decode as pieces, one per token, each marked by what became
 * of it: a draft the target accepted, a draft it rejected (and the drafts after it, discarded
 * unjudged), the target's correction in its place, or the target's bonus token after a round whose
 * drafts were all accepted. A token's text is what it adds to the decoded text before it, so
 * multi-byte characters and leading spaces come out right.
 */
import type { SpeculationRound } from "./speculative-decoding";

export type TokenFate = "accepted" | "rejected" | "corrected" | "bonus";

export interface TokenPiece {
  text: string;
  fate: TokenFate;
}

/** `tokens` is the decode's output: a round's stop token, not in it, is not shown. */
export function speculationPieces(
  rounds: readonly SpeculationRound[],
  tokens: readonly number[],
  decode: (ids: number[]) => string,
): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  const committed: number[] = [];
  const added = (token: number) => decode([...committed, token]).slice(decode(committed).length);
  /** Appends a committed token; false once the output is complete. */
  const keep = (token: number, fate: TokenFate) => {
    if (committed.length === tokens.length) return false;
    pieces.push({ text: added(token), fate });
    committed.push(token);
    return true;
  };
  for (const { drafts, accepted, next } of rounds) {
    if (!drafts.slice(0, accepted).every((d) => keep(d, "accepted"))) break;
    if (committed.length === tokens.length) break;
    for (const d of drafts.slice(accepted)) pieces.push({ text: added(d), fate: "rejected" });
    if (!keep(next, accepted < drafts.length ? "corrected" : "bonus")) break;
  }
  return pieces;
}
