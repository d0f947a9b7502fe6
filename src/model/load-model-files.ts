/**
 * Finds and loads a model among the files a user gave: a Hugging Face folder (config.json +
 * model.safetensors or a sharded index, tokenizer.json), a `.gguf`, or a llama2.c `.bin` with its
 * tokenizer.bin. Works on named Blobs/bytes so the browser (dropped `File`s) and Node (see
 * load-model-path.ts) share it; files are read only when needed.
 */
import { jsonBoundsProblem } from "../json-bounds";
import { parseLlamaConfig } from "./config";
import { MissingModelFileError, ModelFormatError } from "./errors";
import { loadGgufModel, parseGguf } from "./gguf";
import { ggufTokenizerToHf } from "./gguf-tokenizer";
import type { ModelWeights } from "./host-tensor";
import { checkLlamaTensors } from "./llama-weights";
import { readLlama2cCheckpoint } from "./llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "./llama2c-tokenizer";
import { readSafetensors } from "./safetensors";
import { parseShardIndex, readShardedSafetensors, SHARD_INDEX_FILE } from "./sharded";

export type ModelFileFormat = "safetensors" | "gguf" | "llama2c";

/** File name (a folder prefix is ignored) → contents. */
export type ModelFileMap = Map<string, Blob | ArrayBuffer | Uint8Array>;

export interface LoadedModel {
  format: ModelFileFormat;
  /** The weights file (or shard index) the model was read from. */
  source: string;
  weights: ModelWeights;
  /** Parsed tokenizer.json / tokenizer_config.json (converted from tokenizer.bin for llama2.c); absent only when not required. */
  tokenizerJson?: object;
  tokenizerConfig?: object;
  generationConfig?: object;
}

export interface LoadModelOptions {
  /** The weights file to load when several candidates are present. */
  main?: string;
  /** The llama2.c tokenizer file; by default tokenizer.bin or the only tok*.bin. */
  tokenizer?: string;
  /** Default true: a model without a tokenizer is an error (a tokenizer is needed for every step after loading). */
  requireTokenizer?: boolean;
}

export async function loadModelFiles(given: ModelFileMap, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const files = new Map([...given].map(([name, contents]) => [baseName(name), contents]));
  const main = options.main ? baseName(options.main) : detectMain(files);
  const requireTokenizer = options.requireTokenizer ?? true;
  const model = await loadWeights(files, main, options);
  if (!model.tokenizerJson && requireTokenizer) {
    const hint = {
      gguf: "; only SentencePiece tokenizers embedded in GGUF are converted, so put the model's tokenizer.json next to it",
      llama2c: " (tokenizer.bin or one tok*.bin, or name it with the tokenizer option / --tokenizer)",
      safetensors: "",
    }[model.format];
    const needed = model.format === "llama2c" ? "tokenizer.bin" : "tokenizer.json";
    throw new MissingModelFileError(needed, `${main} has no tokenizer among the given files (${[...files.keys()].join(", ")})${hint}`);
  }
  return model;
}

/** Browser `File`s (from an <input> or a dropped folder) as a file map. */
export function modelFileMapFromFiles(files: Iterable<File>): ModelFileMap {
  return new Map([...files].map((f) => [f.webkitRelativePath || f.name, f]));
}

async function loadWeights(
  files: Map<string, Blob | ArrayBuffer | Uint8Array>,
  main: string,
  options: LoadModelOptions,
): Promise<LoadedModel> {
  const read = (name: string) => readBytes(files, name);
  const optionalJson = async (name: string) => (files.has(name) ? readJson(files, name) : undefined);
  if (main.endsWith(".gguf")) {
    const bytes = await read(main);
    const weights = loadGgufModel(bytes, main);
    // A tokenizer.json beside the file is the model's own; the embedded one is converted only without it.
    const tokenizer = files.has("tokenizer.json")
      ? { tokenizerJson: await readJson(files, "tokenizer.json"), tokenizerConfig: await optionalJson("tokenizer_config.json") }
      : ggufTokenizerToHf(parseGguf(bytes, main).metadata, main, weights.config.maxPositionEmbeddings);
    return { format: "gguf", source: main, weights, ...tokenizer };
  }
  if (main.endsWith(".bin")) {
    const weights = readLlama2cCheckpoint(await read(main), main);
    const tokenizerName = options.tokenizer ? baseName(options.tokenizer) : llama2cTokenizerName(files);
    if (!tokenizerName || !files.has(tokenizerName)) return { format: "llama2c", source: main, weights };
    const tok = readLlama2cTokenizer(await read(tokenizerName), tokenizerName, weights.config.vocabSize);
    return { format: "llama2c", source: main, weights, ...llama2cTokenizerToHf(tok, weights.config.maxPositionEmbeddings) };
  }
  if (!files.has("config.json")) throw new MissingModelFileError("config.json", `${main} needs the model's config.json next to it`);
  const config = parseLlamaConfig(await readJson(files, "config.json"), "config.json");
  const tensors =
    main === SHARD_INDEX_FILE
      ? await readShardedSafetensors(parseShardIndex(await readJson(files, main), main), async (shard) => {
          if (!files.has(shard)) throw new MissingModelFileError(shard, `${main} lists it as a shard`);
          return read(shard);
        })
      : readSafetensors(await read(main), main).tensors;
  return {
    format: "safetensors",
    source: main,
    weights: { config, tensors: checkLlamaTensors(config, tensors, main) },
    tokenizerJson: await optionalJson("tokenizer.json"),
    tokenizerConfig: await optionalJson("tokenizer_config.json"),
    generationConfig: await optionalJson("generation_config.json"),
  };
}

function detectMain(files: Map<string, unknown>): string {
  const names = [...files.keys()];
  if (files.has(SHARD_INDEX_FILE)) return SHARD_INDEX_FILE;
  if (files.has("model.safetensors")) return "model.safetensors";
  const candidates = [
    names.filter((n) => n.endsWith(".safetensors")),
    names.filter((n) => n.endsWith(".gguf")),
    names.filter((n) => n.endsWith(".bin") && !isLlama2cTokenizerName(n)),
  ].find((group) => group.length > 0);
  if (!candidates) {
    throw new MissingModelFileError(
      "model weights",
      `none of ${names.length ? names.join(", ") : "(no files)"} is a .safetensors, .gguf or llama2.c .bin file`,
    );
  }
  if (candidates.length > 1)
    throw new ModelFormatError(candidates.join(", "), "several weight files: choose one (options.main / --model FILE)");
  return candidates[0];
}

function llama2cTokenizerName(files: Map<string, unknown>): string | undefined {
  if (files.has("tokenizer.bin")) return "tokenizer.bin";
  const found = [...files.keys()].filter(isLlama2cTokenizerName);
  return found.length === 1 ? found[0] : undefined;
}

function isLlama2cTokenizerName(name: string): boolean {
  return /^tok.*\.bin$/.test(name);
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

async function readBytes(files: Map<string, Blob | ArrayBuffer | Uint8Array>, name: string): Promise<Uint8Array> {
  const contents = files.get(name);
  if (contents === undefined) throw new MissingModelFileError(name, "it was not among the given files");
  if (contents instanceof Uint8Array) return contents;
  return new Uint8Array(contents instanceof ArrayBuffer ? contents : await contents.arrayBuffer());
}

async function readJson(files: Map<string, Blob | ArrayBuffer | Uint8Array>, name: string): Promise<object> {
  const text = new TextDecoder().decode(await readBytes(files, name));
  // config.json, tokenizer_config.json and the shard index nest a few levels; chat templates are the longest strings.
  const problem = jsonBoundsProblem(text, { maxDepth: 64, maxString: 1_048_576 });
  if (problem) throw new ModelFormatError(name, `is refused: ${problem}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(name, `is not valid JSON (${(e as Error).message})`);
  }
}
