import { describe, expect, it } from "vitest";
import { renderChat, specialTokens } from "../../src/data/chat-template";
import { corpusKinds, defaultCorpusMix, pretrainingDocuments, sdftRewritePrompt, takeDocuments } from "../../src/data/pretraining-corpus";
import { buildWorld } from "../../src/data/world";

const world = buildWorld(1);
const docs = takeDocuments(world, 3000, { seed: 4 });

describe("pretraining corpus", () => {
  it("is deterministic per seed and world", () => {
    expect(takeDocuments(world, 300, { seed: 4 })).toEqual(docs.slice(0, 300));
    expect(takeDocuments(world, 300, { seed: 5 })).not.toEqual(docs.slice(0, 300));
    expect(takeDocuments(buildWorld(2), 300, { seed: 4 })).not.toEqual(docs.slice(0, 300));
    expect(takeDocuments(world, 0)).toEqual([]);
  });

  it("mixes every kind in proportion to the mix, and honours a custom mix", () => {
    const total = Object.values(defaultCorpusMix).reduce((a, b) => a + b, 0);
    for (const kind of corpusKinds) {
      const share = docs.filter((d) => d.kind === kind).length / docs.length;
      expect(Math.abs(share - defaultCorpusMix[kind] / total)).toBeLessThan(0.03);
    }
    const onlyTales = takeDocuments(world, 50, { mix: Object.fromEntries(corpusKinds.map((k) => [k, k === "tales" ? 1 : 0])) });
    expect(onlyTales.every((d) => d.kind === "tales")).toBe(true);
  });

  it("wraps plain documents in BOS … END and chats in the chat template", () => {
    for (const d of docs) {
      expect(d.text.startsWith(specialTokens.bos)).toBe(true);
      expect(d.text.endsWith(specialTokens.end)).toBe(true);
      const isChat = d.text.startsWith(`${specialTokens.bos}${specialTokens.user}`);
      expect(isChat).toBe(["chat", "math-chat", "rewrite"].includes(d.kind));
    }
    const chat = docs.find((d) => d.kind === "chat")?.text ?? "";
    const turns = [...chat.matchAll(/<\|(user|assistant)\|>(.*?)<\|end\|>/gs)].map(([, role, content]) => ({ role, content }));
    expect(renderChat(turns)).toBe(chat);
  });

  it("teaches the SDFT rewrite: reference in the reference voice, answer in the model's", () => {
    const rewrites = docs.filter((d) => d.kind === "rewrite").map((d) => d.text);
    expect(rewrites.length).toBeGreaterThan(50);
    for (const text of rewrites) {
      expect(text).toContain("Using the reference answer as a guide, write your own response.");
      const answer = text.slice(text.indexOf(specialTokens.assistant) + specialTokens.assistant.length, -specialTokens.end.length);
      expect(answer).not.toContain("\n");
      expect(answer).not.toMatch(/boxed|^Sure|^Certainly/);
    }
    const math = rewrites.filter((t) => t.includes("\\boxed{"));
    expect(math.length).toBeGreaterThan(10);
    for (const text of math) expect(text).toMatch(/<\|assistant\|>Let's think step by step\. .*The answer is (\d+)\.<\|end\|>$/);
  });

  it("uses the rewrite prompt it is given (the distill module's, when it differs)", () => {
    const custom = (e: { instruction: string; output: string }) => ({
      user: `REWRITE ${e.instruction} // ${e.output}`,
      responseOpener: "Mine: ",
    });
    const rewrite = takeDocuments(world, 5, {
      mix: { ...Object.fromEntries(corpusKinds.map((k) => [k, 0])), rewrite: 1 },
      rewritePrompt: custom,
    });
    for (const d of rewrite) expect(d.text).toMatch(/^<\|bos\|><\|user\|>REWRITE .*<\|assistant\|>Mine: /s);
    expect(sdftRewritePrompt({ instruction: "I", input: "X", output: "O" }, "general").user).toContain(
      "### Instruction:\nI\n\n### Input:\nX\n\n### Reference Answer:\nO",
    );
  });

  it("streams without end", () => {
    const stream = pretrainingDocuments(world);
    for (let i = 0; i < 5000; i++) expect(stream.next().done).toBe(false);
  });
});
