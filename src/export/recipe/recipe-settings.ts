/**
 * What the recipe's scripts read: recipe.json and the two training configs, built from the
 * experiment through the same mappings the workbench uses (distillRequest for the distillation's
 * template, filter and sampling; effectiveTrainSettings for LoRA and the run; studyEvalModels for
 * the models a study evaluates and their labels), so that nothing is re-derived by hand here.
 */
import { referenceMentions } from "../../distill/rewrite-filter";
import type { Experiment } from "../../experiment/experiment";
import { adapterLabel, distillRequest, effectiveTrainSettings, studyEvalModels } from "../../experiment/experiment-plan";
import type { TrainRun } from "../../worker/train-jobs";
import { type LeaderboardTask, openLlmV1Suite } from "./openllm-tasks";
import { RecipeError, type YamlValue } from "./template-text";

/** Draft tokens per round of speculative decoding, as the Speculate step starts. */
export const draftTokensPerRound = 4;

export interface RecipeLayout {
  /** Hub id or path of the unpruned model. */
  base: string;
  layers: number;
  block: { start: number; count: number };
  /** The block was not measured on this model (another model's, scaled, or none chosen): analyze decides. */
  provisional: boolean;
  gpusPerNode: number;
  nodes: number;
  calibrationFile: string;
  finetuneFile: string;
  tasks: readonly LeaderboardTask[];
}

export const prunedModelDir = "models/pruned";
export const distilledFile = "data/self-distilled.jsonl";
const foldedDir = (run: TrainRun) => `models/pruned-${run}`;
export const mergedDir = "models/pruned-slerp";

/** The models the study evaluates, with the folder each is evaluated from and its results' folder. */
export function evaluatedModels(experiment: Experiment, base: string): { label: string; dir: string; path: string }[] {
  // Stand-ins for the two finished adapters: only their labels and the merge's are read here.
  const finished = { config: {}, tensors: {}, layers: 0, cancelled: false } as unknown as Parameters<typeof studyEvalModels>[1]["sft"];
  return studyEvalModels(experiment, { sft: finished, sdd: finished }, true).map((m) => {
    if (m.kind === "original") return { label: m.label, dir: "original", path: base };
    if (m.kind === "pruned") return { label: m.label, dir: "pruned", path: prunedModelDir };
    if (m.kind === "merged") return { label: m.label, dir: "pruned-slerp", path: mergedDir };
    const run = m.label === adapterLabel("sft") ? "sft" : "sdd";
    return { label: m.label, dir: `pruned-${run}`, path: foldedDir(run) };
  });
}

/** The distillation as the workbench runs it: template, filter rules and sampling from distillRequest. */
export function distillSettings(experiment: Experiment) {
  const { dataset } = experiment.distill;
  // A user's own dataset travels as a file beside the recipe; its text is not needed to plan the run.
  const request = distillRequest(experiment, { finetune: { name: dataset, text: "" } });
  return {
    template: request.template,
    rules: { kind: request.kind, mentions: [...referenceMentions] },
    sampling: { temperature: request.temperature, top_p: request.topP, max_tokens: request.maxTokens, seed: request.seed },
  };
}

export function recipeJson(experiment: Experiment, layout: RecipeLayout): Record<string, unknown> {
  const { calibration, distill, sampling } = experiment;
  const vllm = { tensor_parallel_size: layout.gpusPerNode, dtype: "bfloat16" };
  return {
    format: "prunelab.recipe",
    version: 1,
    model: { base: layout.base, layers: layout.layers, pruned: prunedModelDir },
    calibration: {
      file: layout.calibrationFile,
      samples: calibration.samples,
      maxTokens: calibration.maxTokens,
      tokens: calibration.tokens,
      chatTemplate: calibration.chatTemplate,
      batchSize: calibration.batchSize,
    },
    prune: { block: layout.block, provisional: layout.provisional },
    distill: {
      data: layout.finetuneFile,
      count: distill.count,
      ...distillSettings(experiment),
      llm: { ...vllm, seed: experiment.seeds.data },
    },
    evaluate: {
      suite: openLlmV1Suite,
      tasks: layout.tasks.map(({ task, kind, metric, key, fewShot }) => ({ task, kind, metric, key, fewShot })),
      models: evaluatedModels(experiment, layout.base),
    },
    speculate: {
      llm: { ...vllm, seed: sampling.seed, disable_log_stats: false },
      speculative_config: { method: "draft_model", num_speculative_tokens: draftTokensPerRound },
      // Prunelab's top-k 0 means "no top-k", which vLLM writes as -1.
      sampling: {
        temperature: sampling.temperature,
        top_k: sampling.topK === 0 ? -1 : sampling.topK,
        top_p: sampling.topP,
        max_tokens: sampling.maxTokens,
        seed: sampling.seed,
      },
    },
  };
}

/** Per-device batch and accumulation that make the experiment's batch over `world` GPUs, when it divides. */
export function batchLayout(batchSize: number, world: number): { perDevice: number; accumulation: number; effective: number } {
  if (batchSize % world === 0) return { perDevice: batchSize / world, accumulation: 1, effective: batchSize };
  // Fewer examples than GPUs: one each, and the README says the effective batch differs.
  return { perDevice: 1, accumulation: 1, effective: world };
}

/** TRL SFTConfig (`sft`) and PEFT LoraConfig (`lora`) arguments of one run, with the model and data it reads. */
export function trainConfig(experiment: Experiment, run: TrainRun, layout: RecipeLayout): { [key: string]: YamlValue } {
  const settings = effectiveTrainSettings({ checkpointEvery: 0, evalEvery: 0, evalItems: 1 }, experiment);
  if (settings.lora.modules.length === 0)
    throw new RecipeError(`lora.targets "${experiment.lora.targets}" names no projection LoRA can adapt`);
  const batch = batchLayout(settings.batchSize, layout.gpusPerNode * layout.nodes);
  return {
    model: prunedModelDir,
    data: run === "sft" ? layout.finetuneFile : distilledFile,
    lora: {
      r: settings.lora.rank,
      lora_alpha: settings.lora.alpha,
      lora_dropout: settings.lora.dropout,
      target_modules: settings.lora.modules.map((m) => `${m}_proj`),
      bias: "none",
      task_type: "CAUSAL_LM",
    },
    sft: {
      output_dir: `adapters/${run}`,
      // Prunelab trains a number of steps; max_steps overrides num_train_epochs in transformers.
      max_steps: settings.steps,
      num_train_epochs: experiment.lora.epochs,
      per_device_train_batch_size: batch.perDevice,
      gradient_accumulation_steps: batch.accumulation,
      learning_rate: settings.lr,
      // Prunelab's schedule (src/train/schedule.ts) with its trainDefaults: no warmup, cosine to 0.
      lr_scheduler_type: "cosine",
      warmup_steps: 0,
      weight_decay: 0,
      max_grad_norm: 1,
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
      seed: settings.seed,
      max_length: settings.maxLength,
      completion_only_loss: true,
      packing: false,
      bf16: true,
      gradient_checkpointing: true,
      logging_steps: 1,
      save_strategy: "no",
      report_to: "none",
    },
  };
}
