import { describe, expect, it } from "vitest";
import type { AlpacaRecord } from "../../src/distill/alpaca-jsonl";
import { type DistilledExample, type DistillOptions, distillDataset, distilledRecords } from "../../src/distill/distill-dataset";
import { judgeRewrite } from "../../src/distill/rewrite-filter";
import { sdftPromptIds, sdftTemplates } from "../../src/distill/sdft-template";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { tinyChatWeights, tinyChatTokenizer as tokenizer } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";

const records: AlpacaRecord[] = [
  { instruction: "Add 3 and 4.", input: "", output: "3 + 4 = 7\n#### 7" },
  { instruction: "Double the number.", input: "6", output: "6 * 2 = 12\n#### 12" },
  { instruction: "What is 10 minus 1?", input: "", output: "10 - 1 = 9\n#### 9" },
  { instruction: "Halve it.", input: "8", output: "8 / 2 = 4\n#### 4" },
  { instruction: "Say hello to the cat.", input: "", output: "hello cat" },
];

async function withTeacher<T>(run: (teacher: LlamaGpu) => Promise<T>): Promise<T> {
  const gpu = await testGpu();
  const teacher = uploadLlama(gpu, tinyChatWeights, { weightDtype: "f32" });
  try {
    return await run(teacher);
  } finally {
    releaseLlama(gpu, teacher);
  }
}

const base: DistillOptions = { kind: "general", maxTokens: 6, batchSize: 2, seed: 3 };

describe("distillDataset", () => {
  it("greedy rewrites are the CPU reference's greedy continuation of the SDFT prompt, across left-padded batches", async () => {
    const gpu = await testGpu();
    const cpu = llamaCpu(tinyChatWeights);
    const vocab = tinyChatWeights.config.vocabSize;
    const result = await withTeacher((t) => distillDataset(gpu, t, tokenizer, records, { ...base, kind: "math", temperature: 0 }));
    result.examples.forEach((example, i) => {
      const seq = sdftPromptIds(tokenizer, sdftTemplates.math, records[i]);
      const start = seq.length;
      for (let step = 0; step < 6; step++) {
        const row = Array.from(llamaForwardCpu(cpu, seq).logits.subarray((seq.length - 1) * vocab, seq.length * vocab));
        const token = row.indexOf(Math.max(...row));
        if (tokenizer.isStopToken(token)) break;
        seq.push(token);
      }
      const text = tokenizer.decode(seq.slice(start), { skipSpecialTokens: true });
      // The opener's trailing space is left for the model to write with its next word.
      expect(example.rewrite).toBe(`${sdftTemplates.math.responseOpener.trimEnd()}${text}`.trim());
    });
  });

  it("replaces every rejected rewrite by the original response, keeping one record per example in order", async () => {
    const gpu = await testGpu();
    const [general, math] = await withTeacher(async (t) => [
      await distillDataset(gpu, t, tokenizer, records, base),
      await distillDataset(gpu, t, tokenizer, records, { ...base, kind: "math" }),
    ]);
    for (const [result, kind] of [
      [general, "general"],
      [math, "math"],
    ] as const) {
      expect(result.examples.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
      expect(result.kept + result.replaced).toBe(records.length);
      result.examples.forEach((e, i) => {
        expect(e).toMatchObject({ instruction: records[i].instruction, input: records[i].input, reference: records[i].output });
        expect(e.kept).toBe(judgeRewrite(e.rewrite, e.reference, { kind }).kept);
        expect(e.output).toBe(e.kept ? e.rewrite : e.reference);
        if (!e.kept) expect(e.reason).toBeDefined();
      });
      expect(distilledRecords(result)).toHaveLength(records.length);
    }
    // An untrained teacher writes noise: it keeps general rewrites, but never matches a math answer.
    expect(general.kept).toBeGreaterThan(0);
    expect(math.replaced).toBe(records.length);
    expect(math.examples.every((e) => e.reason === "answer-mismatch")).toBe(true);
  });

  it("is deterministic per seed, and a run resumed after a cancel ends as the uninterrupted run", async () => {
    const gpu = await testGpu();
    const saved: DistilledExample[] = [];
    const progress: number[] = [];
    const controller = new AbortController();
    const [a, b, other, cancelled] = await withTeacher(async (t) => [
      await distillDataset(gpu, t, tokenizer, records, base),
      await distillDataset(gpu, t, tokenizer, records, base),
      await distillDataset(gpu, t, tokenizer, records, { ...base, seed: 4 }),
      await distillDataset(gpu, t, tokenizer, records, {
        ...base,
        signal: controller.signal,
        onProgress: (p) => {
          saved.push(...p.batch);
          if (p.done >= 2) controller.abort(new Error("cancelled"));
        },
      }).catch((e: Error) => e),
    ]);
    expect(a).toEqual(b);
    expect(other.examples.map((e) => e.rewrite)).not.toEqual(a.examples.map((e) => e.rewrite));
    expect((cancelled as Error).message).toBe("cancelled");
    expect(saved.map((e) => e.index)).toEqual([0, 1]);

    const resumed = await withTeacher((t) =>
      distillDataset(gpu, t, tokenizer, records, { ...base, done: saved, onProgress: (p) => void progress.push(p.done) }),
    );
    expect(resumed).toEqual(a);
    expect(progress).toEqual([4, 5]);
    await expect(distillDataset(gpu, {} as LlamaGpu, tokenizer, records.slice(1), { ...base, done: saved })).rejects.toThrow(
      /finished example 0 does not match the dataset/,
    );
  });
});
