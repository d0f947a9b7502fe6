/**
 * The engine: the library every front-end calls. It owns the GPU device and the one model state
 * (src/engine/model-state.ts) and offers the pipeline's steps (load, generate, analyze, prune,
 * distill, train, evaluate, merge, speculate, export) as methods that each take one settings
 * object and one `Job` (progress callback + AbortSignal). The worker serves these methods over RPC
 * (its protocol is derived from this object's type); `prunelab replay` calls them in-process. It
 * holds state across calls, so it is created once per worker or command; one step runs at a time.
 */
import { demoModelUrl } from "../data/demo-model-files";
import type { ModelExportRequest } from "../export/model-export";
import type { Gpu, GpuInfo } from "../gpu/context";
import { acquireGpu } from "../gpu/device";
import { generate as generateTokens } from "../model/generate";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { analyzeJob, exportModelFiles, pruneJob } from "./analyze-prune";
import { type DistillJobProgress, type DistillRequest, distillJob } from "./distill";
import { type EvaluateRequest, evaluateJob } from "./evaluate";
import { CancelledError, type Job, type Progress } from "./job";
import { createMergeJobs, type MergeRequest } from "./merge";
import { type FoldableAdapter, foldedWeights, type ModelState, modelCard, readModel } from "./model-state";
import type { AnalyzeRequest, GenerateDelta, GenerateRequest, GenerateResult, ModelRequest, PruneRequest } from "./requests";
import { type SpeculateRequest, speculateJob } from "./speculate";
import { type TrainJobProgress, type TrainRequest, trainJob } from "./train";

/** A request that needs something the engine does not have yet (a model) or is doing something else. */
export class EngineStateError extends Error {
  override name = "EngineStateError";
}

/** `demoModelFolder`: where the bundled demo model is served (the app's own `models/demo/` unless a test serves it elsewhere). */
export function createEngine(
  navigatorGpu: () => GPU | undefined = () => globalThis.navigator?.gpu,
  demoModelFolder: () => URL = demoModelUrl,
) {
  let gpu: Promise<Gpu> | undefined;
  let gpuF16Disabled = false;
  let state: ModelState | undefined;
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
            state = undefined;
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

  const loadedModel = (): ModelState => {
    if (!state) throw new EngineStateError("No model is loaded: load one in the Model step first.");
    return state;
  };

  /** A step over the GPU and the loaded model, run exclusively. */
  const step =
    <R, P, T>(what: string, run: (gpu: Gpu, state: ModelState, request: R, job: Job<P>) => Promise<T>) =>
    (request: R, job: Job<P>): Promise<T> =>
      exclusive(what, async () => run(await device(), loadedModel(), request, job));

  return {
    gpu: async ({ disableF16 }: { disableF16?: boolean }, _job: Job<never>): Promise<GpuInfo> => (await device(disableF16)).info,

    loadModel: (request: ModelRequest, job: Job<Progress>) =>
      exclusive("loading a model", async () => {
        const g = await device();
        // The old model goes first: its GPU memory may be what the new one needs.
        if (state) releaseLlama(g, state.full);
        state = undefined;
        const { loaded, tokenizer, name } = await readModel(request, job, demoModelFolder);
        job.signal.throwIfAborted();
        job.progress({ phase: "uploading weights to the GPU", done: 0, total: 0, unit: "items" });
        const model = uploadLlama(g, loaded.weights);
        await g.sync();
        const card = modelCard(name, loaded, tokenizer);
        state = { model, full: model, loaded, weights: loaded.weights, tokenizer, card, fullCard: card };
        return card;
      }),

    generate: step("generating", (g, s, request: GenerateRequest, job: Job<GenerateDelta>) => generateText(g, s, request, job)),
    analyze: step("analyzing layers", (g, s, request: AnalyzeRequest, job: Job<Progress>) => analyzeJob(g, s, request, job)),
    prune: step("pruning", (g, s, request: PruneRequest, job: Job<Progress>) => pruneJob(g, s, request, job)),
    /** The model in use, with `adapter` folded in when given ("download merged model"). */
    exportModel: async ({ adapter, ...request }: ModelExportRequest & { adapter?: FoldableAdapter }, _job: Job<never>) => {
      const state = loadedModel();
      return exportModelFiles(state, request, adapter && foldedWeights(state, adapter, "the adapter"));
    },
    merge: step("merging", (g, s, request: MergeRequest, job: Job<Progress>) => merging.merge(g, s, request, job)),
    exportMerge: async (request: Pick<MergeRequest, "t" | "method">, _job: Job<never>) => merging.exportMerged(loadedModel(), request),
    speculate: step("speculating", (g, s, request: SpeculateRequest, job: Job<Progress>) => speculateJob(g, s, request, job)),
    distill: step("distilling", (g, s, request: DistillRequest, job: Job<DistillJobProgress>) => distillJob(g, s, request, job)),
    train: step("training", (g, s, request: TrainRequest, job: Job<TrainJobProgress>) => trainJob(g, s, request, job)),
    evaluate: step("evaluating", (g, s, request: EvaluateRequest, job: Job<Progress>) => evaluateJob(g, s, request, job)),
  };
}

/** The engine's steps by name; the worker's protocol is derived from this type. */
export type Engine = ReturnType<typeof createEngine>;

async function generateText(gpu: Gpu, state: ModelState, request: GenerateRequest, job: Job<GenerateDelta>): Promise<GenerateResult> {
  const { tokenizer, model } = state;
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
