/**
 * The demo model's card (README.md of its Hugging Face folder): how to regenerate it, the recipe,
 * the wall time, the loss curve and the benchmark scores beside each task's chance level, written
 * from the run's own records so the card cannot disagree with the model.
 */
import type { SuiteResult } from "../eval/suite-runner";
import type { TrainStepReport } from "../train/train-loop";
import type { DemoModelRecipe } from "./demo-model-recipe";

export interface DemoModelCardInput {
  recipe: DemoModelRecipe;
  command: string;
  parameters: number;
  /** Optimizer steps done: `recipe.train.steps` unless the run was stopped early. */
  stepsDone: number;
  trainingTokens: number;
  history: readonly TrainStepReport[];
  /** Wall time of the training steps (all runs of a resumed training together). */
  trainSeconds: number;
  evalSeconds: number;
  scores: SuiteResult;
  device: string;
  weightsDtype: string;
}

const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

/** Mean loss of consecutive spans of steps, at most `rows` of them. */
export function lossCurve(history: readonly TrainStepReport[], rows = 20): { steps: string; loss: number }[] {
  const span = Math.max(1, Math.ceil(history.length / rows));
  const out: { steps: string; loss: number }[] = [];
  for (let start = 0; start < history.length; start += span) {
    const part = history.slice(start, start + span).filter((r) => Number.isFinite(r.loss));
    if (part.length === 0) continue;
    const loss = part.reduce((s, r) => s + r.loss, 0) / part.length;
    out.push({ steps: `${part[0].step}–${part[part.length - 1].step}`, loss });
  }
  return out;
}

/** More than two standard errors above the task's chance level (undefined where the task states none). */
export function clearlyAboveChance(task: SuiteResult["tasks"][number]): boolean | undefined {
  return task.chance === undefined ? undefined : task.score - 2 * task.stderr > task.chance;
}

export function demoModelCard(input: DemoModelCardInput): string {
  const { recipe, scores } = input;
  const { shape, train } = recipe;
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  const skipped = input.history.filter((r) => r.skipped).length;
  const scoreRows = scores.tasks.map((t) => {
    const above = clearlyAboveChance(t);
    const aboveText = above === undefined ? "" : above ? "yes" : "no";
    return `| ${t.name} | ${t.metric} | ${percent(t.score)} ± ${percent(t.stderr)} | ${t.chance === undefined ? "–" : percent(t.chance)} | ${aboveText} | ${t.n} |`;
  });
  const batch = `batch ${train.batchSize * train.gradientAccumulation} sequences`;
  const stepsRow =
    input.stepsDone === train.steps
      ? `${train.steps} × ${batch}`
      : `${input.stepsDone} of ${train.steps} planned × ${batch}: stopped early, before the cosine schedule reached its floor`;
  const below = scores.tasks.filter((t) => clearlyAboveChance(t) === false).map((t) => t.name);
  return `---
license: mit
library_name: prunelab
tags: [llama, prunelab, demo]
---

# Prunelab demo model

A ${shape.numHiddenLayers}-block Llama (${(input.parameters / 1e6).toFixed(2)} M parameters) trained from scratch by Prunelab's
own WebGPU training loop on the generated demo world (the town of Bramblewick): its pretraining
corpus of prose, quiz sheets, chats, worked word problems and SDFT rewrite chats (the model is the
teacher that rewrites the fine-tuning data in self-data distillation). It is the workbench's
default model; it knows only this world.

## Regenerate

\`\`\`
${input.command}
\`\`\`

The script checkpoints to \`.cache/demo-train/\` and continues with \`--resume\`; \`--export-only\`
rewrites this folder from the last checkpoint. Every random choice derives from the seeds below, so
the same command on the same adapter gives the same weights (another GPU may differ in the last bits
of f32 arithmetic).

## Architecture

| | |
|---|---|
| blocks | ${shape.numHiddenLayers} |
| hidden size | ${shape.hiddenSize} |
| intermediate size | ${shape.intermediateSize} (SwiGLU) |
| attention heads / KV heads | ${shape.numAttentionHeads} / ${shape.numKeyValueHeads} (GQA), head dim ${shape.hiddenSize / shape.numAttentionHeads} |
| vocabulary | byte-level BPE fitted on the demo world (tokenizer.json) |
| context | ${shape.maxPositionEmbeddings} positions, RoPE θ = 10000 |
| embeddings | tied with the LM head |
| weights file | ${input.weightsDtype} (trained in f32) |

## Training

| | |
|---|---|
| seeds | init ${recipe.initSeed}, corpus ${recipe.corpusSeed}, data order ${train.seed} |
| data | ${(input.trainingTokens / 1e6).toFixed(2)} M tokens, packed windows of ${recipe.sequenceLength} tokens, each seen once |
| steps | ${stepsRow} |
| optimizer | AdamW, lr ${train.lr}, warmup ${train.warmupSteps} steps then cosine to ${train.minLrRatio} × lr, weight decay ${train.weightDecay}, gradient clipping at ${train.maxGradNorm} |
| skipped steps | ${skipped} |
| wall time | training ${minutes(input.trainSeconds)}, evaluation ${minutes(input.evalSeconds)} |
| hardware | ${input.device} |

### Loss (mean training cross-entropy, nats per token)

| steps | loss |
|---|---|
${lossCurve(input.history)
  .map((r) => `| ${r.steps} | ${r.loss.toFixed(3)} |`)
  .join("\n")}

## Benchmark scores

The demo suite (src/data/benchmark-suite.ts), the first ${recipe.evalItems} held-out items of each task,
few-shot as the workbench runs it; ± is the standard error. "Above chance" means more than two
standard errors above the chance level. Exact numbers are in \`scores.json\`.

| task | metric | score | chance | above chance | items |
|---|---|---|---|---|---|
${scoreRows.join("\n")}

Average: ${percent(scores.average)}.${below.length ? ` Not clearly above chance: ${below.join(", ")}.` : ""}
`;
}
