/**
 * The one model state every engine step works on: the full model on the GPU, the model in use (the
 * full one, or a pruned view sharing its buffers), the host weights of the model in use (pruned
 * once, when the Prune step chooses, and read from here by training, evaluation, merging and
 * export), the tokenizer and the model card. Loading builds it; pruning updates it.
 */
import { demoModelName, fetchDemoModel } from "../data/demo-model-files";
import { causalLmClass } from "../model/config";
import type { ModelWeights } from "../model/host-tensor";
import { downloadModel } from "../model/hub";
import { createBrowserHubCache } from "../model/hub-cache-browser";
import type { LlamaGpu } from "../model/llama-gpu";
import { type LoadedModel, loadModelFiles, type ModelFileMap } from "../model/load-model-files";
import { loadTokenizer, Tokenizer } from "../model/tokenizer";
import { memoryReport } from "../prune/memory-report";
import { foldLora, type LoraTensors } from "../train/fold-lora";
import type { LoraConfig } from "../train/llama-lora";
import type { Job, Progress } from "./job";
import type { ModelCard, ModelRequest, PickedFile, PruneRequest } from "./requests";

export interface ModelState {
  /** What generation and the later steps use: `full`, or a pruned view of it. */
  model: LlamaGpu;
  /** The model as loaded; the only one to release. */
  full: LlamaGpu;
  loaded: LoadedModel;
  /** Host weights of `model` (the loaded ones until a block is dropped). */
  weights: ModelWeights;
  tokenizer: Tokenizer;
  card: ModelCard;
  fullCard: ModelCard;
  /** The blocks dropped (absent: the full model is in use). */
  pruned?: PruneRequest;
  /** The last analysis's samples, for the perplexity check. */
  calibration?: number[][];
}

/** What an adapter needs to be folded into the model it was trained on. */
export interface FoldableAdapter {
  config: LoraConfig;
  /** PEFT-keyed A and B matrices. */
  tensors: LoraTensors;
  /** Blocks of the model it was trained on. */
  layers: number;
}

/** The weights of the model in use, which `adapter` (named `label`) must have been trained on. */
export function adapterBase(state: ModelState, adapter: FoldableAdapter, label: string): ModelWeights {
  const base = state.weights;
  if (adapter.layers !== base.config.numHiddenLayers) {
    throw new Error(
      `${label}'s adapter has ${adapter.layers} blocks, the model in use ${base.config.numHiddenLayers}: train it on this pruned model`,
    );
  }
  return base;
}

/** The model in use with `adapter` folded in. */
export function foldedWeights(state: ModelState, adapter: FoldableAdapter, label: string): ModelWeights {
  return foldLora(adapterBase(state, adapter, label), adapter.tensors, adapter.config);
}

const formatNames: Record<LoadedModel["format"], string> = { safetensors: "Hugging Face safetensors", gguf: "GGUF", llama2c: "llama2.c" };

/** The model a request names, read from the demo folder, the Hub (browser cache) or picked files. */
export async function readModel(
  request: ModelRequest,
  job: Job<Progress>,
  demoModelFolder: () => URL,
): Promise<{ loaded: LoadedModel; tokenizer: Tokenizer; name: string }> {
  if (request.kind === "demo") {
    const { loaded, tokenizer } = await fetchDemoModel(demoModelFolder(), {
      signal: job.signal,
      onProgress: (file, done, total) => job.progress({ phase: `fetched ${file}`, done, total, unit: "items" }),
    });
    return { loaded, tokenizer, name: demoModelName };
  }
  if (request.kind === "hub") {
    const downloaded = await downloadModel(request.repo, {
      cache: await createBrowserHubCache(),
      revision: request.revision,
      endpoint: request.endpoint,
      signal: job.signal,
      onProgress: (p) =>
        job.progress({
          phase: `${p.fromCache ? "reading cached" : "downloading"} ${p.file}`,
          done: p.loadedBytes,
          total: p.totalBytes ?? 0,
          unit: "bytes",
        }),
    });
    job.progress({ phase: "reading weights", done: 0, total: 0, unit: "items" });
    const loaded = await loadModelFiles(new Map(downloaded.files));
    return { loaded, tokenizer: await loadTokenizer(request.repo, downloaded.readText), name: request.repo };
  }
  job.progress({ phase: "reading weights", done: 0, total: 0, unit: "items" });
  const files: ModelFileMap = new Map(request.files.map((f) => [f.path, f.file]));
  const loaded = await loadModelFiles(files);
  job.signal.throwIfAborted();
  const folder = request.files[0]?.path.includes("/") ? request.files[0].path.split("/")[0] : loaded.source;
  return { loaded, tokenizer: await pickedTokenizer(loaded, request.files), name: folder };
}

/**
 * A llama2.c tokenizer arrives converted to tokenizer.json form; a Hugging Face folder's is read
 * with all its companion files (chat_template.jinja, special_tokens_map.json, …).
 */
async function pickedTokenizer(loaded: LoadedModel, files: PickedFile[]): Promise<Tokenizer> {
  if (loaded.format === "llama2c") {
    if (!loaded.tokenizerJson)
      throw new Error(`${loaded.source} has no tokenizer: add its tokenizer .bin (e.g. tokenizer.bin, tok512.bin)`);
    return new Tokenizer({ tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig }, loaded.source);
  }
  const byName = new Map(files.map((f) => [f.path.split("/").pop() as string, f.file]));
  return loadTokenizer(loaded.source, async (name) => (await byName.get(name)?.text()) ?? null);
}

export function modelCard(name: string, loaded: LoadedModel, tokenizer: Tokenizer): ModelCard {
  const { weights } = loaded;
  const c = weights.config;
  const report = memoryReport(weights);
  return {
    name,
    format: formatNames[loaded.format],
    architecture: causalLmClass[c.architecture ?? "llama"],
    parameters: report.parameters,
    weightBytes: report.weightBytes,
    layers: c.numHiddenLayers,
    hiddenSize: c.hiddenSize,
    intermediateSize: c.intermediateSize,
    heads: c.numAttentionHeads,
    kvHeads: c.numKeyValueHeads,
    headDim: c.headDim,
    vocabSize: c.vocabSize,
    contextLength: c.maxPositionEmbeddings,
    dtypes: [...new Set([...weights.tensors.values()].map((t) => t.dtype))].sort(),
    hasChatTemplate: tokenizer.chatTemplate !== undefined,
  };
}

/** The card of the model in use after dropping `count` blocks from `start` (its weights already cut). */
export function prunedCard(fullCard: ModelCard, weights: ModelWeights, { start, count }: PruneRequest): ModelCard {
  const report = memoryReport(weights);
  const blocks = count === 1 ? `block ${start}` : `blocks ${start}–${start + count - 1}`;
  return {
    ...fullCard,
    name: `${fullCard.name} without ${blocks}`,
    layers: weights.config.numHiddenLayers,
    parameters: report.parameters,
    weightBytes: report.weightBytes,
  };
}
