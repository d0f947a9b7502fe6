/** The tensors a Llama of a given config has (Hugging Face names and [out, in] shapes), and the check that a file provides them. */
import type { LlamaConfig } from "./config";
import { NonFiniteWeightError, TensorShapeError } from "./errors";
import { firstNonFinite, type HostTensor, toFloat32 } from "./host-tensor";

export function llamaTensorShapes(cfg: LlamaConfig): Map<string, number[]> {
  const { hiddenSize: h, intermediateSize: f, headDim: d, numAttentionHeads: hq, numKeyValueHeads: hkv, vocabSize: v } = cfg;
  const shapes = new Map<string, number[]>([["model.embed_tokens.weight", [v, h]]]);
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [h]);
    shapes.set(`${p}self_attn.q_proj.weight`, [hq * d, h]);
    shapes.set(`${p}self_attn.k_proj.weight`, [hkv * d, h]);
    shapes.set(`${p}self_attn.v_proj.weight`, [hkv * d, h]);
    shapes.set(`${p}self_attn.o_proj.weight`, [h, hq * d]);
    shapes.set(`${p}post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}mlp.gate_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.up_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.down_proj.weight`, [h, f]);
  }
  shapes.set("model.norm.weight", [h]);
  if (!cfg.tieWordEmbeddings) shapes.set("lm_head.weight", [v, h]);
  return shapes;
}

/**
 * Keeps exactly the tensors the config calls for, each with its expected shape. A tied model's
 * redundant `lm_head.weight` (some exporters write it anyway) is dropped when it equals the embedding's shape;
 * HF's unused `rotary_emb.inv_freq` buffers are dropped too. Anything else unexpected is an error, since it
 * usually means the config describes a different model than the weights. A tensor holding NaN or ±Inf
 * is refused (NonFiniteWeightError naming it), since every output of the model would be NaN.
 */
export function checkLlamaTensors(cfg: LlamaConfig, tensors: Map<string, HostTensor>, file: string): Map<string, HostTensor> {
  const expected = llamaTensorShapes(cfg);
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new TensorShapeError(file, name, `is missing (the config expects shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i])) {
      throw new TensorShapeError(file, name, `has shape [${t.shape}], but the config expects [${shape}]`);
    }
    const bad = firstNonFinite(t);
    if (bad >= 0) throw new NonFiniteWeightError(file, name, bad, toFloat32({ ...t, data: t.data.subarray(bad, bad + 1), shape: [1] })[0]);
    out.set(name, t);
  }
  for (const [name, t] of tensors) {
    if (expected.has(name) || name.endsWith("rotary_emb.inv_freq")) continue;
    if (name === "lm_head.weight" && cfg.tieWordEmbeddings && t.shape.join() === [cfg.vocabSize, cfg.hiddenSize].join()) continue;
    throw new TensorShapeError(file, name, `is not a tensor of a Llama with this config (shape [${t.shape}])`);
  }
  return out;
}
