/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) as the `tokenizer.*` metadata
 * llama.cpp reads from a GGUF (ggml's docs/gguf.md, llama.cpp's llama-vocab.cpp):
 * - SentencePiece-style BPE (byte fallback, "▁" for space: Llama-2, llama2.c) → `tokenizer.ggml.model
 *   = "llama"` with a score per token. llama.cpp merges the adjacent pair whose *result* scores highest
 *   where HF applies the pair of lowest merge rank; scoring each piece by minus the rank of the first
 *   merge that makes it makes both pick the same pair.
 * - Byte-level BPE (GPT-2 style) → `"gpt2"` with the merges and the `tokenizer.ggml.pre` name of the
 *   pre-tokenizer regex llama.cpp should split with; only regexes whose split gives the same tokens
 *   are accepted, since llama.cpp selects its regex by that name, not from the file.
 * Token types are llama.cpp's llama_token_type values.
 */
import type { GgufMetadataEntry } from "../model/gguf";
import { GPT2_REGEX, LLAMA3_REGEX } from "../model/gguf-pre-tokenizers";
import { GgufTokenType } from "../model/gguf-tokenizer";

export class GgufVocabError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}: ${field} ${detail}`);
    this.name = "GgufVocabError";
  }
}

/** GPT-2's regex with one digit per piece (this project's demo tokenizer): "gpt-2" splits digit runs whole, see `digitsNeverMerge`. */
const GPT2_SINGLE_DIGIT_REGEX = GPT2_REGEX.replace("\\p{N}+", "\\p{N}");

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

interface TokenizerJsonShape {
  added_tokens?: AddedToken[];
  normalizer?: { type?: string; normalizers?: unknown[] } | null;
  pre_tokenizer?: { type?: string; pretokenizers?: PreTokenizer[] } & PreTokenizer;
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  model?: {
    type?: string;
    byte_fallback?: boolean;
    unk_token?: string | null;
    vocab?: Record<string, number>;
    merges?: (string | [string, string])[];
  };
}

interface PreTokenizer {
  type?: string;
  pattern?: { Regex?: string; String?: string };
  use_regex?: boolean;
  individual_digits?: boolean;
}

export interface GgufVocabOptions {
  tokenizerJson: object;
  tokenizerConfig?: object;
  /** The model's vocab_size: token_embd's rows. Ids the tokenizer does not use are written as `[PADn]`. */
  vocabSize: number;
  /** Named in errors. */
  file: string;
}

/** Every `tokenizer.*` entry llama.cpp reads: the vocabulary, special ids, add_bos/add_eos and the chat template. */
export function ggufVocabMetadata(options: GgufVocabOptions): GgufMetadataEntry[] {
  const { file } = options;
  const json = options.tokenizerJson as TokenizerJsonShape;
  const config = (options.tokenizerConfig ?? {}) as Record<string, unknown>;
  const model = json.model;
  if (model?.type !== "BPE" || !model.vocab || !Array.isArray(model.merges))
    throw new GgufVocabError(file, "model.type", `is ${JSON.stringify(model?.type)}; only BPE tokenizers are written to GGUF`);
  const merges = model.merges.map((m, i) => mergePair(m, file, i));
  const added = json.added_tokens ?? [];
  const pieces = idOrderedPieces(model.vocab, added, options.vocabSize, file);
  const addedById = new Map(added.map((t) => [t.id, t]));
  const kind = vocabKind(json);
  const entries: GgufMetadataEntry[] = [{ key: "tokenizer.ggml.model", type: "string", value: kind }];
  const id = (name: string) => specialId(config[name], pieces, file, name);
  // SentencePiece's unknown piece is the model's unk_token (llama.cpp's default id 0 when there is none).
  const unkId = kind === "llama" ? Math.max(0, model.unk_token ? pieces.indexOf(model.unk_token) : 0) : undefined;
  if (kind === "llama") {
    const scores = mergeRankScores(pieces, merges);
    const types = pieces.map((p, i) => {
      const a = addedById.get(i);
      if (p === undefined) return GgufTokenType.unused;
      if (i === unkId) return GgufTokenType.unknown;
      if (a) return a.special ? GgufTokenType.control : GgufTokenType.userDefined;
      return /^<0x[0-9A-F]{2}>$/.test(p) ? GgufTokenType.byte : GgufTokenType.normal;
    });
    entries.push(
      { key: "tokenizer.ggml.tokens", type: "string[]", value: pieces.map((p, i) => p ?? `[PAD${i}]`) },
      { key: "tokenizer.ggml.scores", type: "f32[]", value: scores },
      { key: "tokenizer.ggml.token_type", type: "i32[]", value: types },
    );
  } else {
    const pre = preTokenizerName(json, merges, file);
    const types = pieces.map((p, i) => {
      const a = addedById.get(i);
      if (p === undefined) return GgufTokenType.unused;
      if (a) return a.special ? GgufTokenType.control : GgufTokenType.userDefined;
      return GgufTokenType.normal;
    });
    entries.push(
      { key: "tokenizer.ggml.pre", type: "string", value: pre },
      { key: "tokenizer.ggml.tokens", type: "string[]", value: pieces.map((p, i) => p ?? `[PAD${i}]`) },
      { key: "tokenizer.ggml.token_type", type: "i32[]", value: types },
      { key: "tokenizer.ggml.merges", type: "string[]", value: merges.map(([l, r]) => `${l} ${r}`) },
    );
  }
  const specials: [string, number | undefined][] = [
    ["bos_token_id", id("bos_token")],
    ["eos_token_id", id("eos_token")],
    ["unknown_token_id", unkId ?? id("unk_token")],
    ["padding_token_id", id("pad_token")],
  ];
  for (const [key, value] of specials) if (value !== undefined) entries.push({ key: `tokenizer.ggml.${key}`, type: "u32", value });
  entries.push(
    { key: "tokenizer.ggml.add_bos_token", type: "bool", value: addsBos(json, config, id("bos_token"), pieces) },
    { key: "tokenizer.ggml.add_eos_token", type: "bool", value: config.add_eos_token === true },
  );
  if (typeof config.chat_template === "string")
    entries.push({ key: "tokenizer.chat_template", type: "string", value: config.chat_template });
  return entries;
}

function mergePair(m: string | [string, string], file: string, index: number): [string, string] {
  const pair = typeof m === "string" ? m.split(" ") : m;
  if (pair.length !== 2 || pair.some((p) => typeof p !== "string" || p.length === 0 || p.includes(" ")))
    throw new GgufVocabError(file, `model.merges[${index}]`, `is ${JSON.stringify(m)}, not two pieces without spaces`);
  return [pair[0], pair[1]];
}

/** pieces[id] for id < max(vocabSize, tokenizer size); undefined where no token has that id. */
function idOrderedPieces(vocab: Record<string, number>, added: AddedToken[], vocabSize: number, file: string): (string | undefined)[] {
  const all: [string, number][] = [...Object.entries(vocab), ...added.map((t): [string, number] => [t.content, t.id])];
  const size = Math.max(vocabSize, ...all.map(([, i]) => i + 1));
  if (size > vocabSize)
    throw new GgufVocabError(file, "model.vocab", `has token ids up to ${size - 1}, past the model's vocab_size ${vocabSize}`);
  const pieces: (string | undefined)[] = new Array(size).fill(undefined);
  for (const [piece, i] of all) {
    if (!Number.isInteger(i) || i < 0) throw new GgufVocabError(file, "model.vocab", `gives "${piece}" the id ${i}`);
    if (pieces[i] !== undefined && pieces[i] !== piece)
      throw new GgufVocabError(file, "model.vocab", `gives id ${i} to both "${pieces[i]}" and "${piece}"`);
    pieces[i] = piece;
  }
  return pieces;
}

/** The pre_tokenizer's steps, whether it is one or a Sequence. */
function preTokenizerSteps(json: TokenizerJsonShape): PreTokenizer[] {
  const pre = json.pre_tokenizer;
  return pre?.type === "Sequence" ? (pre.pretokenizers ?? []) : pre ? [pre] : [];
}

function vocabKind(json: TokenizerJsonShape): "llama" | "gpt2" {
  if (preTokenizerSteps(json).some((p) => p.type === "ByteLevel") || json.decoder?.type === "ByteLevel") return "gpt2";
  return json.model?.byte_fallback ? "llama" : "gpt2";
}

/** Scores that make llama.cpp's highest-score merge choose what HF's lowest-rank merge chooses (see the header). */
function mergeRankScores(pieces: (string | undefined)[], merges: [string, string][]): number[] {
  const rank = new Map<string, number>();
  merges.forEach(([l, r], i) => {
    if (!rank.has(l + r)) rank.set(l + r, i);
  });
  // Pieces no merge makes (characters, bytes, specials) are never a merge result: their score is unused, kept below all.
  return pieces.map((p, i) => (p === undefined ? -1e9 : -(rank.get(p) ?? merges.length + i)));
}

function specialId(value: unknown, pieces: (string | undefined)[], file: string, field: string): number | undefined {
  const content = typeof value === "string" ? value : (value as { content?: unknown } | null)?.content;
  if (typeof content !== "string") return undefined;
  const i = pieces.indexOf(content);
  if (i < 0) throw new GgufVocabError(file, `tokenizer_config ${field}`, `is "${content}", which is not a token of the vocabulary`);
  return i;
}

/** tokenizer_config's add_bos_token, else whether the post-processor puts BOS first. */
function addsBos(
  json: TokenizerJsonShape,
  config: Record<string, unknown>,
  bosId: number | undefined,
  pieces: (string | undefined)[],
): boolean {
  if (typeof config.add_bos_token === "boolean") return config.add_bos_token;
  const post = (json as { post_processor?: { single?: { SpecialToken?: { id?: string } }[] } }).post_processor;
  const first = post?.single?.[0]?.SpecialToken?.id;
  return first !== undefined && bosId !== undefined && first === pieces[bosId];
}

/** llama.cpp's `tokenizer.ggml.pre` for this byte-level tokenizer, or an error naming its pre_tokenizer. */
function preTokenizerName(json: TokenizerJsonShape, merges: [string, string][], file: string): string {
  const parts = preTokenizerSteps(json);
  const byteLevel = parts.find((p) => p.type === "ByteLevel");
  const split = parts.filter((p) => p.type === "Split").map((p) => p.pattern?.Regex);
  const digits = parts.some((p) => p.type === "Digits" && p.individual_digits);
  const others = parts.filter((p) => !["ByteLevel", "Split", "Digits"].includes(p.type ?? ""));
  const regex =
    split.length === 1 && !byteLevel?.use_regex ? split[0] : split.length === 0 && byteLevel?.use_regex !== false ? GPT2_REGEX : undefined;
  if (byteLevel && others.length === 0 && regex !== undefined) {
    if (digits && regex === GPT2_REGEX) return "smollm";
    if (!digits && regex === GPT2_REGEX) return "gpt-2";
    if (!digits && regex === LLAMA3_REGEX) return "llama-bpe";
    if (!digits && regex === GPT2_SINGLE_DIGIT_REGEX && digitsNeverMerge(merges)) return "gpt-2";
  }
  throw new GgufVocabError(
    file,
    "pre_tokenizer",
    `${JSON.stringify(json.pre_tokenizer)} has no llama.cpp pre-tokenizer that splits text the same way (known: GPT-2, SmolLM, Llama 3)`,
  );
}

/**
 * A tokenizer that splits digits one by one tokenizes a digit run like GPT-2's whole-run split does
 * exactly when no merge joins a piece ending in a digit to one starting with a digit. ASCII digits
 * only: in byte-level pieces other \p{N} characters stand for bytes of other characters.
 */
function digitsNeverMerge(merges: [string, string][]): boolean {
  return !merges.some(([l, r]) => /[0-9]$/.test(l) && /^[0-9]/.test(r));
}
