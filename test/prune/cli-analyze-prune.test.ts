import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { llamaCpu } from "../../src/model/llama-cpu";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { Tokenizer } from "../../src/model/tokenizer";
import { analyzeLayersCpu } from "../../src/prune/layer-analysis";
import { runCliCaptured } from "../cli/cli-harness";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { expectClose } from "../numerics";

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/prunelab.mjs");

const cli = (...argv: string[]) => runCliCaptured(argv);

const dir = mkdtempSync(join(tmpdir(), "prunelab-analyze-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("prunelab analyze / prune arguments", () => {
  it.each([
    [["analyze", "--model", "m", "--json", "o.json"], /--calib is required/],
    [["analyze", "--model", "m", "--calib", "c", "--json", "o", "--max-samples", "0"], /--max-samples must be an integer ≥ 1, got '0'/],
    [["analyze", "--model", "m", "--calib", "c", "--json", "o", "--start", "1"], /Unknown option '--start'/],
    [["prune", "--model", "m", "--start", "1", "--out", "d"], /--n is required/],
    [["prune", "--model", "m", "--start", "x", "--n", "1", "--out", "d"], /--start must be an integer ≥ 0, got 'x'/],
    [["prune", "--model", "m", "--start", "1", "--n", "1", "--out", "d", "extra"], /Unexpected argument 'extra'/],
  ])("%j is a usage error on one line, exit 2", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(new RegExp(`see prunelab ${argv[0]} --help`));
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("lists both commands in --help", async () => {
    const r = await cli("--help");
    expect(r.stdout).toMatch(/prunelab analyze --model PATH \[--tokenizer PATH\] --calib FILE\.jsonl/);
    expect(r.stdout).toMatch(/prunelab prune --model PATH \[--tokenizer PATH\] --start l --n n --out DIR/);
  });
});

describe.skipIf(!hasStories260k)("prunelab analyze / prune on stories260K", () => {
  const model = join(stories260kDir, "stories260K.bin");
  const tokenizerBin = join(stories260kDir, "tok512.bin");
  const lines = [
    "Once upon a time, there was a little girl named Lily.",
    "Tom had a big red ball. He liked to play with it in the park.",
    "The cat sat on the mat and looked at the sun.",
    "One day, a bird flew into the garden.",
  ];

  it("analyze writes exactly the JSON keys asked for, equal to the float64 reference, and PruneMe's CSV", async () => {
    const calib = join(dir, "calib.jsonl");
    writeFileSync(calib, `${lines.map((text) => JSON.stringify({ text })).join("\n")}\n`);
    const [json, csv] = [join(dir, "out.json"), join(dir, "out.csv")];
    const r = await cli(
      "analyze",
      "--model",
      model,
      "--tokenizer",
      tokenizerBin,
      "--calib",
      calib,
      "--max-samples",
      "3",
      "--seq-len",
      "12",
      "--json",
      json,
      "--csv",
      csv,
    );
    expect(r.stderr).toMatch(/3\/3 samples/);
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(Object.keys(out)).toEqual(["layers", "numSamples", "angular", "blockInfluence"]);
    expect(out.layers).toBe(5);
    expect(out.numSamples).toBe(3);
    expect(Object.keys(out.angular)).toEqual(["1", "2", "3", "4", "5"]);
    for (let n = 1; n <= 5; n++) expect(Object.keys(out.angular[n])).toEqual([...Array(6 - n).keys()].map(String));
    expect(out.blockInfluence).toHaveLength(5);
    // The same samples through the CPU reference: BOS + text, no chat template, 12 tokens at most.
    const weights = readLlama2cCheckpoint(new Uint8Array(readFileSync(model)), "stories260K.bin");
    const tokenizer = new Tokenizer(llama2cTokenizerToHf(readLlama2cTokenizer(readFileSync(tokenizerBin), "tok512.bin", 512), 512));
    const samples = lines.slice(0, 3).map((text) => tokenizer.encode(text, { bos: true }).slice(0, 12));
    const cpu = analyzeLayersCpu(llamaCpu(weights), samples);
    // See test/prune/layer-analysis.test.ts for the tolerances.
    expectClose(
      cpu.angular.flatMap((row, k) => row.map((_, l) => out.angular[k + 1][l])),
      cpu.angular.flat(),
      0,
      1e-4,
      "angular",
    );
    expectClose(out.blockInfluence, cpu.blockInfluence, 0, 1e-5, "block influence");
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    expect(rows[0]).toBe("block_start,block_end,average_distance");
    expect(rows).toHaveLength(1 + 15);
    expect(rows[1]).toBe(`0,1,${out.angular[1][0]}`);
    expect(rows.at(-1)).toBe(`0,5,${out.angular[5][0]}`);
  });

  it("prune writes a Hugging Face folder that `prunelab generate` runs on its own", async () => {
    const out = join(dir, "pruned");
    const r = await cli("prune", "--model", model, "--tokenizer", tokenizerBin, "--start", "1", "--n", "2", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).num_hidden_layers).toBe(3);
    const info = await cli("info", "--model", out);
    expect(info.stdout).toMatch(/numHiddenLayers: 3\n/);
    // The bin entry, as a user runs it; greedy, so the text is the pruned model's own and repeatable.
    const { stdout } = await run(process.execPath, [bin, "generate", "--model", out, "--prompt", "Once upon a time", "--max-tokens", "16"]);
    expect(stdout.trim().length).toBeGreaterThan(0);
    const again = await cli("generate", "--model", out, "--prompt", "Once upon a time", "--max-tokens", "16");
    expect(again.stdout).toBe(stdout);
  });
});
