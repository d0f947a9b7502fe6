/**
 * Calibration sets for the layer analysis: pasted text or JSONL (`{"text": …}` or Alpaca's
 * `instruction` / `input` / `output`), encoded as plain text with BOS or through the model's chat
 * template, truncated to a sequence length. The demo world's calibration set
 * (src/data/demo-calibration.ts) supplies `CalibrationRecord`s of its own and goes through
 * `encodeCalibration` like the others.
 */

import { parseJsonlObjects } from "../jsonl-objects";
import type { ChatMessage, Tokenizer } from "../model/tokenizer";

/** One sample: text, or a prompt with an optional response (a chat turn pair under the chat template). */
export interface CalibrationRecord {
  prompt: string;
  response?: string;
}

export interface CalibrationEncoding {
  /** Render each record through the tokenizer's chat template instead of as plain text with BOS. */
  chatTemplate?: boolean;
  /** Keep at most this many samples (the first ones). */
  maxSamples?: number;
  /** Truncate each sample to this many tokens. */
  seqLen?: number;
}

/** Pasted text: one sample per paragraph (separated by blank lines). */
export function calibrationFromText(text: string): CalibrationRecord[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((prompt) => ({ prompt }));
}

/** JSONL lines `{"text": …}` or Alpaca `{"instruction", "input"?, "output"?}` (bytes are decoded as strict UTF-8); blank lines are skipped; errors are DatasetFormatErrors naming `source` and the line. */
export function calibrationFromJsonl(text: string | Uint8Array, source: string): CalibrationRecord[] {
  return parseJsonlObjects(text, source).map(({ value, fail }): CalibrationRecord => {
    const field = (name: string) => {
      const v = value[name];
      if (v !== undefined && typeof v !== "string") throw fail(`"${name}" must be a string`);
      return v;
    };
    const plain = field("text");
    const instruction = field("instruction");
    if (plain !== undefined) return { prompt: plain };
    if (instruction === undefined) throw fail(`has neither "text" nor "instruction"`);
    const input = field("input");
    const output = field("output");
    return { prompt: input ? `${instruction}\n\n${input}` : instruction, ...(output ? { response: output } : {}) };
  });
}

/** Token ids of each record (empty ones dropped), ready for `analyzeLayers`. */
export function encodeCalibration(
  tokenizer: Tokenizer,
  records: readonly CalibrationRecord[],
  options: CalibrationEncoding = {},
): number[][] {
  const { chatTemplate = false, maxSamples = Infinity, seqLen = Infinity } = options;
  const samples: number[][] = [];
  for (const r of records) {
    if (samples.length >= maxSamples) break;
    let ids: number[];
    if (chatTemplate) {
      const messages: ChatMessage[] = [{ role: "user", content: r.prompt }];
      if (r.response !== undefined) messages.push({ role: "assistant", content: r.response });
      ids = tokenizer.encodeChat(messages);
    } else {
      const text = r.response !== undefined ? `${r.prompt}\n\n${r.response}` : r.prompt;
      ids = tokenizer.encode(text, { bos: tokenizer.bosTokenId !== undefined });
    }
    if (ids.length > 0) samples.push(ids.slice(0, seqLen));
  }
  return samples;
}
