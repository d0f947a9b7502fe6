/**
 * A SentencePiece BPE vocabulary (pieces with scores, "▁" for space, <0xXX> byte fallback) as a
 * Hugging Face tokenizer.json in the Llama-2 style. SentencePiece encodes by prepending "▁",
 * splitting into characters (unknown ones become byte tokens) and repeatedly merging the adjacent
 * pair whose merged piece scores highest; a BPE model does the same when its merges are ranked by
 * that score.
 */

export const SPACE_MARK = "▁";

export interface SentencePieceVocab {
  /** Pieces in SentencePiece form; special pieces under the names they should have (e.g. "<s>"). */
  pieces: string[];
  scores: ArrayLike<number>;
  /** Control and unknown tokens: added as special tokens, never produced by merges. */
  specialIds: number[];
  unkId: number;
  bosId?: number;
  eosId?: number;
  /** Whether encode puts BOS first (tokenizer_config's add_bos_token). */
  addBos: boolean;
}

export function sentencePieceBpeTokenizer(
  v: SentencePieceVocab,
  modelMaxLength: number,
): { tokenizerJson: object; tokenizerConfig: object } {
  const vocab: Record<string, number> = {};
  v.pieces.forEach((p, id) => {
    vocab[p] ??= id;
  });
  const bos = v.bosId === undefined ? undefined : v.pieces[v.bosId];
  const eos = v.eosId === undefined ? undefined : v.pieces[v.eosId];
  return {
    tokenizerJson: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: v.specialIds.map((id) => ({
        id,
        content: v.pieces[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: {
        type: "Sequence",
        normalizers: [
          { type: "Prepend", prepend: SPACE_MARK },
          { type: "Replace", pattern: { String: " " }, content: SPACE_MARK },
        ],
      },
      pre_tokenizer: null,
      post_processor:
        v.addBos && bos !== undefined
          ? {
              type: "TemplateProcessing",
              single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
              pair: [
                { SpecialToken: { id: bos, type_id: 0 } },
                { Sequence: { id: "A", type_id: 0 } },
                { SpecialToken: { id: bos, type_id: 1 } },
                { Sequence: { id: "B", type_id: 1 } },
              ],
              special_tokens: { [bos]: { id: bos, ids: [v.bosId], tokens: [bos] } },
            }
          : null,
      decoder: {
        type: "Sequence",
        decoders: [
          { type: "Replace", pattern: { String: SPACE_MARK }, content: " " },
          { type: "ByteFallback" },
          { type: "Fuse" },
          { type: "Strip", content: " ", start: 1, stop: 0 },
        ],
      },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: v.pieces[v.unkId],
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        merges: scoreRankedMerges(v),
      },
    },
    tokenizerConfig: {
      tokenizer_class: "LlamaTokenizerFast",
      bos_token: bos ?? null,
      eos_token: eos ?? null,
      unk_token: v.pieces[v.unkId],
      add_bos_token: v.addBos,
      add_eos_token: false,
      clean_up_tokenization_spaces: false,
      legacy: false,
      model_max_length: modelMaxLength,
    },
  };
}

function isByteToken(piece: string): boolean {
  return /^<0x[0-9A-F]{2}>$/.test(piece);
}

/** Every split of a normal piece into two normal pieces, ranked by the merged piece's score (highest first), then id. */
function scoreRankedMerges(v: SentencePieceVocab): [string, string][] {
  const special = new Set(v.specialIds);
  const ids = new Map<string, number>();
  v.pieces.forEach((p, id) => {
    if (!special.has(id) && !isByteToken(p) && !ids.has(p)) ids.set(p, id);
  });
  const merges: { left: string; right: string; score: number; id: number }[] = [];
  for (const [piece, id] of ids) {
    const chars = Array.from(piece);
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join("");
      const right = chars.slice(k).join("");
      if (ids.has(left) && ids.has(right)) merges.push({ left, right, score: v.scores[id], id });
    }
  }
  merges.sort((a, b) => b.score - a.score || a.id - b.id);
  return merges.map(({ left, right }) => [left, right]);
}
