/**
 * Alpaca-style JSONL, the fine-tuning data format of the Python ecosystem: one JSON object per line
 * with `instruction`, `input` (possibly empty) and `output`. Import accepts a missing `input` and
 * ignores other keys; errors name the line.
 */
import { DatasetFormatError, parseJsonlObjects } from "../jsonl-objects";

export interface AlpacaRecord {
  instruction: string;
  /** Context for the instruction; "" when there is none. */
  input: string;
  output: string;
}

export function toAlpacaJsonl(records: readonly AlpacaRecord[]): string {
  return records.map((r) => `${JSON.stringify({ instruction: r.instruction, input: r.input, output: r.output })}\n`).join("");
}

/** Records of `text` (bytes are decoded as strict UTF-8; blank lines skipped); errors are DatasetFormatErrors naming `source` and the line. */
export function parseAlpacaJsonl(text: string | Uint8Array, source = "dataset"): AlpacaRecord[] {
  const records = parseJsonlObjects(text, source).map(({ value, fail }) => {
    const { instruction, input = "", output } = value;
    if (typeof instruction !== "string" || instruction.trim() === "") throw fail(`"instruction" must be a non-empty string`);
    if (typeof input !== "string") throw fail(`"input" must be a string when present`);
    if (typeof output !== "string" || output.trim() === "") throw fail(`"output" must be a non-empty string`);
    return { instruction, input, output };
  });
  if (records.length === 0) throw new DatasetFormatError(source, undefined, "no records (expected one JSON object per line)");
  return records;
}
