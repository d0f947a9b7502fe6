/**
 * Layer analysis time per sample against one plain forward pass of the same batch (prefill, logits
 * of the last token only), for a SmolLM2-135M-shaped and a demo-sized random Llama. The ratio is
 * what capturing every hidden state and comparing all L(L+1)/2 pairs costs on top of the forward.
 * Run: `npm run bench:analyze` (with VK_ICD_FILENAMES pointing at a Vulkan driver).
 */
import "../src/gpu/node-globals";
import type { Gpu } from "../src/gpu/context";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { llamaForward, releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { type RandomLlamaShape, randomLlama } from "../src/model/random-llama";
import { analyzeLayers } from "../src/prune/layer-analysis";
import { benchShapes } from "./bench-shapes";
import { isMain } from "./is-main";

const batchSize = 4;
const seqLen = Number(process.env.BENCH_SEQ_LEN ?? 64);
const repeats = 3;

/** Milliseconds of one forward and of one analysis ("last" and "all" tokens) of the same batch, the fastest of a few runs each. */
export async function analysisTimes(gpu: Gpu, shape: RandomLlamaShape): Promise<{ forward: number; last: number; all: number }> {
  const model = uploadLlama(gpu, randomLlama(shape), { weightDtype: gpu.hasF16 ? "f16" : "f32" });
  const samples = Array.from({ length: batchSize }, (_, b) =>
    Array.from({ length: seqLen }, (_, t) => (b * 31 + t * 7919 + 1) % shape.vocabSize),
  );
  const forward = async () => {
    const { logits } = llamaForward(gpu, model, samples, { logits: "last" });
    if (logits) await gpu.readF32(logits);
    gpu.release(logits);
  };
  // Warm-up: pipelines compiled, pool filled.
  await forward();
  await analyzeLayers(gpu, model, samples, { batchSize });
  // The fastest of a few runs: on a shared machine the others measure the neighbours, not the code.
  const fastest = async (run: () => Promise<unknown>) => {
    let best = Infinity;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await run();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const forwardMs = await fastest(forward);
  const last = await fastest(() => analyzeLayers(gpu, model, samples, { batchSize, tokens: "last" }));
  const all = await fastest(() => analyzeLayers(gpu, model, samples, { batchSize, tokens: "all" }));
  releaseLlama(gpu, model);
  return { forward: forwardMs, last, all };
}

async function main() {
  const gpu = await acquireGpu(nodeGpu());
  console.log(
    `adapter: ${gpu.info.description || gpu.info.device || gpu.info.vendor} (shader-f16: ${gpu.hasF16}); batch ${batchSize} × ${seqLen} tokens`,
  );
  for (const [name, shape] of Object.entries(benchShapes)) {
    const t = await analysisTimes(gpu, shape);
    const timing = (tokens: "last" | "all") =>
      `analysis (${tokens} tokens) ${(t[tokens] / batchSize).toFixed(1)} ms/sample = ${(t[tokens] / t.forward).toFixed(2)}× a forward`;
    console.log(`${name}: forward ${(t.forward / batchSize).toFixed(1)} ms/sample; ${timing("last")}; ${timing("all")}`);
  }
  gpu.destroy();
}

if (isMain(import.meta.url)) await main();
