/**
 * Alpaca-style JSONL, the fine-tuning data format of the Python ecosystem: one JSON object per line
 * with `instruction`, `input` (possibly empty) and `output`. Import accepts a missing `input` and
 * ignores other keys; errors name the line.
 */
import { parseJsonlObjects } from "../jsonl-objects";

export interface AlpacaRecord {
  instruction: string;
  /** Context for the instruction; "" when there is none. */
  input: string;
  output: string;
  /**
   * What a correct response mentions, when the data's source knows it (the demo world does; a
   * JSONL file does not carry it): the distillation filter's content check for general rewrites.
   */
  answers?: readonly string[];
}

export function toAlpacaJsonl(records: readonly AlpacaRecord[]): string {
  return records.map((r) => `${JSON.stringify({ instruction: r.instruction, input: r.input, output: r.output })}\n`).join("");
}

/** Records of `text` (blank lines skipped); `source` names the file in errors. */
export function parseAlpacaJsonl(text: string, source = "dataset"): AlpacaRecord[] {
  const records = parseJsonlObjects(text, source).map(({ value, where }) => {
    const { instruction, input = "", output } = value;
    if (typeof instruction !== "string" || instruction.trim() === "") throw new Error(`${where}: "instruction" must be a non-empty string`);
    if (typeof input !== "string") throw new Error(`${where}: "input" must be a string when present`);
    if (typeof output !== "string" || output.trim() === "") throw new Error(`${where}: "output" must be a non-empty string`);
    return { instruction, input, output };
  });
  if (records.length === 0) throw new Error(`${source}: no records (expected one JSON object per line)`);
  return records;
}
