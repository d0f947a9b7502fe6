/**
 * Loss and backward of a Llama from the activations `llamaTrainForward` kept: the cross-entropy
 * over the counted tokens (logits made and consumed a row chunk at a time, so a 49k vocabulary never
 * holds [tokens, vocab] twice), the final norm, the lm_head (tied or not), every block in reverse and
 * the embedding. Gradients are added into caller-owned tensors (micro-batches accumulate), either for
 * every weight (full mode, f32 weights) or for the LoRA adapters only (frozen base). Each activation
 * is released as soon as its last use is recorded, so memory falls as backward descends.
 */
import { createArena } from "../gpu/arena";
import type { Gpu } from "../gpu/context";
import { reshape, type Tensor } from "../gpu/tensor";
import { type LlamaGpu, type LlamaLayerWeight, layerWeights } from "../model/llama-gpu";
import { attentionBackward } from "../ops/attention";
import { crossEntropy, crossEntropyBackward } from "../ops/cross-entropy";
import { embeddingBackward } from "../ops/embedding";
import { loraLinearBackward } from "../ops/lora";
import { matmul } from "../ops/matmul";
import { rmsNorm, rmsNormBackward } from "../ops/rmsnorm";
import { ropePair } from "../ops/rope";
import { swiglu, swigluBackward } from "../ops/swiglu";
import { addInto } from "./add-into";
import { adapterMatrices, type LlamaLora, type LoraModule } from "./llama-lora";
import { adapterDropout, type TrainActivations, type TrainBatch } from "./llama-train-forward";

export type LayerGradients = Record<LlamaLayerWeight, Tensor>;

/** Gradients of every weight; `lmHead` is `embed` itself when the embeddings are tied. */
export interface FullGradients {
  embed: Tensor;
  layers: LayerGradients[];
  norm: Tensor;
  lmHead: Tensor;
}

export interface LoraModelGradients {
  layers: Partial<Record<LoraModule, { da: Tensor; db: Tensor }>>[];
  /** The buffer the gradients are views into, laid out as the adapters' arena, when they have one. */
  arena?: Tensor;
}

export type Gradients = { mode: "full"; grads: FullGradients } | { mode: "lora"; lora: LlamaLora; grads: LoraModelGradients };

/**
 * Logits (and their gradient) are made a chunk of rows at a time, under this many bytes unless that
 * would be fewer than `minLogitsRows` rows: small next to the activations, so peak memory stays near
 * its lower bound, yet enough rows per product to keep the lm_head matmul efficient.
 */
const logitsChunkBytes = 4 * 2 ** 20;
const minLogitsRows = 32;

/** Zeroed gradients for every weight of the model, which must be f32 on the GPU. */
export function createFullGradients(gpu: Gpu, model: LlamaGpu): FullGradients {
  const zerosLike = (t: Tensor) => {
    if (t.dtype !== "f32")
      throw new Error(`full-parameter training needs f32 weights; ${t.label} is ${t.dtype} (upload with weightDtype "f32")`);
    return gpu.zeros(t.shape, "f32", `${t.label}.grad`);
  };
  const single = (chunks: Tensor[], name: string) => {
    if (chunks.length !== 1) throw new Error(`full-parameter training needs ${name} in one storage binding`);
    return chunks[0];
  };
  const embed = zerosLike(single(model.embed.chunks, "the embedding"));
  return {
    embed,
    layers: model.layers.map((layer) => {
      const g = {} as LayerGradients;
      for (const [name, w] of layerWeights(layer)) g[name] = zerosLike(w);
      return g;
    }),
    norm: zerosLike(model.norm),
    lmHead: model.lmHead === model.embed ? embed : zerosLike(single(model.lmHead.chunks, "lm_head")),
  };
}

export function createLoraGradients(gpu: Gpu, lora: LlamaLora): LoraModelGradients {
  // Laid out as the adapters (when they are packed), so that AdamW pairs them element for element.
  const matrices = adapterMatrices(lora);
  const packed = lora.arena
    ? createArena(
        gpu,
        matrices.map((m) => ({ shape: m.tensor.shape, label: `${m.tensor.label}.grad` })),
        "lora.grad_arena",
      )
    : undefined;
  const grads = matrices.map((m, i) => packed?.views[i] ?? gpu.zeros(m.tensor.shape, "f32", `${m.tensor.label}.grad`));
  const layers: LoraModelGradients["layers"] = lora.layers.map(() => ({}));
  matrices.forEach((m, i) => {
    if (m.matrix === "a") layers[m.layer][m.module] = { da: grads[i], db: grads[i + 1] };
  });
  return { layers, arena: packed?.arena };
}

/** Frees the gradients (and their arena). */
export function releaseGradients(gpu: Gpu, g: Gradients): void {
  gpu.release(...gradientList(g));
  if (g.mode === "lora") gpu.release(g.grads.arena);
}

/** Every gradient tensor once (a tied head is not repeated), in a fixed order. */
export function gradientList(g: Gradients): Tensor[] {
  if (g.mode === "lora") return g.grads.layers.flatMap((layer) => Object.values(layer).flatMap(({ da, db }) => [da, db]));
  const { embed, layers, norm, lmHead } = g.grads;
  return [embed, ...layers.flatMap((l) => Object.values(l)), norm, ...(lmHead === embed ? [] : [lmHead])];
}

/**
 * Loss of the batch and backward through the whole model, adding into `gradients`. `count` is the
 * number of counted tokens the gradient is averaged over (the whole optimizer step's, when several
 * micro-batches accumulate). Consumes `acts`. Returns f32 [chunks, 2] rows of (mean loss, counted
 * tokens) to combine with `lossSum` after a read. `logitsRowsPerChunk` overrides the logits chunking (tests).
 */
export function llamaBackward(
  gpu: Gpu,
  model: LlamaGpu,
  acts: TrainActivations,
  batch: TrainBatch,
  gradients: Gradients,
  count: number,
  options: { logitsRowsPerChunk?: number } = {},
): Tensor {
  if (!(count > 0)) throw new Error(`llamaBackward: count must be positive (no token of the step is counted), got ${count}`);
  const full = gradients.mode === "full" ? gradients.grads : undefined;
  const { dx: dFinal, lossParts } = headBackward(gpu, model, acts, batch, count, full, options.logitsRowsPerChunk);
  let dx = dFinal;
  for (let l = model.layers.length - 1; l >= 0; l--) dx = layerBackward(gpu, model, acts, l, dx, gradients);
  if (full) embeddingBackward(gpu, dx, acts.ids, model.config.vocabSize, { accumulate: full.embed });
  gpu.release(dx, acts.positions);
  return lossParts;
}

/** Σ loss and Σ counted over the rows `llamaBackward` returned. */
export function lossSum(parts: ArrayLike<number>): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < parts.length; i += 2) {
    sum += parts[i] * parts[i + 1];
    count += parts[i + 1];
  }
  return { sum, count };
}

function headBackward(
  gpu: Gpu,
  model: LlamaGpu,
  acts: TrainActivations,
  batch: TrainBatch,
  count: number,
  full?: FullGradients,
  logitsRowsPerChunk?: number,
): { dx: Tensor; lossParts: Tensor } {
  if (model.lmHead.chunks.length !== 1) throw new Error("llamaBackward: lm_head must fit one storage binding to train");
  const head = model.lmHead.chunks[0];
  const [vocab, d] = head.shape;
  const n = acts.batch * acts.length;
  const { y: hf, rstd } = rmsNorm(gpu, acts.final, model.norm, model.config.rmsNormEps);
  const targets = Uint32Array.from(batch.targets.flat());
  const mask = Float32Array.from(batch.lossMask.flat());
  const maxBinding = gpu.limits.maxStorageBufferBindingSize;
  const rowsPerChunk = Math.min(
    n,
    logitsRowsPerChunk ?? Math.max(minLogitsRows, Math.floor(logitsChunkBytes / (vocab * 4))),
    Math.floor(maxBinding / (vocab * 4)),
  );
  const chunks = Math.ceil(n / rowsPerChunk);
  const lossParts = gpu.tensor([chunks, 2], "f32", "train.lossParts");
  const dHf = chunks === 1 ? undefined : gpu.tensor([n, d], "f32", "train.dHidden");
  let dHfSingle: Tensor | undefined;
  for (let c = 0; c < chunks; c++) {
    const r0 = c * rowsPerChunk;
    const rows = Math.min(rowsPerChunk, n - r0);
    let part = hf;
    if (chunks > 1) {
      part = gpu.tensor([rows, d], "f32", "train.hiddenRows");
      gpu.copy(hf, part, rows * d * 4, r0 * d * 4, 0);
    }
    const t = gpu.upload(targets.subarray(r0, r0 + rows), [rows], "u32", "train.targets");
    const m = gpu.upload(mask.subarray(r0, r0 + rows), [rows], "f32", "train.lossMask");
    const logits = matmul(gpu, part, head, { transB: true });
    const ce = crossEntropy(gpu, logits, t, m);
    const dLogits = crossEntropyBackward(gpu, logits, t, m, ce, { count });
    gpu.copy(ce.mean, lossParts, 4, 0, c * 8);
    gpu.copy(ce.counted, lossParts, 4, 0, c * 8 + 4);
    gpu.release(logits, t, m, ce.losses, ce.lse, ce.mean, ce.counted);
    if (full) matmul(gpu, dLogits, part, { transA: true, accumulate: full.lmHead });
    const dPart = matmul(gpu, dLogits, head);
    gpu.release(dLogits);
    if (dHf) {
      gpu.copy(dPart, dHf, rows * d * 4, 0, r0 * d * 4);
      gpu.release(dPart, part);
    } else {
      dHfSingle = dPart;
    }
  }
  const dHidden = dHf ?? (dHfSingle as Tensor);
  gpu.release(hf);
  const { dx, dw } = rmsNormBackward(gpu, dHidden, model.norm, { x: acts.final, rstd }, { weightGrad: full !== undefined });
  if (full && dw) addInto(gpu, full.norm, dw);
  gpu.release(dw, dHidden, rstd, acts.final);
  return { dx, lossParts };
}

/** Backward of block l given the gradient of its output; returns the gradient of its input. */
function layerBackward(gpu: Gpu, model: LlamaGpu, acts: TrainActivations, l: number, dOut: Tensor, gradients: Gradients): Tensor {
  const layer = model.layers[l];
  const a = acts.layers[l];
  const { headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv, rmsNormEps: eps } = model.config;
  const n = acts.batch * acts.length;
  const full = gradients.mode === "full" ? gradients.grads.layers[l] : undefined;
  /** dy [n, out] of the projection of `input` [n, in]; the input's gradient, added into `into` when given. */
  const projectBackward = (m: LoraModule, dy: Tensor, input: Tensor | undefined, into?: Tensor): Tensor => {
    const w = layer[m];
    const adapter = gradients.mode === "lora" ? gradients.lora.layers[l][m] : undefined;
    const adapterGrads = gradients.mode === "lora" ? gradients.grads.layers[l][m] : undefined;
    const h = a.loraH[m];
    if (adapter && adapterGrads && h && input) {
      const saved = { x: input, h, dropout: adapterDropout(acts.lora, l, m) };
      const { dx } = loraLinearBackward(gpu, dy, w, adapter, saved, { ...adapterGrads, dx: into });
      gpu.release(h);
      return dx;
    }
    if (full && input) matmul(gpu, dy, input, { transA: true, accumulate: full[m] });
    return matmul(gpu, dy, w, { accumulate: into });
  };
  // dx is added into the residual stream's gradient by the kernel itself; dw only where the norm trains.
  const normBackward = (dy: Tensor, x: Tensor, w: Tensor, rstd: Tensor, grad: Tensor | undefined, into: Tensor) => {
    const { dw } = rmsNormBackward(gpu, dy, w, { x, rstd }, { accumulateDx: into, weightGrad: grad !== undefined });
    if (grad && dw) addInto(gpu, grad, dw);
    gpu.release(rstd, dw);
  };
  /** Whether projectBackward reads the projection's input: for its weight's or its adapter's gradient. */
  const needsInput = (m: LoraModule) => full !== undefined || a.loraH[m] !== undefined;

  // MLP: next = mid + down(swiglu(gate(h2), up(h2))), h2 = norm(mid). dOut becomes d(mid) in place.
  // The SwiGLU product is recomputed only when down's weight or adapter gradient needs it.
  const act = needsInput("down") ? swiglu(gpu, a.gate, a.up) : undefined;
  const dAct = projectBackward("down", dOut, act);
  gpu.release(act);
  const { dGate, dUp } = swigluBackward(gpu, dAct, a.gate, a.up);
  gpu.release(dAct, a.gate, a.up);
  const n2 = rmsNorm(gpu, a.mid, layer.postNorm, eps);
  const dh2 = projectBackward("up", dUp, n2.y, projectBackward("gate", dGate, n2.y));
  gpu.release(dGate, dUp, n2.y);
  normBackward(dh2, a.mid, layer.postNorm, n2.rstd, full?.postNorm, dOut);
  gpu.release(dh2, a.mid, n2.rstd);

  // Attention: mid = x + o(attention(rope(q(h1)), rope(k(h1)), v(h1))), h1 = norm(x). dOut becomes d(x).
  const dAttn = projectBackward("o", dOut, reshape(a.out, [n, hq * hd]));
  const { dq, dk, dv } = attentionBackward(gpu, reshape(dAttn, a.q.shape), {
    q: a.q,
    k: a.k,
    v: a.v,
    out: a.out,
    lse: a.lse,
    window: model.config.slidingWindow,
  });
  gpu.release(dAttn, a.q, a.k, a.v, a.out, a.lse);
  const [dqRaw, dkRaw] = ropePair(
    gpu,
    reshape(dq, [n, hq, hd]),
    reshape(dk, [n, hkv, hd]),
    acts.positions,
    model.invFreq,
    model.config.ropeInterleaved,
    -1,
  );
  gpu.release(dq, dk);
  const n1 = rmsNorm(gpu, a.x, layer.inputNorm, eps);
  let dh1 = projectBackward("q", reshape(dqRaw, [n, hq * hd]), n1.y);
  dh1 = projectBackward("k", reshape(dkRaw, [n, hkv * hd]), n1.y, dh1);
  dh1 = projectBackward("v", reshape(dv, [n, hkv * hd]), n1.y, dh1);
  gpu.release(dqRaw, dkRaw, dv, n1.y);
  // The first block's input is the frozen embedding in LoRA mode: its gradient is not needed.
  if (full || l > 0) normBackward(dh1, a.x, layer.inputNorm, n1.rstd, full?.inputNorm, dOut);
  gpu.release(dh1, a.x, n1.rstd);
  return dOut;
}
