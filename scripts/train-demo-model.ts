/**
 * Trains the bundled demo model from scratch (src/data/demo-model-recipe.ts) with the project's own
 * WebGPU training loop, then writes its Hugging Face folder: model.safetensors (f16), config.json,
 * generation_config.json, the tokenizer files, scores.json and the README.md model card with the
 * benchmark scores of the exported weights.
 *
 *   npm run train:demo [-- --resume] [-- --stop-at STEP] [-- --export-only] [-- --out DIR]
 *                      [-- --work DIR] [-- --smoke] [-- --steps N] [-- --no-export]
 *
 * --resume continues from WORK/checkpoint.safetensors (written every `checkpointEvery` steps);
 * --stop-at ends this run after that step with a checkpoint (the training spans several runs);
 * --export-only writes the folder from that checkpoint without training (a stopped run's too: its
 * card says where it stopped); --smoke runs the tiny
 * recipe CI uses; --steps overrides the step count (with --no-export: a throughput measurement).
 */
// Before anything that imports webgpu-utils (it reads Float16Array and the GPU globals on import).
import "../src/gpu/node-globals";
import { copyFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildBenchmarkSuite } from "../src/data/benchmark-suite";
import { demoModelCard } from "../src/data/demo-model-card";
import {
  type DemoModelRecipe,
  demoModelConfig,
  demoModelRecipe,
  initialDemoWeights,
  packedTrainingData,
  smokeRecipe,
} from "../src/data/demo-model-recipe";
import { buildWorld, demoWorldSeed } from "../src/data/world";
import { evaluateSuite } from "../src/eval/suite-runner";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { toHfConfig } from "../src/model/config";
import { castHostTensor, type HostTensor, numel } from "../src/model/host-tensor";
import { releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { loadModelFromPath } from "../src/model/load-model-path";
import { writeSafetensors } from "../src/model/safetensors";
import { loadTokenizer, Tokenizer } from "../src/model/tokenizer";
import { decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint-file";
import { type TrainCheckpoint, trainModel } from "../src/train/train-loop";

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: "public/models/demo" },
    work: { type: "string", default: ".cache/demo-train" },
    tokenizer: { type: "string", default: "public/models/demo" },
    resume: { type: "boolean", default: false },
    "export-only": { type: "boolean", default: false },
    "no-export": { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    steps: { type: "string" },
    "stop-at": { type: "string" },
  },
});

const base = args.smoke ? smokeRecipe : demoModelRecipe;
const steps = args.steps === undefined ? base.train.steps : Number(args.steps);
if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`train-demo-model: --steps must be an integer ≥ 1, got ${args.steps}`);
const recipe: DemoModelRecipe = { ...base, train: { ...base.train, steps } };
const stopAt = args["stop-at"] === undefined ? steps : Number(args["stop-at"]);
if (!(Number.isInteger(stopAt) && stopAt >= 1))
  throw new Error(`train-demo-model: --stop-at must be an integer ≥ 1, got ${args["stop-at"]}`);
const recipeFlags = [...(args.smoke ? ["--smoke"] : []), ...(args.steps ? ["--steps", args.steps] : [])];
const commandWith = (...extra: string[]) =>
  ["npm run train:demo", ...(recipeFlags.length + extra.length ? ["--"] : []), ...recipeFlags, ...extra].join(" ");
const checkpointPath = join(args.work, "checkpoint.safetensors");

const tokenizerDir = resolve(args.tokenizer);
const tokenizer = await loadTokenizer(tokenizerDir, (name) => readFile(join(tokenizerDir, name), "utf8").catch(() => null));
const tokenId = (what: string, id: number | undefined) => {
  if (id === undefined) throw new Error(`train-demo-model: the tokenizer in ${tokenizerDir} has no ${what} token`);
  return id;
};
const config = demoModelConfig(recipe, {
  vocabSize: tokenizer.vocabSize,
  bos: tokenId("BOS", tokenizer.bosTokenId),
  eos: tokenId("EOS", tokenizer.eosTokenId),
});
const world = buildWorld(demoWorldSeed);
const gpu = await acquireGpu(nodeGpu());
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function saveCheckpoint(checkpoint: TrainCheckpoint): Promise<void> {
  await mkdir(args.work, { recursive: true });
  // Written aside then renamed: a run killed mid-write leaves the previous checkpoint intact.
  await writeFile(`${checkpointPath}.partial`, encodeCheckpoint(checkpoint));
  await rename(`${checkpointPath}.partial`, checkpointPath);
  log(`checkpoint at step ${checkpoint.step} → ${checkpointPath}`);
}

async function loadCheckpoint(): Promise<TrainCheckpoint> {
  const bytes = await readFile(checkpointPath).catch(() => {
    throw new Error(`train-demo-model: no checkpoint at ${checkpointPath} to resume or export from`);
  });
  return decodeCheckpoint(bytes, checkpointPath);
}

async function train(): Promise<{ checkpoint: TrainCheckpoint; finished: boolean }> {
  let started = performance.now();
  const data = packedTrainingData(world, (text) => tokenizer.encode(text, { bos: false }), recipe);
  log(
    `${data.length} windows of ${recipe.sequenceLength} tokens (${((data.length * recipe.sequenceLength) / 1e6).toFixed(2)} M) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const resume = args.resume ? await loadCheckpoint() : undefined;
  if (resume) log(`resuming at step ${resume.step} of ${recipe.train.steps}`);
  const model = uploadLlama(gpu, initialDemoWeights(config, recipe.initSeed), { weightDtype: "f32" });
  started = performance.now();
  const stop = new AbortController();
  const result = await trainModel(gpu, model, data, recipe.train, {
    resume,
    signal: stop.signal,
    onStep: (r) => {
      if (r.step >= stopAt) stop.abort();
      const rate = (r.tokens / r.elapsedMs) * 1000;
      log(
        `step ${r.step}/${recipe.train.steps} loss ${r.loss.toFixed(4)} grad-norm ${r.gradNorm.toFixed(3)} lr ${r.lr.toExponential(2)} ${rate.toFixed(0)} tok/s${r.skipped ? ` skipped: ${r.skipped}` : ""}`,
      );
    },
    onCheckpoint: saveCheckpoint,
  });
  releaseLlama(gpu, model);
  log(`trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (!args["no-export"]) await saveCheckpoint(result.checkpoint);
  const finished = result.checkpoint.step === recipe.train.steps;
  if (!finished) log(`stopped at step ${result.checkpoint.step} of ${recipe.train.steps}; continue with --resume`);
  return { checkpoint: result.checkpoint, finished };
}

/** The folder from a checkpoint of this recipe; a stopped run's card says where it stopped and how to make the same one. */
async function exportFolder(checkpoint: TrainCheckpoint): Promise<void> {
  const out = args.out;
  await mkdir(out, { recursive: true });
  // f16 halves the committed file; the scores below are measured on these rounded weights.
  const tensors = new Map<string, HostTensor>(Object.entries(checkpoint.parameters).map(([name, t]) => [name, castHostTensor(t, "f16")]));
  await writeFile(join(out, "model.safetensors"), writeSafetensors(tensors, { format: "pt" }));
  await writeFile(join(out, "config.json"), `${JSON.stringify({ ...toHfConfig(config), torch_dtype: "float16" }, null, 2)}\n`);
  const generationConfig = { bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId, max_length: config.maxPositionEmbeddings };
  await writeFile(join(out, "generation_config.json"), `${JSON.stringify(generationConfig, null, 2)}\n`);
  if (resolve(out) !== tokenizerDir) {
    for (const name of ["tokenizer.json", "tokenizer_config.json"]) await copyFile(join(tokenizerDir, name), join(out, name));
  }

  log("evaluating the exported model");
  const started = performance.now();
  const loaded = await loadModelFromPath(out);
  const model = uploadLlama(gpu, loaded.weights);
  const evalTokenizer = new Tokenizer(
    { tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig, generationConfig: loaded.generationConfig },
    out,
  );
  const suite = buildBenchmarkSuite(world);
  const scores = await evaluateSuite(gpu, model, evalTokenizer, suite, {
    limit: recipe.evalItems,
    keepItems: true,
    onProgress: (p) => process.stderr.write(`\r${p.task}: ${p.done}/${p.total} items   `),
  });
  process.stderr.write("\n");
  releaseLlama(gpu, model);
  const evalSeconds = (performance.now() - started) / 1000;
  // The first items of a few tasks, scored again by the test that checks the committed model.
  const quickScores = Object.fromEntries(
    recipe.quickCheck.tasks.map((name) => {
      const task = scores.tasks.find((t) => t.name === name);
      if (!task?.items) throw new Error(`train-demo-model: quick-check task ${name} is not in the suite`);
      const items = task.items.slice(0, recipe.quickCheck.items);
      const correct = items.filter((o) => (task.metric === "acc_norm" ? "correctNorm" in o && o.correctNorm : o.correct)).length;
      return [name, correct / items.length];
    }),
  );
  for (const t of scores.tasks) {
    log(
      `${t.name}: ${t.metric} ${(100 * t.score).toFixed(1)} % (chance ${t.chance === undefined ? "–" : (100 * t.chance).toFixed(1)} %, n ${t.n})`,
    );
    delete t.items;
  }
  const { config: trained, step } = checkpoint;
  const trainingTokens = step * trained.batchSize * trained.gradientAccumulation * recipe.sequenceLength;
  const command = step === trained.steps ? commandWith() : `${commandWith("--stop-at", String(step))} && ${commandWith("--export-only")}`;
  const trainSeconds = checkpoint.history.reduce((s, r) => s + r.elapsedMs, 0) / 1000;
  const parameters = Object.values(checkpoint.parameters).reduce((s, t) => s + numel(t.shape), 0);
  const device = `${gpu.info.description || gpu.info.device || gpu.info.vendor} (WebGPU through Dawn on a CPU Vulkan driver), ${cpus().length} CPU cores shared with other jobs`;
  const record = {
    command,
    recipe,
    parameters,
    trainingTokens,
    trainSeconds,
    evalSeconds,
    device,
    scores,
    quickCheck: { ...recipe.quickCheck, scores: quickScores },
    loss: checkpoint.history.map((r) => r.loss),
  };
  await writeFile(join(out, "scores.json"), `${JSON.stringify(record, null, 2)}\n`);
  const card = demoModelCard({ ...record, stepsDone: step, history: checkpoint.history, weightsDtype: "f16" });
  await writeFile(join(out, "README.md"), card);
  log(`wrote ${out}: average ${(100 * scores.average).toFixed(1)} %`);
}

try {
  if (args["export-only"]) {
    const checkpoint = await loadCheckpoint();
    if (JSON.stringify(checkpoint.config) !== JSON.stringify(recipe.train)) {
      throw new Error(`train-demo-model: ${checkpointPath} is not a run of this recipe (its config differs)`);
    }
    await exportFolder(checkpoint);
  } else {
    const { checkpoint, finished } = await train();
    if (finished && !args["no-export"]) await exportFolder(checkpoint);
  }
} finally {
  gpu.destroy();
}
