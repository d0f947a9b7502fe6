import { describe, expect, it } from "vitest";
import { sdftRewritePrompt } from "../../src/data/pretraining-corpus";
import { renderSdftPrompt, renderSdftRequest, type SdftTemplate, sdftPromptIds, sdftTemplates } from "../../src/distill/sdft-template";
import { Tokenizer } from "../../src/model/tokenizer";
import { tinyChatTokenizer } from "../eval/tiny-chat-llama";
import { llamaTokenizerFiles } from "../model/tokenizer-fixtures";

const record = { instruction: "Name the {color} of the sky.", input: "", output: "It is blue." };
const math = { instruction: "What is 3+4?", input: "", output: "3+4=7\n#### 7" };

describe("SDFT templates", () => {
  it("show the instruction, the input when there is one, and the reference; data braces stay as written", () => {
    const general = renderSdftRequest(sdftTemplates.general, record);
    expect(general).toContain("### Instruction:\nName the {color} of the sky.\n\n### Reference Answer:\nIt is blue.\n\n### Response:");
    expect(general).not.toContain("### Input:");
    const withInput = renderSdftRequest(sdftTemplates.general, { ...record, input: "at noon" });
    expect(withInput).toContain("### Input:\nat noon\n\n### Reference Answer:");
    expect(sdftTemplates.math.responseOpener).toMatch(/step by step/);
  });

  it("are exactly the rewrite prompts the demo model was trained on (src/data), for both kinds, with and without input", () => {
    for (const kind of ["general", "math"] as const) {
      for (const example of [math, { ...record, input: "at noon" }]) {
        const trained = sdftRewritePrompt(example, kind);
        expect(renderSdftRequest(sdftTemplates[kind], example)).toBe(trained.user);
        expect(sdftTemplates[kind].responseOpener).toBe(trained.responseOpener);
      }
    }
  });

  it("are data: an edited template is rendered as given", () => {
    const custom: SdftTemplate = { ...sdftTemplates.general, promptWithoutInput: "[{reference}] for [{instruction}] ({input})" };
    expect(renderSdftRequest(custom, record)).toBe("[It is blue.] for [Name the {color} of the sky.] ()");
  });

  it("go through the model's chat template as one user turn; the math opener starts the answer, its trailing space left to the model", () => {
    const text = renderSdftPrompt(tinyChatTokenizer, sdftTemplates.math, math);
    const request = renderSdftRequest(sdftTemplates.math, math);
    expect(text).toBe(
      `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n${request}<|im_end|>\n<|im_start|>assistant\nLet's think step by step.`,
    );
    expect(sdftPromptIds(tinyChatTokenizer, sdftTemplates.math, math)).toEqual(tinyChatTokenizer.encode(text, { bos: false }));
  });

  it("without a chat template: the request, the answer on the next line, BOS when the tokenizer adds it", () => {
    const files = llamaTokenizerFiles();
    const plain = new Tokenizer({ ...files, tokenizerConfig: { ...files.tokenizerConfig, chat_template: undefined } });
    const text = renderSdftPrompt(plain, sdftTemplates.general, record);
    expect(text).toBe(`${renderSdftRequest(sdftTemplates.general, record)}\n`);
    expect(plain.addBosByDefault).toBe(true);
    expect(sdftPromptIds(plain, sdftTemplates.general, record)).toEqual(plain.encode(text, { bos: true }));
  });
});
