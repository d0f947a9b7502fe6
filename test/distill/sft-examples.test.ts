import { describe, expect, it } from "vitest";
import { sftExamples } from "../../src/distill/sft-examples";
import { tinyChatTokenizer } from "../eval/tiny-chat-llama";

const record = { instruction: "Greet the cat.", input: "politely", output: "hello cat" };

describe("sftExamples", () => {
  it("renders the chat template and counts the loss on the assistant's turn only, its end token included", () => {
    const [example] = sftExamples(tinyChatTokenizer, [record]);
    const whole = tinyChatTokenizer.applyChatTemplate([
      { role: "user", content: "Greet the cat.\n\npolitely" },
      { role: "assistant", content: "hello cat" },
    ]);
    expect(tinyChatTokenizer.decode(example.tokens)).toBe(whole);
    const first = example.lossMask.indexOf(1);
    expect(example.lossMask.slice(first).every((m) => m === 1)).toBe(true);
    const prompt = tinyChatTokenizer.applyChatTemplate([{ role: "user", content: "Greet the cat.\n\npolitely" }], {
      addGenerationPrompt: true,
    });
    expect(tinyChatTokenizer.decode(example.tokens.slice(0, first))).toBe(prompt);
    expect(tinyChatTokenizer.decode(example.tokens.slice(first))).toBe(whole.slice(prompt.length));
    expect(whole.slice(prompt.length)).toMatch(/^hello cat\S*<\|im_end\|>/);
  });

  it("without a chat template: BOS, the instruction and a newline, then the response and EOS", () => {
    const plain = {
      encode: tinyChatTokenizer.encode.bind(tinyChatTokenizer),
      applyChatTemplate: () => {
        throw new Error("no template");
      },
      chatTemplate: undefined,
      bosTokenId: tinyChatTokenizer.bosTokenId,
      eosTokenId: 2,
    };
    const [example] = sftExamples(plain, [{ ...record, input: "" }]);
    const prompt = tinyChatTokenizer.encode("Greet the cat.\n", { bos: true });
    expect(prompt[0]).toBe(tinyChatTokenizer.bosTokenId);
    expect(example.tokens).toEqual([...prompt, ...tinyChatTokenizer.encode("hello cat", { bos: false }), 2]);
    expect(example.lossMask).toEqual([...prompt.map(() => 0), ...example.tokens.slice(prompt.length).map(() => 1)]);
  });
});
