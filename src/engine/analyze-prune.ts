/**
 * The engine's Analyze and Prune jobs: layer analysis of the full model on a calibration set, the
 * choice of blocks to drop (a view of the full model that shares its buffers) with a perplexity
 * check before and after, and the model in use as a Hugging Face folder.
 */
import { demoCalibrationRecords } from "../data/demo-calibration";
import { type ModelExportRequest, modelExportFiles } from "../export/model-export";
import type { Gpu } from "../gpu/context";
import type { ModelWeights } from "../model/host-tensor";
import type { LlamaGpu } from "../model/llama-gpu";
import { calibrationFromJsonl, calibrationFromText, encodeCalibration } from "../prune/calibration";
import { calibrationPerplexity } from "../prune/calibration-perplexity";
import { dropBlocks, dropBlocksFromWeights } from "../prune/drop-blocks";
import { analyzeLayers } from "../prune/layer-analysis";
import type { Job, Progress } from "./job";
import { type ModelState, prunedCard } from "./model-state";
import type { AnalyzeRequest, AnalyzeResult, ExportedFile, PruneRequest, PruneResult } from "./requests";

export async function analyzeJob(gpu: Gpu, state: ModelState, request: AnalyzeRequest, job: Job<Progress>): Promise<AnalyzeResult> {
  const { calibration } = request;
  const records =
    calibration.kind === "demo"
      ? demoCalibrationRecords(request.maxSamples)
      : calibration.kind === "text"
        ? calibrationFromText(calibration.text)
        : calibrationFromJsonl(calibration.text, calibration.name);
  const samples = encodeCalibration(state.tokenizer, records, {
    chatTemplate: request.chatTemplate,
    maxSamples: request.maxSamples,
    seqLen: Math.min(request.seqLen, state.full.config.maxPositionEmbeddings),
  });
  if (samples.length === 0) throw new Error("The calibration set holds no samples.");
  const analysis = await analyzeLayers(gpu, state.full, samples, {
    batchSize: request.batchSize,
    tokens: request.tokens,
    signal: job.signal,
    onProgress: (p) => job.progress({ phase: "measuring hidden states", done: p.samples, total: p.totalSamples, unit: "items" }),
  });
  state.calibration = samples;
  return { analysis, config: state.full.config };
}

export async function pruneJob(gpu: Gpu, state: ModelState, request: PruneRequest, job: Job<Progress>): Promise<PruneResult> {
  const { start, count } = request;
  const model = count === 0 ? state.full : dropBlocks(state.full, start, count);
  const perplexity = async (m: LlamaGpu, phase: string) => {
    job.progress({ phase, done: 0, total: 0, unit: "items" });
    return state.calibration ? calibrationPerplexity(gpu, m, state.calibration) : undefined;
  };
  const before = await perplexity(state.full, "perplexity of the full model");
  const after = await perplexity(model, "perplexity of the pruned model");
  state.model = model;
  state.pruned = count === 0 ? undefined : request;
  // The pruned host weights are cut once here; training, evaluation, merging and export read them.
  state.weights = count === 0 ? state.loaded.weights : dropBlocksFromWeights(state.loaded.weights, start, count);
  state.card = count === 0 ? state.fullCard : prunedCard(state.fullCard, state.weights, request);
  return { card: state.card, ...(before !== undefined && after !== undefined ? { perplexity: { before, after } } : {}) };
}

/** The model in use (pruned, or `weights` when an adapter was folded in) in the format and dtype asked for. */
export function exportModelFiles(state: ModelState, request: ModelExportRequest, weights?: ModelWeights): ExportedFile[] {
  const model = { ...state.loaded, weights: weights ?? state.weights };
  return [...modelExportFiles(model, request, state.card.name)].map(([name, bytes]) => ({ name, bytes }));
}
