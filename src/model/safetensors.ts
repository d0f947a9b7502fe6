/**
 * safetensors reader and writer (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__?}, then the data.
 * Works on bytes in memory, so the browser and Node share it.
 */

import { jsonBoundsProblem } from "../json-bounds";
import { ModelFormatError, UnsupportedDtypeError } from "./errors";
import { fileBytes } from "./file-bytes";
import { bytesPerElement, type HostDtype, type HostTensor, numel } from "./host-tensor";

/** Real headers are a few hundred KiB; anything near this is a corrupt length, not a model. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

const fileDtypes: Record<string, HostDtype> = { F32: "f32", F16: "f16", BF16: "bf16" };
const hostDtypes: Record<HostDtype, string> = { f32: "F32", f16: "F16", bf16: "BF16" };

export interface SafetensorsContents {
  metadata: Record<string, string>;
  tensors: Map<string, HostTensor>;
}

export function readSafetensors(source: Uint8Array | ArrayBuffer, file: string): SafetensorsContents {
  const bytes = fileBytes(source);
  const fail = (detail: string) => new ModelFormatError(file, detail);
  if (bytes.length < 8) throw fail(`truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES))
    throw fail(`header length ${headerLength} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  const dataStart = 8 + Number(headerLength);
  if (dataStart > bytes.length)
    throw fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes): truncated?`);
  let header: unknown;
  const headerText = new TextDecoder().decode(bytes.subarray(8, dataStart));
  // A header is {name: {dtype, shape, data_offsets}}: three levels deep (metadata strings may be long: a checkpoint's state).
  const problem = jsonBoundsProblem(headerText, { maxDepth: 8, maxString: Number.POSITIVE_INFINITY });
  if (problem) throw fail(`header is refused: ${problem}`);
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw fail("header is not a JSON object");
  const dataSize = bytes.length - dataStart;
  const metadata = readMetadata(header as Record<string, unknown>, file);
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, HostTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, begin, end } = readEntry(name, entry, file);
    const hostDtype = fileDtypes[dtype];
    if (!hostDtype) throw new UnsupportedDtypeError(file, name, dtype);
    if (end > dataSize)
      throw fail(`tensor "${name}" data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes)`);
    const expectedBytes = numel(shape) * bytesPerElement[hostDtype];
    if (end - begin !== expectedBytes) {
      throw fail(
        `tensor "${name}" has ${end - begin} bytes at data_offsets [${begin}, ${end}], but ${dtype} [${shape}] needs ${expectedBytes}`,
      );
    }
    spans.push({ name, begin, end });
    // A copy: offsets need not be aligned for a typed-array view, and the file buffer can then be freed.
    const data = hostDtype === "f32" ? new Float32Array(numel(shape)) : new Uint16Array(numel(shape));
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype: hostDtype, shape, data });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const [prev, cur] = [spans[i - 1], spans[i]];
    if (cur.begin < prev.end)
      throw fail(`tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${cur.name}" [${cur.begin}, ${cur.end}] overlap`);
  }
  return { metadata, tensors };
}

/** Serialises tensors in the given order; the header is space-padded to 8 bytes as the reference writer does. */
export function writeSafetensors(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = numel(t.shape) * bytesPerElement[t.dtype];
    if (t.data.byteLength !== size)
      throw new Error(`writeSafetensors: tensor "${name}" holds ${t.data.byteLength} bytes, but ${t.dtype} [${t.shape}] needs ${size}`);
    header[name] = { dtype: hostDtypes[t.dtype], shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

function readMetadata(header: Record<string, unknown>, file: string): Record<string, string> {
  const m = header.__metadata__;
  if (m === undefined) return {};
  if (typeof m !== "object" || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== "string")) {
    throw new ModelFormatError(file, "__metadata__ must be an object of string values");
  }
  return m as Record<string, string>;
}

function readEntry(name: string, entry: unknown, file: string): { dtype: string; shape: number[]; begin: number; end: number } {
  const fail = (detail: string) => new ModelFormatError(file, `tensor "${name}" ${detail}`);
  if (typeof entry !== "object" || entry === null) throw fail("has no {dtype, shape, data_offsets} entry");
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string") throw fail(`has dtype ${JSON.stringify(dtype)}, not a string`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw fail(`has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
  }
  return { dtype, shape, begin: offsets[0], end: offsets[1] };
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}
