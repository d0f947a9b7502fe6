import { describe, expect, it } from "vitest";
import { addBias, addBiasCpu } from "../../src/ops/bias-add";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

describe("addBias", () => {
  it.each([
    [1, 1],
    [7, 33],
    [300, 3],
    [2, 1025],
  ])("adds the bias to each of %i rows of %i columns as the CPU reference does", async (rows, cols) => {
    const gpu = await testGpu();
    const y = randn(rows * cols, rows + cols);
    const bias = randn(cols, cols + 7, 3);
    const yt = gpu.upload(y, [rows, cols]);
    const bt = gpu.upload(bias, [cols]);
    expect(addBias(gpu, yt, bt)).toBe(yt);
    // One f32 addition per element: exact to half an ulp of the sum.
    expectClose(await gpu.read(yt), addBiasCpu(y, bias), 1e-7, 1e-7, "y");
    gpu.release(yt, bt);
  });

  it("refuses a bias that is not as long as a row", async () => {
    const gpu = await testGpu();
    const yt = gpu.upload(new Float32Array(6), [2, 3]);
    const bt = gpu.upload(new Float32Array(2), [2]);
    expect(() => addBias(gpu, yt, bt)).toThrow(/addBias: bias .* must be f32 \[cols\]/);
    gpu.release(yt, bt);
  });
});
