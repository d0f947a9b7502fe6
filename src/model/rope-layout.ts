/**
 * The two RoPE conventions differ only in which rows of q_proj / k_proj form a rotated pair:
 * Meta / llama2.c / GGUF rotate (x[2i], x[2i+1]) ("interleaved"); Hugging Face's rotate_half
 * rotates (x[i], x[i + D/2]). Permuting the rows of each head converts one into the other with
 * identical attention scores (transformers' convert_llama_weights_to_hf.py and llama.cpp's `permute`).
 */
import type { HostTensor, ModelWeights } from "./host-tensor";

/**
 * Reorders the rows of a [heads·headDim, cols] projection weight (or the entries of its
 * [heads·headDim] bias) within each head.
 * toInterleaved: HF row i → row 2i, HF row i + D/2 → row 2i + 1 (llama.cpp's permute); otherwise the inverse.
 */
export function permuteRopeRows(t: HostTensor, headDim: number, toInterleaved: boolean): HostTensor {
  const [rows, cols = 1] = t.shape;
  if (t.shape.length > 2 || rows % headDim !== 0 || headDim % 2 !== 0) {
    throw new Error(`permuteRopeRows: weight of shape [${t.shape}] is not [heads·${headDim}, cols] with an even head_dim`);
  }
  const half = headDim / 2;
  const data = new (t.data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(t.data.length);
  for (let head = 0; head < rows / headDim; head++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const interleavedRow = head * headDim + 2 * i + j;
        const halfRow = head * headDim + j * half + i;
        const [from, to] = toInterleaved ? [halfRow, interleavedRow] : [interleavedRow, halfRow];
        data.set(t.data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return { dtype: t.dtype, shape: [...t.shape], data };
}

/** The same model with q/k rows permuted so that it uses the requested RoPE convention; other tensors are shared. */
export function withRopeLayout(weights: ModelWeights, interleaved: boolean): ModelWeights {
  const { config } = weights;
  if (config.ropeInterleaved === interleaved) return weights;
  const tensors = new Map(weights.tensors);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    for (const proj of ["q_proj", "k_proj"]) {
      const name = `model.layers.${i}.self_attn.${proj}.weight`;
      const t = tensors.get(name);
      if (!t) throw new Error(`withRopeLayout: tensor "${name}" is missing`);
      tensors.set(name, permuteRopeRows(t, config.headDim, interleaved));
      // Qwen2's bias is added before RoPE, so its entries pair up like the weight's rows.
      const bias = tensors.get(`model.layers.${i}.self_attn.${proj}.bias`);
      if (bias) tensors.set(`model.layers.${i}.self_attn.${proj}.bias`, permuteRopeRows(bias, config.headDim, interleaved));
    }
  }
  return { config: { ...config, ropeInterleaved: interleaved }, tensors };
}
