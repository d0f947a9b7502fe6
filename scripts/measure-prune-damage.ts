/**
 * Which procedures a prune damages: per-task loss (src/eval/task-gold-nll.ts) of a model folder
 * with no blocks dropped and with blocks dropped from `--start`, on the plain and chat suites' first
 * items. The fine-tuning sets should cover the tasks whose loss a prune raises most. Prints Markdown.
 *
 *   node --import ./bin/register.mjs scripts/measure-prune-damage.ts [--model DIR] [--start 8] [--blocks 2,4] [--items 40]
 */
import "../src/gpu/node-globals";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildBenchmarkSuite } from "../src/data/benchmark-suite";
import { buildChatSuite } from "../src/data/chat-suite";
import { buildWorld, demoWorldSeed } from "../src/data/world";
import { taskGoldNll } from "../src/eval/task-gold-nll";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { loadModelFromPath } from "../src/model/load-model-path";
import { Tokenizer } from "../src/model/tokenizer";
import { dropBlocks } from "../src/prune/drop-blocks";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "public/models/demo" },
    start: { type: "string", default: "8" },
    blocks: { type: "string", default: "2,4" },
    items: { type: "string", default: "40" },
  },
});
const folder = resolve(args.model);
const loaded = await loadModelFromPath(folder);
const tokenizer = new Tokenizer(
  { tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig, generationConfig: loaded.generationConfig },
  folder,
);
const world = buildWorld(demoWorldSeed);
const tasks = [...buildBenchmarkSuite(world).tasks, ...buildChatSuite(world).tasks];
const gpu = await acquireGpu(nodeGpu());
const model = uploadLlama(gpu, loaded.weights);
const start = Number(args.start);
const variants = [0, ...args.blocks.split(",").map(Number)];
const nll: number[][] = [];
for (const n of variants) {
  const pruned = n === 0 ? model : dropBlocks(model, start, n);
  const row: number[] = [];
  for (const task of tasks) row.push((await taskGoldNll(gpu, pruned, tokenizer, task, { limit: Number(args.items) })).perToken);
  nll.push(row);
  console.error(`dropped ${n}: ${row.map((x) => x.toFixed(3)).join(" ")}`);
}
releaseLlama(gpu, model);
const head = variants.map((n) => (n === 0 ? "original" : `drop ${n} (${start}…${start + n - 1})`));
console.log(
  `| task | ${head.join(" | ")} | ${variants
    .slice(1)
    .map((n) => `Δ drop ${n}`)
    .join(" | ")} |`,
);
console.log(
  `|---|${variants.map(() => "---").join("|")}|${variants
    .slice(1)
    .map(() => "---")
    .join("|")}|`,
);
tasks.forEach((t, i) => {
  const cells = nll.map((r) => r[i].toFixed(3));
  const deltas = nll.slice(1).map((r) => `+${(r[i] - nll[0][i]).toFixed(3)}`);
  console.log(`| ${t.name} | ${cells.join(" | ")} | ${deltas.join(" | ")} |`);
});
gpu.destroy();
