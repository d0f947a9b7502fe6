/**
 * `prunelab merge`: SLERP-merges two Hugging Face folders of the same architecture (e.g. two
 * fine-tunes of one pruned base, adapters folded) into a new folder that loads on its own.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type InterpolationFactor, parseInterpolationFactor } from "../merge/interpolation-factor";
import { mergeWeights } from "../merge/slerp";
import { loadModelFromPath } from "../model/load-model-path";
import { hfFolderFiles } from "../prune/hf-folder-export";
import { number, parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./command-io";
import { downloadProgressLine } from "./download-progress";

export const mergeUsage = `  prunelab merge --a DIR --b DIR --t T --out DIR
      SLERP-merges two models of the same architecture into DIR (a Hugging Face folder with a's
      config and tokenizer files). T = 0 gives a, 1 gives b; T may also be mergekit's JSON form,
      e.g. '[{"filter":"self_attn","value":[0,1]},{"value":0.5}]' (a gradient across the layers).`;

export async function mergeCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    a: { type: "string" },
    b: { type: "string" },
    t: { type: "string" },
    out: { type: "string" },
  });
  const pathA = required(values.a, "a");
  const pathB = required(values.b, "b");
  const t = parseFactorFlag(required(values.t, "t"));
  const out = required(values.out, "out");
  const a = await loadModelFromPath(pathA, { onDownload: downloadProgressLine(io) });
  const b = await loadModelFromPath(pathB, { requireTokenizer: false, onDownload: downloadProgressLine(io) });
  const merged = mergeWeights(a.weights, b.weights, t);
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of hfFolderFiles(merged, a)) await writeFile(join(out, name), bytes);
  io.stdout(`merged ${merged.tensors.size} tensors of ${pathA} and ${pathB} by SLERP at t = ${values.t}, written to ${out}\n`);
}

function parseFactorFlag(text: string): InterpolationFactor {
  if (!text.trim().startsWith("[")) return number("t", text, {});
  try {
    return parseInterpolationFactor(JSON.parse(text), "--t");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
