/**
 * GGUF (llama.cpp) reader and a small writer. The reader is written here rather than with
 * `@huggingface/gguf`, whose entry point fetches a URI by ranges and cannot be pointed at bytes a
 * user dropped into the page; here every length and offset is checked against the buffer.
 * Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (versions 2 and 3).
 */

import { type LlamaConfig, parseLlamaConfig } from "./config";
import { ConfigError, ModelFormatError, TensorShapeError, UnsupportedDtypeError } from "./errors";
import { fileBytes } from "./file-bytes";
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, type HostTensor, type ModelWeights, numel, toFloat32 } from "./host-tensor";
import { checkLlamaTensors } from "./llama-weights";
import { permuteRopeRows } from "./rope-layout";

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufScalar[];

/** The tensor types read and written; llama.cpp's ggml_type numbers. */
export type GgufTensorType = "F32" | "F16" | "BF16" | "Q8_0";
const tensorTypeIds: Record<GgufTensorType, number> = { F32: 0, F16: 1, Q8_0: 8, BF16: 30 };
const tensorTypeNames = new Map(Object.entries(tensorTypeIds).map(([k, v]) => [v, k as GgufTensorType]));
const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

enum ValueType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

/** Bytes of a value of each type in the file (a string's u64 length at least). */
const valueBytes: Partial<Record<ValueType, number>> = {
  [ValueType.U8]: 1,
  [ValueType.I8]: 1,
  [ValueType.Bool]: 1,
  [ValueType.U16]: 2,
  [ValueType.I16]: 2,
  [ValueType.U32]: 4,
  [ValueType.I32]: 4,
  [ValueType.F32]: 4,
  [ValueType.U64]: 8,
  [ValueType.I64]: 8,
  [ValueType.F64]: 8,
  [ValueType.String]: 8,
};

export interface GgufTensorInfo {
  name: string;
  /** Row-major shape (GGUF stores ne[0], the contiguous dimension, first: this is reversed). */
  shape: number[];
  /** The type name, or `type <id>` for types this reader does not decode. */
  type: string;
  /** Absolute byte offset of the data in the file. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
}

/** Parses the header, metadata and tensor table; tensor data is decoded by `readGgufTensor`. */
export function parseGguf(source: Uint8Array | ArrayBuffer, file: string): GgufFile {
  const r = new Reader(fileBytes(source), file);
  const magic = r.string(4);
  if (magic !== "GGUF") throw new ModelFormatError(file, `is not a GGUF file (magic ${JSON.stringify(magic)})`);
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new ModelFormatError(file, `GGUF version ${version} is not supported (2 and 3 are)`);
  const tensorCount = r.count("tensor count");
  const kvCount = r.count("metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.lengthString();
    metadata.set(key, r.value(r.u32(), key));
  }
  const infos: { name: string; shape: number[]; typeId: number; relative: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.lengthString();
    const nDims = r.u32();
    if (nDims > 8) throw new ModelFormatError(file, `tensor "${name}" has ${nDims} dimensions`);
    const ne = Array.from({ length: nDims }, () => r.count(`tensor "${name}" dimension`));
    infos.push({ name, shape: ne.reverse(), typeId: r.u32(), relative: r.count(`tensor "${name}" offset`) });
  }
  const alignment = metadata.get("general.alignment") ?? 32;
  if (typeof alignment !== "number" || alignment <= 0 || alignment % 8 !== 0)
    throw new ModelFormatError(file, `general.alignment ${alignment} is not a positive multiple of 8`);
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  const tensors = infos.map(({ name, shape, typeId, relative }) => {
    const type = tensorTypeNames.get(typeId) ?? `type ${typeId}`;
    const offset = dataStart + relative;
    const size = tensorBytes(type, shape);
    if (size !== undefined && offset + size > r.bytes.length) {
      throw new ModelFormatError(
        file,
        `tensor "${name}" (${type} [${shape}], ${size} bytes at offset ${offset}) runs past the end of the file (${r.bytes.length} bytes): truncated?`,
      );
    }
    return { name, shape, type, offset };
  });
  const spans = tensors.map((t) => ({ t, end: t.offset + (tensorBytes(t.type, t.shape) ?? 0) })).sort((a, b) => a.t.offset - b.t.offset);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].t.offset < spans[i - 1].end)
      throw new ModelFormatError(file, `tensors "${spans[i - 1].t.name}" and "${spans[i].t.name}" overlap`);
  }
  return { version, metadata, tensors };
}

/** F32/F16/BF16 stay as stored; Q8_0 is dequantised to f32. */
export function readGgufTensor(source: Uint8Array | ArrayBuffer, info: GgufTensorInfo, file: string): HostTensor {
  const bytes = fileBytes(source);
  const size = tensorBytes(info.type, info.shape);
  if (size === undefined) throw new UnsupportedDtypeError(file, info.name, info.type);
  const raw = bytes.slice(info.offset, info.offset + size);
  const shape = [...info.shape];
  switch (info.type as GgufTensorType) {
    case "F32":
      return { dtype: "f32", shape, data: new Float32Array(raw.buffer) };
    case "F16":
      return { dtype: "f16", shape, data: new Uint16Array(raw.buffer) };
    case "BF16":
      return { dtype: "bf16", shape, data: new Uint16Array(raw.buffer) };
    case "Q8_0":
      return { dtype: "f32", shape, data: dequantizeQ8_0(raw, numel(shape)) };
  }
}

/** llama.cpp tensor names and their Hugging Face counterparts; `{i}` is the layer. */
const nameTemplates: [string, string][] = [
  ["token_embd.weight", "model.embed_tokens.weight"],
  ["output_norm.weight", "model.norm.weight"],
  ["output.weight", "lm_head.weight"],
  ["blk.{i}.attn_norm.weight", "model.layers.{i}.input_layernorm.weight"],
  ["blk.{i}.attn_q.weight", "model.layers.{i}.self_attn.q_proj.weight"],
  ["blk.{i}.attn_k.weight", "model.layers.{i}.self_attn.k_proj.weight"],
  ["blk.{i}.attn_v.weight", "model.layers.{i}.self_attn.v_proj.weight"],
  ["blk.{i}.attn_output.weight", "model.layers.{i}.self_attn.o_proj.weight"],
  ["blk.{i}.ffn_norm.weight", "model.layers.{i}.post_attention_layernorm.weight"],
  ["blk.{i}.ffn_gate.weight", "model.layers.{i}.mlp.gate_proj.weight"],
  ["blk.{i}.ffn_up.weight", "model.layers.{i}.mlp.up_proj.weight"],
  ["blk.{i}.ffn_down.weight", "model.layers.{i}.mlp.down_proj.weight"],
];

/** llama.cpp name → Hugging Face name for a model with `layers` blocks. */
function ggufToHfNames(layers: number): Map<string, string> {
  const names = new Map<string, string>();
  for (const [gguf, hf] of nameTemplates) {
    if (!gguf.includes("{i}")) names.set(gguf, hf);
    for (let i = 0; gguf.includes("{i}") && i < layers; i++) names.set(gguf.replace("{i}", `${i}`), hf.replace("{i}", `${i}`));
  }
  return names;
}

/** config.json fields and the GGUF metadata keys they are read from. */
const configKeys: Record<string, string> = {
  hidden_size: "llama.embedding_length",
  intermediate_size: "llama.feed_forward_length",
  num_hidden_layers: "llama.block_count",
  num_attention_heads: "llama.attention.head_count",
  num_key_value_heads: "llama.attention.head_count_kv",
  head_dim: "llama.attention.key_length",
  rms_norm_eps: "llama.attention.layer_norm_rms_epsilon",
  rope_theta: "llama.rope.freq_base",
  vocab_size: "llama.vocab_size",
  max_position_embeddings: "llama.context_length",
  bos_token_id: "tokenizer.ggml.bos_token_id",
  eos_token_id: "tokenizer.ggml.eos_token_id",
};

const isQueryOrKey = (hfName: string) => hfName.endsWith("q_proj.weight") || hfName.endsWith("k_proj.weight");

/** A llama-architecture GGUF as Hugging Face-named weights in rotate_half layout (q/k un-permuted). */
export function loadGgufModel(source: Uint8Array | ArrayBuffer, file: string): ModelWeights {
  const gguf = parseGguf(source, file);
  const m = gguf.metadata;
  const arch = m.get("general.architecture");
  if (arch !== "llama") throw new ModelFormatError(file, `general.architecture is ${JSON.stringify(arch)}; only "llama" is supported`);
  if (gguf.tensors.some((t) => t.name === "rope_freqs.weight")) {
    throw new ModelFormatError(
      file,
      `tensor "rope_freqs.weight" holds llama3 RoPE scaling factors, which this loader does not read yet (use the safetensors model)`,
    );
  }
  const embedding = gguf.tensors.find((t) => t.name === "token_embd.weight");
  const heads = m.get("llama.attention.head_count");
  const hfConfig: Record<string, unknown> = {
    num_key_value_heads: m.get("llama.attention.head_count_kv") ?? heads,
    head_dim: m.get("llama.attention.key_length") ?? m.get("llama.rope.dimension_count"),
    vocab_size: m.get("llama.vocab_size") ?? embedding?.shape[0] ?? (m.get("tokenizer.ggml.tokens") as unknown[] | undefined)?.length,
    tie_word_embeddings: !gguf.tensors.some((t) => t.name === "output.weight"),
  };
  for (const [field, key] of Object.entries(configKeys)) hfConfig[field] ??= m.get(key);
  let config: LlamaConfig;
  try {
    config = parseLlamaConfig(hfConfig, file);
  } catch (e) {
    // Name the GGUF key the user can look up, not the config.json field it was mapped to.
    if (e instanceof ConfigError && e.field in configKeys) throw new ConfigError(file, configKeys[e.field], e.detail);
    throw e;
  }
  const hfName = ggufToHfNames(config.numHiddenLayers);
  const tensors = new Map<string, HostTensor>();
  for (const info of gguf.tensors) {
    const name = hfName.get(info.name);
    if (!name) throw new TensorShapeError(file, info.name, `is not a tensor of a ${config.numHiddenLayers}-layer llama.cpp Llama`);
    tensors.set(name, readGgufTensor(source, info, file));
  }
  // Shapes are checked before the un-permute, which needs q/k rows in whole heads.
  const checked = checkLlamaTensors(config, tensors, file);
  for (const [name, t] of checked) if (isQueryOrKey(name)) checked.set(name, permuteRopeRows(t, config.headDim, false));
  return { config, tensors: checked };
}

export interface GgufMetadataEntry {
  key: string;
  type: "u32" | "i32" | "f32" | "bool" | "string" | "string[]" | "i32[]" | "f32[]";
  value: GgufValue;
}

export interface GgufTensorInput {
  name: string;
  /** Row-major shape. */
  shape: number[];
  type: GgufTensorType;
  data: Float32Array;
}

/** Serialises a GGUF v3 file; F16/BF16/Q8_0 are encoded from the given f32 values. */
export function writeGguf(metadata: GgufMetadataEntry[], tensors: GgufTensorInput[], alignment = 32): Uint8Array {
  const w = new Writer();
  w.bytes(new TextEncoder().encode("GGUF"));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length + 1);
  w.lengthString("general.alignment");
  w.u32(ValueType.U32);
  w.u32(alignment);
  for (const { key, type, value } of metadata) {
    w.lengthString(key);
    writeValue(w, type, value);
  }
  const encoded = tensors.map((t) => encodeTensor(t));
  let offset = 0;
  for (const [i, t] of tensors.entries()) {
    w.lengthString(t.name);
    w.u32(t.shape.length);
    for (const n of [...t.shape].reverse()) w.u64(n);
    w.u32(tensorTypeIds[t.type]);
    w.u64(offset);
    offset += Math.ceil(encoded[i].length / alignment) * alignment;
  }
  w.pad(alignment);
  for (const data of encoded) {
    w.bytes(data);
    w.pad(alignment);
  }
  return w.result();
}

/** llama.cpp's file for these weights: llama.cpp tensor names, q/k rows in its interleaved order, llama.* metadata. */
export function modelWeightsToGguf(weights: ModelWeights, type: GgufTensorType, extraMetadata: GgufMetadataEntry[] = []): Uint8Array {
  const c = weights.config;
  if (c.ropeScaling) throw new Error("modelWeightsToGguf: llama3 rope scaling (rope_freqs.weight) is not written");
  const metadata: GgufMetadataEntry[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "llama.context_length", type: "u32", value: c.maxPositionEmbeddings },
    { key: "llama.embedding_length", type: "u32", value: c.hiddenSize },
    { key: "llama.block_count", type: "u32", value: c.numHiddenLayers },
    { key: "llama.feed_forward_length", type: "u32", value: c.intermediateSize },
    { key: "llama.attention.head_count", type: "u32", value: c.numAttentionHeads },
    { key: "llama.attention.head_count_kv", type: "u32", value: c.numKeyValueHeads },
    { key: "llama.attention.key_length", type: "u32", value: c.headDim },
    { key: "llama.attention.value_length", type: "u32", value: c.headDim },
    { key: "llama.rope.dimension_count", type: "u32", value: c.headDim },
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: c.rmsNormEps },
    { key: "llama.rope.freq_base", type: "f32", value: c.ropeTheta },
    { key: "llama.vocab_size", type: "u32", value: c.vocabSize },
  ];
  if (c.bosTokenId !== undefined) metadata.push({ key: "tokenizer.ggml.bos_token_id", type: "u32", value: c.bosTokenId });
  if (c.eosTokenId?.length) metadata.push({ key: "tokenizer.ggml.eos_token_id", type: "u32", value: c.eosTokenId[0] });
  const ggufName = new Map([...ggufToHfNames(c.numHiddenLayers)].map(([gguf, hf]) => [hf, gguf]));
  const tensors: GgufTensorInput[] = [];
  for (const [name, t] of weights.tensors) {
    const stored = isQueryOrKey(name) && !c.ropeInterleaved ? permuteRopeRows(t, c.headDim, true) : t;
    // Norm weights stay F32 as llama.cpp's converter keeps every 1-D tensor.
    tensors.push({
      name: ggufName.get(name) ?? noGgufName(name),
      shape: t.shape,
      type: t.shape.length === 1 ? "F32" : type,
      data: toFloat32(stored),
    });
  }
  return writeGguf([...metadata, ...extraMetadata], tensors);
}

function noGgufName(name: string): never {
  throw new Error(`modelWeightsToGguf: no llama.cpp name for tensor "${name}"`);
}

export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0)
    throw new Error(`quantizeQ8_0: ${values.length} values are not a whole number of ${Q8_0_BLOCK}-blocks`);
  const out = new Uint8Array((values.length / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / Q8_0_BLOCK; b++) {
    const block = values.subarray(b * Q8_0_BLOCK, (b + 1) * Q8_0_BLOCK);
    const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    view.setUint16(b * Q8_0_BLOCK_BYTES, f32ToF16Bits([d])[0], true);
    for (let i = 0; i < Q8_0_BLOCK; i++)
      view.setInt8(b * Q8_0_BLOCK_BYTES + 2 + i, Math.sign(block[i] * id) * Math.round(Math.abs(block[i] * id)));
  }
  return out;
}

export function dequantizeQ8_0(raw: Uint8Array, count: number): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  const scale = new Uint16Array(1);
  for (let b = 0; b < count / Q8_0_BLOCK; b++) {
    scale[0] = view.getUint16(b * Q8_0_BLOCK_BYTES, true);
    const d = f16BitsToF32(scale)[0];
    for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = d * view.getInt8(b * Q8_0_BLOCK_BYTES + 2 + i);
  }
  return out;
}

function tensorBytes(type: string, shape: number[]): number | undefined {
  const n = numel(shape);
  switch (type) {
    case "F32":
      return n * 4;
    case "F16":
    case "BF16":
      return n * 2;
    case "Q8_0":
      // Blocks run along the contiguous dimension, so each row must hold whole blocks.
      return (shape.at(-1) ?? 1) % Q8_0_BLOCK === 0 ? (n / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES : undefined;
    default:
      return undefined;
  }
}

function encodeTensor(t: GgufTensorInput): Uint8Array {
  if (t.data.length !== numel(t.shape)) throw new Error(`writeGguf: tensor "${t.name}" has ${t.data.length} values for shape [${t.shape}]`);
  switch (t.type) {
    case "F32":
      return new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    case "F16":
      return new Uint8Array(f32ToF16Bits(t.data).buffer);
    case "BF16":
      return new Uint8Array(f32ToBf16Bits(t.data).buffer);
    case "Q8_0":
      return quantizeQ8_0(t.data);
  }
}

function writeValue(w: Writer, type: GgufMetadataEntry["type"], value: GgufValue): void {
  const scalar = (t: string, v: GgufScalar) => {
    if (t === "string") w.lengthString(String(v));
    else if (t === "bool") w.u8(v ? 1 : 0);
    else if (t === "u32") w.u32(Number(v));
    else if (t === "i32") w.i32(Number(v));
    else w.f32(Number(v));
  };
  const ids: Record<string, ValueType> = {
    u32: ValueType.U32,
    i32: ValueType.I32,
    f32: ValueType.F32,
    bool: ValueType.Bool,
    string: ValueType.String,
  };
  if (type.endsWith("[]")) {
    const element = type.slice(0, -2);
    const values = value as GgufScalar[];
    w.u32(ValueType.Array);
    w.u32(ids[element]);
    w.u64(values.length);
    for (const v of values) scalar(element, v);
  } else {
    w.u32(ids[type]);
    scalar(type, value as GgufScalar);
  }
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): number {
    if (this.pos + n > this.bytes.length)
      throw new ModelFormatError(
        this.file,
        `truncated: ${what} at byte ${this.pos} runs past the end of the file (${this.bytes.length} bytes)`,
      );
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u32(): number {
    return this.view.getUint32(this.need(4, "a u32"), true);
  }
  /** A u64 used as a count, size or offset: it must fit the file, so anything above 2^53 is corrupt. */
  count(what: string, limit = BigInt(this.bytes.length) * 8n): number {
    const v = this.view.getBigUint64(this.need(8, what), true);
    if (v > limit) throw new ModelFormatError(this.file, `${what} ${v} is impossible for a ${this.bytes.length}-byte file`);
    return Number(v);
  }
  string(n: number): string {
    const at = this.need(n, `a ${n}-byte string`);
    return new TextDecoder().decode(this.bytes.subarray(at, at + n));
  }
  lengthString(): string {
    return this.string(this.count("a string length", BigInt(this.bytes.length - this.pos)));
  }
  value(type: number, key: string): GgufValue {
    const v = this.view;
    switch (type) {
      case ValueType.U8:
        return v.getUint8(this.need(1, key));
      case ValueType.I8:
        return v.getInt8(this.need(1, key));
      case ValueType.U16:
        return v.getUint16(this.need(2, key), true);
      case ValueType.I16:
        return v.getInt16(this.need(2, key), true);
      case ValueType.U32:
        return v.getUint32(this.need(4, key), true);
      case ValueType.I32:
        return v.getInt32(this.need(4, key), true);
      case ValueType.F32:
        return v.getFloat32(this.need(4, key), true);
      case ValueType.Bool:
        return v.getUint8(this.need(1, key)) !== 0;
      case ValueType.String:
        return this.lengthString();
      case ValueType.U64:
        return safeNumber(v.getBigUint64(this.need(8, key), true));
      case ValueType.I64:
        return safeNumber(v.getBigInt64(this.need(8, key), true));
      case ValueType.F64:
        return v.getFloat64(this.need(8, key), true);
      case ValueType.Array: {
        const elementType = this.u32();
        if (elementType === ValueType.Array)
          throw new ModelFormatError(this.file, `metadata "${key}" is a nested array, which is not supported`);
        // Each element takes at least its size in the file, so the length is bounded before anything is allocated.
        const minBytes = valueBytes[elementType as ValueType] ?? 1;
        const n = this.count(`metadata "${key}" array length`, BigInt(Math.floor((this.bytes.length - this.pos) / minBytes)));
        return Array.from({ length: n }, () => this.value(elementType, key) as GgufScalar);
      }
      default:
        throw new ModelFormatError(this.file, `metadata "${key}" has unknown value type ${type}`);
    }
  }
}

function safeNumber(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  private scalar(n: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    this.bytes(b);
  }
  u8(x: number): void {
    this.scalar(1, (v) => v.setUint8(0, x));
  }
  u32(x: number): void {
    this.scalar(4, (v) => v.setUint32(0, x, true));
  }
  i32(x: number): void {
    this.scalar(4, (v) => v.setInt32(0, x, true));
  }
  f32(x: number): void {
    this.scalar(4, (v) => v.setFloat32(0, x, true));
  }
  u64(x: number): void {
    this.scalar(8, (v) => v.setBigUint64(0, BigInt(x), true));
  }
  lengthString(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number): void {
    this.bytes(new Uint8Array((alignment - (this.length % alignment)) % alignment));
  }
  result(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
