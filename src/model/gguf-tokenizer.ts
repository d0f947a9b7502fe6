/** The tokenizer a GGUF embeds (tokenizer.ggml.*), as a Hugging Face tokenizer.json where it is SentencePiece BPE ("llama"). */
import { ModelFormatError } from "./errors";
import type { GgufValue } from "./gguf";
import { sentencePieceBpeTokenizer } from "./sentencepiece-bpe";

/** llama.cpp's llama_token_type values that mark tokens never produced by merging text. */
const UNKNOWN_TYPE = 2;
const CONTROL_TYPE = 3;

/**
 * undefined when the GGUF has no tokenizer or one of another kind (e.g. "gpt2" byte-level BPE, whose
 * pre-tokenizer regex depends on the model family); the caller then needs the model's tokenizer.json.
 */
export function ggufTokenizerToHf(
  metadata: Map<string, GgufValue>,
  file: string,
  modelMaxLength: number,
): { tokenizerJson: object; tokenizerConfig: object } | undefined {
  if (metadata.get("tokenizer.ggml.model") !== "llama") return undefined;
  const list = (key: string, kind: "string" | "number", required: boolean) => {
    const v = metadata.get(key);
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== kind))
      throw new ModelFormatError(file, `metadata ${key} is not an array of ${kind}s`);
    return v as (string | number)[];
  };
  const pieces = list("tokenizer.ggml.tokens", "string", true) as string[];
  const scores = list("tokenizer.ggml.scores", "number", true) as number[];
  const types = list("tokenizer.ggml.token_type", "number", false) as number[] | undefined;
  for (const [key, values] of [
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", types],
  ] as const) {
    if (values && values.length !== pieces.length)
      throw new ModelFormatError(file, `metadata ${key} has ${values.length} entries for ${pieces.length} tokens`);
  }
  const id = (key: string, fallback?: number) => {
    const v = metadata.get(key) ?? fallback;
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= pieces.length)
      throw new ModelFormatError(file, `metadata ${key} = ${v} is not a token id`);
    return v;
  };
  const unkId = id("tokenizer.ggml.unknown_token_id", 0) as number;
  const bosId = id("tokenizer.ggml.bos_token_id");
  const eosId = id("tokenizer.ggml.eos_token_id");
  const special = new Set([unkId, bosId, eosId].filter((x) => x !== undefined));
  types?.forEach((type, i) => {
    if (type === UNKNOWN_TYPE || type === CONTROL_TYPE) special.add(i);
  });
  const addBos = metadata.get("tokenizer.ggml.add_bos_token") ?? true;
  return sentencePieceBpeTokenizer(
    { pieces, scores, specialIds: [...special].sort((a, b) => a - b), unkId, bosId, eosId, addBos: addBos === true },
    modelMaxLength,
  );
}
