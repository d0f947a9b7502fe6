/** What evaluation and distillation need of a tokenizer (src/model/tokenizer.ts's Tokenizer has it all). */
import type { Tokenizer } from "../model/tokenizer";

export type EvalTokenizer = Pick<Tokenizer, "encode" | "decode" | "addBosByDefault" | "stopTokenIds">;

/** Token ids of `text` as the model reads a document: with BOS when its tokenizer adds one by default. */
export function encodeDocument(tokenizer: EvalTokenizer, text: string): number[] {
  return tokenizer.encode(text, { bos: tokenizer.addBosByDefault });
}
