/**
 * llama2.c's tokenizer.bin (SentencePiece pieces with scores, spaces stored as real spaces), its
 * conversion to a Hugging Face tokenizer.json, and llama2.c's own encode as the reference for tests.
 */

import { ModelFormatError } from "./errors";
import { fileBytes } from "./file-bytes";
import { SPACE_MARK, sentencePieceBpeTokenizer } from "./sentencepiece-bpe";

export interface Llama2cTokenizer {
  maxTokenLength: number;
  /** Pieces as llama2.c stores them: real spaces, BOS/EOS as "\n<s>\n" / "\n</s>\n". */
  pieces: string[];
  scores: Float32Array;
}

const UNK = 0;
const BOS = 1;
const EOS = 2;

/** `vocabSize`, when known from the checkpoint, must match the number of pieces in the file. */
export function readLlama2cTokenizer(source: Uint8Array | ArrayBuffer, file: string, vocabSize?: number): Llama2cTokenizer {
  const bytes = fileBytes(source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  if (bytes.length < 4) throw new ModelFormatError(file, `truncated: ${bytes.length} bytes, too short for a llama2.c tokenizer`);
  const maxTokenLength = view.getInt32(0, true);
  const pieces: string[] = [];
  const scores: number[] = [];
  let at = 4;
  while (at < bytes.length && (vocabSize === undefined || pieces.length < vocabSize)) {
    if (at + 8 > bytes.length) throw new ModelFormatError(file, `truncated in the entry of token ${pieces.length} at byte ${at}`);
    const score = view.getFloat32(at, true);
    const length = view.getInt32(at + 4, true);
    if (length < 0 || length > maxTokenLength || at + 8 + length > bytes.length) {
      throw new ModelFormatError(
        file,
        `token ${pieces.length} has length ${length} at byte ${at}: past the end of the file or above max_token_length ${maxTokenLength}`,
      );
    }
    if (!Number.isFinite(score))
      throw new ModelFormatError(file, `token ${pieces.length} has score ${score} at byte ${at}; scores must be finite`);
    pieces.push(decoder.decode(bytes.subarray(at + 8, at + 8 + length)));
    scores.push(score);
    at += 8 + length;
  }
  if (vocabSize !== undefined && pieces.length !== vocabSize) {
    throw new ModelFormatError(file, `holds ${pieces.length} tokens, but the checkpoint's vocab_size is ${vocabSize}`);
  }
  // run.c reads exactly vocab_size entries; bytes beyond them mean the file is not the tokenizer it claims to be.
  if (at < bytes.length)
    throw new ModelFormatError(
      file,
      `has ${bytes.length - at} bytes of garbage after its last token (${pieces.length} tokens end at byte ${at})`,
    );
  if (pieces.length < 3 + 256)
    throw new ModelFormatError(file, `holds ${pieces.length} tokens; a llama2.c tokenizer has <unk>, <s>, </s> and 256 byte tokens first`);
  return { maxTokenLength, pieces, scores: Float32Array.from(scores) };
}

/** A Llama-2-style tokenizer.json and tokenizer_config.json that encode (BOS first) and decode as llama2.c does. */
export function llama2cTokenizerToHf(tok: Llama2cTokenizer, modelMaxLength: number): { tokenizerJson: object; tokenizerConfig: object } {
  const special = ["<unk>", "<s>", "</s>"];
  return sentencePieceBpeTokenizer(
    {
      pieces: tok.pieces.map((p, id) => (id < special.length ? special[id] : p.replaceAll(" ", SPACE_MARK))),
      scores: tok.scores,
      specialIds: [UNK, BOS, EOS],
      unkId: UNK,
      bosId: BOS,
      eosId: EOS,
      addBos: true,
    },
    modelMaxLength,
  );
}

/** llama2.c's run.c `encode`, as the reference the converted tokenizer is tested against. */
export function llama2cEncode(tok: Llama2cTokenizer, text: string, bos: boolean): number[] {
  const lookup = new Map<string, number>();
  tok.pieces.forEach((p, id) => {
    if (id > EOS && !lookup.has(p)) lookup.set(p, id);
  });
  const tokens: number[] = bos ? [BOS] : [];
  const start = tokens.length;
  if (text.length > 0) tokens.push(lookup.get(" ") ?? UNK);
  for (const ch of text) {
    const id = lookup.get(ch);
    if (id !== undefined) tokens.push(id);
    else for (const byte of new TextEncoder().encode(ch)) tokens.push(byte + 3);
  }
  for (;;) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestId = -1;
    for (let i = start; i < tokens.length - 1; i++) {
      const id = lookup.get(tok.pieces[tokens[i]] + tok.pieces[tokens[i + 1]]);
      if (id !== undefined && tok.scores[id] > bestScore) {
        best = i;
        bestScore = tok.scores[id];
        bestId = id;
      }
    }
    if (best < 0) return tokens;
    tokens.splice(best, 2, bestId);
  }
}
