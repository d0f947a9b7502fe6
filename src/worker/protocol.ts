/** The engine's methods as the UI calls them through the worker: what each takes, reports and returns. */
import type { ModelExportRequest } from "../export/model-export";
import type { GpuInfo } from "../gpu/context";
import type { MergeRequest, MergeResult } from "../merge/merge-jobs";
import type { LlamaConfig } from "../model/config";
import type { DistanceTokens, LayerAnalysis } from "../prune/layer-analysis";
import type { SpeculateRequest, SpeculateResult } from "../spec/speculate-job";
import type { DistillJobProgress, DistillJobResult, DistillRequest } from "./distill-jobs";
import type { EvaluatedModel, EvaluateRequest, FoldableAdapter } from "./eval-jobs";
import type { RpcClient } from "./rpc";
import type { TrainedAdapter, TrainJobProgress, TrainRequest } from "./train-jobs";

/** A file the user picked, with its path inside a picked folder ("" folder part for a single file). */
export interface PickedFile {
  path: string;
  file: File;
}

export type ModelRequest =
  | { kind: "demo" }
  | { kind: "hub"; repo: string; revision: string; endpoint: string }
  | { kind: "files"; files: PickedFile[] };

/** What the model card shows. */
export interface ModelCard {
  name: string;
  /** Where it came from, e.g. "Hugging Face folder", "GGUF", "llama2.c", "Hub: owner/repo". */
  format: string;
  architecture: string;
  parameters: number;
  weightBytes: number;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  contextLength: number;
  dtypes: string[];
  hasChatTemplate: boolean;
}

/** Progress of a long job; `total` 0 means unknown. */
export interface Progress {
  phase: string;
  done: number;
  total: number;
  unit: "bytes" | "tokens" | "items";
}

export interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export type GenerateRequest = ({ mode: "completion"; prompt: string } | { mode: "chat"; messages: ChatMessage[] }) & { sampling: Sampling };

/** Streamed while generating: the text added since the last event. */
export interface GenerateDelta {
  text: string;
  tokens: number;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  promptTokens: number;
  seconds: number;
  stopReason: "eos" | "length";
}

/** What `analyze` measures the loaded (full) model on; "demo": prose of the demo world (src/data/demo-calibration.ts). */
export type CalibrationInput = { kind: "text"; text: string } | { kind: "jsonl"; name: string; text: string } | { kind: "demo" };

export interface AnalyzeRequest {
  calibration: CalibrationInput;
  chatTemplate: boolean;
  maxSamples: number;
  seqLen: number;
  batchSize: number;
  tokens: DistanceTokens;
}

export interface AnalyzeResult {
  analysis: LayerAnalysis;
  /** The full model's config, for parameter and FLOP accounting of each choice. */
  config: LlamaConfig;
}

/** Drop blocks start … start+count−1 of the full model (count 0: back to the full model). */
export interface PruneRequest {
  start: number;
  count: number;
}

export interface PruneResult {
  card: ModelCard;
  /** Perplexity on the last analysis's calibration samples, before and after; absent without an analysis. */
  perplexity?: { before: number; after: number };
}

/** A file to download, e.g. one of the pruned model's Hugging Face folder. */
export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
}

export interface EngineMethods {
  gpu: { params: { disableF16?: boolean }; progress: never; result: GpuInfo };
  loadModel: { params: ModelRequest; progress: Progress; result: ModelCard };
  generate: { params: GenerateRequest; progress: GenerateDelta; result: GenerateResult };
  analyze: { params: AnalyzeRequest; progress: Progress; result: AnalyzeResult };
  prune: { params: PruneRequest; progress: Progress; result: PruneResult };
  /** The model in use, with `adapter` folded in when given ("download merged model"). */
  exportModel: { params: ModelExportRequest & { adapter?: FoldableAdapter }; progress: never; result: ExportedFile[] };
  speculate: { params: SpeculateRequest; progress: Progress; result: SpeculateResult };
  merge: { params: MergeRequest; progress: Progress; result: MergeResult };
  exportMerge: { params: Pick<MergeRequest, "t" | "method">; progress: never; result: ExportedFile[] };
  distill: { params: DistillRequest; progress: DistillJobProgress; result: DistillJobResult };
  train: { params: TrainRequest; progress: TrainJobProgress; result: TrainedAdapter };
  evaluate: { params: EvaluateRequest; progress: Progress; result: EvaluatedModel[] };
}

export type EngineClient = RpcClient<EngineMethods>;
