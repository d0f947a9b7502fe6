/**
 * How foreign a set of responses is to a model: the mean negative log-likelihood per token of each
 * response after its prompt, under that model. SDD rests on the claim that the teacher's rewrites
 * sit closer to the model's own distribution than the dataset's references, so this number, for
 * the SFT references beside the SDD data under the original model, says whether a run tests it.
 */
import type { Gpu } from "../gpu/context";
import type { LlamaGpu } from "../model/llama-gpu";
import { type ScoreRequest, scoreContinuations } from "../model/score";
import type { AlpacaRecord } from "./alpaca-jsonl";
import { type InstructionTokenizer, sftExamples } from "./sft-examples";

export interface PromptedResponse {
  /** Token ids of everything before the response (BOS and chat markup included). */
  prompt: readonly number[];
  /** Token ids of the response (its end-of-turn token included when it has one). */
  response: readonly number[];
}

export interface ResponseNll {
  /** Σ NLL / Σ tokens over all responses, nats per token. */
  perToken: number;
  tokens: number;
  /** Per response: mean NLL per token. */
  perResponse: number[];
}

/**
 * Splits `promptText + responseText` into prompt and response ids the way the model reads the
 * whole text (one encoding, cut at the prompt's own token count), as lm-eval-harness scores a
 * continuation, so a token merged across the boundary is not scored twice or in a form never read.
 */
export function promptedResponse(encode: (text: string) => number[], promptText: string, responseText: string): PromptedResponse {
  const whole = encode(promptText + responseText);
  const cut = encode(promptText).length;
  if (cut === 0 || cut >= whole.length) throw new Error("promptedResponse: the prompt or the response encodes to no tokens");
  return { prompt: whole.slice(0, cut), response: whole.slice(cut) };
}

export async function responseNll(
  gpu: Gpu,
  model: LlamaGpu,
  items: readonly PromptedResponse[],
  { batchSize = 8 } = {},
): Promise<ResponseNll> {
  if (items.length === 0) throw new Error("responseNll: no responses");
  const requests: ScoreRequest[] = items.map((r) => ({ context: r.prompt, continuation: r.response }));
  const scores = await scoreContinuations(gpu, model, requests, { batchSize });
  const tokens = items.reduce((s, r) => s + r.response.length, 0);
  const total = -scores.reduce((s, x) => s + x.logProb, 0);
  return { perToken: total / tokens, tokens, perResponse: scores.map((x, i) => -x.logProb / items[i].response.length) };
}

/**
 * Records as the SFT step reads them (src/distill/sft-examples.ts: the chat template's
 * user turn, then the response and its end-of-turn token), split at the loss mask into prompt and
 * response, so the NLL is measured on exactly the tokens fine-tuning trains on.
 */
export function sftPromptedResponses(tokenizer: InstructionTokenizer, records: readonly AlpacaRecord[]): PromptedResponse[] {
  return sftExamples(tokenizer, records).map((e) => {
    const cut = e.lossMask.indexOf(1);
    return { prompt: e.tokens.slice(0, cut), response: e.tokens.slice(cut) };
  });
}
