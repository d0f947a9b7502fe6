/**
 * `prunelab paper`: the whole study on the demo world, headless (src/engine/study.ts), written as
 * results.json (every number, the settings, versions and timings), results.md (the paper's table
 * in miniature) and curves.csv (training loss per step). Each finished piece is kept as
 * DIR/units/KEY.json, so a run started again with the same arguments skips what is done.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { demoCalibrationRecords } from "../data/demo-calibration";
import { generalInstructionDataset, mathInstructionDataset } from "../data/finetune-datasets";
import { buildWorld, demoWorldSeed } from "../data/world";
import { instructionMessage } from "../distill/alpaca-jsonl";
import { runStudy, type StudyData, type StudySettings, type StudyStore, studyDefaults } from "../engine/study";
import { studyCurvesCsv, studyTable } from "../engine/study-report";
import { resultsJson } from "../export/results-files";
import { loadModelFromPath } from "../model/load-model-path";
import { encodeCalibration } from "../prune/calibration";
import { number, parseCommand, required, UsageError } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./command-io";
import { downloadProgressLine } from "./download-progress";

const defaultTrainExamples = 160;

export const paperUsage = `  prunelab paper --seeds S --blocks 1,2,3,4 --out DIR [--model PATH] [--tokenizer PATH] [--limit N]
                 [--train-examples N] [--steps N] [--lr LR] [--calib-samples N] [--spec-prompts N]
                 [--spec-tokens N] [--distill-max-tokens N] [--warmup N] [--weight-decay W] [--max-grad-norm C]
      The paper's experiment on the demo world: for each block size n, drop the n blocks with the
      smallest angular distance, fine-tune with LoRA on the original data (SFT) and on the data the
      unpruned model rewrote (SDD), SLERP-merge the two (t = 0.5), evaluate every model (N items per
      task, default ${studyDefaults.evalLimit}) and each pruned one as a speculative-decoding draft; seeds 1 … S.
      Defaults: --model public/models/demo, ${defaultTrainExamples} training examples (half general, half math),
      ${studyDefaults.train.steps} steps of batch ${studyDefaults.train.batchSize} at lr ${studyDefaults.train.lr} after ${studyDefaults.train.warmupSteps} warmup steps, weight decay ${studyDefaults.train.weightDecay},
      gradients clipped to ${studyDefaults.train.maxGradNorm}, r ${studyDefaults.lora.rank} on q and v. Writes DIR/results.json,
      results.md, curves.csv; resumes from DIR/units/.`;

const defaultCalibrationSamples = 32;
const defaultSpeculationPrompts = 2;

export async function paperCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    seeds: { type: "string" },
    blocks: { type: "string" },
    out: { type: "string" },
    model: { type: "string" },
    tokenizer: { type: "string" },
    limit: { type: "string" },
    "train-examples": { type: "string" },
    steps: { type: "string" },
    lr: { type: "string" },
    "calib-samples": { type: "string" },
    "spec-prompts": { type: "string" },
    "distill-max-tokens": { type: "string" },
    "spec-tokens": { type: "string" },
    warmup: { type: "string" },
    "weight-decay": { type: "string" },
    "max-grad-norm": { type: "string" },
  });
  const optional = (name: keyof typeof values, fallback: number, range = { integer: true, min: 1 }) => {
    const text = values[name];
    return typeof text === "string" ? number(name, text, range) : fallback;
  };
  const seedCount = number("seeds", required(values.seeds, "seeds"), { integer: true, min: 1 });
  const blocks = parseBlocks(required(values.blocks, "blocks"));
  const out = required(values.out, "out");
  const modelPath = values.model ?? "public/models/demo";
  const trainExamples = optional("train-examples", defaultTrainExamples, { integer: true, min: 2 });
  const settings: StudySettings = {
    ...studyDefaults,
    blocks,
    seeds: Array.from({ length: seedCount }, (_, i) => i + 1),
    evalLimit: optional("limit", studyDefaults.evalLimit ?? 50),
    train: {
      ...studyDefaults.train,
      steps: optional("steps", studyDefaults.train.steps),
      lr: optional("lr", studyDefaults.train.lr, { integer: false, min: 0 }),
      warmupSteps: optional("warmup", studyDefaults.train.warmupSteps, { integer: true, min: 0 }),
      weightDecay: optional("weight-decay", studyDefaults.train.weightDecay, { integer: false, min: 0 }),
      maxGradNorm: optional("max-grad-norm", studyDefaults.train.maxGradNorm, { integer: false, min: 0 }),
    },
    distill: { ...studyDefaults.distill, maxTokens: optional("distill-max-tokens", studyDefaults.distill.maxTokens) },
    speculation: { ...studyDefaults.speculation, maxTokens: optional("spec-tokens", studyDefaults.speculation.maxTokens) },
  };
  const calibrationSamples = optional("calib-samples", defaultCalibrationSamples);
  const speculationPrompts = optional("spec-prompts", defaultSpeculationPrompts);

  const started = performance.now();
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer, onDownload: downloadProgressLine(io) });
  const tokenizer = tokenizerOf(loaded);
  const { config } = loaded.weights;
  const tooMany = blocks.find((n) => n >= config.numHiddenLayers);
  if (tooMany !== undefined) throw new UsageError(`--blocks ${tooMany} leaves no block of the model's ${config.numHiddenLayers}`);
  const world = buildWorld(demoWorldSeed);
  const promptIds = (r: { instruction: string; input: string }) =>
    tokenizer.chatTemplate === undefined
      ? tokenizer.encode(r.instruction, { bos: tokenizer.bosTokenId !== undefined })
      : tokenizer.encodeChat([{ role: "user", content: instructionMessage(r.instruction, r.input) }], { addGenerationPrompt: true });
  const data: StudyData = {
    calibration: encodeCalibration(tokenizer, demoCalibrationRecords(calibrationSamples), {
      seqLen: Math.min(128, config.maxPositionEmbeddings),
    }),
    general: generalInstructionDataset(world, { size: Math.ceil(trainExamples / 2) }),
    math: mathInstructionDataset(world, { size: Math.floor(trainExamples / 2) }),
    suite: buildBenchmarkSuite(world, { items: settings.evalLimit }),
    // Another seed than the training data's, so the drafts are measured on instructions they were not tuned on.
    speculationPrompts: generalInstructionDataset(world, { size: speculationPrompts, seed: 99 }).map(promptIds),
  };
  settings.train = { ...settings.train, maxLength: Math.min(settings.train.maxLength, config.maxPositionEmbeddings) };

  await mkdir(join(out, "units"), { recursive: true });
  const store = folderStore(join(out, "units"));
  // Pieces of a run with other settings must not be mixed into this one: an error, not a silent restart.
  const identity = {
    model: modelPath,
    trainExamples,
    calibrationSamples,
    speculationPrompts,
    settings: { ...settings, seeds: undefined, blocks: undefined },
  };
  const earlier = await store.load("settings");
  if (earlier === undefined) await store.save("settings", identity);
  else if (JSON.stringify(earlier) !== JSON.stringify(identity)) {
    throw new Error(`${join(out, "units")} holds a run with other settings (${JSON.stringify(earlier)}); delete it to start over`);
  }
  const gpu = await cliGpu();
  let lastPhase = "";
  try {
    const result = await runStudy(
      gpu,
      { model: { weights: loaded.weights, tokenizer }, data, settings },
      {
        store,
        onProgress: (p) => {
          const phase = p.phase.replace(/ \(.*\)$/, "");
          if (phase !== lastPhase) io.stderr(`${lastPhase ? "\n" : ""}[${elapsed(started)}] ${phase}`);
          lastPhase = phase;
          if (p.total > 0) io.stderr(`\r[${elapsed(started)}] ${p.phase}: ${p.done}/${p.total}`);
        },
      },
    );
    io.stderr("\n");
    const seconds = (performance.now() - started) / 1000;
    const table = studyTable(result);
    const results = {
      format: "prunelab.paper-results",
      version: 1,
      model: modelPath,
      command: ["prunelab", "paper", ...argv].join(" "),
      data: { world: demoWorldSeed, trainExamples, calibrationSamples: data.calibration.length, speculationPrompts },
      versions: {
        prunelab: await packageVersion(),
        node: process.version,
        gpu: gpu.info.description || gpu.info.device || gpu.info.vendor,
      },
      seconds,
      ...result,
    };
    await writeFile(join(out, "results.json"), resultsJson(results));
    await writeFile(
      join(out, "results.md"),
      `# Prunelab paper run\n\n\`${results.command}\` on ${modelPath}, ${settings.seeds.length} seed(s), ` +
        `${settings.evalLimit} items per task, ${seconds.toFixed(0)} s.\n\n${table}`,
    );
    await writeFile(join(out, "curves.csv"), studyCurvesCsv(result));
    io.stdout(table);
    io.stdout(`wrote ${join(out, "results.json")}, results.md and curves.csv in ${seconds.toFixed(0)} s\n`);
  } finally {
    gpu.destroy();
  }
}

function parseBlocks(text: string): number[] {
  const sizes = text.split(",").map((part) => number("blocks", part.trim(), { integer: true, min: 1 }));
  if (new Set(sizes).size !== sizes.length) throw new UsageError(`--blocks lists a size twice: '${text}'`);
  return sizes;
}

function elapsed(started: number): string {
  const s = Math.round((performance.now() - started) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** One JSON file per key; a file that does not parse (cut short by a kill) is a piece to redo. */
function folderStore(dir: string): StudyStore {
  return {
    load: async (key) => {
      const text = await readFile(join(dir, `${key}.json`), "utf8").catch(() => undefined);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    },
    save: (key, value) => writeFile(join(dir, `${key}.json`), JSON.stringify(value)),
  };
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8").catch(() => "{}");
  return (JSON.parse(text) as { version?: string }).version ?? "unknown";
}
