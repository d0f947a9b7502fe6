/**
 * The one rule that keeps evaluation apart from training: every question the world can ask has a
 * key (e.g. "fact:Mara Quill:pet"), and a stable hash of the key decides, once and for all, whether
 * it belongs to the held-out side (evaluation items only) or the training side (pretraining Q&A,
 * quiz sheets, fine-tuning data, few-shot examples). The knowledge behind a held-out question still
 * appears in the pretraining prose; only the question and its answer never do.
 */

/** FNV-1a, 32 bit: the same number for the same text everywhere. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so that keys differing in their last character spread over [0, 1).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Held-out share of each key family: large enough for ≥ 200 evaluation items per task. */
export const heldOutShare = {
  fact: 0.62,
  routine: 0.4,
  subject: 0.5,
  arithmetic: 0.5,
  tale: 0.7,
  pair: 0.3,
  problem: 0.25,
} as const;

export type KeyFamily = keyof typeof heldOutShare;

export function isHeldOut(family: KeyFamily, key: string): boolean {
  return stableHash(`${family}:${key}`) / 2 ** 32 < heldOutShare[family];
}
