/**
 * A PEFT LoRA adapter merged into its base model (W + (α/r)·B·A, `foldLora`), as a model that
 * loads on its own: what `prunelab fold` and the workbench's "download merged model" write.
 */
import type { ModelWeights } from "../model/host-tensor";
import { foldLora } from "../train/fold-lora";
import { readPeftAdapter } from "./peft-adapter";

/** The adapter folder's two files: adapter_config.json as text and adapter_model.safetensors as bytes. */
export interface PeftAdapterFiles {
  configText: string;
  weights: Uint8Array;
}

/** The base with the adapter folded in; the adapter is checked against the base first (layers, shapes). */
export function foldPeftAdapter(base: ModelWeights, adapter: PeftAdapterFiles): ModelWeights {
  const peft = readPeftAdapter(adapter.configText, adapter.weights, base);
  return foldLora(base, peft.tensors, peft.config);
}
