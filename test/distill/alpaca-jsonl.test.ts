import { describe, expect, it } from "vitest";
import { type AlpacaRecord, parseAlpacaJsonl, toAlpacaJsonl } from "../../src/distill/alpaca-jsonl";
import { DatasetFormatError } from "../../src/jsonl-objects";

describe("Alpaca JSONL", () => {
  it("round-trips records, newlines, quotes, braces and non-ASCII text included", () => {
    const records: AlpacaRecord[] = [
      { instruction: "Add the numbers.", input: "3 and 4", output: "3 + 4 = 7.\n#### 7" },
      { instruction: 'Say "hi" in {braces}', input: "", output: "{hi} — ünïcødé 😀" },
    ];
    const text = toAlpacaJsonl(records);
    expect(text.split("\n")).toHaveLength(3);
    expect(JSON.parse(text.split("\n")[0])).toEqual(records[0]);
    expect(parseAlpacaJsonl(text)).toEqual(records);
  });

  it("reads a missing input as empty, skips blank lines and ignores other keys", () => {
    const text = '{"instruction":"a","output":"b","category":"x"}\r\n\n{"instruction":"c","input":"d","output":"e"}';
    expect(parseAlpacaJsonl(text)).toEqual([
      { instruction: "a", input: "", output: "b" },
      { instruction: "c", input: "d", output: "e" },
    ]);
  });

  it.each([
    ['{"instruction":"a","output":"b"}\n\n{"instruction": "a", "output": ', /data\.jsonl line 3: not valid JSON/],
    ['["a","b"]', /data\.jsonl line 1: expected a JSON object/],
    ['{"instruction":"a","output":"b"}\n{"output":"b"}', /data\.jsonl line 2: "instruction" must be a non-empty string/],
    ['{"instruction":"a","input":3,"output":"b"}', /line 1: "input" must be a string when present/],
    ['{"instruction":"a","output":"  "}', /line 1: "output" must be a non-empty string/],
    ["\n\n", /data\.jsonl: no records/],
  ])("%# errors name the file and line", (text, message) => {
    expect(() => parseAlpacaJsonl(text, "data.jsonl")).toThrow(DatasetFormatError);
    expect(() => parseAlpacaJsonl(text, "data.jsonl")).toThrow(message);
  });

  it("accepts a UTF-8 BOM, and rejects invalid UTF-8 naming the line instead of reading U+FFFD", () => {
    const line = (s: string) => new TextEncoder().encode(s);
    const record = '{"instruction":"é","output":"b"}\n';
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...line(record)]);
    expect(parseAlpacaJsonl(withBom, "data.jsonl")).toEqual([{ instruction: "é", input: "", output: "b" }]);
    expect(parseAlpacaJsonl(`\uFEFF${record}`, "data.jsonl")).toHaveLength(1);
    // Line 2 holds a lone continuation byte, line 3 an overlong encoding of "/".
    for (const bad of [[0x80], [0xc0, 0xaf]]) {
      const bytes = new Uint8Array([...line(record), ...line('{"instruction":"'), ...bad, ...line('","output":"b"}\n')]);
      expect(() => parseAlpacaJsonl(bytes, "data.jsonl")).toThrow(/data\.jsonl line 2: invalid UTF-8 at byte 50/);
    }
  });
});
