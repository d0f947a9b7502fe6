/**
 * The training forward of a Llama over a right-padded batch: the same computation as
 * `llamaForward`, but every activation the backward needs is kept, and projections may carry LoRA
 * adapters (with dropout). What is kept per block and token: the block input and the residual after
 * attention (d each), rotated q and k, v and the attention output, the log-sum-exp per head, the MLP's
 * gate and up (intermediate each), and each adapter's rank-r activation. Normalised inputs and the
 * SwiGLU product are recomputed in backward: one cheap pass each instead of 2d + intermediate floats.
 */
import type { Gpu } from "../gpu/context";
import { reshape, type Tensor } from "../gpu/tensor";
import type { LlamaGpu } from "../model/llama-gpu";
import { attention } from "../ops/attention";
import { addBias } from "../ops/bias-add";
import { embedding } from "../ops/embedding";
import { type LoraDropout, loraLinear } from "../ops/lora";
import { matmul } from "../ops/matmul";
import { rmsNorm } from "../ops/rmsnorm";
import { ropePair } from "../ops/rope";
import { swiglu } from "../ops/swiglu";
import { addInto } from "./add-into";
import { type LlamaLora, type LoraModule, moduleSeed } from "./llama-lora";

/**
 * One micro-batch: inputs[b][t] predicts targets[b][t], counted in the loss where lossMask[b][t] = 1.
 * Rows are right-padded to a common length; causal attention keeps real tokens from seeing padding.
 */
export interface TrainBatch {
  inputs: readonly (readonly number[])[];
  targets: readonly (readonly number[])[];
  lossMask: readonly (readonly number[])[];
}

/** Adapters to run, and the dropout draw of this micro-batch (none: evaluation, no dropout). */
export interface LoraTraining {
  lora: LlamaLora;
  /** seed (u32) and step (u32 counter of micro-batches): each micro-batch draws new masks. */
  dropout?: { seed: number; step: number };
}

export interface LayerActivations {
  /** Block input [n, d]. */
  x: Tensor;
  /** Residual after attention [n, d]. */
  mid: Tensor;
  /** Rotated [B, T, Hq, D], rotated [B, T, Hkv, D], [B, T, Hkv, D]. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** Attention output [B, T, Hq, D] and lse [B, Hq, T]. */
  out: Tensor;
  lse: Tensor;
  /** [n, intermediate] each. */
  gate: Tensor;
  up: Tensor;
  /** Each adapter's rank-r activation [n, r]. */
  loraH: Partial<Record<LoraModule, Tensor>>;
}

export interface TrainActivations {
  batch: number;
  length: number;
  ids: Uint32Array;
  positions: Tensor;
  layers: LayerActivations[];
  /** Output of the last block [n, d], before the final norm. */
  final: Tensor;
  lora?: LoraTraining;
}

/** Checks the batch's shape and ids; returns B and T. */
function checkTrainBatch(model: LlamaGpu, batch: TrainBatch): { b: number; t: number } {
  const b = batch.inputs.length;
  const t = batch.inputs[0]?.length ?? 0;
  if (b === 0 || t === 0) throw new Error("llamaTrainForward: inputs is empty");
  for (const name of ["targets", "lossMask"] as const) {
    const rows = batch[name];
    if (rows.length !== b || rows.some((r) => r.length !== t)) {
      throw new Error(`llamaTrainForward: ${name} must be ${b}×${t} like inputs, got rows of ${rows.map((r) => r.length).join("/")}`);
    }
  }
  const vocab = model.config.vocabSize;
  for (const name of ["inputs", "targets"] as const) {
    const bad = batch[name].flat().find((id) => !(Number.isInteger(id) && id >= 0 && id < vocab));
    if (bad !== undefined) throw new Error(`llamaTrainForward: ${name} id ${bad} is outside the vocabulary (0…${vocab - 1})`);
  }
  return { b, t };
}

/** The dropout of one adapter in one micro-batch, or none. */
export function adapterDropout(training: LoraTraining | undefined, layer: number, module: LoraModule): LoraDropout | undefined {
  const draw = training?.dropout;
  if (!training || !draw || training.lora.config.dropout === 0) return undefined;
  return { p: training.lora.config.dropout, seed: moduleSeed(draw.seed, layer, module), step: draw.step >>> 0 };
}

/** Runs the batch through the model keeping activations; release them with `llamaBackward` (or `releaseActivations`). */
export function llamaTrainForward(gpu: Gpu, model: LlamaGpu, batch: TrainBatch, lora?: LoraTraining): TrainActivations {
  const { b, t } = checkTrainBatch(model, batch);
  const { config } = model;
  if (model.embed.chunks.length !== 1) throw new Error("llamaTrainForward: the embedding table must fit one storage binding to train");
  if (lora && lora.lora.layers.length !== model.layers.length) {
    throw new Error(`llamaTrainForward: the adapters are for ${lora.lora.layers.length} blocks, the model has ${model.layers.length}`);
  }
  const n = b * t;
  const { headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv, rmsNormEps: eps } = config;
  const ids = Uint32Array.from(batch.inputs.flat());
  const positions = gpu.upload(
    Uint32Array.from({ length: n }, (_, i) => i % t),
    [n],
    "u32",
    "train.positions",
  );
  let x = embedding(gpu, ids, model.embed.chunks[0]);
  const layers = model.layers.map((layer, l): LayerActivations => {
    const loraH: LayerActivations["loraH"] = {};
    /** input·Wᵀ (with the adapter, if any); plus `residual` when given, which stays as it was. */
    const project = (m: LoraModule, input: Tensor, residual?: Tensor) => {
      const adapter = lora?.lora.layers[l][m];
      const w = layer[m];
      if (!adapter) {
        // The residual add rides on the product's accumulate path: a copy instead of an addInto launch.
        const into = residual && gpu.tensor(residual.shape, "f32", "train.residual");
        if (residual && into) gpu.copy(residual, into);
        return matmul(gpu, input, w, { transB: true, accumulate: into });
      }
      const { y, saved } = loraLinear(gpu, input, w, adapter, adapterDropout(lora, l, m));
      loraH[m] = saved.h;
      return residual ? addInto(gpu, y, residual) : y;
    };
    const h1 = normed(gpu, x, layer.inputNorm, eps);
    // Qwen2's frozen biases shift the outputs only, so the backward needs nothing of them.
    const projectBiased = (m: "q" | "k" | "v") => {
      const y = project(m, h1);
      return layer.bias ? addBias(gpu, y, layer.bias[m]) : y;
    };
    // q and k rotated in one launch.
    const qRaw = reshape(projectBiased("q"), [n, hq, hd]);
    const kRaw = reshape(projectBiased("k"), [n, hkv, hd]);
    const [qRot, kRot] = ropePair(gpu, qRaw, kRaw, positions, model.invFreq, config.ropeInterleaved);
    gpu.release(qRaw, kRaw);
    const q = reshape(qRot, [b, t, hq, hd]);
    const k = reshape(kRot, [b, t, hkv, hd]);
    const v = reshape(projectBiased("v"), [b, t, hkv, hd]);
    gpu.release(h1);
    const { out, lse } = attention(gpu, q, k, v, { window: config.slidingWindow });
    const mid = project("o", reshape(out, [n, hq * hd]), x);
    const h2 = normed(gpu, mid, layer.postNorm, eps);
    const gate = project("gate", h2);
    const up = project("up", h2);
    gpu.release(h2);
    const act = swiglu(gpu, gate, up);
    const next = project("down", act, mid);
    gpu.release(act);
    const saved = { x, mid, q, k, v, out, lse, gate, up, loraH };
    x = next;
    return saved;
  });
  return { batch: b, length: t, ids, positions, layers, final: x, lora };
}

/** Frees what the forward kept (for a forward whose backward is not run, e.g. evaluation of the loss). */
export function releaseActivations(gpu: Gpu, acts: TrainActivations): void {
  for (const a of acts.layers) gpu.release(a.x, a.mid, a.q, a.k, a.v, a.out, a.lse, a.gate, a.up, ...Object.values(a.loraH));
  gpu.release(acts.positions, acts.final);
}

export function normed(gpu: Gpu, x: Tensor, w: Tensor, eps: number): Tensor {
  const { y, rstd } = rmsNorm(gpu, x, w, eps);
  gpu.release(rstd);
  return y;
}
