/**
 * The `--data` / `--calib` argument of the CLI: a local JSONL file, or `hf:owner/name[:config][:split]`
 * fetched through the Hugging Face cache with the environment's Hub settings (hub-model-source.ts).
 */
import { type AlpacaRecord, parseAlpacaJsonl } from "../distill/alpaca-jsonl";
import { readFileNamed } from "../file-io-node";
import { createNodeHubCache } from "../model/hub-cache-node";
import { type HubEnvironment, hubEnvironment } from "../model/hub-model-source";
import { type CalibrationRecord, calibrationFromAlpaca, calibrationFromJsonl } from "../prune/calibration";
import { type HubDatasetSpec, loadHubDatasetRows, parseHubDatasetSpec } from "./hub-dataset";
import { instructionRecordsFromRows } from "./instruction-columns";

async function hubRows(spec: HubDatasetSpec, environment: HubEnvironment) {
  const { cacheDir, ...rest } = environment;
  const cache = createNodeHubCache(cacheDir);
  return loadHubDatasetRows(spec, { cache, listCached: cache.listCached, ...rest });
}

/** Fine-tuning records: Alpaca JSONL, or a Hub dataset in Alpaca, Dolly or GSM8K columns. */
export async function readInstructionDataset(source: string, environment = hubEnvironment()): Promise<AlpacaRecord[]> {
  const spec = parseHubDatasetSpec(source);
  if (!spec) return parseAlpacaJsonl(await readFileNamed(source), source);
  return instructionRecordsFromRows((await hubRows(spec, environment)).rows, source);
}

/** Calibration samples: JSONL (`text` or Alpaca), or a Hub dataset with a `text` column or instruction columns. */
export async function readCalibrationDataset(source: string, environment = hubEnvironment()): Promise<CalibrationRecord[]> {
  const spec = parseHubDatasetSpec(source);
  if (!spec) return calibrationFromJsonl(await readFileNamed(source), source);
  const { rows } = await hubRows(spec, environment);
  if (typeof rows[0]?.text === "string") {
    return rows.map((row, i) => {
      if (typeof row.text !== "string") throw new Error(`${source} row ${i}: "text" must be a string`);
      return { prompt: row.text };
    });
  }
  return instructionRecordsFromRows(rows, source).map(calibrationFromAlpaca);
}
