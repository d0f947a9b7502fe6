/**
 * `prunelab replay`: a run manifest (the UI's "Download manifest") replayed headless through the
 * engine the workbench's worker serves, every request built from the experiment by the same
 * functions the UI's steps use (src/experiment/experiment-plan.ts): analysis → prune → distil →
 * SFT and SDD → evaluation of original, pruned, both fine-tunes and their SLERP merge. Writes
 * DIR/results.json (every number and the manifest replayed) and prints the table.
 */
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { qualityRecovery } from "../eval/quality-recovery";
import type { Experiment } from "../experiment/experiment";
import {
  analyzeRequest,
  chooseBlock,
  distillRequest,
  effectiveTrainSettings,
  evaluateRequest,
  type PlanInputs,
  studyDatasets,
  studyEvalModels,
  trainRuns,
} from "../experiment/experiment-plan";
import { parseManifest } from "../experiment/manifest";
import { nodeGpu } from "../gpu/node-gpu";
import { downloadModel } from "../model/hub";
import { createNodeHubCache, hfHubCacheDir } from "../model/hub-cache-node";
import { hubEnvironment } from "../model/hub-model-source";
import { createEngine } from "../worker/engine";
import type { PickedFile, Progress } from "../worker/protocol";
import type { Job } from "../worker/rpc";
import type { TrainedAdapter, TrainRun } from "../worker/train-jobs";
import { number, parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./run-cli";

export const replayUsage = `  prunelab replay --manifest FILE --out DIR [--model PATH] [--tokenizer PATH] [--count N]
                  [--calib FILE] [--data FILE] [--hub-cache DIR]
      Replays a run manifest (the workbench's "Download manifest") as the workbench runs it: analysis,
      prune (the manifest's block; with prune.count 0, the --count blocks its metric finds most
      redundant), distillation, SFT and SDD, evaluation and the SLERP merge at merge.t. The model:
      demo → --model or public/models/demo; hub → downloaded (cache --hub-cache, default
      the Hugging Face cache: HF_HUB_CACHE, else HF_HOME/hub); local → --model PATH. --calib / --data give the calibration text or
      Alpaca JSONL a manifest names but cannot hold. Writes DIR/results.json.`;

export async function replayCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    manifest: { type: "string" },
    out: { type: "string" },
    model: { type: "string" },
    tokenizer: { type: "string" },
    count: { type: "string" },
    calib: { type: "string" },
    data: { type: "string" },
    "hub-cache": { type: "string" },
  });
  const manifestPath = required(values.manifest, "manifest");
  const out = required(values.out, "out");
  const { manifest, warnings } = parseManifest(await readFile(manifestPath, "utf8"), manifestPath);
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  const { experiment } = manifest;
  const size = values.count === undefined ? 0 : number("count", values.count, { integer: true, min: 1 });
  if (experiment.prune.count === 0 && size === 0) throw new UsageError("the manifest chose no block (prune.count 0): pass --count N");
  const inputs: PlanInputs = {};
  if (values.calib) {
    const text = await readFile(values.calib, "utf8");
    const name = basename(values.calib);
    inputs.calibration = name.endsWith(".jsonl") ? { kind: "jsonl", name, text } : { kind: "text", text };
  }
  if (values.data) inputs.finetune = { name: basename(values.data), text: await readFile(values.data, "utf8") };
  // Built before the model loads, so that data the manifest names but nobody gave is said at once.
  const analysis = analyzeRequest(experiment, inputs);
  const distillation = distillRequest(experiment, inputs);

  const started = performance.now();
  const engine = createEngine(() => nodeGpu());
  const job = <P>(report: (p: P) => void = () => {}): Job<P> => ({ signal: new AbortController().signal, progress: report });
  let lastPhase = "";
  const show = (p: Progress) => {
    if (p.phase !== lastPhase) io.stderr(`${lastPhase ? "\n" : ""}${p.phase}`);
    lastPhase = p.phase;
    if (p.total > 0) io.stderr(`\r${p.phase}: ${p.done}/${p.total}`);
  };

  const card = await engine.loadModel({ kind: "files", files: await modelFiles(experiment.model, values) }, job(show));
  const analyzed = (await engine.analyze(analysis, job(show))).analysis;
  const block = chooseBlock(experiment, analyzed, size);
  const pruned = await engine.prune(block, job(show));
  const distilled = await engine.distill(distillation, job(show));
  const datasets = studyDatasets(distilled.examples);
  const adapters: Partial<Record<TrainRun, TrainedAdapter>> = {};
  // Without checkpoints or quick evaluations: neither changes what is trained.
  const settings = effectiveTrainSettings({ checkpointEvery: 0, evalEvery: 0, evalItems: 1 }, experiment);
  for (const run of trainRuns) adapters[run] = await engine.train({ ...settings, run, records: datasets[run] }, job(show));
  const evaluation = await engine.evaluate(evaluateRequest(experiment, studyEvalModels(experiment, adapters, true)), job(show));
  io.stderr("\n");

  const original = evaluation.find((r) => r.label === "original")?.result.average ?? 0;
  const table = evaluation.map((r) => ({
    model: r.label,
    average: r.result.average,
    recovery: original > 0 ? qualityRecovery(r.result.average, original) : null,
  }));
  const results = {
    format: "prunelab.replay-results",
    version: 1,
    model: card.name,
    block,
    perplexity: pruned.perplexity ?? null,
    analysis: analyzed,
    distillation: { kept: distilled.kept, replaced: distilled.replaced, examples: distilled.examples },
    // Wall times are left out: they are the only numbers a replay does not reproduce.
    training: trainRuns.map((run) => ({ run, history: adapters[run]?.history.map(({ elapsedMs: _, ...step }) => step) ?? [] })),
    evaluation,
    table,
    manifest,
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const width = Math.max(...table.map((r) => r.model.length));
  io.stdout(
    [
      `${"model".padEnd(width)}  average %  recovery %`,
      ...table.map((r) => `${r.model.padEnd(width)}  ${(100 * r.average).toFixed(1).padStart(9)}  ${r.recovery?.toFixed(1) ?? "—"}`),
      `blocks ${block.start}–${block.start + block.count - 1} dropped; wrote ${join(out, "results.json")} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      "",
    ].join("\n"),
  );
}

/** The model the manifest names, as the files a folder pick would give the engine. */
async function modelFiles(
  model: Experiment["model"],
  values: { model?: string; tokenizer?: string; "hub-cache"?: string },
): Promise<PickedFile[]> {
  if (model.source === "hub" && values.model === undefined) {
    const downloaded = await downloadModel(model.repo, {
      cache: createNodeHubCache(values["hub-cache"] ?? hfHubCacheDir()),
      revision: model.revision,
      endpoint: model.endpoint,
      offline: hubEnvironment().offline,
    });
    return [...downloaded.files].map(([name, blob]) => ({ path: `${model.repo}/${name}`, file: new File([blob], name) }));
  }
  if (model.source === "local" && values.model === undefined) {
    throw new UsageError(`the manifest's model is the local "${model.localName}": pass --model PATH`);
  }
  const path = values.model ?? "public/models/demo";
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`--model ${path}: no such file or folder`);
  const paths = info.isDirectory() ? (await readdir(path)).map((name) => join(path, name)) : [path];
  if (values.tokenizer) paths.push(values.tokenizer);
  const files: PickedFile[] = [];
  for (const p of paths) {
    if (!(await stat(p)).isFile()) continue;
    const name = basename(p);
    files.push({ path: info.isDirectory() ? `${basename(path)}/${name}` : name, file: new File([await readFile(p)], name) });
  }
  return files;
}
