/**
 * The demo model's chat format, a small ChatML-like template: BOS, then each turn as
 * `<|user|>…<|end|>` or `<|assistant|>…<|end|>`. The same Jinja source goes into
 * tokenizer_config.json (rendered there by src/model/tokenizer.ts) and renders the corpus here,
 * so training text and inference prompts cannot drift apart.
 */
import { Template } from "@huggingface/jinja";
import type { ChatMessage } from "../model/tokenizer";

export const specialTokens = {
  bos: "<|bos|>",
  end: "<|end|>",
  user: "<|user|>",
  assistant: "<|assistant|>",
  pad: "<|pad|>",
} as const;

/** Roles other than user and assistant are refused rather than silently dropped. */
export const chatTemplate =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] != 'user' and message['role'] != 'assistant' %}" +
  "{{ raise_exception('the demo chat template knows only user and assistant turns') }}{% endif %}" +
  "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

let compiled: Template | undefined;

/** The conversation as the demo tokenizer's `applyChatTemplate` renders it (BOS included). */
export function renderChat(messages: readonly ChatMessage[], { addGenerationPrompt = false } = {}): string {
  compiled ??= new Template(chatTemplate);
  return compiled.render({
    bos_token: specialTokens.bos,
    eos_token: specialTokens.end,
    messages,
    add_generation_prompt: addGenerationPrompt,
  });
}
