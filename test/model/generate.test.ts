import { describe, expect, it } from "vitest";
import { generate } from "../../src/model/generate";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { type RandomLlamaShape, randomLlama } from "../../src/model/random-llama";
import { scoreContinuations } from "../../src/model/score";
import { argmaxCpu } from "../../src/ops/sampling";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";

const tiny: RandomLlamaShape = {
  hiddenSize: 36,
  intermediateSize: 61,
  numHiddenLayers: 2,
  numAttentionHeads: 3,
  numKeyValueHeads: 1,
  vocabSize: 67,
};
const cpu = llamaCpu(randomLlama(tiny));
const prompts = [
  [1, 5, 17],
  [1, 42, 3, 66, 9, 12],
];
/** A stand-in tokenizer: one letter per id. */
const decode = (ids: number[]) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join("");

/** Greedy continuation by full recomputation on the CPU reference. */
function greedyCpu(prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = llamaForwardCpu(cpu, seq).logits;
    seq.push(argmaxCpu(logits, (seq.length - 1) * tiny.vocabSize));
  }
  return seq.slice(prompt.length);
}

async function withModel<T>(run: (model: LlamaGpu) => Promise<T>): Promise<T> {
  const gpu = await testGpu();
  const model = uploadLlama(gpu, randomLlama(tiny), { weightDtype: "f32" });
  try {
    return await run(model);
  } finally {
    releaseLlama(gpu, model);
  }
}

describe("generate", () => {
  it("greedy decoding of a left-padded batch equals the CPU reference", async () => {
    const gpu = await testGpu();
    const out = await withModel((m) => generate(gpu, m, prompts, { maxTokens: 10, stopTokens: [] }));
    expect(out.map((o) => o.tokens)).toEqual(prompts.map((p) => greedyCpu(p, 10)));
    expect(out.map((o) => o.stopReason)).toEqual(["length", "length"]);
  });

  it("stops at stop tokens and stop strings, and streams the text it returns", async () => {
    const gpu = await testGpu();
    const greedy = greedyCpu(prompts[1], 8);
    const streamed: string[] = [];
    const [byToken, byString] = await withModel(async (m) => [
      (await generate(gpu, m, [prompts[1]], { maxTokens: 8, stopTokens: [greedy[3]] }))[0],
      (
        await generate(gpu, m, [prompts[1]], {
          maxTokens: 8,
          stopTokens: [],
          decode,
          stopStrings: [decode(greedy.slice(4, 6))],
          onToken: (e) => streamed.push(e.text ?? ""),
        })
      )[0],
    ]);
    const firstStop = greedy.indexOf(greedy[3]);
    expect(byToken).toEqual({ tokens: greedy.slice(0, firstStop), stopReason: "stop-token" });
    const text = decode(greedy);
    const cut = text.indexOf(decode(greedy.slice(4, 6)));
    expect(byString.stopReason).toBe("stop-string");
    expect(byString.text).toBe(text.slice(0, cut));
    expect(streamed.join("")).toBe(byString.text);
  });

  it("samples reproducibly from a seed, and stops when aborted", async () => {
    const gpu = await testGpu();
    const controller = new AbortController();
    const options = { maxTokens: 12, temperature: 1, topK: 20, topP: 0.9, stopTokens: [] };
    const [a, b, aborted] = await withModel(async (m) => [
      await generate(gpu, m, prompts, { ...options, seed: 5 }),
      await generate(gpu, m, prompts, { ...options, seed: 5 }),
      await generate(gpu, m, [prompts[0]], {
        ...options,
        signal: controller.signal,
        onToken: (e) => {
          if (e.token >= 0) controller.abort();
        },
      }),
    ]);
    expect(a).toEqual(b);
    expect(a[0].tokens).toHaveLength(12);
    expect(aborted[0].tokens).toHaveLength(1);
    expect(aborted[0].stopReason).toBe("aborted");
  });
});

describe("scoreContinuations", () => {
  it("log-probabilities equal the CPU reference's log-softmax, over batches of mixed lengths", async () => {
    const gpu = await testGpu();
    const requests = [
      { context: [1, 5], continuation: [17, 3, 40] },
      { context: [1, 42, 3, 66, 9], continuation: greedyCpu([1, 42, 3, 66, 9], 2) },
      { context: [7], continuation: [8] },
    ];
    const scores = await withModel((m) => scoreContinuations(gpu, m, requests, { batchSize: 2 }));
    requests.forEach((r, i) => {
      const seq = [...r.context, ...r.continuation];
      const logits = llamaForwardCpu(cpu, seq).logits;
      const expected = r.continuation.map((token, j) => {
        const row = logits.subarray((r.context.length - 1 + j) * tiny.vocabSize, (r.context.length + j) * tiny.vocabSize);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        return row[token] - lse;
      });
      // Logits agree within 1e-4 (llama.test.ts); a log-softmax moves by at most twice that.
      expectClose(scores[i].tokenLogProbs, expected, 0, 2e-4, `request ${i}`);
      expect(scores[i].logProb).toBeCloseTo(
        expected.reduce((a, b) => a + b, 0),
        3,
      );
    });
    expect(scores.map((s) => s.isGreedy)).toEqual([false, true, expect.any(Boolean)]);
  });
});
