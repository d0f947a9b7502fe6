import { describe, expect, it } from "vitest";
import { evaluateSuite } from "../../src/eval/suite-runner";
import { parseEvalSuite } from "../../src/eval/task-format";
import { releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { Tokenizer } from "../../src/model/tokenizer";
import { testGpu } from "../gpu-harness";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

/** Continuations any reader of children's stories gets right, against absurd ones: a scorer that misaligns tokens would be at chance. */
const suite = parseEvalSuite({
  name: "stories-sanity",
  tasks: [
    {
      name: "next-word",
      kind: "multiple-choice",
      chance: 0.5,
      items: [
        ["Once upon a time, there was a little", "girl", "carburetor"],
        ["Lily went to the park with her", "mom", "spreadsheet"],
        ["The cat said", "meow", "quantum"],
        ["They played all day and were very", "happy", "purple"],
        ["Tom liked to play with his", "ball", "mortgage"],
        ["The sun was shining and the birds were", "singing", "invoicing"],
        ["She gave her friend a big", "hug", "algorithm"],
        ["At night, the little boy went to", "bed", "parliament"],
      ].map(([context, gold, wrong], i) => ({ context, choices: i % 2 ? [wrong, gold] : [gold, wrong], gold: i % 2 })),
    },
    {
      name: "continue",
      kind: "generative",
      extractor: { kind: "regex", pattern: "^\\s*(\\w+)" },
      maxTokens: 5,
      stopStrings: ["."],
      items: [{ prompt: "Once upon a time, there was a little", answer: "girl" }],
    },
  ],
});

describe.skipIf(!hasStories260k)("evaluation on stories260K (a real pretrained Llama)", () => {
  it("picks every sensible continuation by log-likelihood and completes the first line of a story", async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(`${stories260kDir}/stories260K.bin`, { tokenizer: `${stories260kDir}/tok512.bin` });
    const tokenizer = new Tokenizer({ tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig });
    const model = uploadLlama(gpu, loaded.weights);
    const result = await evaluateSuite(gpu, model, tokenizer, suite, { batchSize: 6 });
    releaseLlama(gpu, model);
    expect(result.tasks.map((t) => [t.name, t.acc])).toEqual([
      ["next-word", 1],
      ["continue", 1],
    ]);
    expect(result.average).toBe(1);
  });
});
