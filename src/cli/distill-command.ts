/**
 * `prunelab distill`: self-data distillation of an Alpaca JSONL dataset by the (unpruned) model,
 * written as Alpaca JSONL. Finished batches are appended to OUT.partial.jsonl as they complete, so
 * an interrupted run started again with the same arguments continues where it stopped and ends
 * with the same file as an uninterrupted run.
 */
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import { parseAlpacaJsonl, toAlpacaJsonl } from "../distill/alpaca-jsonl";
import { type DistilledExample, distillDataset, distilledRecords, sdftSampling } from "../distill/distill-dataset";
import type { DistillKind } from "../distill/sdft-template";
import { readFileNamed } from "../file-io-node";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { number, parseCommand, required, UsageError } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./run-cli";

export const distillUsage = `  prunelab distill --model PATH [--tokenizer PATH] --data IN.jsonl --out OUT.jsonl [--kind general|math]
                   [--temperature T] [--top-p P] [--seed S] [--max-tokens N] [--batch-size B]
      The model rewrites every response of IN.jsonl ({"instruction", "input", "output"} per line)
      in its own words with the SDFT prompt (sampling: temperature 0.95, top-p 0.7 by default);
      rewrites that mention the reference or (math) end on another number than the reference's
      answer are replaced by the original. Writes OUT.jsonl; resumes from OUT.partial.jsonl.`;

export async function distillCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    kind: { type: "string" },
    temperature: { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    "max-tokens": { type: "string" },
    "batch-size": { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const data = required(values.data, "data");
  const out = required(values.out, "out");
  const kind = values.kind ?? "general";
  if (kind !== "general" && kind !== "math") throw new UsageError(`--kind must be general or math, got '${kind}'`);
  const settings = {
    kind: kind as DistillKind,
    temperature: values.temperature === undefined ? sdftSampling.temperature : number("temperature", values.temperature, { min: 0 }),
    topP: values["top-p"] === undefined ? sdftSampling.topP : number("top-p", values["top-p"], { min: 0, max: 1 }),
    seed: values.seed === undefined ? 0 : number("seed", values.seed, { integer: true, min: 0 }),
    maxTokens: values["max-tokens"] === undefined ? 256 : number("max-tokens", values["max-tokens"], { integer: true, min: 1 }),
    batchSize: values["batch-size"] === undefined ? 4 : number("batch-size", values["batch-size"], { integer: true, min: 1 }),
  };
  const records = parseAlpacaJsonl(await readFileNamed(data), data);
  const partial = `${out}.partial.jsonl`;
  const done = await readPartial(partial, { model: modelPath, data, ...settings });
  if (done.length > 0) io.stderr(`resuming from ${partial}: ${done.length} of ${records.length} examples done\n`);
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer });
  const tokenizer = tokenizerOf(loaded);
  const gpu = await cliGpu();
  try {
    const teacher = uploadLlama(gpu, loaded.weights);
    const result = await distillDataset(gpu, teacher, tokenizer, records, {
      ...settings,
      done,
      onProgress: async (p) => {
        io.stderr(`\rdistilling: ${p.done}/${p.total} (kept ${p.kept}, replaced ${p.replaced})`);
        await appendFile(partial, `${JSON.stringify(p.batch)}\n`);
      },
    });
    io.stderr("\n");
    releaseLlama(gpu, teacher);
    await writeFile(out, toAlpacaJsonl(distilledRecords(result)));
    await rm(partial, { force: true });
    const reasons = new Map<string, number>();
    for (const e of result.examples) if (e.reason) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    const why = [...reasons].map(([reason, n]) => `${reason} ${n}`).join(", ");
    io.stdout(
      `${records.length} examples: kept ${result.kept} rewrites, replaced ${result.replaced} by the original${why ? ` (${why})` : ""}; wrote ${out}\n`,
    );
  } finally {
    gpu.destroy();
  }
}

/**
 * The examples an earlier run finished: its settings on the first line (a different run must not
 * be mixed into this one, so that is an error rather than a silent restart), then one line per
 * finished batch. A last line cut short by a kill is a batch to redo, not damage.
 */
async function readPartial(path: string, settings: object): Promise<DistilledExample[]> {
  const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  const header = JSON.stringify({ settings });
  if (text === undefined) {
    await writeFile(path, `${header}\n`);
    return [];
  }
  const [first, ...lines] = text.split("\n").filter((l) => l.trim() !== "");
  if (first !== header) throw new Error(`${path} was written by a run with other settings (${first}); delete it to start over`);
  return lines.flatMap((line, i) => {
    try {
      return JSON.parse(line) as DistilledExample[];
    } catch {
      if (i === lines.length - 1) return [];
      throw new Error(`${path} line ${i + 2} is damaged; delete the file to start over`);
    }
  });
}
