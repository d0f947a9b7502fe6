import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/model/errors";
import { type GgufMetadataEntry, modelWeightsToGguf, parseGguf, writeGguf } from "../../src/model/gguf";
import { ggufTokenizerToHf } from "../../src/model/gguf-tokenizer";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cEncode, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { loadModelFiles } from "../../src/model/load-model-files";
import { randomLlama } from "../../src/model/random-llama";
import { rng } from "../numerics";
import { hasStories260k, stories260kDir } from "./stories260k-files";
import { tinyLlamaShape } from "./tiny-llama";

const bytePieces = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
// llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte.
const types = (normal: number) => [2, 3, 3, ...bytePieces.map(() => 6), ...Array.from({ length: normal }, () => 1)];

function spmMetadata(pieces: string[], scores: number[], extra: GgufMetadataEntry[] = []): GgufMetadataEntry[] {
  return [
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "string[]", value: pieces },
    { key: "tokenizer.ggml.scores", type: "f32[]", value: scores },
    { key: "tokenizer.ggml.token_type", type: "i32[]", value: types(pieces.length - 259) },
    { key: "tokenizer.ggml.unknown_token_id", type: "u32", value: 0 },
    ...extra,
  ];
}

/** modelWeightsToGguf writes these from the config; a tokenizer-only file needs them spelled out. */
const bosEos: GgufMetadataEntry[] = [
  { key: "tokenizer.ggml.bos_token_id", type: "u32", value: 1 },
  { key: "tokenizer.ggml.eos_token_id", type: "u32", value: 2 },
];

describe("GGUF embedded tokenizer", () => {
  const normal = ["▁", "a", "b", "▁a", "ab", "▁ab"];
  const pieces = ["<unk>", "<s>", "</s>", ...bytePieces, ...normal];
  const scores = [0, 0, 0, ...bytePieces.map(() => 0), -5, -6, -7, -1, -2, -3];
  const metadataOf = (entries: GgufMetadataEntry[]) => parseGguf(writeGguf(entries, []), "t.gguf").metadata;

  it("converts a SentencePiece vocabulary: score-ranked merges, byte fallback, add_bos_token", () => {
    const convert = (addBos: boolean) =>
      ggufTokenizerToHf(
        metadataOf(spmMetadata(pieces, scores, [...bosEos, { key: "tokenizer.ggml.add_bos_token", type: "bool", value: addBos }])),
        "t.gguf",
        64,
      );
    const withBos = convert(true);
    const withoutBos = convert(false);
    if (!withBos || !withoutBos) throw new Error("a llama tokenizer must convert");
    const t = new Tokenizer(withoutBos.tokenizerJson, withoutBos.tokenizerConfig);
    // "▁ a b": "▁a" (-1) beats "ab" (-2), then "▁ab" (-3). "c" is not a piece: byte 0x63 = id 3 + 99.
    expect(t.encode("ab").ids).toEqual([264]);
    expect(t.encode("ab c").ids).toEqual([264, 259, 102]);
    expect(t.decode([264, 259, 102])).toBe("ab c");
    expect(new Tokenizer(withBos.tokenizerJson, withBos.tokenizerConfig).encode("ab").ids).toEqual([1, 264]);
  });

  it("leaves other tokenizer kinds to a tokenizer.json, and names bad metadata", async () => {
    expect(ggufTokenizerToHf(metadataOf([{ key: "tokenizer.ggml.model", type: "string", value: "gpt2" }]), "t.gguf", 64)).toBeUndefined();
    const short = spmMetadata(pieces, scores.slice(1));
    expect(() => ggufTokenizerToHf(metadataOf(short), "t.gguf", 64)).toThrow(ModelFormatError);
    expect(() => ggufTokenizerToHf(metadataOf(short), "t.gguf", 64)).toThrow(
      /t\.gguf: metadata tokenizer\.ggml\.scores has 264 entries for 265 tokens/,
    );
    const gpt2 = modelWeightsToGguf(randomLlama(tinyLlamaShape), "F32", [{ key: "tokenizer.ggml.model", type: "string", value: "gpt2" }]);
    await expect(loadModelFiles(new Map([["m.gguf", gpt2]]))).rejects.toThrow(
      /missing tokenizer\.json: m\.gguf has no tokenizer .*only SentencePiece and byte-level .* tokenizers embedded in GGUF are converted/,
    );
  });

  it.skipIf(!hasStories260k)("stories260K as a GGUF with its vocabulary embedded encodes as llama2.c does", async () => {
    const tok = readLlama2cTokenizer(await readFile(resolve(stories260kDir, "tok512.bin")), "tok512.bin", 512);
    const ggufPieces = tok.pieces.map((p, i) => ["<unk>", "<s>", "</s>"][i] ?? p.replaceAll(" ", "▁"));
    const weights = readLlama2cCheckpoint(await readFile(resolve(stories260kDir, "stories260K.bin")), "stories260K.bin");
    const gguf = modelWeightsToGguf(weights, "F32", spmMetadata(ggufPieces, [...tok.scores]));
    const loaded = await loadModelFiles(new Map([["stories.gguf", gguf]]));
    const t = new Tokenizer(loaded.tokenizerJson as object, loaded.tokenizerConfig as object);
    expect(t.encode("Once upon a time").ids).toEqual([1, 403, 407, 261, 378]);
    const chars = Array.from("abcdefghij klmnopqrstuvwxyz.,!'\nLT日😀");
    const r = rng(11);
    for (let i = 0; i < 100; i++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 30) }, () => chars[Math.floor(r() * chars.length)]).join("");
      expect(t.encode(text).ids, JSON.stringify(text)).toEqual(llama2cEncode(tok, text, true));
    }
  });
});
