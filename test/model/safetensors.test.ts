import { describe, expect, it } from "vitest";
import { ModelFormatError, TensorShapeError, UnsupportedDtypeError } from "../../src/model/errors";
import { castHostTensor, type HostTensor } from "../../src/model/host-tensor";
import { checkLlamaTensors } from "../../src/model/llama-weights";
import { randomLlama } from "../../src/model/random-llama";
import { readSafetensors, writeSafetensors } from "../../src/model/safetensors";
import { randn } from "../numerics";
import { tinyLlamaShape } from "./tiny-llama";

/** A file laid out by hand from the format's description, independent of writeSafetensors. */
function handMade(header: object, data: Uint8Array, declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  it("reads a hand-made file (unaligned offsets, F32 and F16)", () => {
    const data = new Uint8Array(14);
    const view = new DataView(data.buffer);
    view.setUint16(0, 0x3c00, true); // f16 1.0
    view.setFloat32(2, 2.5, true);
    view.setFloat32(6, -1, true);
    view.setFloat32(10, 7, true);
    const file = handMade(
      {
        __metadata__: { format: "pt" },
        h: { dtype: "F16", shape: [1], data_offsets: [0, 2] },
        w: { dtype: "F32", shape: [3, 1], data_offsets: [2, 14] },
      },
      data,
    );
    const { metadata, tensors } = readSafetensors(file, "hand.safetensors");
    expect(metadata).toEqual({ format: "pt" });
    expect(tensors.get("w")).toEqual({ dtype: "f32", shape: [3, 1], data: Float32Array.of(2.5, -1, 7) });
    expect(tensors.get("h")).toEqual({ dtype: "f16", shape: [1], data: Uint16Array.of(0x3c00) });
  });

  it("round-trips f32, f16 and bf16 tensors and metadata bit for bit", () => {
    const f32: HostTensor = { dtype: "f32", shape: [5, 7], data: randn(35, 1) };
    const tensors = new Map<string, HostTensor>([
      ["a.f32", f32],
      ["b.f16", castHostTensor({ dtype: "f32", shape: [3, 3, 3], data: randn(27, 2) }, "f16")],
      ["c.bf16", castHostTensor({ dtype: "f32", shape: [11], data: randn(11, 3) }, "bf16")],
      ["d.scalar", { dtype: "f32", shape: [], data: Float32Array.of(4) }],
      ["e.empty", { dtype: "f32", shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: "pt", note: "ü" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const back = readSafetensors(bytes.buffer as ArrayBuffer, "x.safetensors");
    expect(back.metadata).toEqual({ format: "pt", note: "ü" });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) expect(back.tensors.get(name), name).toEqual(t);
  });

  const valid = () => {
    const data = new Uint8Array(16);
    return {
      header: { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [8, 16] } },
      data,
    };
  };

  it.each<[string, () => Uint8Array, RegExp]>([
    ["truncated below 8 bytes", () => new Uint8Array(5), /m\.safetensors: truncated: 5 bytes/],
    [
      "header length past the end",
      () => handMade(valid().header, valid().data, 10_000),
      /m\.safetensors: header length 10000 runs past the end of the file/,
    ],
    [
      "header length over 100 MB",
      () => handMade(valid().header, valid().data, 2 ** 40),
      /header length 1099511627776 exceeds the 100000000-byte limit/,
    ],
    [
      "a file cut inside the data",
      () => handMade(valid().header, valid().data).subarray(0, -4),
      /tensor "b" data_offsets \[8, 16\] run past the end of the data section \(12 bytes\)/,
    ],
    [
      "offsets out of range",
      () => handMade({ a: { dtype: "F32", shape: [2], data_offsets: [16, 24] } }, valid().data),
      /tensor "a" data_offsets \[16, 24\] run past the end/,
    ],
    [
      "overlapping tensors",
      () => handMade({ ...valid().header, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, valid().data),
      /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/,
    ],
    [
      "byte length ≠ numel × size",
      () => handMade({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, valid().data),
      /tensor "a" has 8 bytes .* but F32 \[3\] needs 12/,
    ],
    [
      "reversed offsets",
      () => handMade({ a: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, valid().data),
      /tensor "a" has data_offsets \[8,0\]/,
    ],
    [
      "a bad shape",
      () => handMade({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, valid().data),
      /tensor "a" has shape \[-2\]/,
    ],
    ["invalid JSON", () => handMade({}, new Uint8Array(0)).fill(0x7b, 8), /header is not valid JSON/],
  ])("rejects %s with a ModelFormatError naming the file", (_, make, message) => {
    expect(() => readSafetensors(make(), "m.safetensors")).toThrow(ModelFormatError);
    expect(() => readSafetensors(make(), "m.safetensors")).toThrow(message);
  });

  it("rejects an unknown dtype with an error naming the tensor and dtype", () => {
    const file = handMade({ "layer.w": { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16));
    expect(() => readSafetensors(file, "m.safetensors")).toThrow(UnsupportedDtypeError);
    expect(() => readSafetensors(file, "m.safetensors")).toThrow(/m\.safetensors: tensor "layer\.w" has dtype I64, which is not supported/);
  });
});

describe("Llama tensors against the config", () => {
  const cfg = randomLlama(tinyLlamaShape).config;

  it("accepts a complete model and ignores rotary inv_freq buffers", () => {
    const { tensors } = randomLlama(cfg);
    tensors.set("model.layers.0.self_attn.rotary_emb.inv_freq", { dtype: "f32", shape: [2], data: new Float32Array(2) });
    expect(checkLlamaTensors(cfg, tensors, "m.safetensors").size).toBe(3 + 9 * cfg.numHiddenLayers);
  });

  it("names a tensor whose shape disagrees with the config", () => {
    const { tensors } = randomLlama(cfg);
    tensors.set("model.layers.1.self_attn.k_proj.weight", { dtype: "f32", shape: [24, 24], data: new Float32Array(576) });
    expect(() => checkLlamaTensors(cfg, tensors, "m.safetensors")).toThrow(TensorShapeError);
    expect(() => checkLlamaTensors(cfg, tensors, "m.safetensors")).toThrow(
      /m\.safetensors: tensor "model\.layers\.1\.self_attn\.k_proj\.weight" has shape \[24,24\], but the config expects \[8,24\]/,
    );
  });

  it("names a missing tensor, and an extra layer the config does not have", () => {
    const { tensors } = randomLlama(cfg);
    tensors.delete("lm_head.weight");
    expect(() => checkLlamaTensors(cfg, tensors, "m.safetensors")).toThrow(
      /tensor "lm_head\.weight" is missing \(the config expects shape \[37,24\]\)/,
    );
    const extra = randomLlama({ ...cfg, numHiddenLayers: 3 }).tensors;
    expect(() => checkLlamaTensors(cfg, extra, "m.safetensors")).toThrow(
      /tensor "model\.layers\.2\.input_layernorm\.weight" is not a tensor of a Llama with this config/,
    );
  });

  it("ties embeddings: no lm_head needed, a redundant one is dropped", () => {
    const tied = { ...cfg, tieWordEmbeddings: true };
    const { tensors } = randomLlama(cfg);
    const checked = checkLlamaTensors(tied, tensors, "m.safetensors");
    expect(checked.has("lm_head.weight")).toBe(false);
    tensors.delete("lm_head.weight");
    expect(checkLlamaTensors(tied, tensors, "m.safetensors").size).toBe(checked.size);
  });
});
