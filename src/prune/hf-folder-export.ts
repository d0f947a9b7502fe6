/**
 * A model as the files of a Hugging Face folder that `transformers` (and this project) load on their
 * own: model.safetensors in HF's rotate_half RoPE layout, config.json, and the tokenizer files.
 */
import { toHfConfig } from "../model/config";
import type { HostDtype, ModelWeights } from "../model/host-tensor";
import { withRopeLayout } from "../model/rope-layout";
import { writeSafetensors } from "../model/safetensors";

/** The tokenizer as parsed JSON files (what `LoadedModel` carries; llama2.c and GGUF tokenizers arrive converted). */
export interface TokenizerJsonFiles {
  tokenizerJson?: object;
  tokenizerConfig?: object;
  generationConfig?: object;
}

const torchDtypes: Record<HostDtype, string> = { f32: "float32", f16: "float16", bf16: "bfloat16" };

/** File name → contents; weights keep their stored dtypes. */
export function hfFolderFiles(weights: ModelWeights, tokenizer: TokenizerJsonFiles): Map<string, Uint8Array> {
  const hf = withRopeLayout(weights, false);
  const dtypes = new Set([...hf.tensors.values()].map((t) => t.dtype));
  const config = toHfConfig(hf.config);
  // transformers reads torch_dtype as the weights' dtype; a mixed folder stays "float32", which loads every tensor exactly.
  if (dtypes.size === 1) config.torch_dtype = torchDtypes[[...dtypes][0]];
  const json = (value: object) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  // As save_pretrained writes it: transformers rejects a safetensors header whose metadata names another format.
  const files = new Map<string, Uint8Array>([
    ["config.json", json(config)],
    ["model.safetensors", writeSafetensors(hf.tensors, { format: "pt" })],
  ]);
  if (tokenizer.tokenizerJson) files.set("tokenizer.json", json(tokenizer.tokenizerJson));
  if (tokenizer.tokenizerConfig) files.set("tokenizer_config.json", json(tokenizer.tokenizerConfig));
  if (tokenizer.generationConfig) files.set("generation_config.json", json(tokenizer.generationConfig));
  return files;
}
