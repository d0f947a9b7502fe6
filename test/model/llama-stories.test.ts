import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { generate } from "../../src/model/generate";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { llamaForward, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { Tokenizer } from "../../src/model/tokenizer";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";
import { stories260kExpected } from "./llama-stories-expected";
import { hasStories260k, stories260kDir } from "./stories260k-files";

describe.skipIf(!hasStories260k)("stories260K through the library", () => {
  // A plain Uint8Array copy: Buffer#slice returns views, which llama2c.ts's per-tensor copies assume it does not.
  const weights = () => readLlama2cCheckpoint(new Uint8Array(readFileSync(resolve(stories260kDir, "stories260K.bin"))), "stories260K.bin");

  it("GPU logits equal the CPU reference on a real checkpoint", async () => {
    const gpu = await testGpu();
    const w = weights();
    const model = uploadLlama(gpu, w);
    const tokens = [1, 403, 407, 261, 378, 30, 290];
    const { logits } = llamaForward(gpu, model, [tokens], { logits: "all" });
    if (!logits) throw new Error("no logits");
    // f32 on both sides; logits here reach ~20, so 1e-4 relative plus 1e-4 absolute.
    expectClose(await gpu.readF32(logits), llamaForwardCpu(llamaCpu(w), tokens).logits, 1e-4, 1e-4, "logits");
    gpu.release(logits);
    releaseLlama(gpu, model);
  });

  it("greedy decoding from BOS reproduces llama2.c's published text", async () => {
    const gpu = await testGpu();
    const w = weights();
    const { tokenizerJson, tokenizerConfig } = llama2cTokenizerToHf(
      readLlama2cTokenizer(readFileSync(resolve(stories260kDir, "tok512.bin")), "tok512.bin", 512),
      512,
    );
    const tokenizer = new Tokenizer({ tokenizerJson, tokenizerConfig });
    const model = uploadLlama(gpu, w);
    // run.c ends only at BOS, never at EOS, within its step budget.
    const [out] = await generate(gpu, model, [[1]], { maxTokens: 200, stopTokens: [1], decode: (ids) => tokenizer.decode(ids) });
    releaseLlama(gpu, model);
    expect(out.tokens).toHaveLength(200);
    expect(out.text).toBe(stories260kExpected);
  });
});
