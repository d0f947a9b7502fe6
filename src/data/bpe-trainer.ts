/**
 * A byte-level BPE trainer (GPT-2 style, as `@huggingface/tokenizers` can only encode) and the
 * tokenizer.json it produces. Text is split on the special tokens, then pre-tokenized by a regex
 * that keeps words with their leading space and cuts numbers into single digits (arithmetic is
 * easier to learn digit by digit); each UTF-8 byte is spelled with GPT-2's printable alphabet, so
 * any text round-trips exactly. Merges are learned greedily by pair frequency, ties broken by the
 * pair's spelling, so the output depends only on the text.
 */
import { bosFirstPostProcessor, byteLevelBpeModel } from "../model/tokenizer-json";

/** GPT-2's split, with `\p{N}` taken one digit at a time. Written for both JS and Oniguruma (the Rust library). */
export const preTokenizePattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** GPT-2's reversible map from bytes to printable characters. */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
}

export interface BpeOptions {
  /** Specials + 256 bytes + merges; training stops early when no pair occurs `minFrequency` times. */
  vocabSize: number;
  /** Given ids 0, 1, … in this order; never merged with text. */
  specialTokens: readonly string[];
  minFrequency?: number;
}

export interface BpeModel {
  specialTokens: readonly string[];
  /** Token → id: specials, then the byte alphabet in byte order, then one token per merge. */
  vocab: Map<string, number>;
  merges: [string, string][];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Distinct pre-tokenized words of `texts` (byte-level spelled) with their counts. */
export function countWords(texts: Iterable<string>, specialTokens: readonly string[]): Map<string, number> {
  const alphabet = byteLevelAlphabet();
  const encoder = new TextEncoder();
  const specials = specialTokens.length ? new RegExp(specialTokens.map(escapeRegExp).join("|"), "g") : undefined;
  const pattern = new RegExp(preTokenizePattern, "gu");
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of specials ? text.split(specials) : [text]) {
      for (const word of piece.match(pattern) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const spelled = new Map<string, number>();
  for (const [word, count] of counts) {
    const key = Array.from(encoder.encode(word), (b) => alphabet[b]).join("");
    spelled.set(key, (spelled.get(key) ?? 0) + count);
  }
  return spelled;
}

export function trainByteLevelBpe(texts: Iterable<string>, { vocabSize, specialTokens, minFrequency = 2 }: BpeOptions): BpeModel {
  const alphabet = byteLevelAlphabet();
  const base = specialTokens.length + alphabet.length;
  if (vocabSize < base) throw new Error(`trainByteLevelBpe: vocabSize ${vocabSize} is below the ${base} specials and bytes`);
  const vocab = new Map<string, number>();
  for (const token of [...specialTokens, ...alphabet]) vocab.set(token, vocab.size);

  const words = [...countWords(texts, specialTokens)].map(([word, count]) => ({ symbols: Array.from(word), count }));
  const merges: [string, string][] = [];
  while (vocab.size < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = minFrequency - 1;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split(" ");
    const merged = left + right;
    merges.push([left, right]);
    // Merged spellings can repeat an existing token only if it was a special; the alphabet never spells one.
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const word of words) {
      const s = word.symbols;
      if (s.length < 2) continue;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(s[i]);
      }
      word.symbols = out;
    }
  }
  return { specialTokens, vocab, merges };
}

const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: false };

/** The tokenizer.json of a trained model; `bos` (one of the specials) is prepended by the post-processor. */
export function byteLevelTokenizerJson(model: BpeModel, bos: string): Record<string, unknown> {
  const bosId = model.vocab.get(bos);
  if (bosId === undefined || !model.specialTokens.includes(bos))
    throw new Error(`byteLevelTokenizerJson: BOS ${bos} is not a special token`);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content) => ({
      id: model.vocab.get(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: preTokenizePattern }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", ...byteLevel },
      ],
    },
    post_processor: bosFirstPostProcessor(bos, bosId),
    decoder: { type: "ByteLevel", ...byteLevel },
    model: byteLevelBpeModel(Object.fromEntries(model.vocab), model.merges),
  };
}
