/** JSON Lines of objects: blank lines skipped, a UTF-8 BOM accepted, every error a DatasetFormatError naming the file and the line. */

import { jsonBoundsProblem } from "./json-bounds";

/** A dataset file (JSONL) that cannot be read: `line` is 1-based, absent when the problem is the whole file. */
export class DatasetFormatError extends Error {
  override name = "DatasetFormatError";
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line === undefined ? "" : ` line ${line}`}: ${detail}`);
  }
}

export interface JsonlObject {
  value: Record<string, unknown>;
  /** The error for a field of this line the caller rejects. */
  fail: (detail: string) => DatasetFormatError;
}

/** `input` as bytes is decoded strictly: invalid UTF-8 is an error naming its line, not silently U+FFFD. */
export function parseJsonlObjects(input: string | Uint8Array, source: string): JsonlObject[] {
  const text = typeof input === "string" ? input : decodeUtf8Text(input, source);
  const objects: JsonlObject[] = [];
  // Editors on Windows write a BOM; it is not part of the first line's JSON.
  const lines = (text.startsWith("\uFEFF") ? text.slice(1) : text).split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const fail = (detail: string) => new DatasetFormatError(source, i + 1, detail);
    let value: unknown;
    // Records are flat objects; a line of a million "[" would keep JSON.parse busy for seconds.
    const problem = jsonBoundsProblem(line, { maxDepth: 64, maxString: Number.POSITIVE_INFINITY });
    if (problem) throw fail(`refused: ${problem}`);
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw fail(`not valid JSON (${(e as Error).message.slice(0, 200)})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw fail("expected a JSON object");
    objects.push({ value: value as Record<string, unknown>, fail });
  }
  return objects;
}

/** The text of a UTF-8 file, BOM removed; DatasetFormatError naming the line of the first invalid byte sequence. */
export function decodeUtf8Text(bytes: Uint8Array, source: string): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    const at = firstInvalidUtf8(body);
    let line = 1;
    for (let i = 0; i < at; i++) if (body[i] === 0x0a) line++;
    throw new DatasetFormatError(source, line, `invalid UTF-8 at byte ${at + (body === bytes ? 0 : 3)} (0x${body[at]?.toString(16)})`);
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs and surrogates included); -1 when none. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < [0, 0x80, 0x800, 0x10000][n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}
