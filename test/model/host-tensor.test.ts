import { describe, expect, it } from "vitest";
import { bf16BitsToF32, castHostTensor, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from "../../src/model/host-tensor";
import { randn } from "../numerics";

describe("f16 / bf16 bit conversions", () => {
  it("encode known values to their IEEE bit patterns", () => {
    expect([...f32ToF16Bits([1, -2, 65504, 2 ** -24, 0, Number.POSITIVE_INFINITY])]).toEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0, 0x7c00]);
    expect([...f32ToBf16Bits([1, -2, 3.140625, Number.NEGATIVE_INFINITY])]).toEqual([0x3f80, 0xc000, 0x4049, 0xff80]);
    expect([...f16BitsToF32(Uint16Array.of(0x3c00, 0x3555, 0x0001))]).toEqual([1, Math.fround(0.333251953125), 2 ** -24]);
    expect([...bf16BitsToF32(Uint16Array.of(0x3f80, 0x4049))]).toEqual([1, 3.140625]);
  });

  it("round bf16 to nearest even, as torch does, and keep NaN a NaN", () => {
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1); 1 + 3·2^-8 goes up to 1 + 2^-6.
    const bits = f32ToBf16Bits([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, Number.NaN]);
    expect([...bf16BitsToF32(bits)]).toEqual([1, 1 + 2 ** -6, 1 + 2 ** -7, Number.NaN]);
  });

  it("cast f32 → f16/bf16 → f32 within half an ulp of each format", () => {
    const x = randn(1000, 3, 100);
    for (const [dtype, ulp] of [
      ["f16", 2 ** -10],
      ["bf16", 2 ** -7],
    ] as const) {
      const back = castHostTensor(castHostTensor({ dtype: "f32", shape: [1000], data: x }, dtype), "f32").data;
      for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * ulp * 0.5 + 2 ** -25);
    }
  });
});
