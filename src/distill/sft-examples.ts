/**
 * The one SFT example builder (workbench, `prunelab train`, `replay` and `paper` all use it): Alpaca
 * records as training sequences, the instruction (and input) as the user's turn of the model's
 * chat template, the response as the assistant's turn, and the loss on the response tokens only
 * (the end-of-turn token included, so the model learns to stop), as TRL's completion-only collator
 * does. Without a chat template the prompt is plain text (BOS, the instruction, a newline) and the
 * response ends with EOS.
 *
 * Why this one and not the `### Instruction: … ### Response:` builder the worker had: the chat
 * template is how the model is prompted everywhere else (the Playground's chat, speculation
 * prompts, the demo model's own pretraining turns), so fine-tuning on that layout teaches the
 * model what it will be asked; and encoding prompt and response apart gives the exact token
 * boundary at which generation starts, so the mask never counts a prompt token or drops a
 * response token. Sequences longer than maxLength lose their tail in the training loop.
 */

import type { Tokenizer } from "../model/tokenizer";
import type { TrainExample } from "../train/train-loop";
import { type AlpacaRecord, instructionMessage } from "./alpaca-jsonl";

export type InstructionTokenizer = Pick<Tokenizer, "encode" | "chatTemplate" | "applyChatTemplate" | "bosTokenId" | "eosTokenId">;

/**
 * One example per record. Prompt and response are encoded separately, so a BPE merge can never
 * straddle the boundary and the mask is exact.
 */
export function sftExamples(tokenizer: InstructionTokenizer, records: readonly AlpacaRecord[]): TrainExample[] {
  return records.map((record, i) => {
    const user = { role: "user", content: instructionMessage(record.instruction, record.input) };
    let prompt: number[];
    let response: number[];
    if (tokenizer.chatTemplate !== undefined) {
      const head = tokenizer.applyChatTemplate([user], { addGenerationPrompt: true });
      const whole = tokenizer.applyChatTemplate([user, { role: "assistant", content: record.output }]);
      if (!whole.startsWith(head)) {
        throw new Error(`sftExamples: record ${i}: the chat template does not render the conversation as prompt + response`);
      }
      prompt = tokenizer.encode(head, { bos: false });
      response = tokenizer.encode(whole.slice(head.length), { bos: false });
    } else {
      prompt = tokenizer.encode(`${user.content}\n`, { bos: tokenizer.bosTokenId !== undefined });
      response = [
        ...tokenizer.encode(record.output, { bos: false }),
        ...(tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId]),
      ];
    }
    if (response.length === 0) throw new Error(`sftExamples: record ${i} has an empty response`);
    return {
      tokens: [...prompt, ...response],
      lossMask: [...prompt.map(() => 0), ...response.map(() => 1)],
    };
  });
}
