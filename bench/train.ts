/**
 * LoRA training-step throughput (tokens/s) and peak GPU memory of the WebGPU trainer, against the
 * same step written with tfjs autodiff on the same adapter, for a demo-sized Llama and a
 * SmolLM2-135M-shaped one (random weights: speed and memory do not depend on the values).
 *
 *   npm run bench:train [-- --quick] [-- --only demo|smollm] [-- --no-tfjs]
 *
 * `trainCase` is also one row of `npm run bench` (bench/all.ts), full-parameter steps included.
 *
 * Memory is compared with a lower bound: the weights, the LoRA parameters with their gradients and
 * AdamW moments, and the activations backward needs (what `llamaTrainForward` keeps: block input and
 * mid residual, rotated q and k, v, attention output and lse, gate and up, each adapter's r values).
 */
// Before anything that imports webgpu-utils (it reads Float16Array and the GPU globals on import).
import "../src/gpu/node-globals";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { Gpu } from "../src/gpu/context";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { type Tensor, tensorBytes } from "../src/gpu/tensor";
import type { LlamaConfig } from "../src/model/config";
import type { HostTensor } from "../src/model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { type RandomLlamaShape, randomLlama } from "../src/model/random-llama";
import { mulberry32 } from "../src/seeded-random";
import { createLlamaLora, type LoraConfig, type LoraModule, peftKey, releaseLlamaLora } from "../src/train/llama-lora";
import { readTensors } from "../src/train/parameters";
import { makeBatch, type TrainConfig, type TrainExample, trainModel } from "../src/train/train-loop";
import { demoSizedShape, smolLM2Shape } from "./bench-shapes";
import { isMain } from "./is-main";
import { registerTfjsGradients, tfjsLoraStep } from "./train-tfjs";

const seqLength = 128;
export const loraTargets: Record<string, LoraModule[]> = { "q,v": ["q", "v"], all: ["q", "k", "v", "o", "gate", "up", "down"] };

/** One batch of sequences of 129 tokens (128 inputs), the second half counted, as a response would be. */
function benchDataset(vocab: number, batchSize: number): TrainExample[] {
  const random = mulberry32(99);
  return Array.from({ length: batchSize }, () => {
    const tokens = Array.from({ length: seqLength + 1 }, () => Math.floor(random() * vocab));
    return { tokens, lossMask: tokens.map((_, t) => (t > seqLength / 2 ? 1 : 0)) };
  });
}

function loraParameterCount(model: LlamaGpu, modules: readonly LoraModule[], rank: number): number {
  return model.layers.reduce((s, layer) => s + modules.reduce((t, m) => t + rank * (layer[m].shape[0] + layer[m].shape[1]), 0), 0);
}

function lowerBoundBytes(model: LlamaGpu, c: LlamaConfig, lora: LoraConfig, n: number): number {
  const layerBytes = model.layers.reduce((s, l) => s + Object.values(l).reduce((t, w) => t + tensorBytes(w.shape, w.dtype), 0), 0);
  const chunkBytes = (chunks: LlamaGpu["embed"]["chunks"]) => chunks.reduce((s, w) => s + tensorBytes(w.shape, w.dtype), 0);
  const weights =
    layerBytes +
    chunkBytes(model.embed.chunks) +
    (model.lmHead === model.embed ? 0 : chunkBytes(model.lmHead.chunks)) +
    tensorBytes(model.norm.shape, "f32") +
    tensorBytes(model.invFreq.shape, "f32");
  // Parameters, gradients, AdamW m and v.
  const loraBytes = 4 * 4 * loraParameterCount(model, lora.modules, lora.rank);
  const perToken = 2 * c.hiddenSize + 2 * c.numAttentionHeads * c.headDim + 2 * c.numKeyValueHeads * c.headDim + 2 * c.intermediateSize;
  const perTokenLayer = perToken + c.numAttentionHeads + lora.rank * lora.modules.length;
  const activations = 4 * n * (c.numHiddenLayers * perTokenLayer + c.hiddenSize);
  return weights + loraBytes + activations;
}

export interface TrainCase {
  shape: RandomLlamaShape;
  batch: number;
  mode: "lora" | "full";
  /** LoRA mode: the adapted projections (rank 8, alpha 16). */
  modules?: LoraModule[];
  warmupSteps: number;
  timedSteps: number;
  /** Also time the same LoRA step in tfjs autodiff (LoRA mode only). */
  tfjs?: typeof TfCore;
  label: string;
}

export interface TrainResultRow {
  tokens: number;
  /** Tokens/s of the best timed step. */
  ours: number;
  tfjs?: number;
  lossOurs: number;
  lossTfjs?: number;
  params: number;
  peak: number;
  /** LoRA mode: the lower bound of the memory a step needs (see the module comment). */
  bound?: number;
  /** Kernel launches of one optimizer step. */
  dispatches: number;
}

/** One training case on a fresh device (so its peak memory is its own), and optionally tfjs's same step. */
export async function trainCase(dawn: GPU, c: TrainCase): Promise<TrainResultRow> {
  const weights = randomLlama(c.shape, 1);
  const tokens = c.batch * seqLength;
  const dataset = benchDataset(c.shape.vocabSize, c.batch);
  const lora: LoraConfig | undefined = c.mode === "lora" ? { rank: 8, alpha: 16, dropout: 0, modules: c.modules ?? ["q", "v"] } : undefined;
  const config: TrainConfig = {
    mode: c.mode,
    lora,
    steps: c.warmupSteps + c.timedSteps,
    batchSize: c.batch,
    gradientAccumulation: 1,
    maxLength: seqLength + 1,
    lr: 1e-4,
    warmupSteps: 0,
    minLrRatio: 1,
    weightDecay: 0,
    maxGradNorm: 1,
    seed: 1,
    checkpointEvery: 0,
    padId: 0,
  };
  const gpu: Gpu = await acquireGpu(dawn);
  const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
  // The adapters trainModel will create (same seed), read for tfjs's copy of the step.
  let adapterTensors: Record<string, HostTensor> = {};
  if (lora) {
    const adapter = createLlamaLora(gpu, model, lora, config.seed);
    adapterTensors = await readTensors(
      gpu,
      adapter.layers.flatMap((layer, l) =>
        (Object.keys(layer) as LoraModule[]).flatMap((m) => [
          { name: peftKey(l, m, "A"), tensor: layer[m]?.a as Tensor },
          { name: peftKey(l, m, "B"), tensor: layer[m]?.b as Tensor },
        ]),
      ),
    );
    releaseLlamaLora(gpu, adapter);
  }
  let dispatches = 0;
  let lastStepDispatches = 0;
  const dispatch = gpu.dispatch.bind(gpu);
  gpu.dispatch = (d) => {
    dispatches++;
    dispatch(d);
  };
  const result = await trainModel(gpu, model, dataset, config, {
    onStep: (r) => {
      console.log(`  ${c.label} ours step ${r.step}: loss ${r.loss.toFixed(4)}, ${r.elapsedMs.toFixed(0)} ms, ${dispatches} dispatches`);
      lastStepDispatches = dispatches;
      dispatches = 0;
    },
  });
  const row: TrainResultRow = {
    tokens,
    ours: tokens / (Math.min(...result.history.slice(c.warmupSteps).map((r) => r.elapsedMs)) / 1000),
    lossOurs: result.history[0].loss,
    params: lora ? loraParameterCount(model, lora.modules, lora.rank) : 0,
    peak: gpu.memory().peakBytes,
    bound: lora ? lowerBoundBytes(model, weights.config, lora, tokens) : undefined,
    dispatches: lastStepDispatches,
  };
  if (result.lora) releaseLlamaLora(gpu, result.lora);
  releaseLlama(gpu, model);
  gpu.destroy();
  if (c.tfjs && lora) {
    const batch = makeBatch(dataset, [...dataset.keys()], config);
    const step = tfjsLoraStep(c.tfjs, weights, adapterTensors, lora, batch, config.lr);
    const times: number[] = [];
    for (let i = 0; i < c.warmupSteps + c.timedSteps; i++) {
      const started = performance.now();
      const loss = await step.step();
      times.push(performance.now() - started);
      if (i === 0) row.lossTfjs = loss;
      console.log(`  ${c.label} tfjs step ${i + 1}: loss ${loss.toFixed(4)}, ${times[i].toFixed(0)} ms`);
    }
    step.dispose();
    row.tfjs = tokens / (Math.min(...times.slice(c.warmupSteps)) / 1000);
  }
  return row;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const shapes: Record<string, RandomLlamaShape> = { demo: demoSizedShape, smollm: smolLM2Shape };
  /** Sequences per step: 8 (the 8 × 128), except the SmolLM2 shape in a quick run (a step takes minutes on a CPU adapter). */
  const batchSizes: Record<string, number> = { demo: 8, smollm: quick ? 2 : 8 };
  const dawn = nodeGpu();
  const tf = args.includes("--no-tfjs") ? undefined : await loadTfjs(dawn);
  const rows: (TrainResultRow & { model: string; target: string })[] = [];
  for (const [model, shape] of Object.entries(shapes)) {
    if (only && only !== model) continue;
    for (const [target, modules] of Object.entries(loraTargets)) {
      const c = { shape, batch: batchSizes[model], mode: "lora" as const, modules, tfjs: tf, label: `${model} ${target}` };
      rows.push({ model, target, ...(await trainCase(dawn, { ...c, warmupSteps: quick ? 0 : 1, timedSteps: quick ? 1 : 2 })) });
    }
  }
  console.log(
    `\nLoRA r 8 training step (forward, backward, AdamW), sequences of ${seqLength}, f32 weights; ` +
      (quick ? "quick: one step per case, pipeline compilation included" : "best of 2 steps after 1 warm-up"),
  );
  console.log(
    "model  | batch | LoRA on | LoRA params | ours tok/s | tfjs tok/s | ours/tfjs | first loss ours / tfjs | peak GPU | lower bound | peak/bound",
  );
  for (const r of rows) {
    const bound = r.bound ?? Number.NaN;
    console.log(
      [
        r.model.padEnd(6),
        `${r.tokens / seqLength}×${seqLength}`.padStart(5),
        r.target.padEnd(7),
        String(r.params).padStart(11),
        r.ours.toFixed(0).padStart(10),
        (r.tfjs?.toFixed(0) ?? "–").padStart(10),
        (r.tfjs ? `${(r.ours / r.tfjs).toFixed(2)}×` : "–").padStart(9),
        `${r.lossOurs.toFixed(5)} / ${r.lossTfjs?.toFixed(5) ?? "–"}`.padStart(22),
        mib(r.peak).padStart(8),
        mib(bound).padStart(11),
        (r.peak / bound).toFixed(3).padStart(10),
      ].join(" | "),
    );
  }
  process.exit(0);
}

/** tfjs-core with its WebGPU backend on Dawn's adapter, and its gradients registered. */
export async function loadTfjs(dawn: GPU): Promise<typeof TfCore> {
  // tfjs-backend-webgpu looks for navigator.gpu when it is imported, so it is imported after this.
  Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn }, configurable: true });
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-webgpu");
  await tf.setBackend("webgpu");
  await tf.ready();
  await registerTfjsGradients();
  return tf;
}

if (isMain(import.meta.url)) await main();
