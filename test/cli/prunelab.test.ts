import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { toHfConfig } from "../../src/model/config";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { randomLlama } from "../../src/model/random-llama";
import { withRopeLayout } from "../../src/model/rope-layout";
import { writeSafetensors } from "../../src/model/safetensors";
import { stories260kExpected } from "../model/llama-stories-expected";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";
import { runCliCaptured } from "./cli-harness";

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/prunelab.mjs");

const cli = (...argv: string[]) => runCliCaptured(argv);

describe("prunelab CLI arguments", () => {
  it.each([
    [["generate", "--model", "m", "--prompt", "x", "--max-tokens", "3", "--bogus"], /Unknown option '--bogus'/],
    [["generate", "--model", "m", "--prompt", "x"], /--max-tokens is required/],
    [["generate", "--model", "m", "--prompt", "x", "--max-tokens", "two"], /--max-tokens must be an integer ≥ 1, got 'two'/],
    [["generate", "--model"], /--model.*argument missing/],
    [["info", "--model", "m", "--prompt", "x"], /Unknown option '--prompt'/],
    [["info", "--model", "m", "extra"], /Unexpected argument 'extra'/],
    [["bogus"], /unknown command 'bogus'/],
  ])("%j is a usage error on one line, exit 2", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  });

  it("prints the usage for --help, and on stderr with exit 2 when no command is given", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prunelab generate --model PATH/);
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/prunelab generate --model PATH/);
  });

  it("names a missing model path in one line", async () => {
    const r = await cli("info", "--model", "/nonexistent/model");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/nonexistent\/model/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("prunelab info", () => {
  it("reports the config, parameter count and bytes of a safetensors folder; generate without a tokenizer fails in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prunelab-cli-"));
    const weights = randomLlama({
      hiddenSize: 36,
      intermediateSize: 61,
      numHiddenLayers: 2,
      numAttentionHeads: 3,
      numKeyValueHeads: 1,
      vocabSize: 67,
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify(toHfConfig(weights.config)));
    writeFileSync(join(dir, "model.safetensors"), writeSafetensors(weights.tensors));
    const r = await cli("info", "--model", dir);
    const g = await cli("generate", "--model", dir, "--prompt", "hi", "--max-tokens", "2");
    rmSync(dir, { recursive: true });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // 2 layers × (36·36 + 2·12·36 + 36·36 + 3·36·61 + 2·36) + embed and head 2·67·36 + norm 36, all f32.
    expect(r.stdout).toMatch(/parameters: 25,092\n/);
    expect(r.stdout).toMatch(/weights: 100,368 bytes/);
    expect(r.stdout).toMatch(/numKeyValueHeads: 1\n/);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/tokenizer/);
    expect(g.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe.skipIf(!hasStories260k)("prunelab on stories260K", () => {
  it("generate reproduces llama2.c's greedy text from BOS", async () => {
    const { stdout } = await run(process.execPath, [
      bin,
      "generate",
      "--model",
      join(stories260kDir, "stories260K.bin"),
      "--tokenizer",
      join(stories260kDir, "tok512.bin"),
      "--prompt",
      "",
      "--max-tokens",
      "200",
    ]);
    expect(stdout).toBe(`${stories260kExpected}\n`);
  });

  it("generates the same from the model converted to a Hugging Face folder (rotate_half), and through its chat template", async () => {
    const weights = withRopeLayout(
      readLlama2cCheckpoint(new Uint8Array(readFileSync(join(stories260kDir, "stories260K.bin"))), "stories260K.bin"),
      false,
    );
    const { tokenizerJson, tokenizerConfig } = llama2cTokenizerToHf(
      readLlama2cTokenizer(readFileSync(join(stories260kDir, "tok512.bin")), "tok512.bin", 512),
      512,
    );
    const chatTemplate =
      "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}, and then{% endif %}";
    const dir = mkdtempSync(join(tmpdir(), "prunelab-cli-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(toHfConfig(weights.config)));
    writeFileSync(join(dir, "model.safetensors"), writeSafetensors(weights.tensors));
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tokenizerConfig, chat_template: chatTemplate }));
    const plain = await cli("generate", "--model", dir, "--prompt", "", "--max-tokens", "200");
    const chat = await cli("generate", "--model", dir, "--prompt", "Lily had a cat", "--max-tokens", "12", "--chat");
    const direct = await cli("generate", "--model", dir, "--prompt", "Lily had a cat, and then", "--max-tokens", "12");
    rmSync(dir, { recursive: true });
    const speed = /^prompt: \d+ tokens, [\d.]+ tokens\/s; decode: \d+ tokens, [\d.]+ tokens\/s\n$/;
    expect(plain.stderr).toMatch(speed);
    expect(plain.stdout).toBe(`${stories260kExpected}\n`);
    // The template renders BOS + the message + the generation prompt: the same ids as the plain prompt.
    expect(chat.stderr).toMatch(speed);
    expect(chat.stdout).toBe(direct.stdout);
    expect(chat.stdout.length).toBeGreaterThan(10);
  });
});
