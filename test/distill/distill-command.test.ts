import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAlpacaJsonl, toAlpacaJsonl } from "../../src/distill/alpaca-jsonl";
import { runCliCaptured } from "../cli/cli-harness";
import { writeTinyChatFolder } from "../eval/tiny-chat-llama";

const dir = writeTinyChatFolder();
afterAll(() => rmSync(dir, { recursive: true }));

const cli = runCliCaptured;

const records = [
  { instruction: "Add 1 and 2.", input: "", output: "1 + 2 = 3\n#### 3" },
  { instruction: "Greet the cat.", input: "politely", output: "hello cat" },
  { instruction: "Name a place to sit.", input: "", output: "the mat" },
];

describe("prunelab distill", () => {
  it("writes one Alpaca record per input record, and an interrupted run resumes to the same file", async () => {
    const data = join(dir, "data.jsonl");
    writeFileSync(data, toAlpacaJsonl(records));
    const args = (out: string) => [
      "distill",
      "--model",
      dir,
      "--data",
      data,
      "--out",
      out,
      "--max-tokens",
      "4",
      "--batch-size",
      "2",
      "--seed",
      "9",
    ];

    const whole = join(dir, "whole.jsonl");
    const full = await cli(args(whole));
    expect(full.stderr).toMatch(/distilling: 3\/3/);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/^3 examples: kept \d rewrites, replaced \d by the original/);
    const written = parseAlpacaJsonl(readFileSync(whole, "utf8"));
    expect(written.map((r) => [r.instruction, r.input])).toEqual(records.map((r) => [r.instruction, r.input]));
    expect(existsSync(`${whole}.partial.jsonl`)).toBe(false);

    // Kill the run after its first batch was saved: the progress line of the second batch throws.
    const resumed = join(dir, "resumed.jsonl");
    let thrown = false;
    const killed = await cli(args(resumed), (t) => {
      if (t.includes("3/3") && !thrown) {
        thrown = true;
        throw new Error("killed");
      }
    });
    expect(killed.code).toBe(1);
    expect(existsSync(resumed)).toBe(false);
    const otherSeed = await cli(args(resumed).map((a) => (a === "9" ? "10" : a)));
    expect(otherSeed.code).toBe(1);
    expect(otherSeed.stderr).toMatch(/resumed\.jsonl\.partial\.jsonl was written by a run with other settings .* delete it to start over/);
    const again = await cli(args(resumed));
    expect(again.stderr).toMatch(/resuming from .*resumed\.jsonl\.partial\.jsonl: 2 of 3 examples done/);
    expect(again.code).toBe(0);
    expect(readFileSync(resumed, "utf8")).toBe(readFileSync(whole, "utf8"));
  });

  it.each([
    [["distill", "--model", "m", "--data", "d.jsonl"], /--out is required/, 2],
    [["distill", "--model", "m", "--data", "d.jsonl", "--out", "o", "--kind", "poetry"], /--kind must be general or math, got 'poetry'/, 2],
    [["distill", "--model", "m", "--data", "d.jsonl", "--out", "o", "--top-p", "2"], /--top-p must be a number ≥ 0 and ≤ 1, got '2'/, 2],
    [["distill", "--model", "m", "--data", "/nonexistent/d.jsonl", "--out", "o"], /cannot read \/nonexistent\/d\.jsonl/, 1],
  ])("%j fails with one line (exit 2 for a usage error, 1 at run time)", async (argv, message, code) => {
    const r = await cli(argv);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("names the line of a malformed dataset", async () => {
    const data = join(dir, "bad.jsonl");
    writeFileSync(data, `${toAlpacaJsonl(records)}{"instruction": "x"}\n`);
    const r = await cli(["distill", "--model", dir, "--data", data, "--out", join(dir, "o.jsonl")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.jsonl line 4: "output" must be a non-empty string/);
  });
});
