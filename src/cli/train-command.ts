/**
 * `prunelab train`: LoRA fine-tuning on an Alpaca JSONL dataset through the model's chat template,
 * loss on the response tokens only; writes the PEFT adapter, the loss curve as CSV and checkpoints,
 * and with --eval-every the quick-evaluation curve.
 * With --resume a run continues from DIR/checkpoint.safetensors and ends exactly as an
 * uninterrupted run of the same arguments would.
 */
import { join } from "node:path";
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import { parseAlpacaJsonl } from "../distill/alpaca-jsonl";
import { evalCurvesCsv, type QuickEvalPoint } from "../eval/eval-curve";
import { quickEvaluation } from "../eval/quick-eval";
import { peftAdapterFiles } from "../export/peft-adapter";
import { ensureWritableDir, readFileNamed, writeFileAtomic } from "../file-io-node";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { instructionTrainExamples } from "../study/instruction-train-examples";
import { checkpointFile, loadCheckpoint, saveCheckpoint } from "../train/checkpoint-dir-node";
import { type LoraModule, loraDefaults, loraModules, releaseLlamaLora } from "../train/llama-lora";
import { type TrainCheckpoint, type TrainConfig, type TrainStepReport, trainDefaults, trainModel } from "../train/train-loop";
import { number, parseCommand, required, UsageError } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./run-cli";

export const trainUsage = `  prunelab train --model PATH [--tokenizer PATH] --data IN.jsonl --out DIR [--rank R] [--alpha A]
                 [--dropout P] [--modules q,v] [--lr LR] [--steps N | --epochs E] [--batch-size B]
                 [--grad-accum G] [--max-length L] [--seed S] [--checkpoint-every K] [--resume]
                 [--eval-every K] [--eval-items N]
      LoRA fine-tuning on IN.jsonl ({"instruction", "input", "output"} per line) rendered through the
      chat template, loss on the responses only. Defaults are SDFT's: r 8, alpha 16, dropout 0.05, q and
      v, lr 1e-4 (cosine to 0), batch 8, 1 epoch; a tiny model such as the demo one needs a larger lr
      (1e-3 … 3e-3). Writes DIR/adapter_config.json + adapter_model.safetensors (PEFT), DIR/loss.csv and
      DIR/checkpoint.safetensors (every K steps, the one before kept as checkpoint.prev.safetensors, both
      checksummed); --resume continues from the last one, or from the previous one when the last is
      damaged. An update that breaks the weights (NaN/Inf, or a norm growing over 4×) is undone and the
      lr halved (at most 4 times); a run that still diverges stops with exit status 1 and saves no
      adapter. DIR is checked to be writable before training starts. With
      --eval-every K, the adapter is folded in and scored on the first N (default 8) items of each
      task of the demo world's suite every K steps and at the last: each point is printed and all
      go to DIR/eval.csv.`;

export async function trainCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    rank: { type: "string" },
    alpha: { type: "string" },
    dropout: { type: "string" },
    modules: { type: "string" },
    lr: { type: "string" },
    steps: { type: "string" },
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    "grad-accum": { type: "string" },
    "max-length": { type: "string" },
    seed: { type: "string" },
    "checkpoint-every": { type: "string" },
    resume: { type: "boolean" },
    "eval-every": { type: "string" },
    "eval-items": { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const dataPath = required(values.data, "data");
  const out = required(values.out, "out");
  const optional = (name: keyof typeof values, fallback: number, range: Parameters<typeof number>[2]) => {
    const text = values[name];
    return typeof text === "string" ? number(name, text, range) : fallback;
  };
  if (values.steps !== undefined && values.epochs !== undefined) throw new UsageError("--steps and --epochs exclude each other");
  const lora = {
    rank: optional("rank", loraDefaults.rank, { integer: true, min: 1 }),
    alpha: optional("alpha", loraDefaults.alpha, { min: Number.MIN_VALUE }),
    dropout: optional("dropout", loraDefaults.dropout, { min: 0, max: 0.999 }),
    modules: values.modules === undefined ? loraDefaults.modules : parseModules(values.modules),
  };
  const quick = {
    every: optional("eval-every", 0, { integer: true, min: 0 }),
    items: optional("eval-items", 8, { integer: true, min: 1 }),
  };
  const batchSize = optional("batch-size", trainDefaults.batchSize, { integer: true, min: 1 });
  const gradientAccumulation = optional("grad-accum", trainDefaults.gradientAccumulation, { integer: true, min: 1 });
  // Before any work: a run that cannot save its results must not train first.
  await ensureWritableDir(out);
  const records = parseAlpacaJsonl(await readFileNamed(dataPath), dataPath);
  const steps =
    values.steps !== undefined
      ? number("steps", values.steps, { integer: true, min: 1 })
      : Math.max(1, Math.ceil((optional("epochs", 1, { min: Number.MIN_VALUE }) * records.length) / (batchSize * gradientAccumulation)));
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer });
  const tokenizer = tokenizerOf(loaded);
  const config: TrainConfig = {
    ...trainDefaults,
    mode: "lora",
    lora,
    steps,
    batchSize,
    gradientAccumulation,
    maxLength: Math.min(
      optional("max-length", trainDefaults.maxLength, { integer: true, min: 2 }),
      loaded.weights.config.maxPositionEmbeddings,
    ),
    lr: optional("lr", trainDefaults.lr, { min: 0 }),
    seed: optional("seed", trainDefaults.seed, { integer: true, min: 0 }),
    checkpointEvery: optional("checkpoint-every", 0, { integer: true, min: 0 }),
    padId: tokenizer.padTokenId ?? 0,
  };
  const examples = instructionTrainExamples(tokenizer, records);
  let resume: TrainCheckpoint | undefined;
  if (values.resume) {
    const found = await loadCheckpoint(out, io.stderr);
    resume = found?.checkpoint;
    if (found) io.stderr(`resuming from ${found.file} at step ${found.checkpoint.step} of ${steps}\n`);
    else io.stderr(`no ${join(out, checkpointFile)} yet: starting from step 0\n`);
  }
  const gpu = await cliGpu();
  try {
    const model = uploadLlama(gpu, loaded.weights, { weightDtype: "f32" });
    const points: QuickEvalPoint[] = [];
    const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed));
    const evaluate = quickEvaluation(
      gpu,
      loaded.weights,
      lora,
      tokenizer,
      suite,
      quick,
      (p) => {
        points.push(p);
        const tasks = p.tasks.map((t) => `${t.name} ${(100 * t.score).toFixed(1)} %`).join(", ");
        io.stderr("\n");
        io.stdout(`quick evaluation at step ${p.step}: average ${(100 * p.average).toFixed(1)} % (${tasks})\n`);
      },
      { upload: { weightDtype: "f32" } },
    );
    const run = await trainModel(gpu, model, examples, config, {
      resume,
      onStep: (s) => io.stderr(`\rstep ${s.step}/${steps}: loss ${s.loss.toFixed(4)}${s.skipped ? ` (skipped: ${s.skipped})` : ""}`),
      onRollback: (r) =>
        io.stderr(
          `\nstep ${r.step}: update undone (${r.reason} at lr ${r.lr.toExponential(2)}); lr halved to ${r.retryLr.toExponential(2)}, retrying\n`,
        ),
      onCheckpoint: (c) => saveCheckpoint(out, c),
      evaluate,
    });
    io.stderr("\n");
    if (run.lora) releaseLlamaLora(gpu, run.lora);
    releaseLlama(gpu, model);
    if (config.checkpointEvery > 0) await saveCheckpoint(out, run.checkpoint);
    const files = peftAdapterFiles({
      config: lora,
      tensors: run.checkpoint.parameters,
      layers: loaded.weights.config.numHiddenLayers,
      baseModel: modelPath,
    });
    for (const [name, bytes] of files) await writeFileAtomic(join(out, name), bytes);
    await writeFileAtomic(join(out, "loss.csv"), lossCsv(run.history));
    if (points.length > 0) await writeFileAtomic(join(out, "eval.csv"), evalCurvesCsv([{ run: "train", points }]));
    const last = run.history.at(-1);
    io.stdout(
      `${steps} steps on ${examples.length} examples${last ? `, final loss ${last.loss.toFixed(4)}` : ""}: ` +
        `wrote the PEFT adapter and loss.csv to ${out}\n`,
    );
  } finally {
    gpu.destroy();
  }
}

function parseModules(text: string): LoraModule[] {
  const names = text.split(",").map((m) => m.trim().replace(/_proj$/, ""));
  const bad = names.filter((m) => !loraModules.includes(m as LoraModule));
  if (bad.length > 0 || names.length === 0) {
    throw new UsageError(`--modules must be a comma-separated subset of ${loraModules.join(",")}, got '${text}'`);
  }
  return names as LoraModule[];
}

function lossCsv(history: readonly TrainStepReport[]): string {
  const rows = history.map((s) => [s.step, s.loss, s.lr, s.gradNorm, s.countedTokens, s.tokens, s.skipped ?? ""].join(","));
  return `step,loss,lr,grad_norm,counted_tokens,tokens,skipped\n${rows.join("\n")}\n`;
}
