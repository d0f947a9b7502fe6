/**
 * GPU-hours and peak memory of each step of a recipe, from Prunelab's own accounting of the target
 * model (src/prune/accounting.ts: parameters, FLOPs per token, KV-cache bytes) and stated
 * assumptions about the hardware. These are planning numbers, upper bounds where the data's sizes
 * are unknown (every prompt taken as long as lora.maxLength, every rewrite as long as
 * distill.maxNewTokens); a step is costed by its compute at `computeUtilisation` of peak or, for
 * decoding, by reading the weights once per step at `bandwidthUtilisation`, whichever is slower.
 */
import type { Experiment } from "../../experiment/experiment";
import type { LlamaConfig } from "../../model/config";
import { accountModel, configWithoutBlocks } from "../../prune/accounting";
import type { LeaderboardTask } from "./openllm-tasks";

export interface Gpu {
  name: string;
  /** Dense bf16 tensor throughput, FLOP/s. */
  bf16Flops: number;
  memoryBytes: number;
  /** HBM bandwidth, bytes/s. */
  bandwidth: number;
}

export const assumedGpu: Gpu = { name: "NVIDIA H100 80GB SXM", bf16Flops: 989e12, memoryBytes: 80 * 2 ** 30, bandwidth: 3.35e12 };

/** Fractions of peak that tuned training and prefill kernels, and memory-bound decoding, reach. */
export const computeUtilisation = 0.4;
export const bandwidthUtilisation = 0.6;
/** Sequences vLLM decodes together (its max_num_seqs default). */
export const decodeConcurrency = 256;
/** LoRA weights, their gradients and AdamW's two moments, in f32. */
const loraBytesPerParameter = 16;
/**
 * Activation bytes per token of the one block recomputed under gradient checkpointing, bf16:
 * attention's q, k, v, output and the MLP's gate, up and product, with norms, ≈ 10·hidden + 3·intermediate values.
 */
const blockActivationValues = (c: LlamaConfig) => 10 * c.hiddenSize + 3 * c.intermediateSize;

export interface StepEstimate {
  step: string;
  /** GPUs the step runs on. */
  gpus: number;
  gpuHours: number;
  /** Peak memory of one GPU (0 for steps on the CPU). */
  peakBytesPerGpu: number;
  /** Host memory the step needs, for CPU steps. */
  hostBytes?: number;
  /** What the numbers assume. */
  basis: string;
}

export interface EstimateInput {
  config: LlamaConfig;
  block: { start: number; count: number };
  experiment: Experiment;
  gpusPerNode: number;
  nodes: number;
  /** Examples the distillation and training see (the manifest's distill.count). */
  examples: number;
  tasks: readonly LeaderboardTask[];
  /** Models evaluated: the original, the pruned one, both fine-tunes and their merge. */
  evaluatedModels: number;
}

const hours = (seconds: number) => seconds / 3600;
const computeSeconds = (flops: number, gpu: Gpu) => flops / (gpu.bf16Flops * computeUtilisation);
const readSeconds = (bytes: number, gpu: Gpu) => bytes / (gpu.bandwidth * bandwidthUtilisation);

/** LoRA parameters of one block for the targeted projections (PEFT's A: r × in, B: out × r). */
export function loraParametersPerBlock(c: LlamaConfig, modules: readonly string[], rank: number): number {
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const shapes: Record<string, [number, number]> = {
    q: [c.hiddenSize, q],
    k: [c.hiddenSize, kv],
    v: [c.hiddenSize, kv],
    o: [q, c.hiddenSize],
    gate: [c.hiddenSize, c.intermediateSize],
    up: [c.hiddenSize, c.intermediateSize],
    down: [c.intermediateSize, c.hiddenSize],
  };
  return modules.reduce((sum, m) => sum + (shapes[m] ? rank * (shapes[m][0] + shapes[m][1]) : 0), 0);
}

export function estimateSteps(input: EstimateInput, loraModules: readonly string[], gpu: Gpu = assumedGpu): StepEstimate[] {
  const { config, block, experiment, gpusPerNode, nodes, examples, tasks } = input;
  const world = gpusPerNode * nodes;
  const pruned = configWithoutBlocks(config, block.start, block.count);
  const { calibration, distill, lora } = experiment;

  const seqLen = Math.min(calibration.maxTokens, config.maxPositionEmbeddings);
  const full = accountModel(config, { contextLength: seqLen });
  const analyzeFlops = full.flopsPerToken * calibration.samples * seqLen;
  // Every hidden state (L + 1) and the logits of a batch, bf16.
  const analyzeActivations = calibration.batchSize * seqLen * ((config.numHiddenLayers + 1) * config.hiddenSize + config.vocabSize) * 2;

  const promptTokens = lora.maxLength;
  const distillContext = promptTokens + distill.maxNewTokens;
  const teacher = accountModel(config, { contextLength: distillContext, batch: Math.min(examples, decodeConcurrency) });
  const distillCompute = computeSeconds(teacher.flopsPerToken * examples * distillContext, gpu);
  const distillRead = readSeconds(teacher.bytes, gpu) * Math.ceil(examples / decodeConcurrency) * distill.maxNewTokens;

  const student = accountModel(pruned, { contextLength: lora.maxLength });
  const trainTokens = lora.steps * lora.batchSize * lora.maxLength;
  // Forward, backward through the activations (no weight gradients for the frozen base), and the recomputed forward.
  const trainFlops = 3 * student.flopsPerToken * trainTokens;
  const perDevice = Math.max(1, Math.floor(lora.batchSize / world));
  const loraParameters = loraParametersPerBlock(pruned, loraModules, lora.rank) * pruned.numHiddenLayers;
  const trainActivations =
    perDevice * lora.maxLength * ((pruned.numHiddenLayers * pruned.hiddenSize + blockActivationValues(pruned)) * 2 + pruned.vocabSize * 4);
  const trainPeak = student.bytes / world + (loraParameters * loraBytesPerParameter) / world + trainActivations;

  let evalSeconds = 0;
  for (const [i, model] of [config, pruned].entries()) {
    const runs = i === 0 ? 1 : input.evaluatedModels - 1;
    for (const t of tasks) {
      const account = accountModel(model, { contextLength: t.tokensPerRequest + t.generatedTokens });
      const prefill = computeSeconds(account.flopsPerToken * t.items * t.requestsPerItem * t.tokensPerRequest, gpu);
      const decode = readSeconds(account.bytes, gpu) * Math.ceil(t.items / decodeConcurrency) * t.generatedTokens;
      evalSeconds += runs * (prefill + decode);
    }
  }
  const longest = Math.max(...tasks.map((t) => t.tokensPerRequest + t.generatedTokens));
  const evalKv = accountModel(config, { contextLength: longest, batch: decodeConcurrency }).kvCacheBytes;

  const speculateTokens = experiment.sampling.maxTokens;
  const draft = accountModel(pruned, { contextLength: speculateTokens });
  const target = accountModel(config, { contextLength: speculateTokens });

  return [
    {
      step: "analyze",
      gpus: gpusPerNode,
      gpuHours: hours(computeSeconds(analyzeFlops, gpu)),
      peakBytesPerGpu: full.bytes + analyzeActivations,
      basis: `${calibration.samples} samples × ${seqLen} tokens, one forward; each process holds the whole model`,
    },
    {
      step: "prune",
      gpus: 0,
      gpuHours: 0,
      peakBytesPerGpu: 0,
      hostBytes: full.bytes,
      basis: "mergekit copies the kept blocks' tensors on the CPU",
    },
    {
      step: "distill",
      gpus: gpusPerNode,
      gpuHours: hours(Math.max(distillCompute, distillRead)),
      peakBytesPerGpu: (teacher.bytes + teacher.kvCacheBytes) / gpusPerNode,
      basis: `${examples} prompts ≤ ${promptTokens} tokens, ≤ ${distill.maxNewTokens} new tokens each, ${decodeConcurrency} decoded together, tensor parallel over ${gpusPerNode}`,
    },
    ...["train SFT", "train SDD"].map((step) => ({
      step,
      gpus: world,
      gpuHours: hours(computeSeconds(trainFlops, gpu)),
      peakBytesPerGpu: trainPeak,
      basis: `${lora.steps} steps × batch ${lora.batchSize} × ${lora.maxLength} tokens, sharded over ${world} GPUs, gradient checkpointing, f32 logits`,
    })),
    {
      step: "evaluate",
      gpus: gpusPerNode,
      gpuHours: hours(evalSeconds),
      peakBytesPerGpu: (full.bytes + evalKv) / gpusPerNode,
      basis: `${input.evaluatedModels} models × ${tasks.length} tasks (${tasks.map((t) => t.task).join(", ")})`,
    },
    {
      step: "merge",
      gpus: 0,
      gpuHours: 0,
      peakBytesPerGpu: 0,
      hostBytes: 3 * student.bytes,
      basis: "mergekit SLERP on the CPU: both fine-tunes and the result",
    },
    {
      step: "speculate",
      gpus: gpusPerNode,
      gpuHours: hours(readSeconds(target.bytes + draft.bytes, gpu) * speculateTokens),
      peakBytesPerGpu: (target.bytes + draft.bytes + target.kvCacheBytes + draft.kvCacheBytes) / gpusPerNode,
      basis: `one prompt, ${speculateTokens} tokens; target and draft each read once per token (an upper bound)`,
    },
  ];
}
