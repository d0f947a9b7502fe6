/**
 * Node entry to load-model-files.ts: a model folder or file path, with the other files of its folder
 * as siblings; or, where no such path exists, a Hub repo id `owner/name[@revision]` fetched through
 * the Hugging Face cache (hub-model-source.ts).
 */
import { openAsBlob } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MissingModelFileError } from "./errors";
import { type DownloadProgress, HubError } from "./hub";
import { downloadHubModel, type HubEnvironment, parseHubModelId } from "./hub-model-source";
import { type LoadedModel, type LoadModelOptions, loadModelFiles, type ModelFileMap } from "./load-model-files";

export interface LoadModelPathOptions {
  tokenizer?: string;
  requireTokenizer?: boolean;
  /** For repo ids; default: the environment's (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME). */
  hub?: HubEnvironment;
  onDownload?: (p: DownloadProgress) => void;
}

/** `path` is a folder or one file in it (`.safetensors`, index JSON, `.gguf`, llama2.c `.bin`), or a repo id; `tokenizer` may be anywhere. */
export async function loadModelFromPath(path: string, options: LoadModelPathOptions = {}): Promise<LoadedModel> {
  const info = await stat(path).catch(() => undefined);
  const hubId = info ? null : parseHubModelId(path);
  if (!info && !hubId) throw new MissingModelFileError(path, "no such file or folder");
  const files: ModelFileMap = new Map();
  const loadOptions: LoadModelOptions = { requireTokenizer: options.requireTokenizer };
  if (hubId) {
    const downloaded = await downloadHubModel(hubId, options.hub, options.onDownload).catch((e: unknown) => {
      // A mistyped local path looks like a repo id too: say both.
      if (e instanceof HubError && (e.kind === "not-found" || e.kind === "network")) {
        throw new MissingModelFileError(path, `no such file or folder, nor a Hub repo: ${e.message}`);
      }
      throw e;
    });
    for (const [name, blob] of downloaded.files) files.set(name, blob);
  } else if (info) {
    const folder = info.isDirectory() ? path : dirname(path);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      // Blobs backed by the file: only the files the loader picks are read.
      if (entry.isFile()) files.set(entry.name, await openAsBlob(join(folder, entry.name)));
    }
    if (!info.isDirectory()) loadOptions.main = basename(path);
  }
  if (options.tokenizer) {
    const tokenizerInfo = await stat(options.tokenizer).catch(() => undefined);
    if (!tokenizerInfo?.isFile()) throw new MissingModelFileError(options.tokenizer, "the tokenizer file given does not exist");
    files.set(basename(options.tokenizer), await openAsBlob(options.tokenizer));
    if (options.tokenizer.endsWith(".bin")) loadOptions.tokenizer = basename(options.tokenizer);
    else if (basename(options.tokenizer) !== "tokenizer.json") files.set("tokenizer.json", await openAsBlob(options.tokenizer));
  }
  const loaded = await loadModelFiles(files, loadOptions);
  return hubId ? { ...loaded, hub: { repoId: hubId.repoId, revision: hubId.revision ?? "main" } } : loaded;
}
