import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/gpu/tensor";
import { type CpuWeights, type LlamaCpu, llamaCpu } from "../../src/model/llama-cpu";
import { releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { randomLlama } from "../../src/model/random-llama";
import type { LoraAdapter } from "../../src/ops/lora";
import {
  createFullGradients,
  createLoraGradients,
  type FullGradients,
  gradientList,
  llamaBackward,
  lossSum,
} from "../../src/train/llama-backward";
import { createLlamaLora, type LoraModule, loraModules, releaseLlamaLora } from "../../src/train/llama-lora";
import { llamaTrainForward } from "../../src/train/llama-train-forward";
import { testGpu } from "../gpu-harness";
import { expectClose, finiteDifferences, randn, rng } from "../numerics";
import { countedTokens, cpuTrainLoss, gradientCheckShape, paddedBatch, toFloat64Model } from "./train-fixtures";

// The GPU runs the whole model in f32 (reductions of ≤ 41 terms, two blocks, softmax over 41 logits):
// its loss agrees with float64 to ~1e-6 relative. Its gradients pass through ~20 f32 kernels, each
// ~1e-6 relative; 1e-3 leaves room for cancellation in sums of mixed-sign terms. Elements much smaller
// than their tensor's largest gradient are held to an absolute 1e-4 of that largest value instead.
const lossRtol = 1e-5;
const gradRtol = 1e-3;
const gradAtolOfMax = 1e-4;
// Finite differences of the float64 loss with steps of 1e-6 (relative): truncation ~1e-12, rounding ~1e-10.

/** Seeded sample of indices into a tensor of n elements. */
function sample(n: number, count: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => Math.floor(r() * n));
}

function checkSampled(name: string, gpuGrad: Float32Array, fd: (indices: number[]) => Float64Array, indices: number[]) {
  const expected = fd(indices);
  let max = 0;
  for (const v of gpuGrad) max = Math.max(max, Math.abs(v));
  expect(max, `${name}: gradient is not all zero`).toBeGreaterThan(0);
  expectClose(
    indices.map((i) => gpuGrad[i]),
    indices.map((i) => expected[i]),
    gradRtol,
    gradAtolOfMax * max,
    name,
  );
}

describe("backward through a whole Llama", () => {
  it.each([false, true])("full-parameter gradients of every tensor kind match finite differences (tied head: %s)", async (tied) => {
    const gpu = await testGpu();
    const weights = randomLlama({ ...gradientCheckShape, tieWordEmbeddings: tied }, 11);
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const grads = createFullGradients(gpu, model);
    const acts = llamaTrainForward(gpu, model, paddedBatch);
    const parts = llamaBackward(gpu, model, acts, paddedBatch, { mode: "full", grads }, countedTokens(paddedBatch));
    const { sum, count } = lossSum(await gpu.read(parts));
    const cpu = toFloat64Model(llamaCpu(weights));
    expect(count).toBe(countedTokens(paddedBatch));
    expectClose([sum / count], [cpuTrainLoss(cpu, paddedBatch)], lossRtol, 0, "loss");

    const check = async (name: string, grad: Tensor, get: () => CpuWeights, set: (w: CpuWeights) => void, indices: number[]) => {
      const original = get();
      const fd = (idx: number[]) =>
        finiteDifferences(
          (w) => {
            set(w);
            return cpuTrainLoss(cpu, paddedBatch);
          },
          original,
          idx,
        );
      checkSampled(name, (await gpu.read(grad)) as Float32Array, fd, indices);
      set(original);
    };
    const d = gradientCheckShape.hiddenSize;
    // Only the rows of ids in the batch have embedding gradients (besides a tied head's).
    const usedRows = [1, 30, 22].flatMap((id) => sample(d, 2, id).map((i) => id * d + i));
    await check(
      "embed",
      grads.embed,
      () => cpu.embed,
      (w) => {
        cpu.embed = w;
        if (tied) cpu.lmHead = w;
      },
      usedRows,
    );
    for (const [l, layer] of cpu.layers.entries()) {
      // Qwen2's biases are frozen in training and have no gradient.
      const weights = Object.keys(layer).filter((name) => name !== "bias") as Exclude<keyof typeof layer, "bias">[];
      for (const name of weights) {
        const g = grads.layers[l][name];
        await check(
          `layers.${l}.${name}`,
          g,
          () => layer[name],
          (w) => {
            layer[name] = w;
          },
          sample(layer[name].length, 5, l * 13 + name.length),
        );
      }
    }
    await check(
      "norm",
      grads.norm,
      () => cpu.norm,
      (w) => {
        cpu.norm = w;
      },
      sample(d, 5, 3),
    );
    if (!tied)
      await check(
        "lmHead",
        grads.lmHead,
        () => cpu.lmHead,
        (w) => {
          cpu.lmHead = w;
        },
        sample(cpu.lmHead.length, 6, 4),
      );
    gpu.release(parts, ...gradientList({ mode: "full", grads: grads as FullGradients }));
    releaseLlama(gpu, model);
  });

  it("splitting the logits into row chunks gives the same loss and gradients as one chunk", async () => {
    const gpu = await testGpu();
    const weights = randomLlama(gradientCheckShape, 13);
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const run = async (logitsRowsPerChunk?: number) => {
      const grads = createFullGradients(gpu, model);
      const acts = llamaTrainForward(gpu, model, paddedBatch);
      const parts = llamaBackward(gpu, model, acts, paddedBatch, { mode: "full", grads }, countedTokens(paddedBatch), {
        logitsRowsPerChunk,
      });
      const list = gradientList({ mode: "full", grads });
      const out = { loss: lossSum(await gpu.read(parts)), grads: await Promise.all(list.map((g) => gpu.read(g))) };
      gpu.release(parts, ...list);
      return out;
    };
    const whole = await run();
    // 12 rows in chunks of 5: three chunks, the last one short.
    const split = await run(5);
    expect(split.loss.count).toBe(whole.loss.count);
    expectClose([split.loss.sum], [whole.loss.sum], 1e-6, 0, "loss");
    // Only the lm_head gradient's sum over rows is regrouped: f32 reassociation, ~1e-7 relative.
    split.grads.forEach((g, i) => {
      expectClose(g, whole.grads[i], 1e-5, 1e-7, `gradient ${i}`);
    });
    releaseLlama(gpu, model);
  });

  it.each([
    ["Llama", {}],
    ["Qwen2 (frozen q/k/v biases)", { architecture: "qwen2", attentionBias: true }],
    ["Mistral (sliding window 3 < 6 tokens)", { architecture: "mistral", slidingWindow: 3 }],
  ] as const)("LoRA gradients of A and B on all seven projections match finite differences of the folded model (%s)", async (_, arch) => {
    const gpu = await testGpu();
    const weights = randomLlama({ ...gradientCheckShape, ...arch }, 12);
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const config = { rank: 3, alpha: 6, dropout: 0, modules: loraModules };
    const lora = createLlamaLora(gpu, model, config, 5);
    // B starts at zero, which would make every gradient of A zero: give it values.
    lora.layers.forEach((layer, l) => {
      for (const [m, adapter] of Object.entries(layer)) {
        const b = adapter.b;
        adapter.b = gpu.upload(randn(b.shape[0] * b.shape[1], l * 7 + m.length, 0.3), b.shape, "f32", b.label);
        gpu.release(b);
      }
    });
    const grads = createLoraGradients(gpu, lora);
    const acts = llamaTrainForward(gpu, model, paddedBatch, { lora });
    const parts = llamaBackward(gpu, model, acts, paddedBatch, { mode: "lora", lora, grads }, countedTokens(paddedBatch));
    const gpuLoss = lossSum(await gpu.read(parts));

    const base = toFloat64Model(llamaCpu(weights));
    const cpu: LlamaCpu = { ...base, layers: base.layers.map((l) => ({ ...l })) };
    const host = await Promise.all(
      lora.layers.map(async (layer) => {
        const out: Partial<Record<LoraModule, { a: Float64Array; b: Float64Array }>> = {};
        for (const [m, adapter] of Object.entries(layer) as [LoraModule, LoraAdapter][]) {
          out[m] = { a: Float64Array.from(await gpu.read(adapter.a)), b: Float64Array.from(await gpu.read(adapter.b)) };
        }
        return out;
      }),
    );
    const scale = config.alpha / config.rank;
    const fold = (l: number, m: LoraModule) => {
      const w = base.layers[l][m];
      const ab = host[l][m];
      if (!ab) throw new Error(`no adapter for ${m}`);
      const r = config.rank;
      const inF = ab.a.length / r;
      const outF = ab.b.length / r;
      const folded = Float64Array.from(w);
      for (let o = 0; o < outF; o++) {
        for (let i = 0; i < inF; i++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += ab.b[o * r + k] * ab.a[k * inF + i];
          folded[o * inF + i] += scale * s;
        }
      }
      cpu.layers[l][m] = folded;
    };
    for (const l of cpu.layers.keys()) for (const m of loraModules) fold(l, m);
    expectClose([gpuLoss.sum / gpuLoss.count], [cpuTrainLoss(cpu, paddedBatch)], lossRtol, 0, "loss");

    for (const [l, layer] of grads.layers.entries()) {
      for (const m of loraModules) {
        const g = layer[m];
        const ab = host[l][m];
        if (!g || !ab) throw new Error(`layer ${l} lacks ${m}`);
        for (const which of ["a", "b"] as const) {
          const original = ab[which];
          const fd = (idx: number[]) =>
            finiteDifferences(
              (v) => {
                ab[which] = v;
                fold(l, m);
                return cpuTrainLoss(cpu, paddedBatch);
              },
              original,
              idx,
            );
          const gpuGrad = (await gpu.read(which === "a" ? g.da : g.db)) as Float32Array;
          checkSampled(`layers.${l}.${m}.lora_${which.toUpperCase()}`, gpuGrad, fd, sample(original.length, 4, l * 31 + m.length));
          ab[which] = original;
          fold(l, m);
        }
      }
    }
    gpu.release(parts, ...gradientList({ mode: "lora", lora, grads }));
    releaseLlamaLora(gpu, lora);
    releaseLlama(gpu, model);
  });
});
