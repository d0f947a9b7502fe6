/**
 * The teacher check (src/distill/teacher-check.ts) of a demo model on the first N records of each
 * fine-tuning dataset: its pass rate before fallback, what the filter rejected, and the NLL of the
 * references beside the SDD data. The model is a folder, or a training checkpoint read with the
 * folder's config and tokenizer (its weights rounded to f16, as the export writes them). Prints one
 * JSON line per dataset.
 *
 *   node --import ./bin/register.mjs scripts/check-demo-teacher.ts [--model DIR] [--checkpoint FILE] [--examples 24]
 */
import "../src/gpu/node-globals";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { generalInstructionDataset, mathInstructionDataset } from "../src/data/finetune-datasets";
import { buildWorld, demoWorldSeed } from "../src/data/world";
import { checkTeacher } from "../src/distill/teacher-check";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { castHostTensor } from "../src/model/host-tensor";
import { releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { loadModelFromPath } from "../src/model/load-model-path";
import { Tokenizer } from "../src/model/tokenizer";
import { decodeCheckpoint } from "../src/train/checkpoint-file";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "public/models/demo" },
    checkpoint: { type: "string" },
    examples: { type: "string", default: "24" },
    "max-tokens": { type: "string", default: "64" },
  },
});
const n = Number(args.examples);
const folder = resolve(args.model);
const loaded = await loadModelFromPath(folder);
const tokenizer = new Tokenizer(
  { tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig, generationConfig: loaded.generationConfig },
  folder,
);
let weights = loaded.weights;
if (args.checkpoint) {
  const checkpoint = decodeCheckpoint(await readFile(args.checkpoint), args.checkpoint);
  const tensors = new Map(Object.entries(checkpoint.parameters).map(([name, t]) => [name, castHostTensor(t, "f16")]));
  weights = { config: loaded.weights.config, tensors };
}
const gpu = await acquireGpu(nodeGpu());
const model = uploadLlama(gpu, weights);
const world = buildWorld(demoWorldSeed);
for (const kind of ["general", "math"] as const) {
  const records = kind === "general" ? generalInstructionDataset(world, { size: n }) : mathInstructionDataset(world, { size: n });
  const check = await checkTeacher(gpu, model, tokenizer, records, { kind, seed: 0, batchSize: n, maxTokens: Number(args["max-tokens"]) });
  console.log(JSON.stringify({ model: args.checkpoint ?? args.model, ...check }));
}
releaseLlama(gpu, model);
gpu.destroy();
