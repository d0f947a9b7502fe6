/**
 * Quick evaluation during LoRA training, on a tiny random chat Llama: it sees the adapter as trained
 * at its step, its points land where asked, and a run with it ends bit for bit as one without it.
 */
import { describe, expect, it } from "vitest";
import { evalCurvesCsv, type QuickEvalPoint } from "../../src/eval/eval-curve";
import { evaluateFolded, quickEvaluation } from "../../src/eval/quick-eval";
import type { EvalSuite } from "../../src/eval/task-format";
import type { HostTensor } from "../../src/model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { type LoraConfig, releaseLlamaLora } from "../../src/train/llama-lora";
import { type TrainConfig, type TrainResult, trainModel } from "../../src/train/train-loop";
import { tinyChatTokenizer as tokenizer, tinyChatWeights as weights } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";
import { countingDataset, toyLoraConfig } from "./toy-task";
import { expectSameParameters } from "./train-fixtures";

const dataset = countingDataset(24);
const config: TrainConfig = { ...toyLoraConfig, steps: 5 };
const upload = { weightDtype: "f32" } as const;
const lora = config.lora as LoraConfig;

const suite: EvalSuite = {
  name: "mini",
  tasks: [
    {
      name: "colors",
      kind: "multiple-choice",
      metric: "acc_norm",
      items: [
        { context: "hello world, the", choices: ["cat", "cat sat", "world of cats"], gold: 0 },
        { context: "the mat", choices: ["hello", "sat on the cat", "x"], gold: 0 },
        { context: "world", choices: ["the", "cat"], gold: 1 },
      ],
    },
    {
      name: "echo",
      kind: "generative",
      extractor: { kind: "regex", pattern: "^[\\s\\S]{0,3}" },
      maxTokens: 4,
      items: [
        { prompt: "hello world", answer: "?" },
        { prompt: "the mat", answer: "?" },
      ],
    },
  ],
};

async function train(options: Parameters<typeof trainModel>[4] = {}): Promise<TrainResult> {
  const gpu = await testGpu();
  const model: LlamaGpu = uploadLlama(gpu, weights, upload);
  try {
    const result = await trainModel(gpu, model, dataset, config, options);
    if (result.lora) releaseLlamaLora(gpu, result.lora);
    return result;
  } finally {
    releaseLlama(gpu, model);
  }
}

describe("quick evaluation during training", () => {
  it("scores the adapter of each evaluated step and leaves the run bit for bit as it is without it", async () => {
    const gpu = await testGpu();
    const plain = await train();
    const points: QuickEvalPoint[] = [];
    const seen: { step: number; tensors: Record<string, HostTensor> }[] = [];
    const evaluate = quickEvaluation(gpu, weights, lora, tokenizer, suite, { every: 2, items: 2 }, (p) => points.push(p));
    if (!evaluate) throw new Error("quickEvaluation is on for every = 2");
    const evaluated = await train({
      evaluate: {
        every: evaluate.every,
        at: async (step, tensors) => {
          seen.push({ step, tensors });
          await evaluate.at(step, tensors);
        },
      },
    });
    expect(evaluated.history.map((r) => r.loss)).toEqual(plain.history.map((r) => r.loss));
    expectSameParameters(plain.checkpoint, evaluated.checkpoint);

    // Every 2nd step and the last one; each point the mean of its tasks' scores, 2 items each.
    expect(points.map((p) => p.step)).toEqual([2, 4, 5]);
    for (const p of points) {
      expect(p.tasks.map((t) => t.name)).toEqual(["colors", "echo"]);
      expect(p.average).toBe((p.tasks[0].score + p.tasks[1].score) / 2);
    }
    // What it evaluated is the adapter as trained at that step, not the initial one.
    expect(seen.map((s) => s.step)).toEqual([2, 4, 5]);
    expectSameParameters(evaluated.checkpoint, { ...evaluated.checkpoint, parameters: seen[2].tensors });
    // PEFT starts every lora_B at zero: a non-zero one is a trained adapter.
    const trainedB = Object.entries(seen[0].tensors).filter(([name]) => name.includes("lora_B"));
    expect(trainedB.some(([, t]) => t.data.some((v) => v !== 0))).toBe(true);
    // The last point is what the Evaluate step's folding gives for the finished adapter.
    const final = await evaluateFolded(gpu, weights, { tensors: evaluated.checkpoint.parameters, config: lora }, tokenizer, suite, {
      limit: 2,
      upload,
    });
    expect(points[2].average).toBe(final.average);
  });

  it("is off at every = 0, and rejects a bad item count or step interval", async () => {
    const gpu = await testGpu();
    expect(quickEvaluation(gpu, weights, lora, tokenizer, suite, { every: 0, items: 0 }, () => {})).toBeUndefined();
    expect(() => quickEvaluation(gpu, weights, lora, tokenizer, suite, { every: 2, items: 0 }, () => {})).toThrow(/items per task.*got 0/);
    await expect(train({ evaluate: { every: 1.5, at: async () => {} } })).rejects.toThrow(
      /evaluate\.every must be an integer ≥ 0, got 1\.5/,
    );
  });

  it("writes the curves as CSV, one row per run and step, scores in %", () => {
    const point = (step: number, a: number, b: number): QuickEvalPoint => ({
      step,
      average: (a + b) / 2,
      tasks: [
        { name: "colors", score: a },
        { name: "echo", score: b },
      ],
    });
    const csv = evalCurvesCsv([
      { run: "sft", points: [point(2, 0.5, 0), point(4, 1, 0.5)] },
      { run: "sdd", points: [point(2, 0.25, 1)] },
    ]);
    expect(csv).toBe("run,step,average,colors,echo\nsft,2,25.00,50.00,0.00\nsft,4,75.00,100.00,50.00\nsdd,2,62.50,25.00,100.00\n");
    expect(evalCurvesCsv([{ run: "sft", points: [] }])).toBe("run,step,average\n");
  });
});
