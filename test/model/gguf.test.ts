import { GGMLQuantizationType, gguf } from "@huggingface/gguf";
import { describe, expect, it } from "vitest";
import { ConfigError, ModelFormatError, TensorShapeError, UnsupportedDtypeError } from "../../src/model/errors";
import {
  dequantizeQ8_0,
  loadGgufModel,
  modelWeightsToGguf,
  parseGguf,
  quantizeQ8_0,
  readGgufTensor,
  writeGguf,
} from "../../src/model/gguf";
import { type HostTensor, toFloat32 } from "../../src/model/host-tensor";
import { randomLlama } from "../../src/model/random-llama";
import { permuteRopeRows } from "../../src/model/rope-layout";
import { expectClose, randn } from "../numerics";
import { tinyLlamaShape } from "./tiny-llama";

/** GGUF v3 laid out by hand from the spec: one u32 metadata entry and one F32 tensor with ne = [3, 2]. */
function handMadeGguf(typeId = 0): Uint8Array {
  const bytes = new Uint8Array(64 + 24);
  const v = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("GGUF"), 0);
  v.setUint32(4, 3, true);
  v.setBigUint64(8, 1n, true); // tensors
  v.setBigUint64(16, 1n, true); // metadata entries
  v.setBigUint64(24, 1n, true);
  bytes[32] = "k".charCodeAt(0);
  v.setUint32(33, 4, true); // UINT32
  v.setUint32(37, 42, true);
  v.setBigUint64(41, 1n, true);
  bytes[49] = "t".charCodeAt(0);
  v.setUint32(50, 2, true);
  v.setBigUint64(54, 3n, true);
  v.setBigUint64(62, 2n, true);
  v.setUint32(70, typeId, true);
  v.setBigUint64(74, 0n, true); // header ends at 82: data starts at the next multiple of 32, 96
  return new Uint8Array([...bytes.subarray(0, 82), ...new Uint8Array(14), ...new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer)]);
}

describe("GGUF", () => {
  it("reads a hand-made file: metadata, reversed dims, aligned data", () => {
    const file = handMadeGguf();
    const gguf = parseGguf(file, "hand.gguf");
    expect(gguf.version).toBe(3);
    expect(gguf.metadata).toEqual(new Map([["k", 42]]));
    expect(gguf.tensors).toEqual([{ name: "t", shape: [2, 3], type: "F32", offset: 96 }]);
    const expected = { dtype: "f32", shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    expect(readGgufTensor(file, gguf.tensors[0], "hand.gguf")).toEqual(expected);
    // Small Node Buffers live in a shared pool, where Buffer#slice would return a view of other data.
    expect(readGgufTensor(Buffer.from(file), gguf.tensors[0], "hand.gguf")).toEqual(expected);
  });

  it("writes metadata of every kind and F32/F16/BF16/Q8_0 tensors that read back", () => {
    const x = randn(4 * 64, 9, 3);
    const types = ["F32", "F16", "BF16", "Q8_0"] as const;
    const file = writeGguf(
      [
        { key: "s", type: "string", value: "llama ü" },
        { key: "f", type: "f32", value: 0.5 },
        { key: "i", type: "i32", value: -7 },
        { key: "b", type: "bool", value: true },
        { key: "tokens", type: "string[]", value: ["<s>", "a b"] },
        { key: "ids", type: "i32[]", value: [1, -2] },
      ],
      types.map((type) => ({ name: type, shape: [4, 64], type, data: x })),
    );
    const gguf = parseGguf(file, "w.gguf");
    expect(Object.fromEntries(gguf.metadata)).toEqual({
      "general.alignment": 32,
      s: "llama ü",
      f: 0.5,
      i: -7,
      b: true,
      tokens: ["<s>", "a b"],
      ids: [1, -2],
    });
    for (const info of gguf.tensors) expect(info.offset % 32, info.name).toBe(0);
    const read = (i: number) => toFloat32(readGgufTensor(file, gguf.tensors[i], "w.gguf"));
    expect(read(0)).toEqual(x);
    // Each format's rounding: half an ulp (f16 2^-11, bf16 2^-8 relative).
    expectClose(read(1), x, 2 ** -11, 2 ** -24, "F16");
    expectClose(read(2), x, 2 ** -8, 0, "BF16");
    expectClose(read(3), x, 0, (0.6 * 3) / 127, "Q8_0");
    expect(readGgufTensor(file, gguf.tensors[2], "w.gguf").dtype).toBe("bf16");
  });

  it("writes files that Hugging Face's own GGUF parser reads the same way", async () => {
    const weights = randomLlama({ ...tinyLlamaShape, hiddenSize: 32, intermediateSize: 64, numAttentionHeads: 4 });
    const bytes = modelWeightsToGguf(weights, "Q8_0");
    // @huggingface/gguf reads by HTTP ranges; serve them from memory.
    const serve = async (_: unknown, init?: RequestInit) => {
      const [begin, end] = (new Headers(init?.headers).get("range") ?? "").replace("bytes=", "").split("-").map(Number);
      const headers = { "content-range": `bytes ${begin}-${Math.min(end, bytes.length - 1)}/${bytes.length}` };
      return new Response(bytes.slice(begin, end + 1), { status: 206, headers });
    };
    const theirs = await gguf("https://example.invalid/m.gguf", { fetch: serve as typeof fetch });
    const ours = parseGguf(bytes, "m.gguf");
    for (const [key, value] of ours.metadata) expect(theirs.metadata[key as keyof typeof theirs.metadata], key).toEqual(value);
    expect(theirs.metadata.version).toBe(3);
    expect(
      theirs.tensorInfos.map((t) => ({
        name: t.name,
        shape: t.shape.map(Number).reverse(),
        type: GGMLQuantizationType[t.dtype],
        offset: Number(theirs.tensorDataOffset + t.offset),
      })),
    ).toEqual(ours.tensors);
  });

  it("Q8_0 keeps values on a block's grid exactly and rounds others to the nearest step", () => {
    const block = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? i * 4 - 63 : (i - 32) * 0.5 - 8));
    block[0] = -127;
    const q = quantizeQ8_0(block);
    expect(q.length).toBe(2 * 34);
    const back = dequantizeQ8_0(q, 64);
    expect(back.subarray(0, 32)).toEqual(block.subarray(0, 32));
    // Second block: amax 8 → step 8/127; every value within half a step (plus f16 rounding of the scale).
    expectClose(back.subarray(32), block.subarray(32), 0, 0.5 * (8 / 127) * 1.07, "block 2");
    expect(() => quantizeQ8_0(new Float32Array(40))).toThrow(/40 values are not a whole number of 32-blocks/);
  });

  it.each([false, true])("a tiny HF Llama written as llama.cpp GGUF (tied %s) loads back to the same HF weights", (tied) => {
    const weights = randomLlama({
      ...tinyLlamaShape,
      tieWordEmbeddings: tied,
      hiddenSize: 32,
      intermediateSize: 64,
      headDim: 8,
      numAttentionHeads: 4,
    });
    const file = modelWeightsToGguf(weights, "F32");
    const gguf = parseGguf(file, "m.gguf");
    const names = gguf.tensors.map((t) => t.name);
    expect(names).toContain("blk.1.ffn_gate.weight");
    expect(names.includes("output.weight")).toBe(!tied);
    // llama.cpp stores q/k rows permuted (its convert script's `permute`), and dims innermost first.
    const q = gguf.tensors.find((t) => t.name === "blk.0.attn_q.weight");
    if (!q) throw new Error("blk.0.attn_q.weight missing");
    expect(readGgufTensor(file, q, "m.gguf")).toEqual(
      permuteRopeRows(weights.tensors.get("model.layers.0.self_attn.q_proj.weight") as HostTensor, 8, true),
    );
    const loaded = loadGgufModel(file, "m.gguf");
    expect(loaded.config).toEqual({ ...weights.config, rmsNormEps: Math.fround(1e-5) });
    expect(loaded.tensors).toEqual(weights.tensors);
  });

  it("loads F16 and Q8_0 models within their rounding", () => {
    const weights = randomLlama({
      ...tinyLlamaShape,
      hiddenSize: 32,
      intermediateSize: 64,
      headDim: 8,
      numAttentionHeads: 4,
      vocabSize: 40,
    });
    for (const [type, rtol, atol] of [
      ["F16", 2 ** -11, 2 ** -24],
      ["Q8_0", 0, 0.6 / 127],
    ] as const) {
      const loaded = loadGgufModel(modelWeightsToGguf(weights, type), "m.gguf");
      for (const [name, t] of weights.tensors)
        expectClose(toFloat32(loaded.tensors.get(name) as HostTensor), t.data, rtol, atol, `${type} ${name}`);
    }
  });

  it("rejects a bad magic, a truncated header, data past the end and an unknown tensor type, naming the file and tensor", () => {
    const good = handMadeGguf();
    const badMagic = good.slice();
    badMagic[0] = 0x47 + 1;
    expect(() => parseGguf(badMagic, "x.gguf")).toThrow(/x\.gguf: is not a GGUF file \(magic "HGUF"\)/);
    expect(() => parseGguf(good.subarray(0, 60), "x.gguf")).toThrow(ModelFormatError);
    expect(() => parseGguf(good.subarray(0, 60), "x.gguf")).toThrow(/x\.gguf: truncated: .* runs past the end of the file \(60 bytes\)/);
    expect(() => parseGguf(good.subarray(0, 110), "x.gguf")).toThrow(
      /tensor "t" \(F32 \[2,3\], 24 bytes at offset 96\) runs past the end of the file \(110 bytes\)/,
    );
    const q4 = handMadeGguf(2);
    const info = parseGguf(q4, "x.gguf").tensors[0];
    expect(() => readGgufTensor(q4, info, "x.gguf")).toThrow(UnsupportedDtypeError);
    expect(() => readGgufTensor(q4, info, "x.gguf")).toThrow(/x\.gguf: tensor "t" has dtype type 2, which is not supported/);
  });

  it("rejects a non-llama architecture, missing llama.* metadata and unknown tensor names", () => {
    const notLlama = writeGguf([{ key: "general.architecture", type: "string", value: "qwen2" }], []);
    expect(() => loadGgufModel(notLlama, "q.gguf")).toThrow(/q\.gguf: general\.architecture is "qwen2"/);
    const noHidden = writeGguf([{ key: "general.architecture", type: "string", value: "llama" }], []);
    expect(() => loadGgufModel(noHidden, "h.gguf")).toThrow(ConfigError);
    expect(() => loadGgufModel(noHidden, "h.gguf")).toThrow(/h\.gguf: config field "llama\.embedding_length" is missing/);
    const weights = randomLlama({
      ...tinyLlamaShape,
      numHiddenLayers: 1,
      hiddenSize: 32,
      intermediateSize: 64,
      headDim: 8,
      numAttentionHeads: 4,
    });
    const bytes = modelWeightsToGguf(weights, "F32");
    // Rename a tensor in place: same length, so the file stays valid.
    const at = Buffer.from(bytes).indexOf("blk.0.ffn_up.weight");
    bytes.set(new TextEncoder().encode("blk.0.ffn_xx.weight"), at);
    expect(() => loadGgufModel(bytes, "m.gguf")).toThrow(TensorShapeError);
    expect(() => loadGgufModel(bytes, "m.gguf")).toThrow(
      /m\.gguf: tensor "blk\.0\.ffn_xx\.weight" is not a tensor of a 1-layer llama\.cpp Llama/,
    );
  });
});
