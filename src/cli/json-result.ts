/**
 * Where a command's result goes under `--json`: a file, or stdout as one JSON object. With the JSON
 * on stdout, the readable report moves to stderr so that stdout parses as it is.
 */
import { writeFile } from "node:fs/promises";
import { jsonToStdout } from "./cli-args";
import type { CliIo } from "./command-io";

/** Writes `value` to the file `target` (indented by `fileIndent`, as each command always wrote it), or to stdout on one line when `target` is `jsonToStdout`. */
export async function writeJsonResult(io: CliIo, target: string, value: unknown, fileIndent = 2): Promise<void> {
  if (target === jsonToStdout) io.stdout(`${JSON.stringify(value)}\n`);
  else await writeFile(target, `${JSON.stringify(value, null, fileIndent)}\n`);
}

/** The channel for the readable report: stdout, unless `--json` took it. */
export function reportChannel(io: CliIo, json: string | undefined): (text: string) => void {
  return json === jsonToStdout ? io.stderr : io.stdout;
}
