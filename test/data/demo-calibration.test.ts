/** The demo world's calibration set: fixed, prose only, and encoded like any other calibration set. */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { specialTokens } from "../../src/data/chat-template";
import { demoCalibrationRecords } from "../../src/data/demo-calibration";
import { Tokenizer } from "../../src/model/tokenizer";
import { encodeCalibration } from "../../src/prune/calibration";

const demoFolder = new URL("../../public/models/demo/", import.meta.url);

describe("demoCalibrationRecords", () => {
  it("is the same prose each time, without special tokens or chat turns, and as many samples as asked", () => {
    const records = demoCalibrationRecords(64);
    expect(records).toHaveLength(64);
    expect(demoCalibrationRecords(64)).toEqual(records);
    expect(demoCalibrationRecords(10)).toEqual(records.slice(0, 10));
    expect(demoCalibrationRecords(0)).toEqual([]);
    const specials = Object.values(specialTokens);
    for (const r of records) {
      expect(r.response).toBeUndefined();
      expect(r.prompt.length).toBeGreaterThan(20);
      for (const s of specials) expect(r.prompt).not.toContain(s);
    }
    expect(new Set(records.map((r) => r.prompt)).size).toBeGreaterThan(60);
  });

  it("encodes with the demo tokenizer to one BOS and the text's own tokens", async () => {
    const read = async (name: string) => JSON.parse(await readFile(new URL(name, demoFolder), "utf8"));
    const tokenizer = new Tokenizer({ tokenizerJson: await read("tokenizer.json"), tokenizerConfig: await read("tokenizer_config.json") });
    const [first] = encodeCalibration(tokenizer, demoCalibrationRecords(1));
    expect(first[0]).toBe(tokenizer.bosTokenId);
    expect(first.filter((id) => tokenizer.specialTokenIds.has(id))).toEqual([tokenizer.bosTokenId]);
    expect(tokenizer.decode(first.slice(1))).toBe(demoCalibrationRecords(1)[0].prompt);
  });
});
