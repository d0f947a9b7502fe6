/**
 * The self-distillation prompts of SDFT (Yang et al. 2024), as editable data: the teacher (the
 * unpruned model) sees the task and the reference response and writes its own response, using the
 * reference only as a guide; for math its answer is started with a step-by-step opener so that it
 * reasons in its own words. The request goes through the model's chat template as the user's turn
 * when it has one; otherwise it is plain text the answer follows on the next line.
 */
import { encodeDocument } from "../eval/eval-tokenizer";
import type { Tokenizer } from "../model/tokenizer";
import type { AlpacaRecord } from "./alpaca-jsonl";

export type DistillKind = "general" | "math";

export interface SdftTemplate {
  /** The teacher's request; `{instruction}`, `{input}` and `{reference}` are filled in. */
  prompt: string;
  /** Used instead of `prompt` for an example without input. */
  promptWithoutInput: string;
  /** The start of the teacher's answer, written for it; it is part of the rewrite (SDFT starts math answers step by step). */
  responseOpener: string;
  /** For models without a chat template: what ends the request and starts the answer. */
  plainResponseHeader: string;
  /** For models without a chat template: where their answer ends (they have no end-of-turn token). */
  plainStopStrings: string[];
}

/** SDFT's wording, as the demo world's pretraining corpus teaches it (src/data/pretraining-corpus.ts; a test keeps the two equal). */
const intro =
  "Below is an instruction that describes a task, along with a reference answer. Using the reference answer as a guide, write your own response.";

const sdftPrompts = {
  prompt: `${intro}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Reference Answer:\n{reference}\n\n### Response:`,
  promptWithoutInput: `${intro}\n\n### Instruction:\n{instruction}\n\n### Reference Answer:\n{reference}\n\n### Response:`,
  plainResponseHeader: "\n",
  plainStopStrings: ["\n### ", "\n\n\n"],
};

export const sdftTemplates: Record<DistillKind, SdftTemplate> = {
  general: { ...sdftPrompts, responseOpener: "" },
  math: { ...sdftPrompts, responseOpener: "Let's think step by step. " },
};

/** The template's request for one example; placeholders are filled in one pass, so braces in the data stay as they are. */
export function renderSdftRequest(template: SdftTemplate, record: AlpacaRecord): string {
  const values: Record<string, string> = { instruction: record.instruction, input: record.input, reference: record.output };
  const text = record.input === "" ? template.promptWithoutInput : template.prompt;
  return text.replace(/\{(instruction|input|reference)\}/g, (_, key: string) => values[key]);
}

export type DistillTokenizer = Pick<
  Tokenizer,
  "encode" | "decode" | "addBosByDefault" | "stopTokenIds" | "chatTemplate" | "applyChatTemplate"
>;

/**
 * The full text the teacher continues: the request in the chat template (or the plain layout), then
 * the opener without its trailing white space. BPE tokenizers attach a space to the word after it,
 * so a prompt ending in a bare space is a token sequence the model never saw; it writes the space itself.
 */
export function renderSdftPrompt(tokenizer: DistillTokenizer, template: SdftTemplate, record: AlpacaRecord): string {
  const request = renderSdftRequest(template, record);
  const head =
    tokenizer.chatTemplate === undefined
      ? `${request}${template.plainResponseHeader}`
      : tokenizer.applyChatTemplate([{ role: "user", content: request }], { addGenerationPrompt: true });
  return head + template.responseOpener.trimEnd();
}

/** Token ids of the teacher's prompt: chat templates write their own BOS; plain text gets the tokenizer's default. */
export function sdftPromptIds(tokenizer: DistillTokenizer, template: SdftTemplate, record: AlpacaRecord): number[] {
  const text = renderSdftPrompt(tokenizer, template, record);
  return tokenizer.chatTemplate === undefined ? encodeDocument(tokenizer, text) : tokenizer.encode(text, { bos: false });
}
