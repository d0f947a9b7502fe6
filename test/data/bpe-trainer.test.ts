import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byteLevelAlphabet, byteLevelTokenizerJson, countWords, trainByteLevelBpe } from "../../src/data/bpe-trainer";
import { Tokenizer } from "../../src/model/tokenizer";

const specials = ["<|bos|>", "<|end|>"];
const scalarValue = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff),
);

function tokenizerOf(texts: string[], vocabSize = 400): Tokenizer {
  const model = trainByteLevelBpe(texts, { vocabSize, specialTokens: specials });
  return new Tokenizer({
    tokenizerJson: byteLevelTokenizerJson(model, "<|bos|>"),
    tokenizerConfig: { bos_token: "<|bos|>", eos_token: "<|end|>" },
  });
}

describe("byte-level BPE trainer", () => {
  it("spells every byte with GPT-2's printable alphabet, space as Ġ", () => {
    const alphabet = byteLevelAlphabet();
    expect(new Set(alphabet).size).toBe(256);
    expect([alphabet[32], alphabet[10], alphabet[65]]).toEqual(["Ġ", "Ċ", "A"]);
  });

  it("counts words with their leading space, digits one by one, special tokens removed", () => {
    const counts = countWords(["<|bos|>cat 42 cat<|end|>"], specials);
    expect([...counts].sort()).toEqual([
      ["2", 1],
      ["cat", 1],
      ["Ġ4", 1],
      ["Ġcat", 1],
    ]);
  });

  it("merges the most frequent pair first (hand-counted)", () => {
    // Words: aaab ×1, Ġaaab ×2, ab ×1. Pairs: a a = 6, a b = 4 → then a b = 4 → aa ab = 3 → Ġ aaab = 2.
    const model = trainByteLevelBpe(["aaab aaab aaab", "ab"], { vocabSize: 1000, specialTokens: specials });
    expect(model.merges).toEqual([
      ["a", "a"],
      ["a", "b"],
      ["aa", "ab"],
      ["Ġ", "aaab"],
    ]);
    expect(model.vocab.size).toBe(2 + 256 + 4);
    expect([model.vocab.get("<|bos|>"), model.vocab.get("<|end|>"), model.vocab.get("Ġaaab")]).toEqual([0, 1, 261]);
  });

  it("breaks ties by the pair's spelling and stops at vocabSize", () => {
    const model = trainByteLevelBpe(["ab cd"], { vocabSize: 2 + 256 + 2, specialTokens: specials, minFrequency: 1 });
    expect(model.merges).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    expect(() => trainByteLevelBpe(["x"], { vocabSize: 100, specialTokens: specials })).toThrow(
      /vocabSize 100 is below the 258 specials and bytes/,
    );
  });

  it("writes a tokenizer.json that @huggingface/tokenizers loads and encodes with the learned merges", () => {
    const tok = tokenizerOf(["the cat sat on the mat 123", "the cat and the hat 12"]);
    const ids = tok.encode("the cat 197", { bos: false });
    expect(ids.map((i) => tok.idToToken(i))).toEqual(["the", "Ġcat", "Ġ1", "9", "7"]);
    expect(tok.encode("<|bos|>the<|end|>", { bos: false })).toEqual([0, tok.tokenToId("the"), 1]);
    expect(tok.encode("the")[0]).toBe(0);
  });

  it("round-trips any text exactly, whatever it was trained on", () => {
    const tok = tokenizerOf(["the cat sat on the mat", "naïve café 東京 🦙"]);
    fc.assert(
      // Every Unicode scalar value (control characters included); lone surrogates are not text.
      fc.property(fc.array(scalarValue, { maxLength: 40 }), (codePoints) => {
        const text = String.fromCodePoint(...codePoints);
        expect(tok.decode(tok.encode(text, { bos: false }))).toBe(text);
      }),
      { numRuns: 300, seed: 1 },
    );
  });
});
