/**
 * Qwen2 (q/k/v biases, tied head) and Mistral (sliding window) through the engine: the float64 CPU
 * reference, the GPU forward and KV-cache decode against it, the layer analysis, and the pruned
 * Hugging Face folder keeping its architecture and biases.
 */
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../src/gpu/tensor";
import { parseLlamaConfig } from "../../src/model/config";
import type { ModelWeights } from "../../src/model/host-tensor";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { createLlamaKvCache, llamaForward, releaseLlama, releaseLlamaKvCache, uploadLlama } from "../../src/model/llama-gpu";
import { loadModelFiles } from "../../src/model/load-model-files";
import { type RandomLlamaShape, randomLlama } from "../../src/model/random-llama";
import { withRopeLayout } from "../../src/model/rope-layout";
import { dropBlocks, dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { analyzeLayers, analyzeLayersCpu } from "../../src/prune/layer-analysis";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";
import { tinyMistralShape, tinyQwen2Shape } from "./tiny-llama";
import { chatMlTokenizerFiles } from "./tokenizer-fixtures";

// As in llama.test.ts: f32 blocks against float64 leave logits within ~1e-5; 1e-4 with margin.
const tol = 1e-4;
const prompt = [1, 5, 17, 36, 3, 30, 0, 9];
const architectures: [string, RandomLlamaShape][] = [
  ["Qwen2", tinyQwen2Shape],
  ["Mistral", tinyMistralShape],
];

const cpuLogits = (weights: ModelWeights, tokens: number[]) => llamaForwardCpu(llamaCpu(weights), tokens).logits;

function rows(logits: Float32Array, vocab: number, from: number, to: number): Float32Array {
  return logits.subarray(from * vocab, to * vocab);
}

async function readAndRelease(gpu: Awaited<ReturnType<typeof testGpu>>, t: Tensor | undefined): Promise<Float32Array> {
  if (!t) throw new Error("no tensor");
  const v = await gpu.readF32(t);
  gpu.release(t);
  return v;
}

describe("the CPU reference of Qwen2 and Mistral", () => {
  it("Qwen2's biases enter the logits, and with zero biases it is the Llama of the same weights", () => {
    const qwen = randomLlama(tinyQwen2Shape, 3);
    const zeroed: ModelWeights = {
      config: qwen.config,
      tensors: new Map(
        [...qwen.tensors].map(([name, t]) =>
          name.endsWith(".bias") ? [name, { ...t, data: new Float32Array(t.data.length) }] : [name, t],
        ),
      ),
    };
    const llama: ModelWeights = {
      config: { ...qwen.config, architecture: undefined, attentionBias: undefined },
      tensors: new Map([...qwen.tensors].filter(([name]) => !name.endsWith(".bias"))),
    };
    expect([...qwen.tensors.keys()].filter((n) => n.endsWith(".bias"))).toHaveLength(3 * tinyQwen2Shape.numHiddenLayers);
    expectClose(cpuLogits(zeroed, prompt), cpuLogits(llama, prompt), 0, 0, "zero biases");
    const biased = cpuLogits(qwen, prompt);
    const plain = cpuLogits(llama, prompt);
    expect(Math.max(...biased.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(1e-2);
  });

  it("Qwen2 in Meta's interleaved RoPE layout (q/k rows and biases permuted) gives the same logits", () => {
    const qwen = randomLlama(tinyQwen2Shape, 6);
    const meta = withRopeLayout(qwen, true);
    expect(meta.tensors.get("model.layers.0.self_attn.q_proj.bias")).not.toEqual(qwen.tensors.get("model.layers.0.self_attn.q_proj.bias"));
    // The same float64 sums in another order.
    expectClose(cpuLogits(meta, prompt), cpuLogits(qwen, prompt), 1e-5, 1e-5, "interleaved vs rotate_half");
  });

  it("Mistral's window leaves the first `window` positions as in Llama and changes the later ones", () => {
    const mistral = randomLlama(tinyMistralShape, 4);
    const llama: ModelWeights = { config: { ...mistral.config, slidingWindow: undefined }, tensors: mistral.tensors };
    const wide: ModelWeights = { config: { ...mistral.config, slidingWindow: prompt.length }, tensors: mistral.tensors };
    const v = tinyMistralShape.vocabSize;
    const windowed = cpuLogits(mistral, prompt);
    const plain = cpuLogits(llama, prompt);
    expectClose(cpuLogits(wide, prompt), plain, 0, 0, "window as long as the sequence");
    expectClose(rows(windowed, v, 0, 3), rows(plain, v, 0, 3), 0, 0, "positions inside the window");
    for (let t = 3; t < prompt.length; t++) {
      const a = rows(windowed, v, t, t + 1);
      const b = rows(plain, v, t, t + 1);
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]))), `position ${t}`).toBeGreaterThan(1e-3);
    }
  });
});

describe.each(architectures)("%s on the GPU", (_, shape) => {
  const weights = randomLlama(shape, 5);
  const v = shape.vocabSize;

  it("logits of a left-padded batch equal the CPU reference", async () => {
    const gpu = await testGpu();
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const short = prompt.slice(0, 5);
    const tokens = [[0, 0, 0, ...short], prompt];
    const keyMask = [[0, 0, 0, 1, 1, 1, 1, 1], prompt.map(() => 1)];
    const logits = await readAndRelease(gpu, llamaForward(gpu, model, tokens, { keyMask, logits: "all" }).logits);
    expectClose(rows(logits, v, 3, 8), cpuLogits(weights, short), tol, tol, "padded row");
    expectClose(rows(logits, v, 8, 16), cpuLogits(weights, prompt), tol, tol, "full row");
    releaseLlama(gpu, model);
  });

  it("KV-cache decode (prefill, single tokens, a 3-token verify step) equals the CPU reference", async () => {
    const gpu = await testGpu();
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const cache = createLlamaKvCache(gpu, model, 2, 12);
    // Row 0 is left-padded by two, so its window is counted from its own first real token.
    const padded = [[0, 0, ...prompt.slice(0, 6)], prompt];
    const real = [[0, 0, 1, 1, 1, 1, 1, 1], prompt.map(() => 1)];
    const steps = [
      [0, 2],
      [2, 3],
      [3, 6],
      [6, 7],
      [7, 8],
    ];
    const got: Float32Array[] = [];
    for (const [from, to] of steps) {
      const step = llamaForward(
        gpu,
        model,
        padded.map((r) => r.slice(from, to)),
        { cache, keyMask: real.map((r) => r.slice(from, to)), logits: "all" },
      );
      got.push(await readAndRelease(gpu, step.logits));
    }
    releaseLlamaKvCache(gpu, cache);
    const expected = [cpuLogits(weights, prompt.slice(0, 6)), cpuLogits(weights, prompt)];
    for (const [i, [from, to]] of steps.entries()) {
      const n = to - from;
      for (let b = 0; b < 2; b++) {
        const firstReal = b === 0 ? 2 : 0;
        for (let t = Math.max(from, firstReal); t < to; t++) {
          expectClose(
            rows(got[i], v, b * n + t - from, b * n + t - from + 1),
            rows(expected[b], v, t - firstReal, t - firstReal + 1),
            tol,
            tol,
            `row ${b} token ${t}`,
          );
        }
      }
    }
    releaseLlama(gpu, model);
  });

  it("the layer analysis equals its CPU reference", async () => {
    const gpu = await testGpu();
    const model = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const samples = [prompt, prompt.slice(2, 7), [4, 8, 15, 16, 23, 35]];
    const got = await analyzeLayers(gpu, model, samples, { batchSize: 2 });
    const ref = analyzeLayersCpu(llamaCpu(weights), samples);
    got.angular.forEach((row, k) => {
      expectClose(row, ref.angular[k], 1e-4, 1e-5, `angular n = ${k + 1}`);
    });
    expectClose(got.blockInfluence, ref.blockInfluence, 1e-4, 1e-5, "block influence");
    releaseLlama(gpu, model);
  });

  it("pruned, exported and loaded again, it keeps its architecture and biases and computes the same logits", async () => {
    const pruned = dropBlocksFromWeights(weights, 0, 1);
    const files = hfFolderFiles(pruned, chatMlTokenizerFiles());
    const config = JSON.parse(new TextDecoder().decode(files.get("config.json")));
    expect(config.architectures).toEqual([shape.architecture === "qwen2" ? "Qwen2ForCausalLM" : "MistralForCausalLM"]);
    expect(config.model_type).toBe(shape.architecture);
    expect(config.num_hidden_layers).toBe(shape.numHiddenLayers - 1);
    if (shape.architecture === "mistral") expect(config.sliding_window).toBe(shape.slidingWindow);
    const loaded = await loadModelFiles(files);
    expect(loaded.weights.config).toEqual(parseLlamaConfig(config, "config.json"));
    const { architecture, attentionBias, slidingWindow } = loaded.weights.config;
    expect({ architecture, attentionBias, slidingWindow }).toEqual({
      architecture: shape.architecture,
      attentionBias: shape.attentionBias,
      slidingWindow: shape.slidingWindow,
    });
    expect([...loaded.weights.tensors.keys()].sort()).toEqual([...pruned.tensors.keys()].sort());
    // Biases of the last block were renamed down with it.
    const last = shape.numHiddenLayers - 2;
    if (shape.attentionBias) {
      expect(loaded.weights.tensors.get(`model.layers.${last}.self_attn.k_proj.bias`)?.data).toEqual(
        weights.tensors.get(`model.layers.${last + 1}.self_attn.k_proj.bias`)?.data,
      );
    }
    const gpu = await testGpu();
    const full = uploadLlama(gpu, weights, { weightDtype: "f32" });
    const onGpu = await readAndRelease(gpu, llamaForward(gpu, dropBlocks(full, 0, 1), [prompt], { logits: "all" }).logits);
    expectClose(onGpu, cpuLogits(loaded.weights, prompt), tol, tol, "pruned view vs reloaded export");
    releaseLlama(gpu, full);
  });
});
