/**
 * The demo world's calibration set for the layer analysis: prose documents of its pretraining
 * corpus (biographies, trades, the map, nature, tales, routines), drawn from their own seed so that
 * the sample is fixed, without their BOS and end tokens (the calibration encoder adds BOS itself).
 */
import type { CalibrationRecord } from "../prune/calibration";
import { specialTokens } from "./chat-template";
import { type CorpusKind, pretrainingDocuments } from "./pretraining-corpus";
import { buildWorld, demoWorldSeed } from "./world";

const proseKinds: ReadonlySet<CorpusKind> = new Set(["biography", "trade", "map", "nature", "tales", "routine"]);

/** A corpus seed no training run of the demo model uses. */
export const demoCalibrationSeed = 7;

export function demoCalibrationRecords(count: number): CalibrationRecord[] {
  const records: CalibrationRecord[] = [];
  if (count <= 0) return records;
  for (const document of pretrainingDocuments(buildWorld(demoWorldSeed), { seed: demoCalibrationSeed })) {
    if (!proseKinds.has(document.kind)) continue;
    const text = document.text.slice(specialTokens.bos.length, -specialTokens.end.length).trim();
    records.push({ prompt: text });
    if (records.length === count) break;
  }
  return records;
}
