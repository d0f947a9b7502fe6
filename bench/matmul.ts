/**
 * `npm run bench:matmul [-- --quick] [-- --no-browser]`: GFLOP/s of the project's matmul against
 * tfjs-backend-webgpu's matMul on the same adapter, in Node (Dawn, the adapter VK_ICD_FILENAMES
 * picks: source scripts/gpu-env.sh for lavapipe) and in headless Chromium (SwiftShader), with
 * numpy on the same CPU as the native ceiling. Prints one table per environment.
 */
// Before anything that imports webgpu-utils (it reads Float16Array and the GPU globals on import).
import "../src/gpu/node-globals";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { matmulCases } from "./matmul-cases";
import { runInChromium } from "./matmul-chromium";
import { numpyGflops } from "./matmul-numpy";
import { type BenchOptions, type BenchRow, runMatmulBench } from "./matmul-timing";

const quick = process.argv.includes("--quick");
const browser = !process.argv.includes("--no-browser");
const cases = matmulCases(quick);
const options: BenchOptions = quick ? { reps: 3, budgetMs: 1000 } : { reps: 7, budgetMs: 3000 };

const fmt = (v: number | undefined, digits = 2) => (v === undefined ? "—" : v.toFixed(digits));

function printTable(title: string, rows: BenchRow[], numpy?: number[]) {
  console.log(`\n${title} (GFLOP/s, median)`);
  const header = ["case", "ours", "ours f16 b", "tfjs", "ours/tfjs", ...(numpy ? ["numpy (best)", "ours/numpy"] : [])];
  // Ratios compare like with like: our f32 product against tfjs's and numpy's f32 products.
  const lines = rows.map((r, i) => [
    r.name,
    fmt(r.ours),
    fmt(r.oursF16),
    fmt(r.tfjs),
    `${fmt(r.ours / r.tfjs, 1)}×`,
    ...(numpy ? [fmt(numpy[i]), `${fmt((100 * r.ours) / numpy[i], 1)} %`] : []),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  const row = (cells: string[]) => cells.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join(" | ");
  console.log(row(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const l of lines) console.log(row(l));
}

const dawn = nodeGpu();
// tfjs-backend-webgpu looks for navigator.gpu when it is imported, so it is imported after this.
Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn }, configurable: true });
const tf = await import("@tensorflow/tfjs-core");
await import("@tensorflow/tfjs-backend-webgpu");
await tf.setBackend("webgpu");
await tf.ready();
const gpu = await acquireGpu(dawn);
const nodeAdapter = `${gpu.info.vendor} ${gpu.info.architecture} ${gpu.info.description}`.trim();
console.log(`Node (Dawn): ${nodeAdapter}; shader-f16 ${gpu.hasF16}; ${quick ? "quick" : "full"} run`);
const nodeRows = await runMatmulBench(gpu, tf, cases, options, (line) => console.log(`  ${line}`));
gpu.destroy();
const numpy = numpyGflops(cases, options.reps);
printTable(`Node / Dawn on ${nodeAdapter}`, nodeRows, numpy);

if (browser) {
  console.log("\nHeadless Chromium:");
  const page = await runInChromium(cases, options, console.log);
  printTable(`Chromium on ${page.adapter}`, page.rows);
}
process.exit(0);
