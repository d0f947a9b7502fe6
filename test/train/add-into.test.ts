import { describe, expect, it } from "vitest";
import { addInto } from "../../src/train/add-into";
import { testGpu } from "../gpu-harness";
import { randn } from "../numerics";

describe("addInto", () => {
  it.each([1, 255, 257, 67 * 45 * 33])("adds x into y in place (%i elements), exactly as f32 addition", async (n) => {
    const gpu = await testGpu();
    const x = randn(n, n, 3);
    const y = randn(n, n + 1, 3);
    const xt = gpu.upload(x, [n]);
    const yt = gpu.upload(y, [n]);
    expect(addInto(gpu, yt, xt)).toBe(yt);
    expect(await gpu.read(yt)).toEqual(Float32Array.from(y, (v, i) => Math.fround(v + x[i])));
    gpu.release(xt, yt);
  });

  it("rejects tensors of different sizes, naming both", async () => {
    const gpu = await testGpu();
    const a = gpu.zeros([2, 3]);
    const b = gpu.zeros([5]);
    expect(() => addInto(gpu, a, b)).toThrow(/addInto: x zeros\[5\] f32 and y zeros\[2×3\] f32/);
    gpu.release(a, b);
  });
});
