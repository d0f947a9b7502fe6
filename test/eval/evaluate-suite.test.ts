import { describe, expect, it } from "vitest";
import { answersMatch, extractAnswer } from "../../src/eval/answer-extractor";
import { generativePrompt, multipleChoicePrompt } from "../../src/eval/few-shot-prompt";
import { choiceRequest, multipleChoiceOutcome, scoreMultipleChoice } from "../../src/eval/multiple-choice";
import { evaluateSuite, meanStderr, type SuiteProgress } from "../../src/eval/suite-runner";
import type { EvalSuite, GenerativeTask, MultipleChoiceTask } from "../../src/eval/task-format";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";
import { tinyChatWeights, tinyChatTokenizer as tokenizer } from "./tiny-chat-llama";

const cpu = llamaCpu(tinyChatWeights);
const vocab = tinyChatWeights.config.vocabSize;

/** Σ log softmax of each continuation token, float64, from the CPU reference's logits of the whole sequence. */
function logLikelihoodCpu(context: number[], continuation: number[]): number {
  const logits = llamaForwardCpu(cpu, [...context, ...continuation]).logits;
  let sum = 0;
  continuation.forEach((token, j) => {
    const row = Array.from(logits.subarray((context.length - 1 + j) * vocab, (context.length + j) * vocab));
    const max = Math.max(...row);
    sum += row[token] - max - Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  });
  return sum;
}

/** Greedy continuation by full recomputation, stopping at the tokenizer's stop ids. */
function greedyCpu(prompt: number[], maxTokens: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < maxTokens; i++) {
    const logits = llamaForwardCpu(cpu, seq).logits;
    const row = Array.from(logits.subarray((seq.length - 1) * vocab, seq.length * vocab));
    const token = row.indexOf(Math.max(...row));
    if (tokenizer.isStopToken(token)) break;
    seq.push(token);
  }
  return seq.slice(prompt.length);
}

const colors: MultipleChoiceTask = {
  name: "colors",
  kind: "multiple-choice",
  metric: "acc_norm",
  chance: 1 / 3,
  fewShot: [{ context: "the cat sat on", choices: ["hello", "the mat"], gold: 1 }],
  items: [
    { context: "hello world, the", choices: ["cat", "cat sat", "world of cats"], gold: 0 },
    { context: "the mat", choices: ["hello", "sat on the cat", "x"], gold: 0 },
    { context: "world", choices: ["the", "cat"], gold: 1 },
  ],
};

async function withModel<T>(run: (model: LlamaGpu) => Promise<T>): Promise<T> {
  const gpu = await testGpu();
  const model = uploadLlama(gpu, tinyChatWeights, { weightDtype: "f32" });
  try {
    return await run(model);
  } finally {
    releaseLlama(gpu, model);
  }
}

describe("multiple-choice scoring", () => {
  it("acc takes the most likely choice, acc_norm the most likely per character (code points), first on ties", () => {
    const outcome = multipleChoiceOutcome([-4, -5], ["ab", "abcdefgh"], 1);
    expect(outcome).toMatchObject({ predicted: 0, predictedNorm: 1, correct: false, correctNorm: true });
    // "😀😀" is 2 characters (4 UTF-16 units): -3/2 beats -2/1.
    expect(multipleChoiceOutcome([-2, -3], ["a", "😀😀"], 0)).toMatchObject({ predicted: 0, predictedNorm: 1 });
    expect(multipleChoiceOutcome([-1, -1], ["a", "b"], 1)).toMatchObject({ predicted: 0, correct: false });
  });

  it("splits context and choice as lm-eval-harness: trailing spaces of the context move to the choice", () => {
    const request = choiceRequest(tokenizer, "hello the ", "cat", "t");
    expect(request.context).toEqual(tokenizer.encode("hello the"));
    expect(request.continuation).toEqual(tokenizer.encode(" cat"));
    expect(() => choiceRequest(tokenizer, "", "cat", "task t, item 3")).toThrow(/task t, item 3: the context encodes to no tokens/);
  });

  it("log-likelihoods of every choice equal the float64 CPU reference computed by hand", async () => {
    const gpu = await testGpu();
    const outcomes = await withModel((m) => scoreMultipleChoice(gpu, m, tokenizer, colors, colors.items, { batchSize: 4 }));
    colors.items.forEach((item, i) => {
      const prompt = multipleChoicePrompt(colors, item);
      const context = tokenizer.encode(prompt);
      const expected = item.choices.map((c) => logLikelihoodCpu(context, tokenizer.encode(`${prompt} ${c}`).slice(context.length)));
      // GPU logits agree with the CPU reference within 1e-4 (llama.test.ts); a log-softmax within 2e-4 per token, ≤ 8 tokens here.
      expectClose(outcomes[i].logLikelihoods, expected, 0, 2e-3, `item ${i}`);
      expect(outcomes[i]).toEqual(multipleChoiceOutcome(outcomes[i].logLikelihoods, item.choices, item.gold));
      expect(outcomes[i].predicted).toBe(multipleChoiceOutcome(expected, item.choices, item.gold).predicted);
      expect(outcomes[i].predictedNorm).toBe(multipleChoiceOutcome(expected, item.choices, item.gold).predictedNorm);
    });
  });
});

describe("evaluateSuite", () => {
  const firstChars: GenerativeTask = {
    name: "echo",
    kind: "generative",
    extractor: { kind: "regex", pattern: "^[\\s\\S]{0,3}" },
    maxTokens: 6,
    fewShot: [{ prompt: "the cat", answer: "x", target: " sat" }],
    items: [
      { prompt: "hello world", answer: "?" },
      { prompt: "the mat", answer: "?" },
    ],
  };

  it("scores multiple-choice and generative tasks end to end, averages them, reports progress, and cancels", async () => {
    const gpu = await testGpu();
    // Generative answers: the first item's is what the CPU reference's greedy completion yields, the second's never matches.
    const completion = (i: number) => {
      const text = tokenizer.decode(greedyCpu(tokenizer.encode(generativePrompt(firstChars, firstChars.items[i])), 6), {
        skipSpecialTokens: true,
      });
      return text.split("\n\n")[0];
    };
    const expectedAnswer = extractAnswer(completion(0), firstChars.extractor) ?? "";
    expect(expectedAnswer.trim()).not.toBe("");
    const echo = {
      ...firstChars,
      items: [
        { prompt: "hello world", answer: expectedAnswer },
        { prompt: "the mat", answer: "no such answer" },
      ],
    };
    const suite: EvalSuite = { name: "mini", tasks: [colors, echo] };
    const progress: SuiteProgress[] = [];
    const controller = new AbortController();
    const [result, limited, cancelled] = await withModel(async (m) => [
      await evaluateSuite(gpu, m, tokenizer, suite, { batchSize: 4, keepItems: true, onProgress: (p) => progress.push(p) }),
      await evaluateSuite(gpu, m, tokenizer, suite, { limit: 1 }),
      await evaluateSuite(gpu, m, tokenizer, suite, {
        signal: controller.signal,
        onProgress: () => controller.abort(new Error("stopped by the test")),
      }).catch((e: Error) => e),
    ]);

    const cpuOutcomes = colors.items.map((item) => {
      const prompt = multipleChoicePrompt(colors, item);
      const context = tokenizer.encode(prompt);
      const lls = item.choices.map((c) => logLikelihoodCpu(context, tokenizer.encode(`${prompt} ${c}`).slice(context.length)));
      return multipleChoiceOutcome(lls, item.choices, item.gold);
    });
    const acc = cpuOutcomes.filter((o) => o.correct).length / 3;
    const accNorm = cpuOutcomes.filter((o) => o.correctNorm).length / 3;
    // This model prefers the short wrong "x" by total likelihood and the right "hello" per character.
    expect(accNorm).toBeGreaterThan(acc);
    expect(result.tasks[0]).toMatchObject({
      name: "colors",
      metric: "acc_norm",
      acc,
      accNorm,
      score: accNorm,
      stderr: meanStderr(accNorm, 3),
      n: 3,
      chance: 1 / 3,
    });
    expect(result.tasks[1]).toMatchObject({ name: "echo", metric: "exact_match", acc: 0.5, score: 0.5, n: 2 });
    expect(result.tasks[1].items?.map((o) => "completion" in o && o.completion)).toEqual([completion(0), completion(1)]);
    expect(answersMatch(extractAnswer(completion(1), echo.extractor), "no such answer")).toBe(false);
    expect(result.average).toBeCloseTo((accNorm + 0.5) / 2, 12);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);

    expect(progress.at(-1)).toEqual({ task: "echo", done: 5, total: 5 });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(limited.tasks.map((t) => t.n)).toEqual([1, 1]);
    expect(limited.tasks[0].items).toBeUndefined();
    expect((cancelled as Error).message).toBe("stopped by the test");
  });
});
