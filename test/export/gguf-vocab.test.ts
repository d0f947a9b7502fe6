import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { GgufVocabError, ggufVocabMetadata } from "../../src/export/gguf-vocab";
import type { GgufMetadataEntry, GgufValue } from "../../src/model/gguf";
import { ggufTokenizerToHf } from "../../src/model/gguf-tokenizer";
import { llama2cEncode, llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { SPACE_MARK } from "../../src/model/sentencepiece-bpe";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { rng } from "../numerics";

const demoDir = resolve(import.meta.dirname, "../../public/models/demo");
const readJson = (file: string) => JSON.parse(readFileSync(resolve(demoDir, file), "utf8"));
const asMap = (entries: GgufMetadataEntry[]) => new Map<string, GgufValue>(entries.map((e) => [e.key, e.value]));

/** Texts with digit runs, spaces and punctuation, where pre-tokenizer differences would show. */
function sampleTexts(): string[] {
  const texts = ["The farmer sold 123 eggs for 45 coins.", "  two  spaces 7 8 99", "x1y22 3333", "Bo's 10th hoe\n\nends"];
  const chars = Array.from("abcdefghij ABC0123456789 .,'\n");
  const r = rng(11);
  for (let i = 0; i < 100; i++)
    texts.push(Array.from({ length: 1 + Math.floor(r() * 30) }, () => chars[Math.floor(r() * chars.length)]).join(""));
  return texts;
}

describe("GGUF tokenizer metadata", () => {
  it("writes the demo's byte-level BPE as llama.cpp's gpt2 vocabulary: tokens in id order, merges, special ids, chat template", () => {
    const tokenizerJson = readJson("tokenizer.json");
    const tokenizerConfig = readJson("tokenizer_config.json");
    const m = asMap(ggufVocabMetadata({ tokenizerJson, tokenizerConfig, vocabSize: 1536, file: "demo" }));
    expect(m.get("tokenizer.ggml.model")).toBe("gpt2");
    expect(m.get("tokenizer.ggml.pre")).toBe("gpt-2");
    const tokens = m.get("tokenizer.ggml.tokens") as string[];
    expect(tokens).toHaveLength(1536);
    for (const [piece, id] of Object.entries(tokenizerJson.model.vocab as Record<string, number>)) expect(tokens[id]).toBe(piece);
    const merges = tokenizerJson.model.merges as [string, string][];
    expect(m.get("tokenizer.ggml.merges")).toEqual(merges.map(([l, r]) => `${l} ${r}`));
    const types = m.get("tokenizer.ggml.token_type") as number[];
    // The five added specials are CONTROL (3); everything else NORMAL (1).
    expect(types.slice(0, 6)).toEqual([3, 3, 3, 3, 3, 1]);
    expect(types.filter((t) => t !== 1)).toHaveLength(5);
    expect([m.get("tokenizer.ggml.bos_token_id"), m.get("tokenizer.ggml.eos_token_id"), m.get("tokenizer.ggml.padding_token_id")]).toEqual([
      0, 1, 4,
    ]);
    expect(m.get("tokenizer.ggml.add_bos_token")).toBe(true);
    expect(m.get("tokenizer.ggml.add_eos_token")).toBe(false);
    expect(m.get("tokenizer.chat_template")).toBe(tokenizerConfig.chat_template);
  });

  it("names the demo's one-digit regex gpt-2 only because both split every text into the same tokens", () => {
    const tokenizerJson = readJson("tokenizer.json");
    const ours = new Tokenizer(tokenizerJson, readJson("tokenizer_config.json"));
    // llama.cpp's "gpt-2" splits digit runs whole (\p{N}+): the demo vocabulary has no merge across two digits.
    const gpt2Json = structuredClone(tokenizerJson);
    const split = gpt2Json.pre_tokenizer.pretokenizers[0].pattern;
    split.Regex = split.Regex.replace("\\p{N}", "\\p{N}+");
    const gpt2 = new Tokenizer(gpt2Json, readJson("tokenizer_config.json"));
    for (const text of sampleTexts()) expect(gpt2.encode(text).ids, JSON.stringify(text)).toEqual(ours.encode(text).ids);

    // With a merge of two digits the splits differ, and the writer refuses rather than write a file that tokenizes otherwise.
    const withDigitMerge = structuredClone(tokenizerJson);
    withDigitMerge.model.merges.push(["1", "2"]);
    withDigitMerge.model.vocab["12"] = 1536;
    const write = () => ggufVocabMetadata({ tokenizerJson: withDigitMerge, vocabSize: 1537, file: "digits.json" });
    expect(write).toThrow(GgufVocabError);
    expect(write).toThrow(/digits\.json: pre_tokenizer .* has no llama\.cpp pre-tokenizer that splits text the same way/);
  });

  it("pads ids the tokenizer does not use up to vocab_size as UNUSED [PADn] tokens, and rejects ids past it", () => {
    const tokenizerJson = readJson("tokenizer.json");
    const m = asMap(ggufVocabMetadata({ tokenizerJson, vocabSize: 1540, file: "demo" }));
    expect((m.get("tokenizer.ggml.tokens") as string[]).slice(1536)).toEqual(["[PAD1536]", "[PAD1537]", "[PAD1538]", "[PAD1539]"]);
    expect((m.get("tokenizer.ggml.token_type") as number[]).slice(1536)).toEqual([5, 5, 5, 5]);
    expect(() => ggufVocabMetadata({ tokenizerJson, vocabSize: 1000, file: "small" })).toThrow(
      /small: model\.vocab has token ids up to 1535, past the model's vocab_size 1000/,
    );
  });

  it.skipIf(!hasStories260k)(
    "writes a SentencePiece vocabulary (stories260K) whose scores make llama.cpp's highest-score merge tokenize as Prunelab does",
    () => {
      const tok = readLlama2cTokenizer(readFileSync(resolve(stories260kDir, "tok512.bin")), "tok512.bin", 512);
      const { tokenizerJson, tokenizerConfig } = llama2cTokenizerToHf(tok, 512);
      const m = asMap(ggufVocabMetadata({ tokenizerJson, tokenizerConfig, vocabSize: 512, file: "stories" }));
      expect(m.get("tokenizer.ggml.model")).toBe("llama");
      const tokens = m.get("tokenizer.ggml.tokens") as string[];
      const types = m.get("tokenizer.ggml.token_type") as number[];
      expect(tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
      // UNKNOWN, CONTROL, CONTROL, then 256 BYTE tokens, then NORMAL pieces.
      expect(types.slice(0, 3)).toEqual([2, 3, 3]);
      expect(types.slice(3, 259).every((t) => t === 6)).toBe(true);
      expect(types.slice(259).every((t) => t === 1)).toBe(true);
      expect([
        m.get("tokenizer.ggml.unknown_token_id"),
        m.get("tokenizer.ggml.bos_token_id"),
        m.get("tokenizer.ggml.eos_token_id"),
      ]).toEqual([0, 1, 2]);
      expect(m.get("tokenizer.ggml.add_bos_token")).toBe(true);
      // llama2.c's run.c encode is the SentencePiece merge rule llama.cpp applies (highest score, leftmost first):
      // with the written pieces and scores it must give Prunelab's ids.
      const written = {
        maxTokenLength: tok.maxTokenLength,
        pieces: tokens.map((p) => p.replaceAll(SPACE_MARK, " ")),
        scores: Float32Array.from(m.get("tokenizer.ggml.scores") as number[]),
      };
      const ours = new Tokenizer(tokenizerJson, tokenizerConfig);
      for (const text of [...sampleTexts(), "Once upon a time, Lily wörld 日本"])
        expect(llama2cEncode(written, text, true), JSON.stringify(text)).toEqual(ours.encode(text).ids);
    },
  );

  it("reads a byte-level vocabulary back (unknown pre-tokenizer names are left to tokenizer.json) and names bad metadata", () => {
    const tokenizerJson = readJson("tokenizer.json");
    const entries = ggufVocabMetadata({ tokenizerJson, tokenizerConfig: readJson("tokenizer_config.json"), vocabSize: 1536, file: "demo" });
    const back = ggufTokenizerToHf(asMap(entries), "d.gguf", 256);
    if (!back) throw new Error("no tokenizer read back");
    const ours = new Tokenizer(tokenizerJson, readJson("tokenizer_config.json"));
    const theirs = new Tokenizer(back.tokenizerJson, back.tokenizerConfig);
    for (const text of sampleTexts()) expect(theirs.encode(text).ids, JSON.stringify(text)).toEqual(ours.encode(text).ids);
    expect(theirs.decode(ours.encode("<|user|>Hi 12<|end|>").ids, { skip_special_tokens: true })).toBe("Hi 12");
    const unknownPre = asMap(entries.map((e) => (e.key === "tokenizer.ggml.pre" ? { ...e, value: "qwen2" } : e)));
    expect(ggufTokenizerToHf(unknownPre, "d.gguf", 256)).toBeUndefined();
    const shortTypes = asMap(entries.map((e) => (e.key === "tokenizer.ggml.token_type" ? { ...e, value: [1, 1] } : e)));
    expect(() => ggufTokenizerToHf(shortTypes, "d.gguf", 256)).toThrow(
      /d\.gguf: metadata tokenizer\.ggml\.token_type has 2 entries for 1536 tokens/,
    );
  });

  it("rejects a tokenizer that is not BPE, naming the file and field", () => {
    expect(() => ggufVocabMetadata({ tokenizerJson: { model: { type: "Unigram" } }, vocabSize: 4, file: "u.json" })).toThrow(
      /u\.json: model\.type is "Unigram"; only BPE tokenizers are written to GGUF/,
    );
  });
});
