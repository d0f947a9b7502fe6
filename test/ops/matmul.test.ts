import { Float16Array } from "@petamoriken/float16";
import { describe, expect, it } from "vitest";
import type { Gpu } from "../../src/gpu/context";
import type { Tensor } from "../../src/gpu/tensor";
import { type MatmulKernel, matmul, matmulCpu } from "../../src/ops/matmul";
import { testGpu } from "../gpu-harness";
import { dot, expectClose, finiteDifferences, randn } from "../numerics";

// f32 products of k terms in [-1, 1] against float64: rounding grows like k·2^-24 at worst per
// output (entries are O(k) in size), so atol scales with k; rtol covers the large entries.
const rtol = 1e-5;
const atolPerK = 2e-7;

interface Case {
  m: number;
  k: number;
  n: number;
  batch?: number;
  /** Which operand is a single matrix shared by the batch. */
  shared?: "a" | "b";
  transA?: boolean;
  transB?: boolean;
}

const orientations = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
  { transA: true, transB: true },
];

function operands(c: Case, seed: number) {
  const batch = c.batch ?? 1;
  const aCount = c.shared === "a" ? 1 : batch;
  const bCount = c.shared === "b" ? 1 : batch;
  const aRows = c.transA ? c.k : c.m;
  const aCols = c.transA ? c.m : c.k;
  const bRows = c.transB ? c.n : c.k;
  const bCols = c.transB ? c.k : c.n;
  const lead = (count: number) => (c.batch === undefined || count === 1 ? [] : [count]);
  return {
    a: randn(aCount * c.m * c.k, seed),
    b: randn(bCount * c.k * c.n, seed + 1),
    aShape: [...lead(aCount), aRows, aCols],
    bShape: [...lead(bCount), bRows, bCols],
  };
}

async function expectMatmul(gpu: Gpu, c: Case, kernel: MatmulKernel | undefined, f16 = false) {
  const { a, b, aShape, bShape } = operands(c, c.m * 7 + c.k * 3 + c.n);
  const bUsed = f16 ? Float32Array.from(new Float16Array(b)) : b;
  const at = gpu.upload(a, aShape);
  const bt = f16 ? gpu.uploadF16(b, bShape) : gpu.upload(b, bShape);
  const out = matmul(gpu, at, bt, { transA: c.transA, transB: c.transB, kernel });
  const expected = matmulCpu(a, bUsed, { m: c.m, k: c.k, n: c.n, batch: c.batch, transA: c.transA, transB: c.transB });
  expect(out.shape).toEqual(c.batch === undefined ? [c.m, c.n] : [c.batch, c.m, c.n]);
  expectClose(await gpu.read(out), expected, rtol, atolPerK * c.k, `${kernel ?? "auto"} ${JSON.stringify(c)}`);
  gpu.release(at, bt, out);
}

describe("matmul", () => {
  // Shapes that are multiples of no tile, vectors, and the degenerate 1×1×1.
  const scalarShapes: [number, number, number][] = [
    [67, 45, 33],
    [1, 1, 1],
    [1, 45, 33],
    [33, 45, 1],
    [129, 257, 65],
  ];
  it.each(scalarShapes)("any shape, all orientations, matches the CPU reference (m %i, k %i, n %i)", async (m, k, n) => {
    const gpu = await testGpu();
    for (const o of orientations) await expectMatmul(gpu, { m, k, n, ...o }, undefined);
  });

  // Shapes the vec4 kernel takes (n, k multiples of 4; m % 4 for transA) but with m off every
  // row block: 1..8 rows use one thread per column block, larger m clamps its last block.
  const vec4Shapes: [number, number, number][] = [
    [1, 64, 36],
    [3, 4, 4],
    [5, 48, 20],
    [8, 32, 12],
    [67, 44, 36],
    [132, 256, 68],
  ];
  it.each(vec4Shapes)("the vec4 and scalar kernels agree with the CPU on aligned shapes (m %i, k %i, n %i)", async (m, k, n) => {
    const gpu = await testGpu();
    for (const o of orientations.slice(0, 2)) {
      for (const kernel of ["vec4", "scalar", undefined] as const) await expectMatmul(gpu, { m, k, n, ...o }, kernel);
    }
    if (m % 4 === 0) await expectMatmul(gpu, { m, k, n, transA: true }, "vec4");
    await expectMatmul(gpu, { m, k, n }, "outer");
  });

  it("the outer-product kernel (transposed copies) takes any m and k, transB, batched and shared", async () => {
    const gpu = await testGpu();
    const cases: Case[] = [
      { m: 67, k: 45, n: 36 },
      { m: 1, k: 3, n: 4 },
      { m: 9, k: 7, n: 8 },
      { m: 13, k: 20, n: 24, batch: 3 },
      { m: 13, k: 21, n: 24, batch: 3, shared: "b" },
      { m: 7, k: 16, n: 8, batch: 3, shared: "a" },
    ];
    for (const c of cases) {
      await expectMatmul(gpu, c, "outer");
      await expectMatmul(gpu, { ...c, transB: true }, "outer");
    }
    await expectMatmul(gpu, { m: 67, k: 45, n: 36 }, "outer", gpu.hasF16);
    await expectMatmul(gpu, { m: 67, k: 45, n: 36, transB: true }, "outer", gpu.hasF16);
  });

  it("the in-place outer-product kernel takes any m and k, every orientation, batched and shared, f16 b", async () => {
    const gpu = await testGpu();
    const cases: Case[] = [
      { m: 67, k: 45, n: 36 },
      { m: 1, k: 3, n: 4 },
      { m: 9, k: 7, n: 8 },
      { m: 130, k: 257, n: 12 },
      { m: 13, k: 20, n: 24, batch: 3 },
      { m: 13, k: 21, n: 24, batch: 3, shared: "b" },
      { m: 7, k: 16, n: 8, batch: 3, shared: "a" },
    ];
    for (const c of cases) for (const o of orientations) await expectMatmul(gpu, { ...c, ...o }, "inplace");
    await expectMatmul(gpu, { m: 67, k: 45, n: 36, transB: true }, "inplace", gpu.hasF16);
    await expectMatmul(gpu, { m: 67, k: 45, n: 36, transA: true }, "inplace", gpu.hasF16);
  });

  it("batched, with b shared by the batch, and with a shared by the batch", async () => {
    const gpu = await testGpu();
    const cases: Case[] = [
      { m: 67, k: 45, n: 33, batch: 3 },
      { m: 13, k: 20, n: 24, batch: 3 },
      { m: 13, k: 20, n: 24, batch: 3, shared: "b", transB: true },
      { m: 5, k: 45, n: 33, batch: 3, shared: "b" },
      { m: 12, k: 20, n: 24, batch: 3, shared: "b", transA: true },
      { m: 7, k: 16, n: 8, batch: 3, shared: "a", transB: true },
      { m: 1, k: 16, n: 8, batch: 2 },
    ];
    for (const c of cases) {
      await expectMatmul(gpu, c, undefined);
      await expectMatmul(gpu, c, "scalar");
    }
  });

  it("alpha and accumulate add the scaled product into c in place", async () => {
    const gpu = await testGpu();
    for (const [m, k, n, kernel, transB] of [
      [67, 45, 33, "scalar", true],
      [6, 40, 12, "vec4", true],
      [67, 40, 12, "vec4", true],
      [67, 45, 12, "outer", false],
      [67, 45, 12, "inplace", true],
      [20, 12, 8, "vec4", false],
    ] as const) {
      const a = randn(m * k, 1);
      const b = randn(n * k, 2);
      const c0 = randn(m * n, 3);
      const at = gpu.upload(a, [m, k]);
      const bt = gpu.upload(b, transB ? [n, k] : [k, n]);
      const ct = gpu.upload(c0, [m, n]);
      const out = matmul(gpu, at, bt, { transB, alpha: -0.5, accumulate: ct, kernel });
      expect(out).toBe(ct);
      const product = matmulCpu(a, b, { m, k, n, transB });
      const expected = product.map((v, i) => c0[i] - 0.5 * v);
      expectClose(await gpu.read(out), expected, rtol, atolPerK * k, `accumulate ${kernel}`);
      gpu.release(at, bt, ct);
    }
  });

  it("reads f16 weights and accumulates in f32 where the adapter has shader-f16, else refuses them", async () => {
    const gpu = await testGpu();
    if (!gpu.hasF16) {
      const a = gpu.upload(randn(8, 1), [2, 4]);
      const w = gpu.uploadF16(randn(12, 2), [3, 4]);
      expect(() => matmul(gpu, a, w, { transB: true })).toThrow(/matmul: b is f16 but this adapter lacks shader-f16/);
      gpu.release(a, w);
      return;
    }
    const cases: Case[] = [
      { m: 67, k: 45, n: 33, transB: true },
      { m: 3, k: 64, n: 36, transB: true },
      { m: 67, k: 44, n: 36 },
      { m: 13, k: 20, n: 24, batch: 3, shared: "b", transB: true },
    ];
    for (const c of cases) {
      await expectMatmul(gpu, c, undefined, true);
      await expectMatmul(gpu, c, "scalar", true);
    }
    // Decode-sized Linear layers read 8 halves per load: every m up to 8, batched and shared weights.
    for (const m of [1, 2, 3, 5, 8]) await expectMatmul(gpu, { m, k: 72, n: 36, transB: true }, "decode-f16", true);
    await expectMatmul(gpu, { m: 2, k: 16, n: 12, batch: 3, transB: true }, "decode-f16", true);
    await expectMatmul(gpu, { m: 2, k: 16, n: 12, batch: 3, shared: "b", transB: true }, "decode-f16", true);
    await expectMatmul(gpu, { m: 3, k: 16, n: 12, batch: 3, shared: "a", transB: true }, "decode-f16", true);
  });

  it("transposed products give the gradients of c = a·b (finite differences of the CPU forward)", async () => {
    const gpu = await testGpu();
    const [m, k, n] = [5, 7, 6];
    const a = randn(m * k, 11);
    const b = randn(k * n, 12);
    const dc = randn(m * n, 13);
    const fda = finiteDifferences((x) => dot(matmulCpu(x, b, { m, k, n }), dc), a);
    const fdb = finiteDifferences((x) => dot(matmulCpu(a, x, { m, k, n }), dc), b);
    const at = gpu.upload(a, [m, k]);
    const bt = gpu.upload(b, [k, n]);
    const dct = gpu.upload(dc, [m, n]);
    const da = matmul(gpu, dct, bt, { transB: true });
    const db = matmul(gpu, at, dct, { transA: true });
    // f32 GPU products against float64 differences of a bilinear form (exact up to rounding).
    expectClose(await gpu.read(da), fda, 1e-5, 1e-5, "da");
    expectClose(await gpu.read(db), fdb, 1e-5, 1e-5, "db");
    gpu.release(at, bt, dct, da, db);
  });

  it("rejects mismatched shapes, naming the op, the tensors and their shapes", async () => {
    const gpu = await testGpu();
    const t = (shape: number[]): Tensor => gpu.upload(new Float32Array(shape.reduce((x, y) => x * y, 1)), shape);
    const a = t([2, 3]);
    const b = t([4, 5]);
    const a3 = t([2, 3, 4]);
    const b3 = t([3, 4, 5]);
    const c = t([2, 6]);
    expect(() => matmul(gpu, a, b)).toThrow(
      /matmul: op\(a\) has k = 3 but op\(b\) has k = 4; got a upload\[2×3\] f32, b upload\[4×5\] f32/,
    );
    expect(() => matmul(gpu, a3, b3)).toThrow(/matmul: batch sizes differ \(2 vs 3\)/);
    expect(() => matmul(gpu, a, t([3, 5]), { accumulate: c })).toThrow(/matmul: accumulate has shape \[2, 6\], expected \[2, 5\]/);
    expect(() => matmul(gpu, a, t([3, 5]), { kernel: "vec4" })).toThrow(/matmul: the vec4 kernel needs n % 4 = 0/);
    expect(() => matmul(gpu, t([3, 2]), t([3, 5]), { transA: true, kernel: "outer" })).toThrow(
      /matmul: the outer kernel needs n % 4 = 0 and no transA/,
    );
    expect(() => matmul(gpu, t([4]), b)).toThrow(/matmul: a must be \[m, k\] or \[batch, m, k\]/);
    gpu.release(a, b, a3, b3, c);
  });
});
