/**
 * A seeded random Llama in Hugging Face layout, for tests and benchmarks: any shape (odd sizes,
 * GQA, tied or untied head, Qwen2's q/k/v biases with `attentionBias`) without a download. Weights are uniform with variance 1/fan_in so that
 * activations keep a useful scale through the blocks, and norm weights sit near 1.
 */
import { mulberry32 } from "../seeded-random";
import type { LlamaConfig } from "./config";
import type { HostTensor, ModelWeights } from "./host-tensor";

export type RandomLlamaShape = Pick<
  LlamaConfig,
  "hiddenSize" | "intermediateSize" | "numHiddenLayers" | "numAttentionHeads" | "numKeyValueHeads" | "vocabSize"
> &
  Partial<LlamaConfig>;

export function randomLlamaConfig(shape: RandomLlamaShape): LlamaConfig {
  return {
    headDim: shape.hiddenSize / shape.numAttentionHeads,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeInterleaved: false,
    tieWordEmbeddings: false,
    maxPositionEmbeddings: 2048,
    bosTokenId: 1,
    eosTokenId: [2],
    ...shape,
  };
}

export function randomLlama(shape: RandomLlamaShape, seed = 1): ModelWeights {
  const config = randomLlamaConfig(shape);
  const random = mulberry32(seed);
  const tensors = new Map<string, HostTensor>();
  const uniform = (name: string, dims: number[], center: number, halfWidth: number) => {
    const data = new Float32Array(dims[0] * (dims[1] ?? 1));
    for (let i = 0; i < data.length; i++) data[i] = center + (random() * 2 - 1) * halfWidth;
    tensors.set(name, { dtype: "f32", shape: dims, data });
  };
  // Uniform on [-a, a] has variance a²/3, so a = sqrt(3 / fan_in) gives variance 1/fan_in.
  const linear = (name: string, out: number, inp: number) => uniform(name, [out, inp], 0, Math.sqrt(3 / inp));
  const { hiddenSize: d, intermediateSize: ff, headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv } = config;
  uniform("model.embed_tokens.weight", [config.vocabSize, d], 0, 1);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    uniform(`${p}.input_layernorm.weight`, [d], 1, 0.2);
    linear(`${p}.self_attn.q_proj.weight`, hq * hd, d);
    linear(`${p}.self_attn.k_proj.weight`, hkv * hd, d);
    linear(`${p}.self_attn.v_proj.weight`, hkv * hd, d);
    linear(`${p}.self_attn.o_proj.weight`, d, hq * hd);
    if (config.attentionBias) {
      // Biases of the scale of a projection's output, so that a missing or misplaced one shows.
      uniform(`${p}.self_attn.q_proj.bias`, [hq * hd], 0, 0.5);
      uniform(`${p}.self_attn.k_proj.bias`, [hkv * hd], 0, 0.5);
      uniform(`${p}.self_attn.v_proj.bias`, [hkv * hd], 0, 0.5);
    }
    uniform(`${p}.post_attention_layernorm.weight`, [d], 1, 0.2);
    linear(`${p}.mlp.gate_proj.weight`, ff, d);
    linear(`${p}.mlp.up_proj.weight`, ff, d);
    linear(`${p}.mlp.down_proj.weight`, d, ff);
  }
  uniform("model.norm.weight", [d], 1, 0.2);
  if (!config.tieWordEmbeddings) linear("lm_head.weight", config.vocabSize, d);
  return { config, tensors };
}
