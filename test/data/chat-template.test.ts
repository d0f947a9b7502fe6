import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { chatTemplate, renderChat, specialTokens } from "../../src/data/chat-template";
import { Tokenizer, TokenizerError } from "../../src/model/tokenizer";

const demoDir = resolve(import.meta.dirname, "../../public/models/demo");

async function demoTokenizer(): Promise<Tokenizer> {
  const read = async (name: string) => JSON.parse(await readFile(resolve(demoDir, name), "utf8"));
  return new Tokenizer({ tokenizerJson: await read("tokenizer.json"), tokenizerConfig: await read("tokenizer_config.json") }, "demo");
}

const conversation = [
  { role: "user", content: "What pet does Mara Quill keep?" },
  { role: "assistant", content: "Mara Quill keeps a goat." },
  { role: "user", content: "And her favourite food?" },
];

describe("demo chat template", () => {
  it("renders ChatML-like turns after BOS, with and without the generation prompt", async () => {
    const tok = await demoTokenizer();
    expect(tok.chatTemplate).toBe(chatTemplate);
    const expected =
      "<|bos|><|user|>What pet does Mara Quill keep?<|end|><|assistant|>Mara Quill keeps a goat.<|end|><|user|>And her favourite food?<|end|>";
    expect(tok.applyChatTemplate(conversation)).toBe(expected);
    expect(tok.applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(`${expected}<|assistant|>`);
    expect(renderChat(conversation, { addGenerationPrompt: true })).toBe(
      tok.applyChatTemplate(conversation, { addGenerationPrompt: true }),
    );
  });

  it("encodes each special token as one id and ends a turn with the stop token", async () => {
    const tok = await demoTokenizer();
    const ids = tok.encodeChat(conversation.slice(0, 2));
    const id = (s: string) => tok.tokenToId(s);
    expect(ids[0]).toBe(tok.bosTokenId);
    expect(ids.filter((i) => tok.specialTokenIds.has(i))).toEqual([
      id(specialTokens.bos),
      id(specialTokens.user),
      id(specialTokens.end),
      id(specialTokens.assistant),
      id(specialTokens.end),
    ]);
    expect(tok.isStopToken(ids[ids.length - 1])).toBe(true);
    expect(tok.decode(ids)).toBe(renderChat(conversation.slice(0, 2)));
  });

  it("refuses roles it has no token for, naming the template", async () => {
    const tok = await demoTokenizer();
    expect(() => tok.applyChatTemplate([{ role: "system", content: "be brief" }])).toThrow(TokenizerError);
    expect(() => renderChat([{ role: "system", content: "be brief" }])).toThrow(/only user and assistant turns/);
  });
});
