/**
 * A random tiny Llama over the ChatML fixture tokenizer (byte-level BPE, so any text encodes; a chat
 * template; stop ids 0 and 2), for evaluation and distillation tests on real tokens; and the same
 * model as a Hugging Face folder on disk, for the CLI.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHfConfig } from "../../src/model/config";
import { randomLlama } from "../../src/model/random-llama";
import { writeSafetensors } from "../../src/model/safetensors";
import { Tokenizer } from "../../src/model/tokenizer";
import { chatMlTokenizerFiles } from "../model/tokenizer-fixtures";

export const tinyChatTokenizer = new Tokenizer(chatMlTokenizerFiles(), "chatml-fixture");

export const tinyChatWeights = randomLlama(
  {
    hiddenSize: 32,
    intermediateSize: 45,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    vocabSize: tinyChatTokenizer.vocabSize,
    eosTokenId: [2],
  },
  7,
);

/** A fresh temporary folder holding the model's config, weights and tokenizer files; the caller removes it. */
export function writeTinyChatFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "prunelab-tiny-chat-"));
  const files = chatMlTokenizerFiles();
  writeFileSync(join(dir, "config.json"), JSON.stringify(toHfConfig(tinyChatWeights.config)));
  writeFileSync(join(dir, "model.safetensors"), writeSafetensors(tinyChatWeights.tensors));
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(files.tokenizerJson));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(files.tokenizerConfig));
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify(files.generationConfig));
  return dir;
}
