/** Weights in host memory, as the loaders produce them and the engine uploads them, and f16/bf16 bit conversions. */
import { Float16Array } from "@petamoriken/float16";
import type { LlamaConfig } from "./config";

export type HostDtype = "f32" | "f16" | "bf16";

/** f32 data is a Float32Array; f16 and bf16 are their raw 16-bit patterns. */
export interface HostTensor {
  dtype: HostDtype;
  shape: number[];
  data: Float32Array | Uint16Array;
}

/** Hugging Face tensor names (`model.layers.0.self_attn.q_proj.weight`, …) to tensors. */
export interface ModelWeights {
  config: LlamaConfig;
  tensors: Map<string, HostTensor>;
}

export const bytesPerElement: Record<HostDtype, number> = { f32: 4, f16: 2, bf16: 2 };

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function f16BitsToF32(bits: Uint16Array): Float32Array {
  return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
}

/** Rounds to nearest even, like every framework's f32→f16 cast. */
export function f32ToF16Bits(values: ArrayLike<number>): Uint16Array {
  return new Uint16Array(Float16Array.from(values).buffer);
}

export function bf16BitsToF32(bits: Uint16Array): Float32Array {
  const words = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i] << 16;
  return new Float32Array(words.buffer);
}

/** Rounds to nearest even as torch's `.to(torch.bfloat16)` does; NaN stays a (quiet) NaN. */
export function f32ToBf16Bits(values: ArrayLike<number>): Uint16Array {
  const f = Float32Array.from(values);
  const words = new Uint32Array(f.buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const w = words[i];
    out[i] = Number.isNaN(f[i]) ? (w >>> 16) | 0x40 : (w + 0x7fff + ((w >>> 16) & 1)) >>> 16;
  }
  return out;
}

export function toFloat32(t: HostTensor): Float32Array {
  if (t.dtype === "f32") return t.data as Float32Array;
  return t.dtype === "f16" ? f16BitsToF32(t.data as Uint16Array) : bf16BitsToF32(t.data as Uint16Array);
}

/** The same values (rounded where the target is narrower) stored as `dtype`. */
export function castHostTensor(t: HostTensor, dtype: HostDtype): HostTensor {
  if (t.dtype === dtype) return t;
  const values = toFloat32(t);
  const data = dtype === "f32" ? values : dtype === "f16" ? f32ToF16Bits(values) : f32ToBf16Bits(values);
  return { dtype, shape: [...t.shape], data };
}

/** Index of the first NaN or ±Inf value (-1 when all are finite); 16-bit formats are tested on their exponent bits, without converting. */
export function firstNonFinite(t: HostTensor): number {
  if (t.dtype === "f32") {
    const d = t.data as Float32Array;
    // x − x is NaN exactly for NaN and ±Inf: one subtraction per element keeps a load-time scan cheap.
    for (let i = 0; i < d.length; i++) if (d[i] - d[i] !== 0) return i;
    return -1;
  }
  const exponent = t.dtype === "f16" ? 0x7c00 : 0x7f80;
  const d = t.data as Uint16Array;
  for (let i = 0; i < d.length; i++) if ((d[i] & exponent) === exponent) return i;
  return -1;
}
