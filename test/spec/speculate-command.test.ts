import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tokenizerOf } from "../../src/cli/command-io";
import { generate } from "../../src/model/generate";
import { releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { runCliCaptured } from "../cli/cli-harness";
import { tinyChatWeights, writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { chatMlTokenizerFiles } from "../model/tokenizer-fixtures";

const cli = (...argv: string[]) => runCliCaptured(argv);

const dir = mkdtempSync(join(tmpdir(), "prunelab-speculate-"));
const target = writeTinyChatFolder();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
});

/** The target's own greedy continuation, through the library, as the CLI's text must be. */
async function greedyText(modelPath: string, prompt: string, maxTokens: number, tokenizerPath?: string): Promise<string> {
  const gpu = await testGpu();
  const loaded = await loadModelFromPath(modelPath, { tokenizer: tokenizerPath });
  const tokenizer = tokenizerOf(loaded);
  const model = uploadLlama(gpu, loaded.weights);
  const stopTokens = [...new Set([...tokenizer.stopTokenIds, ...(loaded.weights.config.eosTokenId ?? [])])];
  const [out] = await generate(gpu, model, [tokenizer.encode(prompt, { bos: tokenizer.bosTokenId !== undefined })], {
    maxTokens,
    stopTokens,
  });
  releaseLlama(gpu, model);
  return tokenizer.decode(out.tokens, { skipSpecialTokens: true });
}

const keys = ["text", "acceptanceRate", "meanAcceptedLength", "targetForwards", "draftTokens", "acceptedTokens", "seconds"];

describe("prunelab speculate", () => {
  const draft = join(dir, "draft");
  mkdirSync(draft);
  for (const [file, bytes] of hfFolderFiles(dropBlocksFromWeights(tinyChatWeights, 1, 1), chatMlTokenizerFiles())) {
    writeFileSync(join(draft, file), bytes);
  }

  it("writes exactly the JSON keys asked for; greedy text is the target's greedy text", async () => {
    const json = join(dir, "greedy.json");
    const r = await cli(
      "speculate",
      "--draft",
      draft,
      "--target",
      target,
      "--k",
      "3",
      "--prompt",
      "hello world",
      "--max-tokens",
      "12",
      "--json",
      json,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(Object.keys(out)).toEqual(keys);
    expect(out.text).toBe(await greedyText(target, "hello world", 12));
    expect(r.stdout.startsWith(`${out.text}\n`)).toBe(true);
    expect(out.acceptanceRate).toBeCloseTo(out.acceptedTokens / out.draftTokens, 12);
    expect(out.targetForwards).toBeGreaterThan(0);
    expect(out.seconds).toBeGreaterThan(0);
  });

  it("samples reproducibly with --temperature and --seed", async () => {
    const run = async (seed: string) => {
      const json = join(dir, `sampled-${seed}.json`);
      const args = ["--k", "2", "--prompt", "the cat", "--max-tokens", "10", "--temperature", "1", "--seed", seed, "--json", json];
      expect((await cli("speculate", "--draft", draft, "--target", target, ...args)).code).toBe(0);
      return JSON.parse(readFileSync(json, "utf8")).text;
    };
    expect(await run("5")).toBe(await run("5"));
  });

  it.each([
    [["speculate", "--draft", "d", "--target", "t", "--prompt", "p", "--max-tokens", "4", "--json", "o"], /--k is required/],
    [
      ["speculate", "--draft", "d", "--target", "t", "--k", "0", "--prompt", "p", "--max-tokens", "4", "--json", "o"],
      /--k must be an integer ≥ 1, got '0'/,
    ],
    [["speculate", "--draft", "d", "--target", "t", "--k", "2", "--prompt", "p", "--max-tokens", "4"], /--json is required/],
    [
      ["speculate", "--draft", "d", "--target", "t", "--k", "2", "--prompt", "p", "--max-tokens", "4", "--json", "o", "--top-k", "3"],
      /Unknown option '--top-k'/,
    ],
  ])("%j is a usage error on one line, exit 2", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("is listed in --help", async () => {
    expect((await cli("--help")).stdout).toMatch(/prunelab speculate --draft PATH --target PATH \[--tokenizer PATH\] --k K --prompt TEXT/);
  });
});

describe.skipIf(!hasStories260k)("prunelab speculate on stories260K with the pruned model as draft", () => {
  it("gives the target's greedy text and a real acceptance rate", async () => {
    const model = join(stories260kDir, "stories260K.bin");
    const tokenizer = join(stories260kDir, "tok512.bin");
    const pruned = join(dir, "stories-pruned");
    expect((await cli("prune", "--model", model, "--tokenizer", tokenizer, "--start", "3", "--n", "1", "--out", pruned)).code).toBe(0);
    const json = join(dir, "stories.json");
    const r = await cli(
      "speculate",
      "--draft",
      pruned,
      "--target",
      model,
      "--tokenizer",
      tokenizer,
      "--k",
      "4",
      "--prompt",
      "Once upon a time",
      "--max-tokens",
      "48",
      "--json",
      json,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(out.text).toBe(await greedyText(model, "Once upon a time", 48, tokenizer));
    console.log(`stories260K draft without block 3: ${r.stdout.split("\n").at(-2)}`);
    expect(out.acceptanceRate).toBeGreaterThan(0.3);
  });
});
