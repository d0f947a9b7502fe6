/**
 * Rows of the common instruction datasets as Alpaca records, by their column names: Alpaca
 * (`instruction` / `input` / `output`), Dolly (`instruction` / `context` / `response`) and GSM8K
 * (`question` / `answer`, the answer's worked solution kept whole with its final "#### N", which the
 * math consistency filter and the evaluation's extractor read).
 */
import type { AlpacaRecord } from "../distill/alpaca-jsonl";

export type InstructionFormat = "alpaca" | "dolly" | "gsm8k";

const formats: Record<InstructionFormat, { instruction: string; input?: string; output: string }> = {
  alpaca: { instruction: "instruction", input: "input", output: "output" },
  dolly: { instruction: "instruction", input: "context", output: "response" },
  gsm8k: { instruction: "question", output: "answer" },
};

/** The format whose columns the row has (checked in the order alpaca, dolly, gsm8k), or undefined. */
export function instructionFormatOf(row: Record<string, unknown>): InstructionFormat | undefined {
  return (Object.keys(formats) as InstructionFormat[]).find((f) => formats[f].instruction in row && formats[f].output in row);
}

/** Every row as an Alpaca record; the format is the first row's, errors name `source` and the row. */
export function instructionRecordsFromRows(rows: readonly Record<string, unknown>[], source: string): AlpacaRecord[] {
  if (rows.length === 0) throw new Error(`${source}: no rows`);
  const format = instructionFormatOf(rows[0]);
  if (!format) {
    throw new Error(
      `${source}: the columns ${JSON.stringify(Object.keys(rows[0]))} are none of Alpaca's (instruction, input, output), Dolly's (instruction, context, response) or GSM8K's (question, answer)`,
    );
  }
  const columns = formats[format];
  return rows.map((row, i) => {
    const text = (column: string | undefined, required: boolean) => {
      const v = column === undefined ? undefined : row[column];
      if (v === undefined || v === null) {
        if (required) throw new Error(`${source} row ${i}: "${column}" is missing (${format} columns)`);
        return "";
      }
      if (typeof v !== "string") throw new Error(`${source} row ${i}: "${column}" must be a string, got ${typeof v}`);
      if (required && v.trim() === "") throw new Error(`${source} row ${i}: "${column}" is empty`);
      return v;
    };
    return { instruction: text(columns.instruction, true), input: text(columns.input, false), output: text(columns.output, true) };
  });
}
