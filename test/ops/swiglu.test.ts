import { describe, expect, it } from "vitest";
import { swiglu, swigluBackward, swigluBackwardCpu, swigluCpu } from "../../src/ops/swiglu";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn } from "../numerics";

// Elementwise f32 against float64: a handful of roundings plus exp's error (a few ulp) per element,
// so 1e-5 relative is ample; atol covers outputs that cancel to near zero.
const rtol = 1e-5;
const atol = 1e-6;

describe("swiglu", () => {
  it.each([[[1]], [[7, 33]], [[67, 45, 33]], [[3, 2, 300]]])(
    "forward and backward match the CPU reference (shape %j)",
    async (shape: number[]) => {
      const gpu = await testGpu();
      const n = shape.reduce((a, b) => a * b, 1);
      // Scale 12 reaches the tails of the sigmoid on both sides.
      const gate = randn(n, n + 1, 12);
      const up = randn(n, n + 2, 3);
      const dOut = randn(n, n + 3);
      const gt = gpu.upload(gate, shape);
      const ut = gpu.upload(up, shape);
      const dt = gpu.upload(dOut, shape);
      const out = swiglu(gpu, gt, ut);
      expect(out.shape).toEqual(shape);
      expectClose(await gpu.read(out), swigluCpu(gate, up), rtol, atol, "out");
      const { dGate, dUp } = swigluBackward(gpu, dt, gt, ut);
      const ref = swigluBackwardCpu(dOut, gate, up);
      expectClose(await gpu.read(dGate), ref.dGate, rtol, atol, "dGate");
      expectClose(await gpu.read(dUp), ref.dUp, rtol, atol, "dUp");
      gpu.release(gt, ut, dt, out, dGate, dUp);
    },
  );

  it("stays finite and saturates correctly for extreme gates", async () => {
    const gpu = await testGpu();
    const gate = Float32Array.from([-1e30, -200, -90, 0, 90, 200, 1e30]);
    const up = new Float32Array(gate.length).fill(2);
    const gt = gpu.upload(gate, [gate.length]);
    const ut = gpu.upload(up, [gate.length]);
    const out = swiglu(gpu, gt, ut);
    const { dGate, dUp } = swigluBackward(gpu, ut, gt, ut);
    const y = await gpu.read(out);
    expect(Array.from(y, Number.isFinite).every(Boolean)).toBe(true);
    expectClose(y, [-0, -0, -0, 0, 180, 400, 2e30], 1e-6, 1e-30, "out");
    expectClose(await gpu.read(dGate), [0, 0, 0, 2, 4, 4, 4], 1e-6, 1e-30, "dGate");
    expect(Array.from(await gpu.read(dUp), Number.isFinite).every(Boolean)).toBe(true);
    gpu.release(gt, ut, out, dGate, dUp);
  });

  it("CPU backward equals finite differences of the CPU forward", () => {
    const n = 23;
    const gate = randn(n, 5, 6);
    const up = randn(n, 6, 2);
    const dOut = randn(n, 7);
    const { dGate, dUp } = swigluBackwardCpu(dOut, gate, up);
    expectClose(
      dGate,
      finiteDifferences((g) => dot(swigluCpu(g, up), dOut), gate),
      1e-6,
      1e-8,
      "dGate",
    );
    expectClose(
      dUp,
      finiteDifferences((u) => dot(swigluCpu(gate, u), dOut), up),
      1e-6,
      1e-8,
      "dUp",
    );
  });

  it("rejects mismatched shapes, naming the op and tensor", async () => {
    const gpu = await testGpu();
    const g = gpu.upload(randn(6, 1), [2, 3]);
    const u = gpu.upload(randn(6, 1), [3, 2]);
    expect(() => swiglu(gpu, g, u)).toThrow(/swiglu: up has shape \[3, 2\], expected \[2, 3\]/);
    gpu.release(g, u);
  });
});
