/**
 * `prunelab replay`: a run manifest (the UI's "Download manifest") replayed headless through the
 * engine the workbench's worker serves, by runExperiment (src/engine/experiment-run.ts), every
 * request built from the experiment by the functions the UI's steps use: analysis → prune → distil
 * → SFT and SDD → evaluation of original, pruned, both fine-tunes and their SLERP merge. Writes
 * DIR/results.json (every number and the manifest replayed) and DIR/adapters/{sft,sdd}/ (PEFT),
 * and prints the table. This command adds only argument parsing and files.
 */
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { createEngine } from "../engine/engine";
import type { Experiment } from "../engine/experiment";
import { type PlanInputs, trainRuns } from "../engine/experiment-plan";
import { runExperiment } from "../engine/experiment-run";
import { experimentWithChanges } from "../engine/experiment-url";
import type { Progress } from "../engine/job";
import { parseManifest } from "../engine/manifest";
import type { PickedFile } from "../engine/requests";
import { qualityRecovery } from "../eval/quality-recovery";
import { peftAdapterFiles } from "../export/peft-adapter";
import { resultsJson } from "../export/results-files";
import { nodeGpu } from "../gpu/node-gpu";
import { downloadModel } from "../model/hub";
import { createNodeHubCache, hfHubCacheDir } from "../model/hub-cache-node";
import { hubEnvironment } from "../model/hub-model-source";
import { number, parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./command-io";

export const replayUsage = `  prunelab replay --manifest FILE --out DIR [--model PATH] [--tokenizer PATH] [--count N]
                  [--calib FILE] [--data FILE] [--hub-cache DIR] [--set FIELD=VALUE ...]
      Replays a run manifest (the workbench's "Download manifest") as the workbench runs it: analysis,
      prune (the manifest's block; with prune.count 0, the --count blocks its metric finds most
      redundant), distillation, SFT and SDD, evaluation and the SLERP merge at merge.t. The model:
      demo → --model or public/models/demo; hub → downloaded (cache --hub-cache, default
      the Hugging Face cache: HF_HUB_CACHE, else HF_HOME/hub); local → --model PATH. --calib / --data give the calibration text or
      Alpaca JSONL a manifest names but cannot hold. --set changes one field of the manifest's
      experiment as a link would (e.g. --set lora.rank=16 --set lora.weightDecay=0.01); the
      manifest and --set are read strictly: an unknown field or a bad value is an error naming
      it. Writes DIR/results.json and the two adapters
      (PEFT) under DIR/adapters/sft and DIR/adapters/sdd.`;

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
    set: { type: "string", multiple: true },
  });
  const manifestPath = required(values.manifest, "manifest");
  const out = required(values.out, "out");
  // Strict: a replay computes exactly what the file says, so a bad or unknown field is an error naming it.
  const read = parseManifest(await readFile(manifestPath, "utf8"), manifestPath, { strict: true }).manifest;
  const changes = (values.set ?? []).map((change) => {
    const at = change.indexOf("=");
    if (at < 1) throw new UsageError(`--set takes FIELD=VALUE (e.g. lora.rank=16), got '${change}'`);
    return [change.slice(0, at), change.slice(at + 1)] as const;
  });
  const experiment = experimentWithChanges(read.experiment, changes, "--set");
  const manifest = { ...read, experiment };
  const n = values.count === undefined ? 0 : number("count", values.count, { integer: true, min: 1 });
  if (experiment.prune.count === 0 && n === 0) throw new UsageError("the manifest chose no block (prune.count 0): pass --count N");
  const inputs: PlanInputs = {};
  if (values.calib) {
    const text = await readFile(values.calib, "utf8");
    const name = basename(values.calib);
    inputs.calibration = name.endsWith(".jsonl") ? { kind: "jsonl", name, text } : { kind: "text", text };
  }
  if (values.data) inputs.finetune = { name: basename(values.data), text: await readFile(values.data, "utf8") };

  const started = performance.now();
  let lastPhase = "";
  const show = (p: Progress) => {
    if (p.phase !== lastPhase) io.stderr(`${lastPhase ? "\n" : ""}${p.phase}`);
    lastPhase = p.phase;
    if (p.total > 0) io.stderr(`\r${p.phase}: ${p.done}/${p.total}`);
  };
  // The engine the workbench's worker serves, in-process, through the same plan as the workbench's steps.
  const engine = createEngine(() => nodeGpu());
  const {
    card,
    analysis: analyzed,
    block,
    perplexity,
    distilled,
    adapters,
    evaluation,
  } = await runExperiment(engine, experiment, {
    model: { kind: "files", files: await modelFiles(experiment.model, values) },
    inputs,
    n,
    onProgress: show,
  });
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
    perplexity: perplexity ?? null,
    analysis: analyzed,
    distillation: { kept: distilled.kept, replaced: distilled.replaced, examples: distilled.examples },
    // Wall times are left out: they are the only numbers a replay does not reproduce.
    training: trainRuns.map((run) => ({ run, history: adapters[run]?.history.map(({ elapsedMs: _, ...step }) => step) ?? [] })),
    evaluation,
    table,
    manifest,
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "results.json"), resultsJson(results));
  // The adapters as PEFT folders, so a replay can be checked against the workbench bit for bit.
  for (const run of trainRuns) {
    const adapter = adapters[run];
    if (!adapter) continue;
    await mkdir(join(out, "adapters", run), { recursive: true });
    for (const [name, bytes] of peftAdapterFiles(adapter)) await writeFile(join(out, "adapters", run, name), bytes);
  }
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
