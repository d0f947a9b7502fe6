/**
 * The tokenizer a GGUF embeds (tokenizer.ggml.*), as a Hugging Face tokenizer.json: SentencePiece
 * BPE ("llama"), or byte-level BPE ("gpt2") with a pre-tokenizer named in ggufPreTokenizers.
 */
import { ModelFormatError } from "./errors";
import type { GgufValue } from "./gguf";
import { ggufPreTokenizers } from "./gguf-pre-tokenizers";
import { sentencePieceBpeTokenizer } from "./sentencepiece-bpe";
import { bosFirstPostProcessor, byteLevelBpeModel } from "./tokenizer-json";

/** llama.cpp's llama_token_type values. */
export const GgufTokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/**
 * undefined when the GGUF has no tokenizer or one of another kind (e.g. byte-level BPE with a
 * pre-tokenizer whose regex is not in ggufPreTokenizers); the caller then needs the model's tokenizer.json.
 */
export function ggufTokenizerToHf(
  metadata: Map<string, GgufValue>,
  file: string,
  modelMaxLength: number,
): { tokenizerJson: object; tokenizerConfig: object } | undefined {
  const kind = metadata.get("tokenizer.ggml.model");
  if (kind === "gpt2") return byteLevelTokenizer(metadata, file, modelMaxLength);
  if (kind !== "llama") return undefined;
  const pieces = metadataList<string>(metadata, "tokenizer.ggml.tokens", "string", file);
  const scores = metadataList<number>(metadata, "tokenizer.ggml.scores", "number", file, pieces.length);
  const types = metadata.has("tokenizer.ggml.token_type")
    ? metadataList<number>(metadata, "tokenizer.ggml.token_type", "number", file, pieces.length)
    : undefined;
  const id = (key: string, fallback?: number) => tokenId(metadata, key, pieces.length, file) ?? fallback;
  const unkId = id("tokenizer.ggml.unknown_token_id", 0) as number;
  const bosId = id("tokenizer.ggml.bos_token_id");
  const eosId = id("tokenizer.ggml.eos_token_id");
  const special = new Set([unkId, bosId, eosId].filter((x) => x !== undefined));
  types?.forEach((type, i) => {
    if (type === GgufTokenType.unknown || type === GgufTokenType.control) special.add(i);
  });
  const addBos = metadata.get("tokenizer.ggml.add_bos_token") ?? true;
  return sentencePieceBpeTokenizer(
    { pieces, scores, specialIds: [...special].sort((a, b) => a - b), unkId, bosId, eosId, addBos: addBos === true },
    modelMaxLength,
  );
}

/** GGUF array metadata `key` checked to hold `kind`s (and `length` of them when given). */
function metadataList<T extends string | number>(
  metadata: Map<string, GgufValue>,
  key: string,
  kind: "string" | "number",
  file: string,
  length?: number,
): T[] {
  const v = metadata.get(key);
  if (!Array.isArray(v) || v.some((x) => typeof x !== kind))
    throw new ModelFormatError(file, `metadata ${key} is not an array of ${kind}s`);
  if (length !== undefined && v.length !== length)
    throw new ModelFormatError(file, `metadata ${key} has ${v.length} entries for ${length} tokens`);
  return v as T[];
}

/** The token id in metadata `key`, checked to be one of `count` tokens; undefined when absent. */
function tokenId(metadata: Map<string, GgufValue>, key: string, count: number, file: string): number | undefined {
  const v = metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= count)
    throw new ModelFormatError(file, `metadata ${key} = ${v} is not a token id`);
  return v;
}

/** A byte-level BPE vocabulary ("gpt2") as tokenizer.json + tokenizer_config.json, or undefined for a pre-tokenizer not known. */
function byteLevelTokenizer(metadata: Map<string, GgufValue>, file: string, modelMaxLength: number) {
  const preTokenizer = ggufPreTokenizers[String(metadata.get("tokenizer.ggml.pre"))];
  if (!preTokenizer) return undefined;
  const tokens = metadataList<string>(metadata, "tokenizer.ggml.tokens", "string", file);
  const types = metadataList<number>(metadata, "tokenizer.ggml.token_type", "number", file, tokens.length);
  const merges = metadataList<string>(metadata, "tokenizer.ggml.merges", "string", file).map((m, i) => {
    const pair = m.split(" ");
    if (pair.length !== 2)
      throw new ModelFormatError(file, `metadata tokenizer.ggml.merges[${i}] = ${JSON.stringify(m)} is not two pieces`);
    return pair;
  });
  const token = (key: string) => {
    const id = tokenId(metadata, `tokenizer.ggml.${key}`, tokens.length, file);
    return id === undefined ? null : tokens[id];
  };
  const vocab: Record<string, number> = {};
  const added: object[] = [];
  tokens.forEach((content, id) => {
    // [PADn] fillers (UNUSED) are left out: no text encodes to them.
    if (types[id] === GgufTokenType.unused) return;
    vocab[content] ??= id;
    const special = types[id] === GgufTokenType.control;
    if (special || types[id] === GgufTokenType.userDefined)
      added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special });
  });
  const bos = token("bos_token_id");
  const addBos = metadata.get("tokenizer.ggml.add_bos_token") === true && bos !== null;
  const bosId = metadata.get("tokenizer.ggml.bos_token_id");
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: addBos ? bosFirstPostProcessor(bos, bosId as number) : null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    // llama.cpp looks a Llama 3 piece up whole before merging (its ignore_merges), as HF's Llama 3 tokenizer does.
    model: byteLevelBpeModel(vocab, merges as [string, string][], metadata.get("tokenizer.ggml.pre") === "llama-bpe"),
  };
  const chatTemplate = metadata.get("tokenizer.chat_template");
  const tokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: bos,
    eos_token: token("eos_token_id"),
    pad_token: token("padding_token_id"),
    unk_token: token("unknown_token_id"),
    add_bos_token: addBos,
    add_eos_token: metadata.get("tokenizer.ggml.add_eos_token") === true,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    ...(typeof chatTemplate === "string" ? { chat_template: chatTemplate } : {}),
  };
  return { tokenizerJson, tokenizerConfig };
}
