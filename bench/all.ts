/**
 * `npm run bench [-- --quick] [-- --json OUT.json]`: every benchmark in one run, printed as one
 * table. Each figure stands beside its reference measured in the same run (tfjs-webgpu on the same
 * adapter, numpy, and PyTorch + OpenBLAS on the CPU where Debian's python3-torch is importable), with
 * the ratio, its goal from issue 20, and the load average (the machine may be shared: ratios taken in
 * one run are the meaningful numbers). The JSON has one stable key per row, each with its shape.
 *
 * `npm run bench:gpu` (`--gpu`) adds the device's measured fp32 peak and memory bandwidth
 * (bench/device-peak.ts) and prints matmul as a share of peak and decode as a share of bandwidth:
 * the table for the day a real GPU is at hand (PRUNELAB_VK=system).
 *
 * The rows reuse the single-purpose benchmarks' modules: matmul-timing.ts, train.ts (with
 * train-tfjs.ts), generate.ts, analyze.ts, on the shapes of bench-shapes.ts.
 */
import "../src/gpu/node-globals";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { tensorBytes } from "../src/gpu/tensor";
import { releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { randomLlama } from "../src/model/random-llama";
import { analysisTimes } from "./analyze";
import { demoSizedShape, smolLM2Shape } from "./bench-shapes";
import { measureDevicePeak } from "./device-peak";
import { decodeDispatches, gpuRun } from "./generate";
import type { MatmulCase } from "./matmul-cases";
import { numpyGflops } from "./matmul-numpy";
import { runMatmulBench } from "./matmul-timing";
import { torchMissing, torchTokensPerSecond } from "./torch-reference";
import { loadTfjs, trainCase } from "./train";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const gpuMode = args.includes("--gpu");
const jsonPath = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;

/** One row of the table: ours against a reference measured in the same run, and the goal for ours/reference. */
interface Result {
  /** What "ours" and "reference" count (tok/s, GFLOP/s, ms, bytes). */
  unit: string;
  ours: number;
  reference?: number;
  referenceName: string;
  /** ours / reference (or ours itself where the goal is absolute). */
  value?: number;
  goal: { op: "≥" | "≤"; value: number };
  shape: string;
  meetsGoal?: boolean;
}

const results: Record<string, Result> = {};
const loads: number[][] = [];
const load = () => {
  const l = loadavg();
  loads.push(l);
  return l.map((x) => x.toFixed(2)).join(" ");
};
function record(key: string, r: Omit<Result, "value" | "meetsGoal">, absolute = false): void {
  const value = absolute ? r.ours : r.reference ? r.ours / r.reference : undefined;
  const meetsGoal = value === undefined ? undefined : r.goal.op === "≥" ? value >= r.goal.value : value <= r.goal.value;
  results[key] = { ...r, value, meetsGoal };
  // Each row as soon as it is known, so that a run cut short still says what it measured.
  console.log(
    `  ${key}: ours ${r.ours.toPrecision(4)} ${r.unit}, ${r.referenceName} ${r.reference?.toPrecision(4) ?? "—"}, ratio ${value?.toPrecision(3) ?? "—"}`,
  );
}

const torchNote = torchMissing();
if (torchNote) console.log(torchNote);
const dawn = nodeGpu();
const tf = await loadTfjs(dawn);
const gpu = await acquireGpu(dawn);
const adapter = `${gpu.info.vendor} ${gpu.info.architecture} ${gpu.info.description}`.trim();
console.log(`adapter: ${adapter}; shader-f16 ${gpu.hasF16}; ${quick ? "quick" : "full"} run; load ${load()}`);

const peak = gpuMode ? await measureDevicePeak(gpu) : undefined;
if (peak) console.log(`device: fp32 peak ${peak.gflops.toFixed(0)} GFLOP/s, copy bandwidth ${peak.gbPerSecond.toFixed(1)} GB/s`);

// Matmul: every case against tfjs (the worst ratio is the row), 1024³ against numpy.
const cases: MatmulCase[] = [
  { name: "square 1024", m: 1024, k: 1024, n: 1024, transB: false },
  { name: "prefill 128×576 · [1536,576]ᵀ", m: 128, k: 576, n: 1536, transB: true },
  { name: "backward 576×128 · 128×1536", m: 576, k: 128, n: 1536, transB: false },
  { name: "decode 1×576 · [49152,576]ᵀ", m: 1, k: 576, n: 49152, transB: true },
];
const matmulRows = await runMatmulBench(gpu, tf, cases, quick ? { reps: 3, budgetMs: 1000 } : { reps: 7, budgetMs: 3000 }, (l) =>
  console.log(`  ${l}`),
);
const numpy = numpyGflops(cases.slice(0, 1), quick ? 3 : 7);
const worst = matmulRows.reduce((w, r) => (r.ours / r.tfjs < w.ours / w.tfjs ? r : w));
record("matmul_vs_tfjs", {
  unit: "GFLOP/s",
  ours: worst.ours,
  reference: worst.tfjs,
  referenceName: "tfjs-webgpu",
  goal: { op: "≥", value: 6 },
  shape: `worst of ${cases.length} cases: ${worst.name}`,
});
record(
  "matmul_gflops",
  {
    unit: "GFLOP/s",
    ours: matmulRows[0].ours,
    reference: numpy?.[0],
    referenceName: "numpy (BLAS, best)",
    goal: { op: "≥", value: 25 },
    shape: "f32 1024³",
  },
  true,
);
if (peak) {
  record("matmul_share_of_peak", {
    unit: "GFLOP/s",
    ours: Math.max(...matmulRows.map((r) => r.ours)),
    reference: peak.gflops,
    referenceName: "measured fp32 peak",
    goal: { op: "≥", value: 0.5 },
    shape: "best matmul case",
  });
}
console.log(`  matmul done; load ${load()}`);

// Training: demo shape, LoRA q,v and full-parameter, against torch and (LoRA) tfjs.
const steps = { warmupSteps: quick ? 0 : 1, timedSteps: quick ? 1 : 2 };
const demoBatch = 8;
const demoText = `demo shape (12 × hidden ${demoSizedShape.hiddenSize}), b${demoBatch} × 128`;
const torchTrain = (shape: typeof demoSizedShape, batch: number, mode: "lora" | "full") =>
  torchNote
    ? undefined
    : torchTokensPerSecond({ task: "train", shape, batch, seq: 128, mode, modules: ["q", "v"], rank: 8, steps: quick ? 1 : 2 });
const lora = await trainCase(dawn, {
  shape: demoSizedShape,
  batch: demoBatch,
  mode: "lora",
  modules: ["q", "v"],
  tfjs: tf,
  label: "demo LoRA q,v",
  ...steps,
});
const loraTorch = torchTrain(demoSizedShape, demoBatch, "lora");
record("train_lora_vs_torch", {
  unit: "tok/s",
  ours: lora.ours,
  reference: loraTorch,
  referenceName: "torch CPU",
  goal: { op: "≥", value: 0.35 },
  shape: `LoRA r8 q,v, ${demoText}`,
});
record("train_vs_tfjs", {
  unit: "tok/s",
  ours: lora.ours,
  reference: lora.tfjs,
  referenceName: "tfjs autodiff",
  goal: { op: "≥", value: 1 },
  shape: `LoRA r8 q,v, ${demoText}`,
});
record(
  "train_memory_vs_bound",
  {
    unit: "MiB",
    ours: lora.peak / 2 ** 20,
    reference: (lora.bound ?? Number.NaN) / 2 ** 20,
    referenceName: "lower bound",
    goal: { op: "≤", value: 1.2 },
    shape: `peak GPU memory, LoRA r8 q,v, ${demoText}`,
  },
  false,
);
record(
  "train_dispatches",
  {
    unit: "launches",
    ours: lora.dispatches,
    referenceName: "—",
    goal: { op: "≤", value: 500 },
    shape: `one optimizer step, LoRA q,v, ${demoText}`,
  },
  true,
);
console.log(`  LoRA training done; load ${load()}`);
const full = await trainCase(dawn, { shape: demoSizedShape, batch: demoBatch, mode: "full", label: "demo full", ...steps });
record("train_full_vs_torch", {
  unit: "tok/s",
  ours: full.ours,
  reference: torchTrain(demoSizedShape, demoBatch, "full"),
  referenceName: "torch CPU",
  goal: { op: "≥", value: 0.3 },
  shape: `full-parameter, ${demoText}`,
});
const smolBatch = quick ? 2 : 8;
const smol = await trainCase(dawn, {
  shape: smolLM2Shape,
  batch: smolBatch,
  mode: "lora",
  modules: ["q", "v"],
  label: "SmolLM2 LoRA q,v",
  ...steps,
});
record("train_lora_smollm_vs_torch", {
  unit: "tok/s",
  ours: smol.ours,
  reference: torchTrain(smolLM2Shape, smolBatch, "lora"),
  referenceName: "torch CPU",
  goal: { op: "≥", value: 0.1 },
  shape: `LoRA r8 q,v, SmolLM2-135M shape, b${smolBatch} × 128`,
});
console.log(`  training done; load ${load()}`);

// Decode: SmolLM2 shape, batch 1, f16 weights where the adapter has them, against torch f32.
const weightDtype = gpu.hasF16 ? "f16" : "f32";
const model = uploadLlama(gpu, randomLlama(smolLM2Shape), { weightDtype });
const decodeTokens = quick ? 12 : 32;
await gpuRun(gpu, model, 1, 8, 4); // warm-up: pipelines compiled, buffers pooled
const decode = await gpuRun(gpu, model, 1, 64, decodeTokens);
const decodeLaunches = await decodeDispatches(gpu, model);
const weightBytes = model.layers.reduce((s, l) => s + Object.values(l).reduce((t, w) => t + tensorBytes(w.shape, w.dtype), 0), 0);
releaseLlama(gpu, model);
gpu.trim();
const decodeShape = `SmolLM2-135M shape, batch 1, ${weightDtype} weights, 64-token prompt, ${decodeTokens} tokens`;
record("decode_vs_torch", {
  unit: "tok/s",
  ours: decode.decode,
  reference: torchNote ? undefined : torchTokensPerSecond({ task: "decode", shape: smolLM2Shape, prompt: 64, tokens: decodeTokens }),
  referenceName: "torch CPU f32",
  goal: { op: "≥", value: 0.75 },
  shape: decodeShape,
});
record(
  "decode_dispatches",
  {
    unit: "launches",
    ours: decodeLaunches,
    referenceName: "—",
    goal: { op: "≤", value: 120 },
    shape: "one decode token, SmolLM2-135M shape",
  },
  true,
);
if (peak) {
  record("decode_share_of_bandwidth", {
    unit: "GB/s",
    ours: (decode.decode * weightBytes) / 1e9,
    reference: peak.gbPerSecond,
    referenceName: "measured copy bandwidth",
    goal: { op: "≥", value: 0.7 },
    shape: `${decodeShape}; block weights read once per token`,
  });
}
console.log(`  decode done; load ${load()}`);

// Layer analysis against one forward of the same batch.
const analysis = await analysisTimes(gpu, smolLM2Shape);
record("analysis_vs_forward", {
  unit: "ms",
  ours: analysis.last,
  reference: analysis.forward,
  referenceName: "one forward",
  goal: { op: "≤", value: 1.1 },
  shape: "SmolLM2-135M shape, 4 × 64 tokens, last token",
});
gpu.destroy();

const finalLoad = load();
const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "—" : v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 3));
const header = ["key", "ours", "reference", "ratio", "goal", "met", "shape"];
const lines = Object.entries(results).map(([key, r]) => [
  key,
  `${fmt(r.ours)} ${r.unit}`,
  r.reference === undefined ? `— (${r.referenceName})` : `${fmt(r.reference)} ${r.unit} (${r.referenceName})`,
  r.value === undefined ? "—" : fmt(r.value),
  `${r.goal.op} ${r.goal.value}`,
  r.meetsGoal === undefined ? "—" : r.meetsGoal ? "yes" : "no",
  r.shape,
]);
const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
const row = (cells: string[]) => cells.map((c, j) => c.padEnd(widths[j])).join(" | ");
console.log(
  `\n${adapter}; ${quick ? "quick" : "full"} run; load average (1, 5, 15 min) at start ${loads[0].map((x) => x.toFixed(2)).join(" ")}, at end ${finalLoad}`,
);
if (torchNote) console.log(torchNote);
console.log(row(header));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const l of lines) console.log(row(l));
if (jsonPath) {
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ adapter, quick, date: new Date().toISOString(), loadAverage: { start: loads[0], end: loads.at(-1) }, peak, results }, null, 2)}\n`,
  );
  console.log(`written ${jsonPath}`);
}
process.exit(0);
