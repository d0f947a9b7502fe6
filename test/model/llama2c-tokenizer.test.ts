import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/model/errors";
import { llama2cEncode, llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { rng } from "../numerics";
import { hasStories260k, stories260kDir } from "./stories260k-files";

describe.skipIf(!hasStories260k)("llama2.c tokenizer (stories260K tok512.bin)", () => {
  const bytes = hasStories260k ? readFileSync(resolve(stories260kDir, "tok512.bin")) : new Uint8Array();
  const tok = hasStories260k ? readLlama2cTokenizer(bytes, "tok512.bin", 512) : undefined;

  function hfTokenizer() {
    if (!tok) throw new Error("unreachable: suite is skipped");
    const { tokenizerJson, tokenizerConfig } = llama2cTokenizerToHf(tok, 512);
    return new Tokenizer(tokenizerJson, tokenizerConfig);
  }

  it('encodes "Once upon a time" to llama2.c\'s ids, BOS first, through @huggingface/tokenizers', () => {
    expect(hfTokenizer().encode("Once upon a time").ids).toEqual([1, 403, 407, 261, 378]);
  });

  it("matches llama2.c's score-greedy encode on awkward and random text, and decodes back", () => {
    if (!tok) return;
    const t = hfTokenizer();
    const alphabet = "abcdefghijklmnopqrstuvwxyz ABCXYZ.,!?'\n0123456789éü日😀";
    const chars = Array.from(alphabet);
    const r = rng(7);
    const texts = ["Hello, wörld! 日本 😀", "  two  spaces", " leading", "x", "Lily and Tom went to the park."];
    for (let i = 0; i < 200; i++)
      texts.push(Array.from({ length: 1 + Math.floor(r() * 40) }, () => chars[Math.floor(r() * chars.length)]).join(""));
    for (const text of texts) {
      const ids = t.encode(text).ids;
      expect(ids, JSON.stringify(text)).toEqual(llama2cEncode(tok, text, true));
      expect(t.decode(ids, { skip_special_tokens: true }), JSON.stringify(text)).toBe(text);
    }
  });

  it("rejects a truncated file and a vocab size that disagrees, naming the file", () => {
    expect(() => readLlama2cTokenizer(bytes.subarray(0, 1000), "tok512.bin", 512)).toThrow(ModelFormatError);
    expect(() => readLlama2cTokenizer(bytes.subarray(0, 1000), "tok512.bin", 512)).toThrow(/tok512\.bin: .*token \d+/);
    expect(() => readLlama2cTokenizer(bytes, "tok512.bin", 600)).toThrow(
      /tok512\.bin: holds 512 tokens, but the checkpoint's vocab_size is 600/,
    );
  });
});
