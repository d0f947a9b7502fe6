/**
 * The bundled demo model as the app gets it: its Hugging Face folder (public/models/demo/, written
 * by scripts/train-demo-model.ts) is served with the app under `models/demo/`, fetched file by file
 * and loaded like any local folder.
 */
import { type LoadedModel, loadModelFiles, type ModelFileMap } from "../model/load-model-files";
import { loadTokenizer, type Tokenizer } from "../model/tokenizer";

export const demoModelName = "Prunelab demo model";

/** Everything the loader and the tokenizer read; the card and scores.json stay on the server. */
export const demoModelFileNames = [
  "config.json",
  "generation_config.json",
  "model.safetensors",
  "tokenizer.json",
  "tokenizer_config.json",
] as const;

/** Where the app serves the folder: `models/demo/` under Vite's base URL, resolved against the page (or worker) location. */
export function demoModelUrl(): URL {
  return new URL(`${import.meta.env.BASE_URL}models/demo/`, globalThis.location.href);
}

export interface FetchDemoModelOptions {
  signal?: AbortSignal;
  /** After each file, with the files done so far. */
  onProgress?: (file: string, done: number, total: number) => void;
}

export async function fetchDemoModel(
  folder: URL,
  { signal, onProgress }: FetchDemoModelOptions = {},
): Promise<{ loaded: LoadedModel; tokenizer: Tokenizer }> {
  const files: ModelFileMap = new Map();
  for (const [i, name] of demoModelFileNames.entries()) {
    const url = new URL(name, folder);
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`The demo model's ${name} could not be fetched from ${url}: HTTP ${response.status}`);
    files.set(name, new Uint8Array(await response.arrayBuffer()));
    onProgress?.(name, i + 1, demoModelFileNames.length);
  }
  const loaded = await loadModelFiles(files);
  const decoder = new TextDecoder();
  const tokenizer = await loadTokenizer(demoModelName, async (name) => {
    const bytes = files.get(name);
    return bytes instanceof Uint8Array ? decoder.decode(bytes) : null;
  });
  return { loaded, tokenizer };
}
