import { Float16Array } from "@petamoriken/float16";
import { describe, expect, it } from "vitest";
import type { Gpu } from "../../src/gpu/context";
import { reshape, type Tensor } from "../../src/gpu/tensor";
import { linearsOfOneInput, matmul, matmulCpu, swigluLinear, swigluLinearCpu } from "../../src/ops/matmul";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

// f32 dot products of k terms against float64, as in matmul.test.ts: rounding grows like k·2^-24
// per output at worst, so atol scales with k and rtol covers the large entries.
const rtol = 1e-5;
const atolPerK = 2e-7;

type WeightType = "f32" | "f16";

/** The element types this adapter takes for weights: f16 only where it has shader-f16. */
function weightTypes(gpu: Gpu): WeightType[] {
  return gpu.hasF16 ? ["f32", "f16"] : ["f32"];
}

/** A random weight [n, k] on the GPU and the values it holds (f16-rounded for f16). */
function weight(gpu: Gpu, n: number, k: number, seed: number, type: WeightType): { t: Tensor; values: Float32Array } {
  const values = randn(n * k, seed);
  if (type === "f32") return { t: gpu.upload(values, [n, k]), values };
  return { t: gpu.uploadF16(values, [n, k]), values: Float32Array.from(new Float16Array(values)) };
}

/** Runs `body` and returns the ops it dispatched, to tell the fused launch from the fallback. */
function dispatchedOps(gpu: Gpu, body: () => void): string[] {
  const ops: string[] = [];
  const dispatch = gpu.dispatch.bind(gpu);
  gpu.dispatch = (d) => {
    ops.push(d.op);
    dispatch(d);
  };
  try {
    body();
  } finally {
    gpu.dispatch = dispatch;
  }
  return ops;
}

describe("decode-sized Linear layers", () => {
  it("the decode kernel matches the CPU reference for f32 and f16 weights, every m ≤ 8, batched and shared", async () => {
    const gpu = await testGpu();
    for (const type of weightTypes(gpu)) {
      const cases = [
        ...[1, 2, 3, 5, 8].map((m) => ({ m, k: 72, n: 36, batch: 1, shared: "b" })),
        { m: 2, k: 16, n: 12, batch: 3, shared: "none" },
        { m: 2, k: 16, n: 12, batch: 3, shared: "b" },
        { m: 3, k: 16, n: 12, batch: 3, shared: "a" },
      ];
      for (const c of cases) {
        const what = `decode-${type} ${JSON.stringify(c)}`;
        const aCount = c.shared === "a" ? 1 : c.batch;
        const bCount = c.shared === "b" ? 1 : c.batch;
        const a = randn(aCount * c.m * c.k, c.m + c.k);
        const w = weight(gpu, bCount * c.n, c.k, c.n, type);
        const at = gpu.upload(a, c.shared === "a" || c.batch === 1 ? [c.m, c.k] : [c.batch, c.m, c.k]);
        const bt = bCount === 1 ? w.t : reshape(w.t, [c.batch, c.n, c.k]);
        const before = randn(c.batch * c.m * c.n, 5);
        const acc = gpu.upload(before, c.batch === 1 ? [c.m, c.n] : [c.batch, c.m, c.n]);
        const ops = dispatchedOps(gpu, () => matmul(gpu, at, bt, { transB: true, alpha: 0.5, accumulate: acc, kernel: `decode-${type}` }));
        expect(ops, what).toEqual([`matmul.decode-${type}`]);
        const product = matmulCpu(a, w.values, { m: c.m, k: c.k, n: c.n, batch: c.batch, transB: true });
        const expected = product.map((v, i) => 0.5 * v + before[i]);
        expectClose(await gpu.read(acc), expected, rtol, atolPerK * c.k, what);
        gpu.release(at, w.t, acc);
      }
    }
  });

  it("m ≤ 8 with k % 8 ≠ 0 or n % 4 ≠ 0 falls back to another kernel with the same result; forcing the decode kernel names the shapes", async () => {
    const gpu = await testGpu();
    for (const type of weightTypes(gpu)) {
      for (const [m, k, n] of [
        [1, 45, 33],
        [3, 44, 36],
        [2, 72, 33],
      ]) {
        const a = randn(m * k, 1);
        const w = weight(gpu, n, k, 2, type);
        const at = gpu.upload(a, [m, k]);
        let out: Tensor | undefined;
        const ops = dispatchedOps(gpu, () => {
          out = matmul(gpu, at, w.t, { transB: true });
        });
        expect(
          ops.some((op) => op.startsWith("matmul.decode")),
          `${type} ${m}×${k}×${n}`,
        ).toBe(false);
        if (!out) throw new Error("matmul returned nothing");
        expectClose(await gpu.read(out), matmulCpu(a, w.values, { m, k, n, transB: true }), rtol, atolPerK * k, `${type} ${m}×${k}×${n}`);
        expect(() => matmul(gpu, at, w.t, { transB: true, kernel: `decode-${type}` })).toThrow(
          new RegExp(`matmul: the decode-${type} kernel needs .*k % 8 = 0.*got a .*\\[${m}×${k}\\]`),
        );
        gpu.release(at, w.t, out);
      }
    }
  });

  it("q, k and v of one input are one launch at decode sizes and match three products; other shapes fall back", async () => {
    const gpu = await testGpu();
    for (const type of weightTypes(gpu)) {
      for (const [m, k, ns, fused] of [
        [1, 72, [36, 12, 20], true],
        [3, 64, [64, 8, 8], true],
        [8, 16, [4, 68, 132], true],
        [9, 16, [36, 12, 20], false],
        [2, 44, [36, 12, 20], false],
        [2, 72, [36, 13, 20], false],
      ] as [number, number, number[], boolean][]) {
        const what = `${type} m ${m} k ${k} n ${ns.join("/")}`;
        const x = randn(m * k, m * k);
        const ws = ns.map((n, i) => weight(gpu, n, k, 10 + i, type));
        const xt = gpu.upload(x, [m, k]);
        let outs: Tensor[] = [];
        const ops = dispatchedOps(gpu, () => {
          outs = linearsOfOneInput(
            gpu,
            xt,
            ws.map((w) => w.t),
          );
        });
        if (fused) expect(ops, what).toEqual(["matmul.linear3"]);
        else expect(ops.includes("matmul.linear3"), what).toBe(false);
        for (const [i, out] of outs.entries()) {
          expect(out.shape).toEqual([m, ns[i]]);
          expectClose(
            await gpu.read(out),
            matmulCpu(x, ws[i].values, { m, k, n: ns[i], transB: true }),
            rtol,
            atolPerK * k,
            `${what} output ${i}`,
          );
        }
        gpu.release(xt, ...ws.map((w) => w.t), ...outs);
      }
    }
  });

  it("gate, up and SwiGLU are one launch at decode sizes and match the CPU reference; other shapes fall back", async () => {
    const gpu = await testGpu();
    for (const type of weightTypes(gpu)) {
      for (const [m, k, n, fused] of [
        [1, 72, 36, true],
        [5, 64, 68, true],
        [8, 8, 4, true],
        [9, 72, 36, false],
        [3, 45, 33, false],
      ] as [number, number, number, boolean][]) {
        const what = `${type} m ${m} k ${k} n ${n}`;
        const x = randn(m * k, 3 * k);
        const gate = weight(gpu, n, k, 21, type);
        const up = weight(gpu, n, k, 22, type);
        const xt = gpu.upload(x, [m, k]);
        let out: Tensor | undefined;
        const ops = dispatchedOps(gpu, () => {
          out = swigluLinear(gpu, xt, gate.t, up.t);
        });
        if (fused) expect(ops, what).toEqual(["matmul.swiglu"]);
        else expect(ops.includes("matmul.swiglu"), what).toBe(false);
        if (!out) throw new Error("swigluLinear returned nothing");
        expect(out.shape).toEqual([m, n]);
        // silu(g)·u carries the products' rounding (atolPerK·k each) times the other factor's size.
        const shape = { m, k, n, transB: true };
        const size = Math.max(...matmulCpu(x, gate.values, shape).map(Math.abs), ...matmulCpu(x, up.values, shape).map(Math.abs));
        const expected = swigluLinearCpu(x, gate.values, up.values, m, k, n);
        expectClose(await gpu.read(out), expected, 1e-5, 2 * atolPerK * k * (1 + size), what);
        gpu.release(xt, gate.t, up.t, out);
      }
    }
  });

  it("swigluLinear rejects gate and up of different shapes, naming them", async () => {
    const gpu = await testGpu();
    const x = gpu.upload(randn(16, 1), [1, 16]);
    const gate = gpu.upload(randn(64, 2), [4, 16]);
    const up = gpu.upload(randn(128, 3), [8, 16]);
    expect(() => swigluLinear(gpu, x, gate, up)).toThrow(/swigluLinear.*up/);
    gpu.release(x, gate, up);
  });
});
