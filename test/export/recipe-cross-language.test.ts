/**
 * The recipe's Python means what Prunelab's TypeScript means: sdft.py, run with python3, builds the
 * same SDFT prompts byte for byte and makes the same keep/replace decisions (with the same reason,
 * detail and fallback) on a fixture set of rewrites drawn from the demo world; recovery_table.py,
 * given Prunelab's own evaluation numbers as lm-eval would write them, reproduces Prunelab's
 * recovery figures. The comparison is over whatever the filter's rules are: the fixture feeds both
 * sides the same records and rules and compares every field of their verdicts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generalInstructionDataset, mathInstructionDataset } from "../../src/data/finetune-datasets";
import { buildWorld, demoWorldSeed } from "../../src/data/world";
import type { AlpacaRecord } from "../../src/distill/alpaca-jsonl";
import { distilledExample } from "../../src/distill/distill-dataset";
import { referenceMentions } from "../../src/distill/rewrite-filter";
import { type DistillKind, type DistillTokenizer, renderSdftPrompt, sdftTemplates } from "../../src/distill/sdft-template";
import { qualityRecovery } from "../../src/eval/quality-recovery";
import type { SuiteResult } from "../../src/eval/suite-runner";
import { mergekitSliceYaml } from "../../src/prune/mergekit-slice";
import { mulberry32 } from "../../src/seeded-random";
import type { SpeculationStats } from "../../src/spec/speculative-decoding";
import { demoRecipe, python, writeRecipe } from "./recipe-harness";

interface Case {
  index: number;
  record: AlpacaRecord;
  generated: string;
  kind: DistillKind;
}

/** Variations of a reference that exercise each rule: mentions, last numbers and their formats, empties, Unicode edges. */
function variants(record: AlpacaRecord, random: () => number): string[] {
  const out = record.output;
  const numbers = out.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? [];
  const last = numbers.at(-1);
  const mention = referenceMentions[Math.floor(random() * referenceMentions.length)];
  const shout = random() < 0.5 ? mention.toUpperCase() : mention.replace(/\b\w/g, (c) => c.toUpperCase());
  const replaceLast = (text: string, by: string) =>
    last === undefined ? `${text} ${by}` : text.slice(0, text.lastIndexOf(last)) + by + text.slice(text.lastIndexOf(last) + last.length);
  const value = last === undefined ? 7 : Number(last.replace(/,/g, ""));
  return [
    out,
    ` ${out}\n\n`,
    `As ${shout} says, ${out}`,
    `${out} (see ${mention} above)`,
    replaceLast(out, String(value + 1)),
    replaceLast(out, `${value}.0`),
    replaceLast(out, `$${value}`),
    `${out}\nSo the total is ${value.toLocaleString("en-US")}.`,
    `${out}\nSo the total is ${value * 1000}.`.replace(/(\d)(\d{3})\.$/, "$1,$2."),
    `${out} The answer is ${value}.00`,
    "",
    " \t\n",
    "\u00a0\u2028\ufeff",
    "\u001c",
    "I cannot say.",
    `Answer: ${String(value).replace(/\d/g, (d) => String.fromCharCode(0x660 + Number(d)))}`,
    `ΣΊΣΥΦΟΣ ${out}`,
    `${out}\n#### ${value}`,
  ];
}

function fixture(): Case[] {
  const world = buildWorld(demoWorldSeed);
  const random = mulberry32(19);
  const records: { record: AlpacaRecord; kinds: DistillKind[] }[] = [
    ...generalInstructionDataset(world, { size: 12, seed: 3 }).map((record) => ({ record, kinds: ["general"] as DistillKind[] })),
    ...mathInstructionDataset(world, { size: 12, seed: 4 }).map((record) => ({ record, kinds: ["math", "general"] as DistillKind[] })),
  ];
  // Inputs, braces that look like placeholders, and a GSM8k-style "####" reference.
  records.push(
    {
      record: { instruction: "Fill in {input} for {reference}", input: "Use {instruction} here", output: "Done: {reference} 12" },
      kinds: ["general", "math"],
    },
    { record: { instruction: "Add 3 and 4.", input: "Show the work.", output: "3 + 4 = 7\n#### 7" }, kinds: ["math"] },
    { record: { instruction: "Add 1,200 and 34.", input: "", output: "#### $1,234." }, kinds: ["math"] },
    { record: { instruction: "What is nothing?", input: "", output: "Nothing at all." }, kinds: ["math", "general"] },
  );
  const cases: Case[] = [];
  for (const { record, kinds } of records) {
    for (const generated of variants(record, random)) {
      for (const kind of kinds) cases.push({ index: cases.length, record, generated, kind });
    }
  }
  return cases;
}

const plainTokenizer = { chatTemplate: undefined } as unknown as DistillTokenizer;
/** A chat template both languages can apply without a template engine: what matters is what is put around it. */
const chatTokenizer = {
  chatTemplate: "stand-in",
  applyChatTemplate: (messages: { role: string; content: string }[]) => `<|bos|><|user|>${messages[0].content}<|end|><|assistant|>`,
} as unknown as DistillTokenizer;

const pythonDriver = `
import json, sys
from sdft import distilled_example, render_prompt
data = json.load(sys.stdin)
chat = lambda messages: "<|bos|><|user|>" + messages[0]["content"] + "<|end|><|assistant|>"
out = []
for c in data["cases"]:
    template = data["templates"][c["kind"]]
    rules = {"kind": c["kind"], "mentions": data["mentions"]}
    out.append({
        "example": distilled_example(c["index"], c["record"], c["generated"], template, rules),
        "plain": render_prompt(template, c["record"]),
        "chat": render_prompt(template, c["record"], chat),
    })
sys.stdout.write(json.dumps(out, ensure_ascii=True))
`;

describe("the recipe's Python against Prunelab's TypeScript", () => {
  let dir: string;
  beforeAll(() => {
    dir = writeRecipe(demoRecipe());
  });

  it("builds byte-identical SDFT prompts and makes the same keep/replace decisions on ≥ 200 rewrites", () => {
    const cases = fixture();
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const results = JSON.parse(
      python(dir, pythonDriver, JSON.stringify({ cases, templates: sdftTemplates, mentions: referenceMentions })),
    ) as { example: unknown; plain: string; chat: string }[];
    expect(results).toHaveLength(cases.length);
    const reasons = new Map<string, number>();
    cases.forEach((c, i) => {
      const template = sdftTemplates[c.kind];
      const expected = distilledExample(c.index, c.record, c.generated, template, { kind: c.kind, mentions: referenceMentions });
      expect(results[i].example, `case ${i}: ${JSON.stringify(c.generated)} (${c.kind})`).toEqual(expected);
      expect(results[i].plain).toBe(renderSdftPrompt(plainTokenizer, template, c.record));
      expect(results[i].chat).toBe(renderSdftPrompt(chatTokenizer, template, c.record));
      const key = expected.kept ? "kept" : (expected.reason as string);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    });
    // The fixture must reach every branch, or agreement on it would prove little.
    for (const outcome of ["kept", "empty", "mentions-reference", "answer-mismatch"]) {
      expect(reasons.get(outcome) ?? 0, `${outcome} cases`).toBeGreaterThanOrEqual(10);
    }
  });

  it("rewrites prune/slice.yaml after the analysis exactly as Prunelab writes it", () => {
    // analyze_layers.py needs torch to import; its slice_yaml is lifted out of the source and run alone.
    const blocks = [
      [12, 0, 1],
      [12, 8, 2],
      [12, 10, 2],
      [32, 22, 6],
      [16, 3, 13],
    ];
    const lifted = `
import ast, json, sys
tree = ast.parse(open("analyze_layers.py").read())
source = ast.Module(body=[n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "slice_yaml"], type_ignores=[])
scope = {"json": json}
exec(compile(source, "analyze_layers.py", "exec"), scope)
print(json.dumps([scope["slice_yaml"]("org/model-8B", *b) for b in json.load(sys.stdin)]))
`;
    const written = JSON.parse(python(dir, lifted, JSON.stringify(blocks))) as string[];
    blocks.forEach(([layers, start, count], i) => {
      expect(written[i]).toBe(mergekitSliceYaml("org/model-8B", layers, start, count));
    });
  });

  it("reports speculation in the JSON shape of prunelab speculate, with its definitions", () => {
    const lifted = `
import ast, json, sys
tree = ast.parse(open("speculate.py").read())
source = ast.Module(body=[n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "speculation_report"], type_ignores=[])
scope = {}
exec(compile(source, "speculate.py", "exec"), scope)
print(json.dumps([scope["speculation_report"](*c) for c in json.load(sys.stdin)]))
`;
    const counts = [
      ["a b c", 10, 40, 25, 1.5],
      ["", 0, 0, 0, 0.1],
      ["x", 3, 12, 12, 2],
    ] as const;
    const reports = JSON.parse(python(dir, lifted, JSON.stringify(counts))) as Record<string, unknown>[];
    counts.forEach(([text, rounds, drafted, accepted, seconds], i) => {
      // Typed as what `prunelab speculate --json` writes (src/cli/speculate-command.ts): the statistics and the text.
      const expected: SpeculationStats & { text: string } = {
        text,
        acceptanceRate: drafted > 0 ? accepted / drafted : 0,
        meanAcceptedLength: rounds > 0 ? (accepted + rounds) / rounds : 0,
        targetForwards: rounds,
        draftTokens: drafted,
        acceptedTokens: accepted,
        seconds,
      };
      expect(Object.keys(reports[i])).toEqual(Object.keys(expected));
      expect(reports[i]).toEqual(expected);
    });
  });

  it("reproduces Prunelab's recovery figures from its own evaluation numbers written as lm-eval output", () => {
    const paper = JSON.parse(readFileSync("docs/paper-run/results.json", "utf8")) as {
      original: SuiteResult;
      pruned: { n: number; start: number; eval: SuiteResult }[];
    };
    const models = [
      { label: "original", dir: "original", result: paper.original },
      ...paper.pruned.map((p) => ({ label: `pruned ${p.start}+${p.n}`, dir: `pruned-${p.start}-${p.n}`, result: p.eval })),
    ];
    expect(models.length).toBeGreaterThan(2);
    const tasks = paper.original.tasks.map((t) => ({ task: t.name, kind: t.kind, metric: t.metric, key: `${t.metric},none`, fewShot: 0 }));
    // lm-eval's layout: RESULTS/<model>/<task>/<model name>/results_<time>.json, with "metric,filter" keys.
    for (const m of models) {
      for (const t of m.result.tasks) {
        const folder = join(dir, "eval-results", m.dir, t.name, "model");
        mkdirSync(folder, { recursive: true });
        const metrics: Record<string, number | string> = {
          alias: t.name,
          [`${t.metric},none`]: t.score,
          [`${t.metric}_stderr,none`]: t.stderr,
        };
        metrics["acc,none"] = t.acc;
        if (t.accNorm !== undefined) metrics["acc_norm,none"] = t.accNorm;
        writeFileSync(
          join(folder, "results_2026-01-01T00-00-00.json"),
          JSON.stringify({ results: { [t.name]: metrics }, "n-samples": { [t.name]: { original: t.n, effective: t.n } } }),
        );
      }
    }
    const recipe = JSON.parse(readFileSync(join(dir, "recipe.json"), "utf8"));
    recipe.evaluate = { suite: paper.original.suite, tasks, models: models.map(({ label, dir }) => ({ label, dir })) };
    writeFileSync(join(dir, "recipe-paper.json"), JSON.stringify(recipe));
    python(
      dir,
      "import sys, recovery_table; sys.argv = ['recovery_table.py', '--config', 'recipe-paper.json', '--results', 'eval-results', '--out', 'paper-results.json']; recovery_table.main()",
    );
    const written = JSON.parse(readFileSync(join(dir, "paper-results.json"), "utf8")) as {
      evaluation: { label: string; result: SuiteResult }[];
      table: { model: string; average: number; recovery: number }[];
    };
    expect(written.table.map((r) => r.model)).toEqual(models.map((m) => m.label));
    models.forEach((m, i) => {
      // Exact: the same additions in the same order, the same division.
      expect(written.table[i].average).toBe(m.result.average);
      expect(written.table[i].recovery).toBe(qualityRecovery(m.result.average, paper.original.average));
      expect(written.evaluation[i].result).toEqual({ ...m.result, tasks: m.result.tasks.map(({ chance: _, items: __, ...t }) => t) });
    });
  });
});
