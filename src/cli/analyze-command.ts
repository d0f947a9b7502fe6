/**
 * `prunelab analyze`: angular distances for every (start, size) and Block Influence of a model on
 * a JSONL calibration set (each line `{"text": …}`, encoded with BOS, no chat template), written as
 * the JSON of `layerAnalysisJson` and optionally PruneMe's CSV.
 */
import { writeFile } from "node:fs/promises";
import { readFileNamed } from "../file-io-node";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { calibrationFromJsonl, encodeCalibration } from "../prune/calibration";
import { analyzeLayers } from "../prune/layer-analysis";
import { layerAnalysisJson, layerDistancesCsv } from "../prune/layer-analysis-files";
import { number, parseCommand, required } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./run-cli";

export const analyzeUsage = `  prunelab analyze --model PATH [--tokenizer PATH] --calib FILE.jsonl [--max-samples K] [--seq-len S]
                   --json OUT.json [--csv OUT.csv]
      Angular distance d(l, n) of every run of n blocks from block l (last token of each sample)
      and Block Influence, on the lines {"text": …} of FILE.jsonl (encoded with BOS). OUT.json is
      {"layers", "numSamples", "angular": {"<n>": {"<l>": d}}, "blockInfluence"}; OUT.csv has
      PruneMe's columns block_start,block_end,average_distance (block_start = l, block_end = l + n).`;

export async function analyzeCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    calib: { type: "string" },
    "max-samples": { type: "string" },
    "seq-len": { type: "string" },
    json: { type: "string" },
    csv: { type: "string" },
  });
  const calib = required(values.calib, "calib");
  const jsonOut = required(values.json, "json");
  const maxSamples =
    values["max-samples"] === undefined ? undefined : number("max-samples", values["max-samples"], { integer: true, min: 1 });
  const seqLen = values["seq-len"] === undefined ? undefined : number("seq-len", values["seq-len"], { integer: true, min: 1 });
  const loaded = await loadModelFromPath(required(values.model, "model"), { tokenizer: values.tokenizer });
  const tokenizer = tokenizerOf(loaded);
  const records = calibrationFromJsonl(await readFileNamed(calib), calib);
  const samples = encodeCalibration(tokenizer, records, { maxSamples, seqLen: seqLen ?? loaded.weights.config.maxPositionEmbeddings });
  if (samples.length === 0) throw new Error(`${calib} holds no samples`);
  const gpu = await cliGpu();
  try {
    const model = uploadLlama(gpu, loaded.weights);
    const analysis = await analyzeLayers(gpu, model, samples, {
      onProgress: (p) => io.stderr(`\ranalyzing: ${p.samples}/${p.totalSamples} samples`),
    });
    io.stderr("\n");
    releaseLlama(gpu, model);
    await writeFile(jsonOut, `${JSON.stringify(layerAnalysisJson(analysis))}\n`);
    if (values.csv) await writeFile(values.csv, layerDistancesCsv(analysis));
    io.stdout(`${analysis.layers} layers, ${analysis.numSamples} samples: wrote ${[jsonOut, values.csv].filter(Boolean).join(" and ")}\n`);
  } finally {
    gpu.destroy();
  }
}
