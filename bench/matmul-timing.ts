/**
 * Times the project's matmul and tfjs-backend-webgpu's matMul on the same adapter, in Node or in a
 * page. Inputs are on the GPU before the clock starts; each rep submits one product and waits for
 * the queue to drain, so both libraries pay the same submit-and-wait per product. The contenders
 * take turns rep by rep, so load from other processes on a shared machine hits them alike.
 */
import type * as TfCore from "@tensorflow/tfjs-core";
import type { Gpu } from "../src/gpu/context";
import { matmul } from "../src/ops/matmul";
import { mulberry32 } from "../src/seeded-random";
import { flops, type MatmulCase } from "./matmul-cases";

/** What the tfjs WebGPU backend exposes that we need to know its work has finished. */
interface TfWebGpuBackend {
  queue: GPUQueue;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export interface BenchOptions {
  /** Timed repetitions per contender (after one warm-up), fewer when `budgetMs` runs out. */
  reps: number;
  budgetMs: number;
}

export interface BenchRow {
  name: string;
  /** GFLOP/s, median over the reps. */
  ours: number;
  oursF16?: number;
  tfjs: number;
  /** max |ours − tfjs| / max |ours|: both products really ran, on the same data. */
  disagreement: number;
}

/** One product, ready to run again and again on inputs already on the GPU. */
interface Contender {
  run(): Promise<void>;
  result(): Promise<Float32Array>;
  dispose(): void;
}

function uniform(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

function ours(gpu: Gpu, c: MatmulCase, a: Float32Array, b: Float32Array, f16: boolean): Contender {
  const at = gpu.upload(a, [c.m, c.k]);
  const bShape = c.transB ? [c.n, c.k] : [c.k, c.n];
  const bt = f16 ? gpu.uploadF16(b, bShape) : gpu.upload(b, bShape);
  return {
    async run() {
      const out = matmul(gpu, at, bt, { transB: c.transB });
      await gpu.sync();
      gpu.release(out);
    },
    async result() {
      const out = matmul(gpu, at, bt, { transB: c.transB });
      const values = await gpu.readF32(out);
      gpu.release(out);
      return values;
    },
    dispose() {
      gpu.release(at, bt);
      gpu.trim();
    },
  };
}

function tfjs(tf: typeof TfCore, c: MatmulCase, a: Float32Array, b: Float32Array): Contender {
  const backend = tf.backend() as unknown as TfWebGpuBackend;
  const at = tf.tensor2d(a, [c.m, c.k]);
  const bt = tf.tensor2d(b, c.transB ? [c.n, c.k] : [c.k, c.n]);
  return {
    async run() {
      const out = tf.matMul(at, bt, false, c.transB);
      // tfjs records into its own encoder and pass: end and submit them, then wait for the queue.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.queue.onSubmittedWorkDone();
      out.dispose();
    },
    async result() {
      const out = tf.matMul(at, bt, false, c.transB);
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    },
    dispose() {
      at.dispose();
      bt.dispose();
    },
  };
}

/** One untimed warm-up run each (pipeline compiles, tfjs's lazy uploads), then median seconds per contender. */
async function medianSeconds(contenders: Contender[], options: BenchOptions): Promise<number[]> {
  for (const x of contenders) await x.run();
  const times = contenders.map((): number[] => []);
  const start = performance.now();
  for (let rep = 0; rep < options.reps && (rep < 3 || performance.now() - start < options.budgetMs); rep++) {
    for (const [i, x] of contenders.entries()) {
      const t0 = performance.now();
      await x.run();
      times[i].push((performance.now() - t0) / 1000);
    }
  }
  return times.map((t) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]);
}

function disagreement(x: Float32Array, y: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(x[i]));
  }
  return diff / scale;
}

export async function runMatmulBench(
  gpu: Gpu,
  tf: typeof TfCore,
  cases: MatmulCase[],
  options: BenchOptions,
  log: (line: string) => void = () => {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const a = uniform(c.m * c.k, 1);
    const b = uniform(c.k * c.n, 2);
    const contenders = [tfjs(tf, c, a, b), ours(gpu, c, a, b, false), ...(gpu.hasF16 ? [ours(gpu, c, a, b, true)] : [])];
    const seconds = await medianSeconds(contenders, options);
    const [tfjsRate, oursRate, oursF16Rate] = seconds.map((s) => flops(c) / s / 1e9);
    const row = {
      name: c.name,
      ours: oursRate,
      oursF16: oursF16Rate,
      tfjs: tfjsRate,
      disagreement: disagreement(await contenders[1].result(), await contenders[0].result()),
    };
    for (const x of contenders) x.dispose();
    rows.push(row);
    log(
      `${c.name}: ours ${row.ours.toFixed(2)}${row.oursF16 ? `, ours f16 ${row.oursF16.toFixed(2)}` : ""}, tfjs ${row.tfjs.toFixed(2)} GFLOP/s; ` +
        `max |ours − tfjs| / max |ours| = ${row.disagreement.toExponential(1)}`,
    );
  }
  return rows;
}
