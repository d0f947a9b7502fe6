/**
 * The engine as the worker serves it: owns the GPU device and the loaded model (weights on the GPU
 * plus tokenizer), and answers the methods of `EngineMethods`. It holds state across calls, so it
 * is created once per worker; one job runs at a time.
 */
import { demoModelName, demoModelUrl, fetchDemoModel } from "../data/demo-model-files";
import type { Gpu } from "../gpu/context";
import { acquireGpu } from "../gpu/device";
import { createMergeJobs } from "../merge/merge-jobs";
import { causalLmClass, type LlamaConfig } from "../model/config";
import { generate as generateTokens } from "../model/generate";
import type { ModelWeights } from "../model/host-tensor";
import { downloadModel } from "../model/hub";
import { createBrowserHubCache } from "../model/hub-cache-browser";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { type LoadedModel, loadModelFiles, type ModelFileMap } from "../model/load-model-files";
import { memoryReport } from "../model/memory-report";
import { loadTokenizer, Tokenizer } from "../model/tokenizer";
import { speculateJob } from "../spec/speculate-job";
import { distillJob } from "./distill-jobs";
import { evaluateJob } from "./eval-jobs";
import type { EngineMethods, GenerateRequest, ModelCard, ModelRequest, Progress } from "./protocol";
import { analyzeJob, exportModelFiles, type PrunableModel, pruneJob } from "./prune-jobs";
import { CancelledError, type Handlers, type Job } from "./rpc";
import { trainJob } from "./train-jobs";

/** A feature of the engine that a later issue builds; the UI shows the message as is. */
export class NotAvailableError extends Error {
  override name = "NotAvailableError";
}

/** A request that needs something the engine does not have yet (a model) or is doing something else. */
export class EngineStateError extends Error {
  override name = "EngineStateError";
}

type ReadyModel = PrunableModel;

const formatNames: Record<LoadedModel["format"], string> = { safetensors: "Hugging Face safetensors", gguf: "GGUF", llama2c: "llama2.c" };

/** `demoModelFolder`: where the bundled demo model is served (the app's own `models/demo/` unless a test serves it elsewhere). */
export function createEngine(
  navigatorGpu: () => GPU | undefined = () => globalThis.navigator?.gpu,
  demoModelFolder: () => URL = demoModelUrl,
): Handlers<EngineMethods> {
  let gpu: Promise<Gpu> | undefined;
  let gpuF16Disabled = false;
  let ready: ReadyModel | undefined;
  let busyWith: string | undefined;
  const merging = createMergeJobs();

  const device = (disableF16 = gpuF16Disabled): Promise<Gpu> => {
    if (!gpu || disableF16 !== gpuF16Disabled) {
      gpuF16Disabled = disableF16;
      const acquiring = acquireGpu(navigatorGpu(), { disableF16 });
      gpu = acquiring;
      acquiring.then(
        (g) =>
          g.onLost(() => {
            gpu = undefined;
            ready = undefined;
          }),
        // A failed acquisition is retried on the next call (the user may have changed a browser flag).
        () => {
          if (gpu === acquiring) gpu = undefined;
        },
      );
    }
    return gpu;
  };

  /** Runs `work` as the engine's only job; a second job while one runs is refused rather than interleaved on the GPU. */
  const exclusive = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    if (busyWith) throw new EngineStateError(`The engine is busy ${busyWith}; wait for it or cancel it.`);
    busyWith = what;
    try {
      return await work();
    } finally {
      busyWith = undefined;
    }
  };

  const loadedModel = (): ReadyModel => {
    if (!ready) throw new EngineStateError("No model is loaded: load one in the Model step first.");
    return ready;
  };

  return {
    gpu: async ({ disableF16 }) => (await device(disableF16)).info,

    loadModel: (request, job) =>
      exclusive("loading a model", async () => {
        const g = await device();
        // The old model goes first: its GPU memory may be what the new one needs.
        if (ready) releaseLlama(g, ready.full);
        ready = undefined;
        const { loaded, tokenizer, name } = await readModel(request, job, demoModelFolder);
        job.signal.throwIfAborted();
        job.progress({ phase: "uploading weights to the GPU", done: 0, total: 0, unit: "items" });
        const model = uploadLlama(g, loaded.weights);
        await g.sync();
        const card = modelCard(name, formatNames[loaded.format], loaded.weights, tokenizer);
        ready = { model, full: model, loaded, tokenizer, card, fullCard: card };
        return ready.card;
      }),

    generate: (request, job) =>
      exclusive("generating", async () => {
        if (!ready) throw new EngineStateError("No model is loaded: load one in the Model step first.");
        return generateText(await device(), ready, request, job);
      }),

    analyze: (request, job) => exclusive("analyzing layers", async () => analyzeJob(await device(), loadedModel(), request, job)),
    prune: (request, job) => exclusive("pruning", async () => pruneJob(await device(), loadedModel(), request, job)),
    exportModel: async () => exportModelFiles(loadedModel()),
    merge: (request, job) => exclusive("merging", async () => merging.merge(await device(), loadedModel(), request, job)),
    exportMerge: async (request) => merging.exportMerged(loadedModel(), request),
    speculate: (request, job) => exclusive("speculating", async () => speculateJob(await device(), loadedModel(), request, job)),
    distill: (request, job) => exclusive("distilling", async () => distillJob(await device(), loadedModel(), request, job)),
    train: (request, job) => exclusive("training", async () => trainJob(await device(), loadedModel(), request, job)),
    evaluate: (request, job) => exclusive("evaluating", async () => evaluateJob(await device(), loadedModel(), request, job)),
  };
}

async function readModel(
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
  return { loaded, tokenizer: await tokenizerOf(loaded, request.files), name: folder };
}

/**
 * A llama2.c tokenizer arrives converted to tokenizer.json form; a Hugging Face folder's is read
 * with all its companion files (chat_template.jinja, special_tokens_map.json, …).
 */
async function tokenizerOf(loaded: LoadedModel, files: { path: string; file: File }[]): Promise<Tokenizer> {
  if (loaded.format === "llama2c") {
    if (!loaded.tokenizerJson)
      throw new Error(`${loaded.source} has no tokenizer: add its tokenizer .bin (e.g. tokenizer.bin, tok512.bin)`);
    return new Tokenizer({ tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig }, loaded.source);
  }
  const byName = new Map(files.map((f) => [f.path.split("/").pop() as string, f.file]));
  return loadTokenizer(loaded.source, async (name) => (await byName.get(name)?.text()) ?? null);
}

function modelCard(name: string, format: string, weights: ModelWeights, tokenizer: Tokenizer): ModelCard {
  const c: LlamaConfig = weights.config;
  const report = memoryReport(weights);
  return {
    name,
    format,
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

async function generateText(gpu: Gpu, ready: ReadyModel, request: GenerateRequest, job: Job<{ text: string; tokens: number }>) {
  const { tokenizer, model } = ready;
  const prompt =
    request.mode === "chat"
      ? tokenizer.encodeChat(request.messages, { addGenerationPrompt: true })
      : tokenizer.encode(request.prompt, { bos: tokenizer.bosTokenId !== undefined });
  const room = model.config.maxPositionEmbeddings - prompt.length;
  if (room < 1)
    throw new EngineStateError(`The prompt has ${prompt.length} tokens; this model's context holds ${model.config.maxPositionEmbeddings}.`);
  const { temperature, topK, topP, maxTokens, seed } = request.sampling;
  const started = performance.now();
  let tokens = 0;
  const [result] = await generateTokens(gpu, model, [prompt], {
    maxTokens: Math.min(maxTokens, room),
    temperature,
    topK: topK > 0 ? topK : undefined,
    topP,
    seed,
    stopTokens: [...new Set([...tokenizer.stopTokenIds, ...(model.config.eosTokenId ?? [])])],
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    signal: job.signal,
    onToken: (e) => {
      tokens++;
      job.progress({ text: e.text ?? "", tokens });
    },
  });
  if (result.stopReason === "aborted") throw new CancelledError("cancelled by the user");
  return {
    text: result.text ?? "",
    tokens: result.tokens.length,
    promptTokens: prompt.length,
    seconds: (performance.now() - started) / 1000,
    stopReason: result.stopReason === "length" ? ("length" as const) : ("eos" as const),
  };
}
