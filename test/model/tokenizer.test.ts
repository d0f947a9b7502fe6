import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MissingModelFileError } from "../../src/model/errors";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { loadTokenizer, type ReadModelFile, Tokenizer, TokenizerError } from "../../src/model/tokenizer";
import { hasStories260k, stories260kDir } from "./stories260k-files";
import { chatMlTokenizerFiles, llamaTokenizerFiles } from "./tokenizer-fixtures";

function folderReader(dir: string): ReadModelFile {
  return (name) =>
    readFile(join(dir, name), "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
}

/** Pushes ids one at a time; returns what each push emitted, then the flush. */
function streamed(tok: Tokenizer, ids: number[]): { deltas: string[]; tail: string } {
  const stream = tok.streamDecoder();
  const deltas = ids.map((id) => stream.push(id));
  return { deltas, tail: stream.flush() };
}

describe("tokenizer (SentencePiece-style BPE with byte fallback)", () => {
  const tok = new Tokenizer(llamaTokenizerFiles(), "llama-fixture");
  const id = (piece: string) => tok.tokenToId(piece) ?? Number.NaN;

  it("encodes whole words with BOS by default and without on request", () => {
    expect(tok.addBosByDefault).toBe(true);
    expect(tok.encode("the cat sat on the mat")).toEqual([1, ...["▁the", "▁cat", "▁sat", "▁on", "▁the", "▁mat"].map(id)]);
    expect(tok.encode("hello", { bos: false })).toEqual([id("▁hello")]);
    expect(tok.vocabSize).toBe(Object.keys(llamaTokenizerFiles().tokenizerJson.model.vocab).length);
  });

  it("falls back to UTF-8 bytes outside the vocabulary and decodes back to the same text", () => {
    const text = "the cat é🦙 sat héllo";
    const ids = tok.encode(text, { bos: false });
    expect(ids).toEqual(expect.arrayContaining([id("<0xC3>"), id("<0xA9>"), id("<0xF0>"), id("<0x9F>"), id("<0xA6>"), id("<0x99>")]));
    expect(tok.decode(ids)).toBe(text);
    // As in transformers: the decoder strips the leading space of the first token only, and that is <s>.
    expect(tok.decode(tok.encode(text))).toBe(`<s> ${text}`);
    expect(tok.decode(tok.encode(text), { skipSpecialTokens: true })).toBe(text);
  });

  it("streams text only when each multi-byte character is complete", () => {
    const ids = tok.encode("the é🦙 cat", { bos: false });
    const { deltas, tail } = streamed(tok, ids);
    expect(deltas.join("") + tail).toBe(tok.decode(ids));
    expect(deltas.some((d) => d.includes("\uFFFD"))).toBe(false);
    const llama = ids.indexOf(id("<0xF0>"));
    expect(deltas.slice(llama, llama + 4)).toEqual(["", "", "", "🦙"]);
    expect(deltas[ids.indexOf(id("<0xC3>"))]).toBe("");
    expect(deltas[0]).toBe("the");
    expect(deltas[ids.length - 1]).toBe(" cat");
  });

  it("flushes an unfinished character as U+FFFD", () => {
    const { deltas, tail } = streamed(tok, [id("▁cat"), id("<0xF0>"), id("<0x9F>")]);
    expect(deltas).toEqual(["cat", "", ""]);
    expect(tail).toMatch(/^\uFFFD+$/);
  });

  it("takes special and stop tokens from tokenizer_config.json", () => {
    expect([tok.bosTokenId, tok.eosTokenId]).toEqual([1, 2]);
    expect([...tok.stopTokenIds]).toEqual([2]);
    expect(tok.isStopToken(2) && !tok.isStopToken(1)).toBe(true);
    expect([...tok.specialTokenIds].sort()).toEqual([0, 1, 2]);
    expect(tok.encode("the</s>cat", { bos: false })).toEqual([id("▁the"), 2, id("▁cat")]);
  });

  it("renders the default template of a multi-template config with bos_token and eos_token", () => {
    const messages = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "yo" },
      { role: "user", content: "the cat?" },
    ];
    expect(tok.applyChatTemplate(messages)).toBe("<s>[INST] hi [/INST] yo</s>[INST] the cat? [/INST]");
    expect(tok.encodeChat(messages).slice(0, 1)).toEqual([1]);
    expect(tok.encodeChat(messages).filter((i) => i === 1)).toHaveLength(1);
  });

  it("rejects ids outside the vocabulary, naming the id and the range", () => {
    expect(() => tok.decode([id("▁cat"), tok.vocabSize])).toThrow(
      new RegExp(`token id ${tok.vocabSize} is outside the vocabulary \\[0, ${tok.vocabSize}\\)`),
    );
  });
});

describe("tokenizer (byte-level BPE with a ChatML template)", () => {
  const tok = new Tokenizer(chatMlTokenizerFiles(), "chatml-fixture");

  it("adds no BOS unless asked, and then uses config.json's bos_token_id", () => {
    expect(tok.addBosByDefault).toBe(false);
    const plain = tok.encode("hello world");
    expect(plain).toEqual([tok.tokenToId("hello"), tok.tokenToId("Ġworld")]);
    expect(tok.encode("hello world", { bos: true })).toEqual([0, ...plain]);
  });

  it("gathers stop tokens from tokenizer_config, generation_config and config", () => {
    expect(tok.eosTokenId).toBe(2);
    expect([...tok.stopTokenIds].sort()).toEqual([0, 2]);
  });

  it("renders ChatML exactly, with and without the generation prompt", () => {
    const messages = [{ role: "user", content: "hello the cat" }];
    const base = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhello the cat<|im_end|>\n";
    expect(tok.applyChatTemplate(messages)).toBe(base);
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(`${base}<|im_start|>assistant\n`);
    const ids = tok.encodeChat(messages, { addGenerationPrompt: true });
    expect(ids.filter((i) => i === 1)).toHaveLength(3);
    expect(tok.decode(ids)).toBe(`${base}<|im_start|>assistant\n`);
  });

  it("streams byte-level tokens across multi-byte characters", () => {
    const text = "hello wörld ✓ the cat";
    const ids = tok.encode(text);
    const { deltas, tail } = streamed(tok, ids);
    expect(deltas.join("") + tail).toBe(text);
    expect(tail).toBe("");
    expect(deltas.filter((d) => d === "").length).toBe(1 + 2);
    expect(deltas).toContain("ö");
    expect(deltas).toContain("✓");
  });

  it("refuses BOS when no file names one", () => {
    const { tokenizerJson } = chatMlTokenizerFiles();
    const bare = new Tokenizer({ tokenizerJson }, "bare-fixture");
    expect(bare.encode("the cat")).toEqual(tok.encode("the cat"));
    expect(() => bare.encode("the cat", { bos: true })).toThrow(/BOS was asked for but the tokenizer of bare-fixture defines no bos_token/);
    expect(() => bare.applyChatTemplate([{ role: "user", content: "x" }])).toThrow(TokenizerError);
  });
});

describe.skipIf(!hasStories260k)("tokenizer over stories260K's converted tok512.bin", () => {
  it("encodes with BOS by default, stops at </s>, and streams what decode gives", async () => {
    const bin = await readFile(join(stories260kDir, "tok512.bin"));
    const tok = new Tokenizer(llama2cTokenizerToHf(readLlama2cTokenizer(bin, "tok512.bin", 512), 512), "stories260K");
    expect(tok.encode("Once upon a time")).toEqual([1, 403, 407, 261, 378]);
    expect([...tok.stopTokenIds]).toEqual([2]);
    expect(tok.vocabSize).toBe(512);
    const ids = tok.encode("Lily and Tom went to the park. 日本 😀", { bos: false });
    const { deltas, tail } = streamed(tok, ids);
    expect(deltas.join("") + tail).toBe("Lily and Tom went to the park. 日本 😀");
  });
});

describe("loadTokenizer", () => {
  it("reads a model folder, and names the folder when tokenizer.json is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prunelab-tokenizer-"));
    try {
      const files = chatMlTokenizerFiles();
      await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify(files.tokenizerConfig));
      await writeFile(join(dir, "generation_config.json"), JSON.stringify(files.generationConfig));
      const missing = loadTokenizer(dir, folderReader(dir));
      await expect(missing).rejects.toBeInstanceOf(MissingModelFileError);
      await expect(missing).rejects.toThrow(`${dir} has no tokenizer.json`);

      await writeFile(join(dir, "tokenizer.json"), JSON.stringify(files.tokenizerJson));
      await writeFile(join(dir, "chat_template.jinja"), "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}");
      const tok = await loadTokenizer(dir, folderReader(dir));
      expect([...tok.stopTokenIds].sort()).toEqual([0, 2]);
      expect(tok.applyChatTemplate([{ role: "user", content: "hi" }])).toBe("user: hi\n");

      await writeFile(join(dir, "tokenizer.json"), "{ not json");
      await expect(loadTokenizer(dir, folderReader(dir))).rejects.toThrow(`tokenizer.json in ${dir} is not valid JSON`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
