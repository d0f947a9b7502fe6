/**
 * `prunelab recipe` and the Export step's "Download cluster recipe": an experiment as a folder that
 * runs the same study on a GPU cluster with transformers, peft, trl, accelerate, datasets, vLLM,
 * lm-evaluation-harness and mergekit. A pure function of the manifest and the target model's shape,
 * returning the files, so the CLI writes them to disk and the browser zips or saves them alike.
 */
import { demoCalibrationRecords } from "../../data/demo-calibration";
import { toAlpacaJsonl } from "../../distill/alpaca-jsonl";
import { demoCalibrationSet, distillRequest, effectiveTrainSettings } from "../../experiment/experiment-plan";
import { type Manifest, manifestToJson } from "../../experiment/manifest";
import type { LlamaConfig } from "../../model/config";
import { checkBlockRange, configWithoutBlocks } from "../../prune/accounting";
import { mergekitSliceYaml } from "../../prune/mergekit-slice";
import { datasetRecords } from "../../worker/distill-jobs";
import { mergekitSlerpYaml } from "../mergekit-slerp";
import { estimateSteps, type StepEstimate } from "./estimates";
import { openLlmV1Tasks } from "./openllm-tasks";
import { recipeReadme } from "./recipe-readme";
import { batchLayout, evaluatedModels, prunedModelDir, type RecipeLayout, recipeJson, trainConfig } from "./recipe-settings";
import { recipeScripts, recipeTemplates } from "./recipe-templates";
import { fillPlaceholders, RecipeError, setYamlValues, toYaml } from "./template-text";

export interface RecipeFile {
  path: string;
  text: string;
}

export interface RecipeInput {
  manifest: Manifest;
  /** What the scripts load as the unpruned model: a Hub id, or a path relative to the recipe. */
  model: string;
  /** Its shape (a known Hub config, or the manifest model's config.json). */
  config: LlamaConfig;
  /** Blocks of the model the experiment ran on: its block carries over as is only to a model of as many. */
  sourceLayers: number;
  gpusPerNode: number;
  nodes: number;
  /** For the README: how the model gets to `model` when it is a path. */
  modelNote?: string;
  appVersion: string;
}

/** The paper's share of blocks dropped (6 of Llama-3.1-8B's 32), for an experiment that chose none. */
const paperShare = 6 / 32;

/** The experiment's block on the target model: as is on a model of the same depth, else scaled and provisional. */
export function carryBlock(prune: { start: number; count: number }, sourceLayers: number, layers: number) {
  if (prune.count > 0 && sourceLayers === layers) {
    checkBlockRange(layers, prune.start, prune.count);
    return { start: prune.start, count: prune.count, provisional: false };
  }
  const scale = layers / sourceLayers;
  const count = Math.min(layers - 1, Math.max(1, Math.round(prune.count > 0 ? prune.count * scale : layers * paperShare)));
  // With no block chosen, the deepest run short of the last block: where the paper and Gromov et al. find the most redundancy.
  const start = prune.count > 0 ? Math.min(Math.round(prune.start * scale), layers - count) : Math.max(0, layers - count - 1);
  return { start, count, provisional: true };
}

function checkInput(input: RecipeInput): void {
  for (const [name, value] of [
    ["gpus", input.gpusPerNode],
    ["nodes", input.nodes],
    ["sourceLayers", input.sourceLayers],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 1)) throw new RecipeError(`recipe: ${name} must be an integer ≥ 1, got ${value}`);
  }
  if (input.model.trim() === "") throw new RecipeError("recipe: the model (a Hub id or a path) is empty");
  if (input.model === prunedModelDir)
    throw new RecipeError(`recipe: the model may not be at ${prunedModelDir}, where the pruned one is written`);
}

const jsonFile = (path: string, value: unknown): RecipeFile => ({ path, text: `${JSON.stringify(value, null, 2)}\n` });

/** The data files the recipe can carry: the demo world's sets; a user's own are named, to be put beside it. */
function dataFiles(manifest: Manifest): { files: RecipeFile[]; calibrationFile: string; finetuneFile: string } {
  const { experiment } = manifest;
  const files: RecipeFile[] = [];
  const jsonlName = (name: string) => `data/${name.replace(/[^\w.-]+/g, "_").replace(/(\.jsonl)?$/, ".jsonl")}`;
  let calibrationFile = jsonlName(experiment.calibration.dataset);
  if (experiment.calibration.dataset === demoCalibrationSet) {
    calibrationFile = "data/calibration.jsonl";
    const records = demoCalibrationRecords(experiment.calibration.samples);
    files.push({ path: calibrationFile, text: records.map((r) => `${JSON.stringify({ text: r.prompt })}\n`).join("") });
  }
  const finetuneFile = jsonlName(experiment.distill.dataset);
  const { source } = distillRequest(experiment, { finetune: { name: experiment.distill.dataset, text: "" } });
  if (source.kind === "demo") files.push({ path: finetuneFile, text: toAlpacaJsonl(datasetRecords(source)) });
  return { files, calibrationFile, finetuneFile };
}

function lmEvalScript(layout: RecipeLayout): string {
  const usage = "usage: eval/run_lm_eval.sh MODEL_PATH RESULTS_DIR";
  const modelArgs = `pretrained=$model,tensor_parallel_size=${layout.gpusPerNode},dtype=bfloat16,gpu_memory_utilization=0.8`;
  return [
    "#!/usr/bin/env bash",
    "# lm-evaluation-harness (vLLM backend) on the OpenLLM Leaderboard v1 tasks with the paper's shot counts, one model.",
    `#   ${usage.slice("usage: ".length)}`,
    "set -euo pipefail",
    `model=\${1:?${usage}}`,
    `out=\${2:?${usage}}`,
    ...layout.tasks.map(
      (t) =>
        `lm_eval --model vllm --model_args "${modelArgs}" --tasks ${t.task} --num_fewshot ${t.fewShot} --batch_size auto --seed 1234 --output_path "$out/${t.task}"`,
    ),
    "",
  ].join("\n");
}

/** The Slurm time limit of one training run: twice its estimated wall time, at least an hour. */
function slurmHours(estimates: readonly StepEstimate[], world: number): number {
  const train = estimates.find((e) => e.step === "train SDD");
  return Math.max(1, Math.ceil((2 * (train?.gpuHours ?? 0)) / world));
}

export function buildRecipe(input: RecipeInput): RecipeFile[] {
  checkInput(input);
  const { manifest, config, gpusPerNode, nodes } = input;
  const { experiment } = manifest;
  const layers = config.numHiddenLayers;
  const { provisional, ...block } = carryBlock(experiment.prune, input.sourceLayers, layers);
  const data = dataFiles(manifest);
  const layout: RecipeLayout = {
    base: input.model,
    layers,
    block,
    provisional,
    gpusPerNode,
    nodes,
    calibrationFile: data.calibrationFile,
    finetuneFile: data.finetuneFile,
    tasks: openLlmV1Tasks,
  };
  const world = gpusPerNode * nodes;
  const prunedLayers = configWithoutBlocks(config, block.start, block.count).numHiddenLayers;
  const accelerate = { num_machines: nodes, num_processes: world };
  const modules = effectiveTrainSettings({ checkpointEvery: 0, evalEvery: 0, evalItems: 1 }, experiment).lora.modules;
  const estimates = estimateSteps(
    {
      config,
      block,
      experiment,
      gpusPerNode,
      nodes,
      examples: experiment.distill.count,
      tasks: layout.tasks,
      evaluatedModels: evaluatedModels(experiment, input.model).length,
    },
    modules,
  );
  const files: RecipeFile[] = [
    {
      path: "README.md",
      text: recipeReadme({
        experiment,
        layout,
        config,
        estimates,
        modelNote: input.modelNote,
        appVersion: input.appVersion,
        effectiveBatch: batchLayout(experiment.lora.batchSize, world).effective,
      }),
    },
    { path: "requirements.txt", text: recipeTemplates.requirements },
    { path: "manifest.json", text: manifestToJson(manifest) },
    jsonFile("recipe.json", recipeJson(experiment, layout)),
    ...Object.entries(recipeScripts).map(([path, text]) => ({ path, text })),
    { path: "prune/slice.yaml", text: mergekitSliceYaml(input.model, layers, block.start, block.count) },
    { path: "train/sft.yaml", text: toYaml(trainConfig(experiment, "sft", layout)) },
    { path: "train/sdd.yaml", text: toYaml(trainConfig(experiment, "sdd", layout)) },
    { path: "accelerate/fsdp.yaml", text: setYamlValues(recipeTemplates.fsdpYaml, "accelerate-fsdp.yaml", accelerate) },
    {
      path: "accelerate/deepspeed_zero3.yaml",
      text: setYamlValues(recipeTemplates.deepspeedYaml, "accelerate-deepspeed-zero3.yaml", accelerate),
    },
    {
      path: "slurm/train.sbatch",
      text: fillPlaceholders(recipeTemplates.sbatch, "train.sbatch", {
        nodes,
        gpus: gpusPerNode,
        cpus: 8 * gpusPerNode,
        time: `${slurmHours(estimates, world)}:00:00`,
      }),
    },
    { path: "eval/run_lm_eval.sh", text: lmEvalScript(layout) },
    {
      path: "merge/slerp.yaml",
      text: mergekitSlerpYaml({ modelA: "models/pruned-sft", modelB: "models/pruned-sdd", layers: prunedLayers, t: experiment.merge.t }),
    },
    ...data.files,
  ];
  return files;
}
