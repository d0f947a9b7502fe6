import { describe, expect, it } from "vitest";
import { Tokenizer } from "../../src/model/tokenizer";
import { calibrationFromJsonl, calibrationFromText, encodeCalibration } from "../../src/prune/calibration";
import { llamaTokenizerFiles } from "../model/tokenizer-fixtures";

describe("calibration sets", () => {
  it("reads {text} and Alpaca lines, skipping blank lines", () => {
    const jsonl = [
      '{"text": "the cat sat"}',
      "",
      '{"instruction": "hello", "input": "the mat", "output": "the cat"}',
      '{"instruction": "hello", "input": ""}',
    ].join("\n");
    expect(calibrationFromJsonl(jsonl, "calib.jsonl")).toEqual([
      { prompt: "the cat sat" },
      { prompt: "hello\n\nthe mat", response: "the cat" },
      { prompt: "hello" },
    ]);
  });

  it.each([
    ['{"text": 3}', /calib\.jsonl line 1: "text" must be a string/],
    ['{"text": "a"}\n{"prompt": "b"}', /calib\.jsonl line 2: has neither "text" nor "instruction"/],
    ["{oops", /calib\.jsonl line 1: not valid JSON/],
    ["[1]", /calib\.jsonl line 1: expected a JSON object/],
  ])("names the file and line of a bad record: %j", (text, message) => {
    expect(() => calibrationFromJsonl(text, "calib.jsonl")).toThrow(message);
  });

  it("splits pasted text into paragraphs", () => {
    expect(calibrationFromText("one line\nstill one\n\n  \n\ntwo\r\n\r\nthree  ")).toEqual([
      { prompt: "one line\nstill one" },
      { prompt: "two" },
      { prompt: "three" },
    ]);
  });

  it("encodes with BOS, or through the chat template, truncated and limited in count", () => {
    const tokenizer = new Tokenizer(llamaTokenizerFiles());
    const records = [{ prompt: "the cat sat on the mat" }, { prompt: "hello", response: "the cat" }, { prompt: "the mat" }];
    const plain = encodeCalibration(tokenizer, records);
    expect(plain[0]).toEqual(tokenizer.encode("the cat sat on the mat", { bos: true }));
    expect(plain[0][0]).toBe(tokenizer.bosTokenId);
    expect(plain[1]).toEqual(tokenizer.encode("hello\n\nthe cat", { bos: true }));
    const chat = encodeCalibration(tokenizer, records, { chatTemplate: true });
    expect(chat[1]).toEqual(
      tokenizer.encodeChat([
        { role: "user", content: "hello" },
        { role: "assistant", content: "the cat" },
      ]),
    );
    expect(tokenizer.decode(chat[0])).toContain("[INST]");
    const limited = encodeCalibration(tokenizer, records, { maxSamples: 2, seqLen: 3 });
    expect(limited).toEqual([plain[0].slice(0, 3), plain[1].slice(0, 3)]);
  });
});
