/** Parts of a Hugging Face tokenizer.json that byte-level BPE tokenizers share (the demo's trainer, GGUF's "gpt2" vocabularies). */

/** The post_processor that puts `bos` before the text (and before the first text of a pair). */
export function bosFirstPostProcessor(bos: string, bosId: number): object {
  return {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
    pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
  };
}

/** The `model` of a byte-level BPE tokenizer: no unknown token, no byte fallback (every byte is a token). */
export function byteLevelBpeModel(
  vocab: Record<string, number>,
  merges: readonly (readonly [string, string])[],
  ignoreMerges = false,
): object {
  return {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: ignoreMerges,
    vocab,
    merges,
  };
}
