/**
 * `prunelab eval`: a model on an evaluation suite (the JSON task format of src/eval/task-format.ts),
 * printed as a per-task table; optionally the results JSON, and the quality recovery against the
 * results JSON of the original model.
 */
import { readFile } from "node:fs/promises";
import { checkComparable, qualityRecovery, taskTable } from "../eval/quality-recovery";
import { evaluateSuite, type SuiteResult } from "../eval/suite-runner";
import { parseEvalSuite } from "../eval/task-format";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { number, parseCommand, required } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./command-io";
import { downloadProgressLine } from "./download-progress";
import { reportChannel, writeJsonResult } from "./json-result";

export const evalUsage = `  prunelab eval --model PATH [--tokenizer PATH] --tasks FILE.json [--limit N] [--batch-size B]
                [--json [OUT.json]] [--original RESULTS.json]
      Scores the model on the suite in FILE.json ({"name", "tasks": [...]}: multiple-choice tasks
      by log-likelihood, acc and acc_norm; generative tasks by exact match of the extracted answer
      after greedy decoding), at most N items per task. Prints the per-task table and the average;
      OUT.json gets the results (a bare --json prints them on stdout, the table then on stderr);
      with the original model's RESULTS.json, the quality recovery %.`;

export async function evalCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    tasks: { type: "string" },
    limit: { type: "string" },
    "batch-size": { type: "string" },
    json: { type: "string" },
    original: { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const tasksPath = required(values.tasks, "tasks");
  const limit = values.limit === undefined ? undefined : number("limit", values.limit, { integer: true, min: 1 });
  const batchSize = values["batch-size"] === undefined ? undefined : number("batch-size", values["batch-size"], { integer: true, min: 1 });
  const suite = parseEvalSuite(await readJson(tasksPath), tasksPath);
  const original = values.original === undefined ? undefined : await readResults(values.original);
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer, onDownload: downloadProgressLine(io) });
  const tokenizer = tokenizerOf(loaded);
  const gpu = await cliGpu();
  let result: SuiteResult;
  try {
    const model = uploadLlama(gpu, loaded.weights);
    result = await evaluateSuite(gpu, model, tokenizer, suite, {
      limit,
      batchSize,
      onProgress: (p) => io.stderr(`\revaluating ${p.task}: ${p.done}/${p.total} items`),
    });
    io.stderr("\n");
    releaseLlama(gpu, model);
  } finally {
    gpu.destroy();
  }
  const report = reportChannel(io, values.json);
  report(taskTable(result));
  let recovery: number | undefined;
  if (original) {
    checkComparable(result, original, modelPath);
    recovery = qualityRecovery(result.average, original.average);
    report(`quality recovery: ${recovery.toFixed(1)} % (original average ${(original.average * 100).toFixed(1)} %)\n`);
  }
  if (values.json) {
    await writeJsonResult(io, values.json, {
      model: modelPath,
      ...result,
      ...(recovery === undefined ? {} : { recoveryPercent: recovery }),
    });
  }
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8").catch((e: Error) => {
    throw new Error(`cannot read ${path}: ${e.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

async function readResults(path: string): Promise<SuiteResult> {
  const json = (await readJson(path)) as Partial<SuiteResult>;
  if (typeof json?.average !== "number" || !Array.isArray(json.tasks)) {
    throw new Error(`${path} is not a results JSON of prunelab eval (no "average" and "tasks")`);
  }
  return json as SuiteResult;
}
