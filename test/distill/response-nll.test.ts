/**
 * Response NLL and per-task loss on a tiny random chat model: every number against the CPU
 * reference's log-softmax of the same tokens, and the split of prompt and response as SFT makes it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promptedResponse, responseNll, sftPromptedResponses } from "../../src/distill/response-nll";
import { sftExamples } from "../../src/distill/sft-examples";
import type { GenerativeTask, MultipleChoiceTask } from "../../src/eval/task-format";
import { taskGoldNll } from "../../src/eval/task-gold-nll";
import type { Gpu } from "../../src/gpu/context";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { tinyChatWeights, tinyChatTokenizer as tokenizer } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";

const cpu = llamaCpu(tinyChatWeights);
const vocab = tinyChatWeights.config.vocabSize;

/** −Σ log softmax of the response tokens, float64, from the CPU reference. */
function nllCpu(prompt: readonly number[], response: readonly number[]): number {
  const logits = llamaForwardCpu(cpu, [...prompt, ...response]).logits;
  let sum = 0;
  response.forEach((token, j) => {
    const row = Array.from(logits.subarray((prompt.length - 1 + j) * vocab, (prompt.length + j) * vocab));
    const max = Math.max(...row);
    sum -= row[token] - max - Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  });
  return sum;
}

let gpu: Gpu;
let model: LlamaGpu;
beforeAll(async () => {
  gpu = await testGpu();
  model = uploadLlama(gpu, tinyChatWeights);
});
afterAll(() => releaseLlama(gpu, model));

const records = [
  { instruction: "Name a colour.", input: "", output: "Blue." },
  { instruction: "Add the numbers.", input: "2 and 3", output: "Sure! 2 + 3 = 5.\n\nI hope this helps!" },
];

describe("response NLL", () => {
  it("splits records as SFT trains on them: prompt tokens are the masked ones, the response carries the end of turn", () => {
    const split = sftPromptedResponses(tokenizer, records);
    const examples = sftExamples(tokenizer, records);
    split.forEach((s, i) => {
      expect([...s.prompt, ...s.response]).toEqual(examples[i].tokens);
      expect(s.prompt.length).toBe(examples[i].lossMask.indexOf(1));
    });
    expect(tokenizer.decode(split[0].response)).toContain("Blue.");
  });

  it("is the mean NLL per response token, per response and pooled, as the CPU reference computes it", async () => {
    const items = sftPromptedResponses(tokenizer, records);
    const got = await responseNll(gpu, model, items);
    const sums = items.map((r) => nllCpu(r.prompt, r.response));
    const tokens = items.reduce((s, r) => s + r.response.length, 0);
    expect(got.tokens).toBe(tokens);
    expect(got.perToken).toBeCloseTo(sums.reduce((a, b) => a + b, 0) / tokens, 3);
    for (const [i, x] of got.perResponse.entries()) expect(x).toBeCloseTo(sums[i] / items[i].response.length, 3);
    await expect(responseNll(gpu, model, [])).rejects.toThrow(/no responses/);
  });

  it("promptedResponse cuts one encoding of the whole text at the prompt's token count", () => {
    const encode = (t: string) => tokenizer.encode(t, { bos: false });
    const r = promptedResponse(encode, "Question: 2 + 3?\nAnswer:", " 5");
    expect([...r.prompt, ...r.response]).toEqual(encode("Question: 2 + 3?\nAnswer: 5"));
    expect(() => promptedResponse(encode, "Answer:", "")).toThrow(/encodes to no tokens/);
  });
});

describe("per-task loss", () => {
  it("scores the gold choice after the few-shot context, and a generative item's target, as the CPU reference", async () => {
    const mc: MultipleChoiceTask = {
      name: "mc",
      kind: "multiple-choice",
      fewShot: [{ context: "Sky:", choices: ["blue", "green"], gold: 0 }],
      items: [
        { context: "Grass:", choices: ["blue", "green"], gold: 1 },
        { context: "Snow:", choices: ["white", "black"], gold: 0 },
      ],
    };
    const gen: GenerativeTask = {
      name: "gen",
      kind: "generative",
      extractor: { kind: "last-number" },
      items: [{ prompt: "2 + 3 =", answer: "5", target: " 5, so 5" }],
    };
    const encode = (t: string) => tokenizer.encode(t, { bos: tokenizer.addBosByDefault });
    const expected = (pairs: [string, string][]) => {
      let sum = 0;
      let n = 0;
      for (const [prompt, cont] of pairs) {
        const whole = encode(prompt + cont);
        const cut = encode(prompt).length;
        sum += nllCpu(whole.slice(0, cut), whole.slice(cut));
        n += whole.length - cut;
      }
      return sum / n;
    };
    const m = await taskGoldNll(gpu, model, tokenizer, mc);
    expect(m).toMatchObject({ name: "mc", items: 2 });
    expect(m.perToken).toBeCloseTo(
      expected([
        ["Sky: blue\n\nGrass:", " green"],
        ["Sky: blue\n\nSnow:", " white"],
      ]),
      3,
    );
    expect((await taskGoldNll(gpu, model, tokenizer, mc, { limit: 1 })).items).toBe(1);
    const g = await taskGoldNll(gpu, model, tokenizer, gen);
    expect(g.perToken).toBeCloseTo(expected([["2 + 3 =", " 5, so 5"]]), 3);
  });
});
