/**
 * `prunelab speculate`: speculative decoding of a prompt with a draft model (e.g. the pruned one)
 * for a target model, writing the continuation and the acceptance statistics as JSON.
 */
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { speculativeDecode } from "../spec/speculative-decoding";
import { number, parseCommand, required } from "./cli-args";
import { type CliIo, cliGpu, tokenizerOf } from "./command-io";
import { downloadProgressLine } from "./download-progress";
import { reportChannel, writeJsonResult } from "./json-result";

export const speculateUsage = `  prunelab speculate --draft PATH --target PATH [--tokenizer PATH] --k K --prompt TEXT
                     --max-tokens N [--temperature T] [--seed S] --json OUT|-
      Decodes the continuation of TEXT (with BOS where the tokenizer has one) with the target model,
      k tokens at a time proposed by the draft (both use the target's tokenizer), and writes
      {"text", "acceptanceRate", "meanAcceptedLength", "targetForwards", "draftTokens",
      "acceptedTokens", "seconds"} to OUT. Temperature 0 (the default) is greedy and gives exactly
      the target's greedy text. A bare --json (or --json -) prints the JSON on stdout.`;

export async function speculateCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    draft: { type: "string" },
    target: { type: "string" },
    tokenizer: { type: "string" },
    k: { type: "string" },
    prompt: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    seed: { type: "string" },
    json: { type: "string" },
  });
  const draftPath = required(values.draft, "draft");
  const targetPath = required(values.target, "target");
  const k = number("k", required(values.k, "k"), { integer: true, min: 1 });
  const prompt = required(values.prompt, "prompt");
  const maxTokens = number("max-tokens", required(values["max-tokens"], "max-tokens"), { integer: true, min: 1 });
  const temperature = values.temperature === undefined ? 0 : number("temperature", values.temperature, { min: 0 });
  const seed = values.seed === undefined ? 0 : number("seed", values.seed, { integer: true, min: 0 });
  const json = required(values.json, "json");
  const target = await loadModelFromPath(targetPath, { tokenizer: values.tokenizer, onDownload: downloadProgressLine(io) });
  const draft = await loadModelFromPath(draftPath, {
    tokenizer: values.tokenizer,
    requireTokenizer: false,
    onDownload: downloadProgressLine(io),
  });
  const tokenizer = tokenizerOf(target);
  const gpu = await cliGpu();
  try {
    const targetModel = uploadLlama(gpu, target.weights);
    const draftModel = uploadLlama(gpu, draft.weights);
    const stopTokens = [...new Set([...tokenizer.stopTokenIds, ...(target.weights.config.eosTokenId ?? [])])];
    const result = await speculativeDecode(
      gpu,
      draftModel,
      targetModel,
      tokenizer.encode(prompt, { bos: tokenizer.bosTokenId !== undefined }),
      {
        k,
        maxTokens,
        temperature,
        seed,
        stopTokens,
      },
    );
    releaseLlama(gpu, draftModel);
    releaseLlama(gpu, targetModel);
    const report = {
      text: tokenizer.decode(result.tokens, { skipSpecialTokens: true }),
      acceptanceRate: result.acceptanceRate,
      meanAcceptedLength: result.meanAcceptedLength,
      targetForwards: result.targetForwards,
      draftTokens: result.draftTokens,
      acceptedTokens: result.acceptedTokens,
      seconds: result.seconds,
    };
    await writeJsonResult(io, json, report);
    reportChannel(
      io,
      json,
    )(
      `${report.text}\n` +
        `acceptance rate ${report.acceptanceRate.toFixed(3)} (${report.acceptedTokens} of ${report.draftTokens} drafts), ` +
        `${report.meanAcceptedLength.toFixed(2)} tokens per target forward, ${report.targetForwards} target forwards, ${report.seconds.toFixed(2)} s\n`,
    );
  } finally {
    gpu.destroy();
  }
}
