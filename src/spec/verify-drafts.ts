/**
 * The acceptance rule of speculative sampling (Leviathan et al. 2023, Chen et al. 2023): draft
 * token dᵢ ~ qᵢ is kept with probability min(1, pᵢ(dᵢ)/qᵢ(dᵢ)); at the first rejection the target
 * draws from the residual norm(max(0, pᵢ − qᵢ)); if every draft is kept it draws one more token
 * from p_{k+1}. The output then follows the target's distribution p exactly. With one-hot p and q
 * (temperature 0) this is greedy verification: keep dᵢ while it is the target's argmax.
 */
import { sampleFrom } from "../ops/sampling";

export interface Verdict {
  /** How many drafts, from the first, the target kept. */
  accepted: number;
  /** The target's own token after them: a correction (accepted < drafts) or a bonus token. */
  next: number;
}

/**
 * `target` holds k + 1 distributions (after the context and after each draft), `draft` the k the
 * drafts were drawn from; `random` is the caller's seeded generator.
 */
export function verifyDrafts(
  target: readonly ArrayLike<number>[],
  draft: readonly ArrayLike<number>[],
  drafts: readonly number[],
  random: () => number,
): Verdict {
  const k = drafts.length;
  if (draft.length !== k || target.length !== k + 1) {
    throw new Error(
      `verifyDrafts: ${k} drafts need ${k} draft and ${k + 1} target distributions, got ${draft.length} and ${target.length}`,
    );
  }
  for (let i = 0; i < k; i++) {
    const d = drafts[i];
    const p = target[i][d];
    const q = draft[i][d];
    if (!(q > 0)) throw new Error(`verifyDrafts: draft ${i} (token ${d}) has probability ${q} under the draft distribution it came from`);
    if (random() < Math.min(1, p / q)) continue;
    const residual = Float64Array.from(target[i], (pj, j) => Math.max(0, pj - draft[i][j]));
    // A rejection implies p(d) < q(d), so some p_j > q_j; all-zero residuals only come from rounding.
    const empty = residual.every((r) => r === 0);
    return { accepted: i, next: sampleFrom(empty ? target[i] : residual, random) };
  }
  return { accepted: k, next: sampleFrom(target[k], random) };
}
