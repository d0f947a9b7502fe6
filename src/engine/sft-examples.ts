/**
 * Alpaca records as training sequences for supervised fine-tuning: the instruction (and input) as
 * the user's turn of the model's chat template, the response as the assistant's turn, and the loss
 * on the response tokens only (the end-of-turn token included, so the model learns to stop), as
 * TRL's completion-only collator does. Without a chat template the prompt is plain text (BOS, the
 * instruction, a newline) and the response ends with EOS.
 */

import { instructionMessage } from "../data/pretraining-corpus";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import type { Tokenizer } from "../model/tokenizer";
import type { TrainExample } from "../train/train-loop";

export type InstructionTokenizer = Pick<Tokenizer, "encode" | "chatTemplate" | "applyChatTemplate" | "bosTokenId" | "eosTokenId">;

/**
 * One example per record. Prompt and response are encoded separately, so a BPE merge can never
 * straddle the boundary and the mask is exact.
 */
export function instructionTrainExamples(tokenizer: InstructionTokenizer, records: readonly AlpacaRecord[]): TrainExample[] {
  return records.map((record, i) => {
    const user = { role: "user", content: instructionMessage(record.instruction, record.input) };
    let prompt: number[];
    let response: number[];
    if (tokenizer.chatTemplate !== undefined) {
      const head = tokenizer.applyChatTemplate([user], { addGenerationPrompt: true });
      const whole = tokenizer.applyChatTemplate([user, { role: "assistant", content: record.output }]);
      if (!whole.startsWith(head)) {
        throw new Error(`instructionTrainExamples: record ${i}: the chat template does not render the conversation as prompt + response`);
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
    if (response.length === 0) throw new Error(`instructionTrainExamples: record ${i} has an empty response`);
    return {
      tokens: [...prompt, ...response],
      lossMask: [...prompt.map(() => 0), ...response.map(() => 1)],
    };
  });
}
