/**
 * llama2.c "legacy v0" checkpoints (run.c's format): 7 int32 header fields, then float32 tensors
 * stacked over layers. Weights keep Meta's interleaved RoPE layout (`ropeInterleaved: true`).
 */

import { parseLlamaConfig } from "./config";
import { ModelFormatError } from "./errors";
import { fileBytes } from "./file-bytes";
import type { HostTensor, ModelWeights } from "./host-tensor";
import { checkLlamaTensors } from "./llama-weights";

const HEADER_BYTES = 7 * 4;
/** "ak42" (0x616b3432 little-endian), the magic of llama2.c's newer export versions. */
const VERSIONED_MAGIC = 0x616b3432;
/** "PK\x03\x04": torch.save's zip container, i.e. a `pytorch_model.bin`. */
const ZIP_MAGIC = 0x04034b50;

export function readLlama2cCheckpoint(source: Uint8Array | ArrayBuffer, file: string): ModelWeights {
  const bytes = fileBytes(source);
  if (bytes.length < HEADER_BYTES)
    throw new ModelFormatError(file, `truncated: ${bytes.length} bytes, too short for the 28-byte llama2.c header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) === ZIP_MAGIC) {
    throw new ModelFormatError(file, "is a PyTorch (zip/pickle) checkpoint, not a llama2.c one; load the model's .safetensors instead");
  }
  if (view.getUint32(0, true) === VERSIONED_MAGIC) {
    throw new ModelFormatError(file, "is a versioned llama2.c export (magic ak42); only the legacy v0 format (run.c) is supported");
  }
  const [dim, hidden, layers, heads, kvHeads, signedVocab, seqLen] = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const vocab = Math.abs(signedVocab);
  const shared = signedVocab > 0;
  const config = parseLlamaConfig(
    {
      hidden_size: dim,
      intermediate_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      rope_interleaved: true,
      tie_word_embeddings: shared,
      vocab_size: vocab,
      max_position_embeddings: seqLen,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    `${file} (llama2.c header)`,
  );
  const headDim = config.headDim;
  const kvDim = kvHeads * headDim;
  const layout: [string, number[]][] = [
    ["embed", [vocab, dim]],
    ["input_layernorm", [layers, dim]],
    ["self_attn.q_proj", [layers, dim, dim]],
    ["self_attn.k_proj", [layers, kvDim, dim]],
    ["self_attn.v_proj", [layers, kvDim, dim]],
    ["self_attn.o_proj", [layers, dim, dim]],
    ["post_attention_layernorm", [layers, dim]],
    ["mlp.gate_proj", [layers, hidden, dim]],
    ["mlp.down_proj", [layers, dim, hidden]],
    ["mlp.up_proj", [layers, hidden, dim]],
    ["norm", [dim]],
    ["freq_cis", [2, seqLen, headDim / 2]],
  ];
  if (!shared) layout.push(["lm_head", [vocab, dim]]);
  const floats = layout.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  const expectedBytes = HEADER_BYTES + floats * 4;
  if (bytes.length !== expectedBytes) {
    throw new ModelFormatError(
      file,
      `is ${bytes.length} bytes, but a llama2.c checkpoint with dim ${dim}, hidden ${hidden}, ${layers} layers, ${heads}/${kvHeads} heads, vocab ${signedVocab}, seq_len ${seqLen} is ${expectedBytes}${bytes.length < expectedBytes ? " (truncated?)" : ""}`,
    );
  }
  const tensors = new Map<string, HostTensor>();
  // Each tensor gets its own aligned copy, so no tensor's buffer holds another's data.
  const floatsAt = (start: number, count: number) =>
    new Float32Array(bytes.slice(HEADER_BYTES + start * 4, HEADER_BYTES + (start + count) * 4).buffer);
  let at = 0;
  for (const [name, shape] of layout) {
    const size = shape.reduce((a, b) => a * b, 1);
    const start = at;
    at += size;
    if (name === "freq_cis") continue;
    if (name === "embed" || name === "norm" || name === "lm_head") {
      const hfName = name === "embed" ? "model.embed_tokens.weight" : name === "norm" ? "model.norm.weight" : "lm_head.weight";
      tensors.set(hfName, { dtype: "f32", shape, data: floatsAt(start, size) });
      continue;
    }
    const perLayer = size / layers;
    for (let i = 0; i < layers; i++) {
      tensors.set(`model.layers.${i}.${name}.weight`, {
        dtype: "f32",
        shape: shape.slice(1),
        data: floatsAt(start + i * perLayer, perLayer),
      });
    }
  }
  return { config, tensors: checkLlamaTensors(config, tensors, file) };
}
