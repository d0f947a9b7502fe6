/**
 * `prunelab prune`: writes the model without blocks l … l+n−1 as a Hugging Face folder (weights,
 * config.json and the tokenizer files) that loads on its own.
 */
import { copyFile, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { loadModelFromPath } from "../model/load-model-path";
import { dropBlocksFromWeights } from "../prune/drop-blocks";
import { hfFolderFiles } from "../prune/hf-folder-export";
import { number, parseCommand, required } from "./cli-args";
import type { CliIo } from "./command-io";
import { downloadProgressLine } from "./download-progress";

export const pruneUsage = `  prunelab prune --model PATH [--tokenizer PATH] --start l --n n --out DIR
      Writes the model without blocks l … l+n−1 (0-based) to DIR as a Hugging Face folder
      (model.safetensors, config.json, tokenizer files).`;

/** Tokenizer companions of a Hugging Face folder that the loaded model does not carry as parsed JSON. */
const companionFiles = ["special_tokens_map.json", "chat_template.jinja", "tokenizer.model"];

export async function pruneCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    start: { type: "string" },
    n: { type: "string" },
    out: { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const start = number("start", required(values.start, "start"), { integer: true, min: 0 });
  const n = number("n", required(values.n, "n"), { integer: true, min: 1 });
  const out = required(values.out, "out");
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer, onDownload: downloadProgressLine(io) });
  const pruned = dropBlocksFromWeights(loaded.weights, start, n);
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of hfFolderFiles(pruned, loaded)) await writeFile(join(out, name), bytes);
  // A model from the Hub (loaded.hub) has no local folder to take companions from.
  const folder = loaded.hub ? undefined : (await stat(modelPath)).isDirectory() ? modelPath : dirname(modelPath);
  for (const name of companionFiles) {
    if (folder === undefined) break;
    await copyFile(join(folder, name), join(out, name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }
  io.stdout(
    `dropped blocks ${start}…${start + n - 1}: ${pruned.config.numHiddenLayers} of ${loaded.weights.config.numHiddenLayers} blocks left, written to ${out}\n`,
  );
}
