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
import type { LoadedModel } from "../model/load-model-files";
import { memoryReport } from "../model/memory-report";
import type { Tokenizer } from "../model/tokenizer";
import { calibrationFromJsonl, calibrationFromText, encodeCalibration } from "../prune/calibration";
import { calibrationPerplexity } from "../prune/calibration-perplexity";
import { dropBlocks, dropBlocksFromWeights } from "../prune/drop-blocks";
import { analyzeLayers } from "../prune/layer-analysis";
import type { AnalyzeRequest, AnalyzeResult, ExportedFile, ModelCard, Progress, PruneRequest, PruneResult } from "./protocol";
import type { Job } from "./rpc";

/** The loaded model as these jobs see it; the engine holds one. */
export interface PrunableModel {
  /** What generation and the later steps use: `full`, or a pruned view of it. */
  model: LlamaGpu;
  /** The model as loaded; the only one to release. */
  full: LlamaGpu;
  loaded: LoadedModel;
  tokenizer: Tokenizer;
  card: ModelCard;
  fullCard: ModelCard;
  pruned?: PruneRequest;
  /** The last analysis's samples, for the perplexity check. */
  calibration?: number[][];
}

export async function analyzeJob(gpu: Gpu, ready: PrunableModel, request: AnalyzeRequest, job: Job<Progress>): Promise<AnalyzeResult> {
  const { calibration } = request;
  const records =
    calibration.kind === "demo"
      ? demoCalibrationRecords(request.maxSamples)
      : calibration.kind === "text"
        ? calibrationFromText(calibration.text)
        : calibrationFromJsonl(calibration.text, calibration.name);
  const samples = encodeCalibration(ready.tokenizer, records, {
    chatTemplate: request.chatTemplate,
    maxSamples: request.maxSamples,
    seqLen: Math.min(request.seqLen, ready.full.config.maxPositionEmbeddings),
  });
  if (samples.length === 0) throw new Error("The calibration set holds no samples.");
  const analysis = await analyzeLayers(gpu, ready.full, samples, {
    batchSize: request.batchSize,
    tokens: request.tokens,
    signal: job.signal,
    onProgress: (p) => job.progress({ phase: "measuring hidden states", done: p.samples, total: p.totalSamples, unit: "items" }),
  });
  ready.calibration = samples;
  return { analysis, config: ready.full.config };
}

export async function pruneJob(gpu: Gpu, ready: PrunableModel, request: PruneRequest, job: Job<Progress>): Promise<PruneResult> {
  const { start, count } = request;
  const model = count === 0 ? ready.full : dropBlocks(ready.full, start, count);
  const perplexity = async (m: LlamaGpu, phase: string) => {
    job.progress({ phase, done: 0, total: 0, unit: "items" });
    return ready.calibration ? calibrationPerplexity(gpu, m, ready.calibration) : undefined;
  };
  const before = await perplexity(ready.full, "perplexity of the full model");
  const after = await perplexity(model, "perplexity of the pruned model");
  ready.model = model;
  ready.pruned = count === 0 ? undefined : request;
  ready.card = count === 0 ? ready.fullCard : prunedCard(ready, start, count);
  return { card: ready.card, ...(before !== undefined && after !== undefined ? { perplexity: { before, after } } : {}) };
}

/** The model in use (pruned, and with `weights` when an adapter was folded in) in the format and dtype asked for. */
export function exportModelFiles(ready: PrunableModel, request: ModelExportRequest, weights?: ModelWeights): ExportedFile[] {
  const { loaded, pruned } = ready;
  const model = {
    ...loaded,
    weights: weights ?? (pruned ? dropBlocksFromWeights(loaded.weights, pruned.start, pruned.count) : loaded.weights),
  };
  return [...modelExportFiles(model, request, ready.card.name)].map(([name, bytes]) => ({ name, bytes }));
}

function prunedCard(ready: PrunableModel, start: number, count: number): ModelCard {
  const weights = dropBlocksFromWeights(ready.loaded.weights, start, count);
  const report = memoryReport(weights);
  const blocks = count === 1 ? `block ${start}` : `blocks ${start}–${start + count - 1}`;
  return {
    ...ready.fullCard,
    name: `${ready.fullCard.name} without ${blocks}`,
    layers: weights.config.numHiddenLayers,
    parameters: report.parameters,
    weightBytes: report.weightBytes,
  };
}
