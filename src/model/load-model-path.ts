/** Node entry to load-model-files.ts: a model folder or file path, with the other files of its folder as siblings. */
import { openAsBlob } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MissingModelFileError } from "./errors";
import { type LoadedModel, type LoadModelOptions, loadModelFiles, type ModelFileMap } from "./load-model-files";

/** `path` is a folder or one file in it (`.safetensors`, index JSON, `.gguf`, llama2.c `.bin`); `tokenizer` may be anywhere. */
export async function loadModelFromPath(
  path: string,
  options: { tokenizer?: string; requireTokenizer?: boolean } = {},
): Promise<LoadedModel> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new MissingModelFileError(path, "no such file or folder");
  const folder = info.isDirectory() ? path : dirname(path);
  const files: ModelFileMap = new Map();
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    // Blobs backed by the file: only the files the loader picks are read.
    if (entry.isFile()) files.set(entry.name, await openAsBlob(join(folder, entry.name)));
  }
  const loadOptions: LoadModelOptions = { requireTokenizer: options.requireTokenizer };
  if (!info.isDirectory()) loadOptions.main = basename(path);
  if (options.tokenizer) {
    const tokenizerInfo = await stat(options.tokenizer).catch(() => undefined);
    if (!tokenizerInfo?.isFile()) throw new MissingModelFileError(options.tokenizer, "the tokenizer file given does not exist");
    files.set(basename(options.tokenizer), await openAsBlob(options.tokenizer));
    if (options.tokenizer.endsWith(".bin")) loadOptions.tokenizer = basename(options.tokenizer);
    else if (basename(options.tokenizer) !== "tokenizer.json") files.set("tokenizer.json", await openAsBlob(options.tokenizer));
  }
  return loadModelFiles(files, loadOptions);
}
