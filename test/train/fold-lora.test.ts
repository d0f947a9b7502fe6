import { describe, expect, it } from "vitest";
import { type LlamaGpu, llamaForward, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { randomLlama } from "../../src/model/random-llama";
import { matmul } from "../../src/ops/matmul";
import { foldLora } from "../../src/train/fold-lora";
import { type LlamaLora, releaseLlamaLora } from "../../src/train/llama-lora";
import { llamaTrainForward, normed, releaseActivations } from "../../src/train/llama-train-forward";
import { trainModel } from "../../src/train/train-loop";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";
import { countingDataset, toyLoraConfig, toyShape } from "./toy-task";

// Folding changes the order of the f32 sums (W·x + s·B·(A·x) versus (W + s·B·A)·x, and f32 rounding of
// the folded weights): differences of a few f32 ulps per product, ~1e-5 relative on logits of size ~1.
const rtol = 1e-4;
const atol = 1e-5;

describe("foldLora", () => {
  it("merged weights W + (alpha/r)·B·A give the adapter's logits", async () => {
    const gpu = await testGpu();
    const weights = randomLlama(toyShape, 5);
    const model: LlamaGpu = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const config = { ...toyLoraConfig, steps: 3, lr: 5e-2 };
    const { lora, checkpoint } = await trainModel(gpu, model, countingDataset(12), config);
    if (!lora || !config.lora) throw new Error("LoRA mode returns adapters");
    const tokens = [
      [1, 4, 5, 6, 7, 8],
      [1, 11, 12, 13, 14, 15],
    ];
    const batch = { inputs: tokens, targets: tokens, lossMask: tokens.map((r) => r.map(() => 1)) };
    const acts = llamaTrainForward(gpu, model, batch, { lora: lora as LlamaLora });
    const hidden = normed(gpu, acts.final, model.norm, weights.config.rmsNormEps);
    const adapted = matmul(gpu, hidden, model.lmHead.chunks[0], { transB: true });
    const withAdapter = await gpu.read(adapted);
    gpu.release(hidden, adapted);
    releaseActivations(gpu, acts);

    const merged = uploadLlama(gpu, foldLora(weights, checkpoint.parameters, config.lora), { weightDtype: "f32" });
    const { logits } = llamaForward(gpu, merged, tokens, { logits: "all" });
    if (!logits) throw new Error("no logits");
    const base = llamaForward(gpu, model, tokens, { logits: "all" }).logits;
    if (!base) throw new Error("no logits");
    const foldedLogits = await gpu.read(logits);
    expectClose(foldedLogits, withAdapter, rtol, atol, "logits");
    // The adapter was trained: folding it changed the model's output.
    const baseLogits = await gpu.read(base);
    expect(Math.max(...baseLogits.map((v, i) => Math.abs(v - foldedLogits[i])))).toBeGreaterThan(1e-2);
    gpu.release(logits, base);
    releaseLlama(gpu, merged);
    releaseLlamaLora(gpu, lora);
    releaseLlama(gpu, model);
  });
});
