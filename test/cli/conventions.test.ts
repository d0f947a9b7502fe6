import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { runCliCaptured } from "./cli-harness";

const cli = (...argv: string[]) => runCliCaptured(argv);
const commands = ["info", "generate", "analyze", "prune", "distill", "eval", "merge", "speculate", "train", "paper", "replay", "recipe"];

describe("prunelab conventions", () => {
  it.each(commands)("%s --help prints that command's usage alone on stdout, exit 0", async (name) => {
    for (const flag of ["--help", "-h"]) {
      const r = await cli(name, "--model", "x", flag);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(new RegExp(`^Usage:\\n  prunelab ${name} `));
      const others = commands.filter((c) => c !== name && !r.stdout.includes(`prunelab ${c} `));
      expect(others).toHaveLength(commands.length - 1);
    }
  });

  it("--help lists every command; --version prints package.json's version", async () => {
    const help = await cli("--help");
    for (const name of commands) expect(help.stdout).toContain(`prunelab ${name} `);
    const version = await cli("--version");
    const expected = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")).version;
    expect(version).toEqual({ code: 0, stdout: `prunelab ${expected}\n`, stderr: "" });
  });

  it("a usage error names the command's help and exits 2; a runtime error exits 1", async () => {
    const usage = await cli("prune", "--model", "m", "--start", "1");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--n is required \(see prunelab prune --help\)/);
    const runtime = await cli("info", "--model", "/nonexistent/model");
    expect(runtime.code).toBe(1);
    expect(runtime.stderr).not.toMatch(/--help/);
  });
});

describe("prunelab --json", () => {
  const dir = writeTinyChatFolder();
  afterAll(() => rmSync(dir, { recursive: true }));

  it("info --json prints one JSON object on stdout with the readable report left out", async () => {
    const text = await cli("info", "--model", dir);
    const r = await cli("info", "--model", dir, "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(text.stdout).toContain(`parameters: ${json.parameters.toLocaleString("en-US")}\n`);
    expect(json).toMatchObject({ format: "safetensors", tokenizer: true, dtypes: ["f32"], config: { numHiddenLayers: 2 } });
  });

  it("generate --json gives the same text as the plain run, with its speed; both report tokens/s on stderr", async () => {
    const args = ["generate", "--model", dir, "--prompt", "the cat", "--max-tokens", "5", "--chat"];
    const plain = await cli(...args);
    const r = await cli(...args, "--json");
    expect(plain.code).toBe(0);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(`${json.text}\n`).toBe(plain.stdout);
    expect(json.tokens.length).toBeGreaterThan(0);
    expect(json.promptTokens).toBe(json.timing.promptTokens);
    expect(json.timing.decodeTokens).toBe(json.stopReason === "length" ? 4 : json.tokens.length);
    expect(json.promptTokensPerSecond).toBeGreaterThan(0);
    for (const run of [plain, r])
      expect(run.stderr).toMatch(/prompt: \d+ tokens, [\d.]+ tokens\/s; decode: \d+ tokens, [\d.]+ tokens\/s\n/);
  });

  it("eval --json prints the results on stdout and the table on stderr; --json FILE still writes the file", async () => {
    const tasks = join(dir, "tasks.json");
    const suite = {
      name: "mini",
      tasks: [{ name: "pick", kind: "multiple-choice", items: [{ context: "the", choices: ["cat", "mat"], gold: 0 }] }],
    };
    writeFileSync(tasks, JSON.stringify(suite));
    const r = await cli("eval", "--model", dir, "--tasks", tasks, "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ suite: "mini", tasks: [{ name: "pick", n: 1 }] });
    expect(r.stderr).toMatch(/\| pick \| acc \|/);
    const file = join(dir, "results.json");
    const f = await cli("eval", "--model", dir, "--tasks", tasks, "--json", file, "--limit", "1");
    expect(f.stdout).toMatch(/\| pick \| acc \|/);
    expect(JSON.parse(readFileSync(file, "utf8")).average).toBe(json.average);
  });
});
