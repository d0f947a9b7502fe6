import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/model/errors";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { hasStories260k, stories260kDir } from "./stories260k-files";

/** A legacy v0 checkpoint whose floats are 0, 1, 2, … so every tensor's position in the file is visible. */
function countingCheckpoint(header: number[], floats: number): Uint8Array {
  const bytes = new Uint8Array(28 + floats * 4);
  const v = new DataView(bytes.buffer);
  for (const [i, x] of header.entries()) v.setInt32(i * 4, x, true);
  for (let i = 0; i < floats; i++) v.setFloat32(28 + i * 4, i, true);
  return bytes;
}

describe("llama2.c checkpoints", () => {
  // dim 8, hidden 12, 2 layers, 4 heads, 2 kv heads (head_dim 2, kv_dim 4), vocab -10 (untied), seq_len 3.
  const header = [8, 12, 2, 4, 2, -10, 3];
  const floats = 10 * 8 + 2 * 8 + 2 * 64 + 2 * 32 + 2 * 32 + 2 * 64 + 2 * 8 + 2 * 96 * 3 + 8 + 3 * 1 * 2 + 10 * 8;

  it("splits stacked layers, skips freq_cis and reads an untied classifier (negative vocab)", () => {
    const { config, tensors } = readLlama2cCheckpoint(countingCheckpoint(header, floats), "tiny.bin");
    expect(config).toMatchObject({
      hiddenSize: 8,
      intermediateSize: 12,
      numHiddenLayers: 2,
      numKeyValueHeads: 2,
      headDim: 2,
      vocabSize: 10,
    });
    expect(config).toMatchObject({
      tieWordEmbeddings: false,
      ropeInterleaved: true,
      maxPositionEmbeddings: 3,
      bosTokenId: 1,
      eosTokenId: [2],
    });
    const first = (name: string) => tensors.get(name)?.data[0];
    expect(first("model.embed_tokens.weight")).toBe(0);
    expect(first("model.layers.1.input_layernorm.weight")).toBe(80 + 8);
    expect(first("model.layers.1.self_attn.q_proj.weight")).toBe(96 + 64);
    expect(tensors.get("model.layers.1.self_attn.k_proj.weight")?.shape).toEqual([4, 8]);
    expect(first("model.layers.0.mlp.gate_proj.weight")).toBe(96 + 128 + 64 + 64 + 128 + 16);
    expect(first("model.layers.0.mlp.down_proj.weight")).toBe(96 + 128 + 64 + 64 + 128 + 16 + 192);
    expect(tensors.get("model.layers.0.mlp.down_proj.weight")?.shape).toEqual([8, 12]);
    expect(first("model.norm.weight")).toBe(floats - 80 - 6 - 8);
    expect(first("lm_head.weight")).toBe(floats - 80);
    expect(tensors.size).toBe(3 + 9 * 2);
  });

  it("rejects a truncated file, a file of the wrong size, versioned exports and PyTorch zips, naming the file", () => {
    const good = countingCheckpoint(header, floats);
    expect(() => readLlama2cCheckpoint(good.subarray(0, 20), "m.bin")).toThrow(/m\.bin: truncated: 20 bytes, too short/);
    expect(() => readLlama2cCheckpoint(good.subarray(0, 400), "m.bin")).toThrow(ModelFormatError);
    expect(() => readLlama2cCheckpoint(good.subarray(0, 400), "m.bin")).toThrow(
      /m\.bin: is 400 bytes, but a llama2\.c checkpoint with dim 8, .* is \d+ \(truncated\?\)/,
    );
    const v1 = good.slice();
    new DataView(v1.buffer).setUint32(0, 0x616b3432, true);
    expect(() => readLlama2cCheckpoint(v1, "m.bin")).toThrow(/versioned llama2\.c export/);
    const torch = Uint8Array.of(0x50, 0x4b, 3, 4, ...good.subarray(4, 64));
    expect(() => readLlama2cCheckpoint(torch, "pytorch_model.bin")).toThrow(/pytorch_model\.bin: is a PyTorch \(zip\/pickle\) checkpoint/);
    expect(() => readLlama2cCheckpoint(countingCheckpoint([8, 12, 2, 3, 2, 10, 3], floats), "m.bin")).toThrow(
      /m\.bin \(llama2\.c header\): config field "num_attention_heads" = 3 does not divide hidden_size = 8/,
    );
  });

  it.skipIf(!hasStories260k)("loads stories260K with the README's header and tensor offsets", () => {
    const bytes = readFileSync(resolve(stories260kDir, "stories260K.bin"));
    const { config, tensors } = readLlama2cCheckpoint(bytes, "stories260K.bin");
    expect(config).toEqual({
      hiddenSize: 64,
      intermediateSize: 172,
      numHiddenLayers: 5,
      numAttentionHeads: 8,
      numKeyValueHeads: 4,
      headDim: 8,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeInterleaved: true,
      tieWordEmbeddings: true,
      vocabSize: 512,
      maxPositionEmbeddings: 512,
      bosTokenId: 1,
      eosTokenId: [2],
    });
    const floatAt = (i: number) => bytes.readFloatLE(28 + 4 * i);
    // wq of layer 1 starts after the embedding (512·64), rms_att (5·64) and layer 0's wq (64·64).
    const wq1 = tensors.get("model.layers.1.self_attn.q_proj.weight");
    expect(wq1?.data.subarray(0, 3)).toEqual(
      Float32Array.of(floatAt(32768 + 320 + 4096), floatAt(32769 + 320 + 4096), floatAt(32770 + 320 + 4096)),
    );
    // rms_final sits just before freq_cis (2·512·4 floats) at the end of the file.
    expect(tensors.get("model.norm.weight")?.data[63]).toBe(floatAt(264128 - 4096 - 1));
    expect([...tensors.values()].reduce((s, t) => s + t.data.length, 0)).toBe(264128 - 4096);
  });
});
