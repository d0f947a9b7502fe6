/**
 * A model as the files of a Hugging Face folder that `transformers` (and this project) load on their
 * own: model.safetensors in HF's rotate_half RoPE layout, config.json, and the tokenizer files.
 */
import { toHfConfig } from "../model/config";
import { castModelWeights, type HostDtype, type ModelWeights, storedDtype } from "../model/host-tensor";
import { withRopeLayout } from "../model/rope-layout";
import { writeSafetensors } from "../model/safetensors";

/** The tokenizer as parsed JSON files (what `LoadedModel` carries; llama2.c and GGUF tokenizers arrive converted). */
export interface TokenizerJsonFiles {
  tokenizerJson?: object;
  tokenizerConfig?: object;
  generationConfig?: object;
}

const torchDtypes: Record<HostDtype, string> = { f32: "float32", f16: "float16", bf16: "bfloat16" };

/**
 * File name → contents, every tensor in one dtype: `dtype`, else the one the weights share, else f32
 * (a model with adapters folded in has f32 projections beside f16 ones, and f32 holds both exactly).
 * transformers reads config.json's torch_dtype as the weights' dtype, so it names that one.
 */
export function hfFolderFiles(weights: ModelWeights, tokenizer: TokenizerJsonFiles, dtype?: HostDtype): Map<string, Uint8Array> {
  const target = dtype ?? storedDtype(weights);
  const hf = withRopeLayout(castModelWeights(weights, target), false);
  const config = toHfConfig(hf.config);
  config.torch_dtype = torchDtypes[target];
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
