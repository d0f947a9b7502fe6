import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EvalSuite } from "../../src/eval/task-format";
import { runCliCaptured } from "../cli/cli-harness";
import { writeTinyChatFolder } from "./tiny-chat-llama";

const dir = writeTinyChatFolder();
afterAll(() => rmSync(dir, { recursive: true }));

const cli = (...argv: string[]) => runCliCaptured(argv);

const suite: EvalSuite = {
  name: "mini",
  tasks: [
    {
      name: "pick",
      kind: "multiple-choice",
      chance: 0.5,
      items: [
        // Identical choices tie and ties go to the first: one sure hit, so the average (a divisor) is > 0.
        { context: "the cat", choices: ["sat", "sat"], gold: 0 },
        { context: "hello", choices: ["world", "mat"], gold: 1 },
        { context: "on the", choices: ["mat", "cat"], gold: 0 },
      ],
    },
    { name: "sum", kind: "generative", extractor: { kind: "last-number" }, maxTokens: 3, items: [{ prompt: "1+1=", answer: "2" }] },
  ],
};

describe("prunelab eval", () => {
  it("prints the per-task table, writes the results JSON, and the recovery against an original's results", async () => {
    const tasks = join(dir, "tasks.json");
    writeFileSync(tasks, JSON.stringify(suite));
    const out = join(dir, "results.json");
    const first = await cli("eval", "--model", dir, "--tasks", tasks, "--limit", "2", "--json", out);
    expect(first.stderr).toMatch(/evaluating sum: 3\/3 items\n$/);
    expect(first.code).toBe(0);
    const results = JSON.parse(readFileSync(out, "utf8"));
    expect(results).toMatchObject({
      model: dir,
      suite: "mini",
      tasks: [
        { name: "pick", n: 2 },
        { name: "sum", n: 1 },
      ],
    });
    expect(first.stdout).toContain(`| average |  | ${(results.average * 100).toFixed(1)} |`);
    expect(first.stdout).toMatch(/\| pick \| acc \| .* \| 2 \| 50\.0 \|/);

    const again = await cli("eval", "--model", dir, "--tasks", tasks, "--limit", "2", "--original", out);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("quality recovery: 100.0 %");
    const other = await cli("eval", "--model", dir, "--tasks", tasks, "--original", out);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/evaluated on other tasks or item counts/);
  });

  it.each([
    [["eval", "--model", "m"], /--tasks is required/, 2],
    [["eval", "--model", "m", "--tasks", "t.json", "--limit", "0"], /--limit must be an integer ≥ 1, got '0'/, 2],
    [["eval", "--model", "m", "--tasks", "/nonexistent/t.json"], /cannot read \/nonexistent\/t\.json/, 1],
    [["eval", "--model", "m", "--tasks", "t.json", "--temperature", "1"], /Unknown option '--temperature'/, 2],
  ])("%j fails with one line (exit 2 for a usage error, 1 at run time)", async (argv, message, code) => {
    const r = await cli(...argv);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("names the task and item of a malformed task file", async () => {
    const tasks = join(dir, "bad-tasks.json");
    writeFileSync(tasks, JSON.stringify({ tasks: [{ ...suite.tasks[0], items: [{ context: "c", choices: ["a", "b"], gold: 5 }] }] }));
    const r = await cli("eval", "--model", dir, "--tasks", tasks);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-tasks\.json: task "pick", item 0: "gold" must be an index/);
  });
});
