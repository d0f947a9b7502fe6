/**
 * The demo model's tokenizer files, made from the world: a byte-level BPE fitted on a fixed sample
 * of the pretraining corpus and the fine-tuning datasets (never the benchmark), the chat template,
 * and BOS/EOS/PAD. `scripts/make-tokenizer.ts` writes them to public/models/demo/; a test rebuilds
 * them and compares bytes with the committed copies.
 */
import { byteLevelTokenizerJson, trainByteLevelBpe } from "./bpe-trainer";
import { chatTemplate, specialTokens } from "./chat-template";
import { generalInstructionDataset, mathInstructionDataset } from "./finetune-datasets";
import { corpusGeneralKinds } from "./instruction-examples";
import { takeDocuments } from "./pretraining-corpus";
import { buildWorld, demoWorldSeed } from "./world";

export const demoTokenizerSettings = {
  worldSeed: demoWorldSeed,
  corpusSeed: 0,
  corpusDocuments: 8000,
  vocabSize: 1536,
} as const;

export interface DemoTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** The texts the tokenizer is fitted on. */
export function demoTokenizerTexts(settings = demoTokenizerSettings): string[] {
  const world = buildWorld(settings.worldSeed);
  // Fitted when the fine-tuning set had the corpus's mix (tales included); kept so the vocabulary stays.
  const records = [...generalInstructionDataset(world, { kinds: corpusGeneralKinds }), ...mathInstructionDataset(world)];
  return [
    ...takeDocuments(world, settings.corpusDocuments, { seed: settings.corpusSeed }).map((d) => d.text),
    ...records.map((r) => `${r.instruction}\n\n${r.input}\n\n${r.output}`),
  ];
}

export function buildDemoTokenizer(settings = demoTokenizerSettings): DemoTokenizerFiles {
  const model = trainByteLevelBpe(demoTokenizerTexts(settings), {
    vocabSize: settings.vocabSize,
    specialTokens: [specialTokens.bos, specialTokens.end, specialTokens.user, specialTokens.assistant, specialTokens.pad],
  });
  return {
    tokenizerJson: byteLevelTokenizerJson(model, specialTokens.bos),
    tokenizerConfig: {
      tokenizer_class: "PreTrainedTokenizerFast",
      add_bos_token: true,
      add_eos_token: false,
      bos_token: specialTokens.bos,
      eos_token: specialTokens.end,
      pad_token: specialTokens.pad,
      clean_up_tokenization_spaces: false,
      model_max_length: 1024,
      chat_template: chatTemplate,
    },
  };
}

/** Pretty-printed JSON with a final newline: the committed files' exact bytes. */
export function tokenizerFileText(json: Record<string, unknown>): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}
