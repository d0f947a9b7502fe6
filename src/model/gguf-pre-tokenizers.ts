/**
 * llama.cpp picks the regex that splits text before byte-level BPE by the name in
 * `tokenizer.ggml.pre` (llama-vocab.cpp), not from the file. These are the names whose split a
 * Hugging Face pre_tokenizer reproduces exactly, with that pre_tokenizer: the GGUF writer names one
 * of them, and the reader rebuilds tokenizer.json from it.
 */

/** GPT-2's regex as tokenizers writes it. */
export const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** Llama 3's regex. */
export const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const split = (regex: string) => ({ type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false });
const byteLevel = (useRegex: boolean) => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });

/** tokenizer.json's pre_tokenizer for each `tokenizer.ggml.pre` name understood. */
export const ggufPreTokenizers: Record<string, object> = {
  "gpt-2": { type: "Sequence", pretokenizers: [split(GPT2_REGEX), byteLevel(false)] },
  "llama-bpe": { type: "Sequence", pretokenizers: [split(LLAMA3_REGEX), byteLevel(false)] },
  smollm: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, byteLevel(true)] },
};
