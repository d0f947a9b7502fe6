/**
 * Matrix products: c = alpha·op(a)·op(b) (+ c), plain, transposed, batched, with a batch-shared b,
 * and with f16 weights. The kernel is chosen from the shapes; the float64 CPU reference is alongside.
 * A Hugging Face Linear layer (weight [out, in]) is `matmul(gpu, x, W, { transB: true })`; several
 * Linear layers of one input (q, k, v) are `linearsOfOneInput`, and the Llama MLP's gate and up
 * products with their SwiGLU are `swigluLinear` (one launch each at decode sizes).
 */
import scalarShader from "../../shaders/matmul.wgsl?raw";
import decodeShader from "../../shaders/matmul-decode.wgsl?raw";
import outerShader from "../../shaders/matmul-outer.wgsl?raw";
import transposeShader from "../../shaders/matmul-transpose.wgsl?raw";
import vec4Shader from "../../shaders/matmul-vec4.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { describe, expectShape, type Tensor, tensorBytes } from "../gpu/tensor";
import { swiglu, swigluCpu } from "./swiglu";

/**
 * "scalar" takes any shape; "vec4" is register-blocked and needs the alignments in matmul-vec4.wgsl;
 * "outer" (n % 4 = 0, no transA) copies a transposed (and b, when transB) and runs the vec4
 * kernel's outer-product form, which lavapipe runs ~1.3–1.6× faster than the row form
 * (SwiftShader: slightly slower). "inplace" (n % 4 = 0, any orientation) is the same outer-product
 * form reading both operands where they lie (matmul-outer.wgsl): one launch instead of up to three,
 * and on lavapipe 2.7× faster than "outer" for narrow products (n ≤ 32, e.g. x·Aᵀ of a LoRA adapter)
 * whose transposed copy of a costs more than the product; for wide ones its strided reads of a
 * transposed b are ~3× slower, so "outer" stays the default there. "decode-f16" and "decode-f32" are x·Wᵀ for m ≤ 8 (k % 8 = 0,
 * n % 4 = 0) with W of that element type, reading 8 weights of 4 rows per step.
 */
export type MatmulKernel = "scalar" | "vec4" | "outer" | "inplace" | "decode-f16" | "decode-f32";

export interface MatmulOptions {
  /** a is [k, m] (or [batch, k, m]) and used transposed. */
  transA?: boolean;
  /** b is [n, k] (or [batch, n, k]) and used transposed, as Linear weights [out, in] are. */
  transB?: boolean;
  alpha?: number;
  /** Adds the product into this f32 tensor of the output's shape, in place, and returns it. */
  accumulate?: Tensor;
  /** Forces a kernel (tests, benchmarks); by default the fastest one that takes the shapes. */
  kernel?: MatmulKernel;
}

interface MatmulShape {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  aShared: boolean;
  bShared: boolean;
}

/** The rows one vec4 thread keeps in registers at most (acc0* … acc7* in the shader). */
const maxRowsPerThread = 8;

/** The same WGSL with b read as f16: one source per kernel, two element types. */
function withF16Weights(source: string): string {
  const f32Alias = "alias BType = f32;";
  if (!source.includes(f32Alias)) throw new Error("matmul shader lacks the BType alias");
  return `enable f16;\n${source.replace(f32Alias, "alias BType = f16;")}`;
}

/** The decode kernels' f32 variant: weights read as mat2x4<f32> (8 values) instead of 8 packed halves. */
function withF32DecodeWeights(source: string): string {
  const f16Lines = source.match(/alias W8 = vec4u;\nfn unpack8\(w: W8\) -> mat2x4f \{.*\}\n/);
  if (!f16Lines) throw new Error("matmul-decode.wgsl lacks the W8 alias and unpack8");
  return source.replace(f16Lines[0], "alias W8 = mat2x4f;\nfn unpack8(w: W8) -> mat2x4f { return w; }\n");
}

const shaders = {
  decode: { f32: withF32DecodeWeights(decodeShader), f16: decodeShader },
  scalar: { f32: scalarShader, f16: withF16Weights(scalarShader) },
  vec4: { f32: vec4Shader, f16: withF16Weights(vec4Shader) },
  outer: { f32: outerShader, f16: withF16Weights(outerShader) },
  transpose: { f32: transposeShader, f16: withF16Weights(transposeShader) },
};

/** Adapters measured to run the outer-product form faster (bench/matmul.ts): Mesa's llvmpipe. */
function prefersOuterProducts(gpu: Gpu): boolean {
  return /llvmpipe/i.test(`${gpu.info.architecture} ${gpu.info.description} ${gpu.info.device}`);
}

/** alpha·op(a)·op(b), or that added into `options.accumulate`. See the module comment for shapes. */
export function matmul(gpu: Gpu, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false, alpha = 1, accumulate, kernel } = options;
  const s = resolveShape(gpu, a, b, transA, transB);
  const outShape = a.shape.length === 3 || b.shape.length === 3 ? [s.batch, s.m, s.n] : [s.m, s.n];
  if (accumulate) {
    expectShape("matmul", "accumulate", accumulate, outShape);
    if (accumulate.dtype !== "f32") throw new Error(`matmul: accumulate ${describe(accumulate)} must be f32`);
  }
  const c = accumulate ?? gpu.tensor(outShape, "f32", "matmul.c");
  // A batch that shares b is one tall product: more rows per dispatch, and the vec4 path applies.
  const run = s.bShared && !s.aShared && !transA ? { ...s, batch: 1, m: s.batch * s.m, aShared: true } : s;
  const chosen = kernel ?? defaultKernel(gpu, run, b);
  const dtype = b.dtype === "f16" ? "f16" : "f32";
  const common = { m: run.m, n: run.n, k: run.k, alpha, accumulate: accumulate ? 1 : 0 };
  if (chosen === "decode-f16" || chosen === "decode-f32") {
    if (!decodeFits(run, b) || chosen !== `decode-${dtype}`) {
      throw new Error(
        `matmul: the ${chosen} kernel needs ${chosen.slice(-3)} b, transB, m ≤ 8, k % 8 = 0, n % 4 = 0; got ${shapeText(a, b, transA, transB)}`,
      );
    }
    gpu.dispatch({
      op: `matmul.${chosen}`,
      shader: shaders.decode[dtype],
      constants: { ROWS: run.m },
      uniforms: {
        p: {
          ...decodeParams(run.m, run.k, [run.n]),
          alpha,
          accumulate: accumulate ? 1 : 0,
          a_batch4: run.aShared ? 0 : (run.m * run.k) / 4,
          b_batch8: run.bShared ? 0 : (run.n * run.k) / 8,
        },
      },
      bindings: { a, b, c },
      workgroups: [decodeGroups(run.n), 1, run.batch],
    });
  } else if (chosen === "inplace") {
    if (run.n % 4 !== 0) throw new Error(`matmul: the inplace kernel needs n % 4 = 0; got ${shapeText(a, b, transA, transB)}`);
    gpu.dispatch({
      op: "matmul.outer",
      shader: shaders.outer[dtype],
      uniforms: {
        p: {
          ...common,
          a_batch: run.aShared ? 0 : run.m * run.k,
          a_row: transA ? 1 : run.k,
          a_k: transA ? run.m : 1,
          b_batch: run.bShared ? 0 : run.k * run.n,
          b_col: transB ? run.k : 1,
          b_k: transB ? 1 : run.n,
        },
      },
      bindings: { a, b, c },
      workgroups: [Math.ceil(run.n / 128), Math.ceil(run.m / 32), run.batch],
    });
  } else if (chosen === "outer") {
    if (!outerFits(run)) throw new Error(`matmul: the outer kernel needs n % 4 = 0 and no transA; got ${shapeText(a, b, transA, transB)}`);
    const mPad = Math.ceil(run.m / 4) * 4;
    const at = transposed(gpu, a, run.aShared ? 1 : run.batch, run.m, run.k, mPad);
    const bt = transB ? transposed(gpu, b, run.bShared ? 1 : run.batch, run.n, run.k, run.n) : b;
    dispatchVec4(gpu, shaders.vec4[dtype], { ...run, transA: true, transB: false }, common, { a: at, b: bt, c }, mPad);
    // Later users of these buffers are recorded after the product, so the GPU reads them first.
    gpu.release(at, transB ? bt : undefined);
  } else if (chosen === "vec4") {
    if (!vec4Fits(run)) {
      throw new Error(
        `matmul: the vec4 kernel needs n % 4 = 0 and k % 4 = 0 (transA: m % 4 = 0, no transB); got ${shapeText(a, b, transA, transB)}`,
      );
    }
    dispatchVec4(gpu, shaders.vec4[dtype], run, common, { a, b, c }, run.m);
  } else {
    gpu.dispatch({
      op: "matmul.scalar",
      shader: shaders.scalar[dtype],
      uniforms: {
        p: {
          ...common,
          a_stride_m: transA ? 1 : run.k,
          a_stride_k: transA ? run.m : 1,
          a_stride_batch: run.aShared ? 0 : run.m * run.k,
          b_stride_k: transB ? 1 : run.n,
          b_stride_n: transB ? run.k : 1,
          b_stride_batch: run.bShared ? 0 : run.k * run.n,
        },
      },
      bindings: { a, b, c },
      workgroups: [Math.ceil(run.n / 16), Math.ceil(run.m / 16), run.batch],
    });
  }
  return c;
}

interface Vec4Block {
  rows: number;
  cols: number;
  wgX: number;
  wgY: number;
}

/**
 * Block shapes measured on lavapipe and SwiftShader (bench/matmul.ts): 8×8 outputs per thread
 * balances loads per FMA against register spills (CPU adapters run 4–8 threads per SIMD register,
 * so each per-thread value takes a whole register); decode-sized m takes one thread per 4 columns
 * so the grid spreads over n.
 */
function vec4Block(s: MatmulShape): Vec4Block {
  if (!s.transA && s.m <= maxRowsPerThread) return { rows: s.m, cols: 1, wgX: 64, wgY: 1 };
  return { rows: maxRowsPerThread, cols: 2, wgX: 16, wgY: 4 };
}

/** [batch, rows, cols] → a new [batch, cols, rowsPad] (rows zero-padded), same element type. */
function transposed(gpu: Gpu, src: Tensor, batch: number, rows: number, cols: number, rowsPad: number): Tensor {
  const dst = gpu.tensor([batch, cols, rowsPad], src.dtype, `${src.label}.T`);
  gpu.dispatch({
    op: "matmul.transpose",
    shader: shaders.transpose[src.dtype === "f16" ? "f16" : "f32"],
    uniforms: { p: { rows, cols, rows_pad: rowsPad } },
    bindings: { src, dst },
    workgroups: [Math.ceil(rowsPad / 16), Math.ceil(cols / 16), batch],
  });
  return dst;
}

function dispatchVec4(
  gpu: Gpu,
  shader: string,
  s: MatmulShape,
  common: Record<string, number>,
  bindings: { a: Tensor; b: Tensor; c: Tensor },
  /** Rows of a as stored: m, or m padded to a multiple of 4 in the outer kernel's transposed copy. */
  aRows: number,
): void {
  const block = vec4Block(s);
  gpu.dispatch({
    op: "matmul.vec4",
    shader,
    constants: {
      TRANS_A: s.transA ? 1 : 0,
      TRANS_B: s.transB ? 1 : 0,
      ROWS: block.rows,
      COLS: block.cols,
      WG_X: block.wgX,
      WG_Y: block.wgY,
    },
    uniforms: {
      p: {
        ...common,
        a_batch4: s.aShared ? 0 : (s.k * aRows) / 4,
        b_batch4: s.bShared ? 0 : (s.k * s.n) / 4,
        a_stride4: s.transA ? aRows / 4 : 0,
      },
    },
    bindings,
    workgroups: [Math.ceil(s.n / (4 * block.cols * block.wgX)), Math.ceil(s.m / (block.rows * block.wgY)), s.batch],
  });
}

/**
 * Where the outer form wins (lavapipe, m past decode sizes): always for a·b (~1.6×); for a·bᵀ
 * (~1.3×, f32 only; f16 weights gain nothing) only while the transposed copy of b stays moderate,
 * since the pool keeps that temporary's buffer afterwards.
 */
const maxTransposedWeightBytes = 16 * 2 ** 20;
/** Output columns up to which "inplace" beats "outer" on lavapipe (bench: LoRA x·Aᵀ, n = r = 8). */
const maxInplaceColumns = 32;

function defaultKernel(gpu: Gpu, s: MatmulShape, b: Tensor): MatmulKernel {
  if (decodeFits(s, b)) return b.dtype === "f16" ? "decode-f16" : "decode-f32";
  const copyB = !s.transB || (b.dtype === "f32" && tensorBytes(b.shape, b.dtype) <= maxTransposedWeightBytes);
  if (s.m > maxRowsPerThread && s.n % 4 === 0 && s.n <= maxInplaceColumns && prefersOuterProducts(gpu)) return "inplace";
  if (s.m > maxRowsPerThread && outerFits(s) && copyB && prefersOuterProducts(gpu)) return "outer";
  return vec4Fits(s) ? "vec4" : "scalar";
}

function decodeFits(s: MatmulShape, b: Tensor): boolean {
  return s.transB && !s.transA && s.m <= maxRowsPerThread && s.k % 8 === 0 && s.n % 4 === 0 && (b.dtype === "f16" || b.dtype === "f32");
}

/** Output columns per workgroup of the decode kernels: WG threads × 4 (matmul-decode.wgsl; swiglu's threads take 2). */
const decodeColumnsPerGroup = 64;

function decodeGroups(n: number): number {
  return Math.ceil(n / decodeColumnsPerGroup);
}

function decodeParams(m: number, k: number, [n0, n1 = 0, n2 = 0]: readonly number[]) {
  return { m, k8: k / 8, n0, n1, n2, a_batch4: 0, b_batch8: 0, alpha: 1, accumulate: 0 };
}

/**
 * The input x [m, k] and each Linear weight [nᵢ, k] (transB) of a fused decode launch, when the
 * decode kernel takes them: m ≤ 8, k % 8 = 0, nᵢ % 4 = 0, all weights of one element type.
 */
function fusedDecodeFits(gpu: Gpu, x: Tensor, weights: readonly Tensor[]): boolean {
  const shapes = weights.map((w) => resolveShape(gpu, x, w, false, true));
  return (
    x.shape.length === 2 &&
    weights.every((w) => w.shape.length === 2 && w.dtype === weights[0].dtype) &&
    shapes.every((s) => decodeFits(s, weights[0]))
  );
}

/**
 * x·Wᵢᵀ for Linear weights Wᵢ [nᵢ, k] of one input x [m, k]: three of them (q, k and v) in one
 * launch at decode sizes (see `fusedDecodeFits`), otherwise one matmul each. Returns [m, nᵢ] f32.
 */
export function linearsOfOneInput(gpu: Gpu, x: Tensor, weights: readonly Tensor[]): Tensor[] {
  if (weights.length !== 3 || !fusedDecodeFits(gpu, x, weights)) return weights.map((w) => matmul(gpu, x, w, { transB: true }));
  const [m, k] = x.shape;
  const outs = weights.map((w) => gpu.tensor([m, w.shape[0]], "f32", `${w.label}.out`));
  const [b, b1, b2] = weights;
  const [c, c1, c2] = outs;
  const ns = weights.map((w) => w.shape[0]);
  gpu.dispatch({
    op: "matmul.linear3",
    shader: shaders.decode[weights[0].dtype === "f16" ? "f16" : "f32"],
    entryPoint: "linear3",
    constants: { ROWS: m },
    uniforms: { p: decodeParams(m, k, ns) },
    bindings: { a: x, b, b1, b2, c, c1, c2 },
    workgroups: [ns.reduce((sum, n) => sum + decodeGroups(n), 0)],
  });
  return outs;
}

/**
 * silu(x·gateᵀ) · (x·upᵀ) for x [m, k] and the MLP's gate and up weights [n, k] → [m, n] f32: one
 * launch at decode sizes, otherwise two matmuls and `swiglu`.
 */
export function swigluLinear(gpu: Gpu, x: Tensor, gate: Tensor, up: Tensor): Tensor {
  expectShape("swigluLinear", "up", up, gate.shape);
  if (!fusedDecodeFits(gpu, x, [gate, up])) {
    const g = matmul(gpu, x, gate, { transB: true });
    const u = matmul(gpu, x, up, { transB: true });
    const out = swiglu(gpu, g, u);
    gpu.release(g, u);
    return out;
  }
  const [m, k] = x.shape;
  const n = gate.shape[0];
  const out = gpu.tensor([m, n], "f32", "swigluLinear.out");
  gpu.dispatch({
    op: "matmul.swiglu",
    shader: shaders.decode[gate.dtype === "f16" ? "f16" : "f32"],
    entryPoint: "swiglu",
    constants: { ROWS: m },
    uniforms: { p: decodeParams(m, k, [n]) },
    bindings: { a: x, b: gate, b1: up, act: out },
    workgroups: [decodeGroups(2 * n)],
  });
  return out;
}

function outerFits(s: MatmulShape): boolean {
  return !s.transA && s.n % 4 === 0;
}

function vec4Fits(s: MatmulShape): boolean {
  if (s.n % 4 !== 0) return false;
  if (s.transA) return !s.transB && s.m % 4 === 0;
  return s.k % 4 === 0;
}

function shapeText(a: Tensor, b: Tensor, transA: boolean, transB: boolean): string {
  return `a ${describe(a)}${transA ? " (transA)" : ""}, b ${describe(b)}${transB ? " (transB)" : ""}`;
}

function resolveShape(gpu: Gpu, a: Tensor, b: Tensor, transA: boolean, transB: boolean): MatmulShape {
  const fail = (why: string): never => {
    throw new Error(`matmul: ${why}; got ${shapeText(a, b, transA, transB)}`);
  };
  if (a.dtype !== "f32") fail("a must be f32");
  if (b.dtype === "f16" && !gpu.hasF16) fail("b is f16 but this adapter lacks shader-f16; upload f32 weights");
  if (b.dtype !== "f32" && b.dtype !== "f16") fail("b must be f32 or f16");
  if (a.shape.length !== 2 && a.shape.length !== 3) fail("a must be [m, k] or [batch, m, k]");
  if (b.shape.length !== 2 && b.shape.length !== 3) fail("b must be [k, n] or [batch, k, n]");
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) fail(`op(a) has k = ${k} but op(b) has k = ${kb}`);
  const aBatch = a.shape.length === 3 ? a.shape[0] : 1;
  const bBatch = b.shape.length === 3 ? b.shape[0] : 1;
  if (a.shape.length === 3 && b.shape.length === 3 && aBatch !== bBatch) fail(`batch sizes differ (${aBatch} vs ${bBatch})`);
  return {
    batch: Math.max(aBatch, bBatch),
    m,
    k,
    n,
    transA,
    transB,
    aShared: a.shape.length === 2,
    bShared: b.shape.length === 2,
  };
}

/** CPU reference of `swigluLinear` in float64: x [m, k], gate and up [n, k] → [m, n]. */
export function swigluLinearCpu(
  x: ArrayLike<number>,
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const shape = { m, k, n, transB: true };
  return swigluCpu(matmulCpu(x, gate, shape), matmulCpu(x, up, shape));
}

export interface MatmulCpuShape {
  m: number;
  k: number;
  n: number;
  /** Products in the batch; an operand holding a single matrix is shared by all of them. */
  batch?: number;
  transA?: boolean;
  transB?: boolean;
}

/** CPU reference in float64: [batch, m, n] = op(a)·op(b), operands row-major as in `matmul`. */
export function matmulCpu(a: ArrayLike<number>, b: ArrayLike<number>, shape: MatmulCpuShape): Float64Array {
  const { m, k, n, batch = 1, transA = false, transB = false } = shape;
  const aStride = a.length === m * k ? 0 : m * k;
  const bStride = b.length === k * n ? 0 : k * n;
  if (a.length !== (aStride ? batch : 1) * m * k)
    throw new Error(`matmulCpu: a has ${a.length} values, expected ${m * k} or ${batch * m * k}`);
  if (b.length !== (bStride ? batch : 1) * k * n)
    throw new Error(`matmulCpu: b has ${b.length} values, expected ${k * n} or ${batch * k * n}`);
  const c = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = a[z * aStride + (transA ? p * m + i : i * k + p)];
          const bv = b[z * bStride + (transB ? j * k + p : p * n + j)];
          acc += av * bv;
        }
        c[(z * m + i) * n + j] = acc;
      }
    }
  }
  return c;
}
