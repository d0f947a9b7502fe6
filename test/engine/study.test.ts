import { describe, expect, it } from "vitest";
import { buildBenchmarkSuite } from "../../src/data/benchmark-suite";
import { demoCalibrationRecords } from "../../src/data/demo-calibration";
import { generalInstructionDataset, mathInstructionDataset } from "../../src/data/finetune-datasets";
import { buildWorld } from "../../src/data/world";
import type { AlpacaRecord } from "../../src/distill/alpaca-jsonl";
import { runStudy, type StudyData, type StudySettings, studyDefaults } from "../../src/engine/study";
import { studyCurvesCsv, studyRows, studyTable } from "../../src/engine/study-report";
import { randomLlama } from "../../src/model/random-llama";
import { encodeCalibration } from "../../src/prune/calibration";
import { tinyChatTokenizer } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";

const tokenizer = tinyChatTokenizer;
const weights = randomLlama(
  {
    hiddenSize: 32,
    intermediateSize: 45,
    numHiddenLayers: 4,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    vocabSize: tokenizer.vocabSize,
    eosTokenId: [2],
  },
  3,
);
const world = buildWorld(1);
// A slice of the demo world small enough for a random byte-level model: short responses, short generations.
const slice = (records: AlpacaRecord[]) => records.map((r) => ({ ...r, output: r.output.slice(0, 40) }));
const suite = buildBenchmarkSuite(world, { items: 4, fewShot: 1 });
const data: StudyData = {
  calibration: encodeCalibration(tokenizer, demoCalibrationRecords(3), { seqLen: 24 }),
  general: slice(generalInstructionDataset(world, { size: 2 })),
  math: slice(mathInstructionDataset(world, { size: 2 })),
  // One multiple-choice and one generative task: every kind of column, at a fraction of the suite's time.
  suite: {
    ...suite,
    tasks: suite.tasks
      .filter((t) => t.name === "old-tales" || t.name === "word-problems")
      .map((t) => (t.kind === "generative" ? { ...t, maxTokens: 6 } : t)),
  },
  speculationPrompts: [tokenizer.encode("Hello", { bos: false })],
};
const settings: StudySettings = {
  ...studyDefaults,
  blocks: [1, 2],
  seeds: [1, 2],
  train: { ...studyDefaults.train, steps: 2, batchSize: 2, maxLength: 160 },
  distill: { ...studyDefaults.distill, maxTokens: 6, batchSize: 4 },
  evalLimit: 1,
  speculation: { k: 2, maxTokens: 3 },
};

describe("runStudy", () => {
  it("fills every row and column for each block size, is deterministic per seed, and resumes from its store", async () => {
    const gpu = await testGpu();
    const saved = new Map<string, string>();
    const store = {
      load: async (key: string) => (saved.has(key) ? JSON.parse(saved.get(key) as string) : undefined),
      save: async (key: string, value: unknown) => void saved.set(key, JSON.stringify(value)),
    };
    const phases = new Set<string>();
    const result = await runStudy(
      gpu,
      { model: { weights, tokenizer }, data, settings },
      { store, onProgress: (p) => phases.add(p.phase) },
    );

    expect(result.pruned.map((p) => p.n)).toEqual([1, 2]);
    for (const p of result.pruned) expect(p.distance).toBe(Math.min(...result.angular[p.n - 1]));
    expect(result.units.map((u) => [u.n, u.seed])).toEqual([
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ]);
    const rows = studyRows(result);
    expect(rows.map((r) => r.label)).toEqual([
      "original",
      "pruned",
      "pruned+SFT",
      "pruned+SDD",
      "merged",
      "original",
      "pruned",
      "pruned+SFT",
      "pruned+SDD",
      "merged",
    ]);
    for (const r of rows) {
      expect(r.tasks).toHaveLength(2);
      expect(r.label === "original" ? r.acceptance : r.acceptance?.mean).toEqual(r.label === "original" ? undefined : expect.any(Number));
    }
    expect(rows[0].recovery.mean).toBeCloseTo(100, 10);
    expect(rows.find((r) => r.label === "pruned+SDD")?.average.n).toBe(2);
    for (const u of result.units) {
      expect(u.sft.history.map((s) => s.step)).toEqual([1, 2]);
      expect(u.sdd.history).toHaveLength(2);
    }
    const table = studyTable(result);
    expect(table.split("\n")).toHaveLength(2 + 10 + 1);
    expect(table).toMatch(/\| 2 \(\d…\d\) \| merged \| .* ± .*\|/);
    expect(studyCurvesCsv(result).trim().split("\n")).toHaveLength(1 + 4 * 2 * 2);

    // Seed 2 run alone gives what it gave beside seed 1: units depend on their seed only.
    const alone = await runStudy(gpu, { model: { weights, tokenizer }, data, settings: { ...settings, blocks: [2], seeds: [2] } });
    const twin = result.units.find((u) => u.n === 2 && u.seed === 2);
    const strip = (u: typeof twin) =>
      JSON.stringify(u, (k, v) => (k === "seconds" || k === "elapsedMs" || k === "speedup" ? undefined : v));
    expect(strip(alone.units[0])).toBe(strip(twin));
    // Different seeds train differently.
    expect(result.units[0].sdd.history[1].loss).not.toBe(result.units[1].sdd.history[1].loss);

    // Everything is in the store: a second run computes nothing and returns the same numbers.
    phases.clear();
    const again = await runStudy(gpu, { model: { weights, tokenizer }, data, settings }, { store, onProgress: (p) => phases.add(p.phase) });
    expect(phases.size).toBe(0);
    expect(studyTable(again)).toBe(table);
  }, 600_000);
});
