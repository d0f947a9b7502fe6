/**
 * Prefill and decode tokens/s of the GPU model (batch 1, KV cache) against the CPU reference in the
 * same run (and GPU decode tokens/s for a batch of 8), for a SmolLM2-135M-shaped and a demo-sized random Llama. Run: `npm run bench:generate`
 * (with VK_ICD_FILENAMES pointing at a Vulkan driver, e.g. through scripts/gpu-env.sh).
 * Weights are f16 on the GPU where the adapter has shader-f16 (as a bf16 checkpoint would be).
 * Tokens per CPU-second (the driver's threads included) is printed too: on a shared machine it says
 * what the wall-clock figure would be with the cores to itself (at most cores × that figure).
 */
import "../src/gpu/node-globals";
import type { Gpu } from "../src/gpu/context";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { createLlamaCpuCache, llamaCpu, llamaForwardCpu } from "../src/model/llama-cpu";
import { createLlamaKvCache, type LlamaGpu, llamaForward, releaseLlama, releaseLlamaKvCache, uploadLlama } from "../src/model/llama-gpu";
import { type RandomLlamaShape, randomLlama } from "../src/model/random-llama";
import { benchShapes } from "./bench-shapes";
import { isMain } from "./is-main";

const defaultPromptTokens = 64;
const defaultDecodeTokens = 32;
const cpuPromptTokens = 16;
const cpuDecodeTokens = 4;

function tokens(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + 1) % vocab);
}

/** Kernel launches of one decode step (batch 1): each costs host time and, on CPU adapters, a fork/join of the driver's threads. */
export async function decodeDispatches(gpu: Gpu, model: LlamaGpu): Promise<number> {
  const cache = createLlamaKvCache(gpu, model, 1, 2);
  const first = llamaForward(gpu, model, [[1]], { cache }).logits;
  gpu.release(first);
  let count = 0;
  const dispatch = gpu.dispatch.bind(gpu);
  gpu.dispatch = (d) => {
    count++;
    dispatch(d);
  };
  const logits = llamaForward(gpu, model, [[2]], { cache }).logits;
  gpu.dispatch = dispatch;
  if (logits) await gpu.readF32(logits);
  gpu.release(logits);
  releaseLlamaKvCache(gpu, cache);
  return count;
}

/** Tokens/s of one prefill of `promptTokens` and of `decodeTokens` decode steps, for `batch` sequences at once. */
export async function gpuRun(
  gpu: Gpu,
  model: LlamaGpu,
  batch: number,
  promptTokens = defaultPromptTokens,
  decodeTokens = defaultDecodeTokens,
): Promise<{ prefill: number; decode: number; decodePerCpuSecond: number }> {
  const prompt = tokens(promptTokens, model.config.vocabSize);
  const rows = Array.from({ length: batch }, () => prompt);
  const cache = createLlamaKvCache(gpu, model, batch, promptTokens + decodeTokens);
  let t0 = performance.now();
  const first = llamaForward(gpu, model, rows, { cache }).logits;
  if (first) await gpu.readF32(first);
  gpu.release(first);
  const prefill = (batch * promptTokens * 1000) / (performance.now() - t0);
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < decodeTokens; i++) {
    const logits = llamaForward(
      gpu,
      model,
      rows.map((r) => [r[i]]),
      { cache },
    ).logits;
    if (logits) await gpu.readF32(logits);
    gpu.release(logits);
  }
  const decode = (batch * decodeTokens * 1000) / (performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  releaseLlamaKvCache(gpu, cache);
  return { prefill, decode, decodePerCpuSecond: (batch * decodeTokens * 1e6) / (cpu.user + cpu.system) };
}

export function cpuRun(shape: RandomLlamaShape): { prefill: number; decode: number } {
  const model = llamaCpu(randomLlama(shape));
  const cache = createLlamaCpuCache(model);
  const prompt = tokens(cpuPromptTokens, shape.vocabSize);
  let t0 = performance.now();
  llamaForwardCpu(model, prompt, cache);
  const prefill = (cpuPromptTokens * 1000) / (performance.now() - t0);
  t0 = performance.now();
  for (let i = 0; i < cpuDecodeTokens; i++) llamaForwardCpu(model, [prompt[i]], cache);
  return { prefill, decode: (cpuDecodeTokens * 1000) / (performance.now() - t0) };
}

async function main() {
  const gpu = await acquireGpu(nodeGpu());
  console.log(`adapter: ${gpu.info.description || gpu.info.device || gpu.info.vendor} (shader-f16: ${gpu.hasF16})`);
  console.log(
    `batch 1; GPU: prefill ${defaultPromptTokens} tokens, decode ${defaultDecodeTokens}; CPU reference: prefill ${cpuPromptTokens}, decode ${cpuDecodeTokens}`,
  );
  const fmt = (v: number) => v.toFixed(1).padStart(7);
  for (const [name, shape] of Object.entries(benchShapes)) {
    const model = uploadLlama(gpu, randomLlama(shape), { weightDtype: "f16" });
    await gpuRun(gpu, model, 1); // warm-up: pipelines compiled, buffers pooled
    const g = await gpuRun(gpu, model, 1);
    const g8 = await gpuRun(gpu, model, 8);
    const dispatches = await decodeDispatches(gpu, model);
    releaseLlama(gpu, model);
    gpu.trim();
    const c = cpuRun(shape);
    console.log(
      `${name.padEnd(20)} prefill tok/s GPU ${fmt(g.prefill)} CPU ${fmt(c.prefill)} (×${(g.prefill / c.prefill).toFixed(1)})   ` +
        `decode tok/s GPU ${fmt(g.decode)} CPU ${fmt(c.decode)} (×${(g.decode / c.decode).toFixed(1)})   batch 8 decode GPU ${fmt(g8.decode)}   ` +
        `GPU decode tokens per CPU-second (all threads) ${fmt(g.decodePerCpuSecond)}   ${dispatches} dispatches per decode step`,
    );
  }
  gpu.destroy();
}

if (isMain(import.meta.url)) await main();
