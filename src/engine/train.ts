/**
 * The engine's Train job: LoRA fine-tuning of the model in use (the pruned one) on an Alpaca
 * dataset, the loss on response tokens only; each step, each checkpoint and each quick evaluation
 * is reported, so that the UI draws the curves live and can resume the run after a reload; the
 * adapter comes back as PEFT-keyed host tensors.
 */

import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { instructionMessage } from "../data/pretraining-corpus";
import { buildWorld, demoWorldSeed } from "../data/world";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import type { QuickEvalPoint } from "../eval/eval-curve";
import { quickEvaluation } from "../eval/quick-eval";
import type { Gpu } from "../gpu/context";
import type { Tokenizer } from "../model/tokenizer";
import type { LoraTensors } from "../train/fold-lora";
import { type LoraConfig, releaseLlamaLora } from "../train/llama-lora";
import {
  type TrainCheckpoint,
  type TrainConfig,
  type TrainExample,
  type TrainStepReport,
  trainDefaults,
  trainModel,
} from "../train/train-loop";
import type { Job, Progress } from "./job";
import type { ModelState } from "./model-state";

/** SFT trains on the original responses, SDD on the self-distilled ones. */
export type TrainRun = "sft" | "sdd";

export interface TrainSettings {
  lora: LoraConfig;
  lr: number;
  steps: number;
  batchSize: number;
  seed: number;
  maxLength: number;
  /** Steps between checkpoints (0: only the final state). */
  checkpointEvery: number;
  /** Steps between quick evaluations of the adapter on the demo suite (the last step is always one); 0 = off. */
  evalEvery: number;
  /** Items per task of a quick evaluation (the first ones). */
  evalItems: number;
}

export interface TrainRequest extends TrainSettings {
  run: TrainRun;
  records: AlpacaRecord[];
  /** A checkpoint of the same run and settings to continue from. */
  resume?: TrainCheckpoint;
}

export type TrainJobProgress = Progress & {
  run: TrainRun;
  report?: TrainStepReport;
  checkpoint?: TrainCheckpoint;
  quickEval?: QuickEvalPoint;
};

export interface TrainedAdapter {
  run: TrainRun;
  config: LoraConfig;
  /** PEFT-keyed A and B matrices. */
  tensors: LoraTensors;
  /** Blocks of the model it was trained on. */
  layers: number;
  baseModel: string;
  history: TrainStepReport[];
  cancelled: boolean;
}

/** Plain layout for models without a chat template, as the SDFT prompts use. */
const plainHeader = (message: string) => `### Instruction:\n${message}\n\n### Response:\n`;

/**
 * One record as a training sequence: the user's turn (the chat template's, or the plain layout) then
 * the response and end-of-sequence token; only the response and that token count in the loss.
 */
export function sftExample(
  tokenizer: Pick<Tokenizer, "encode" | "encodeChat" | "chatTemplate" | "addBosByDefault" | "eosTokenId">,
  record: AlpacaRecord,
  maxLength: number,
): TrainExample {
  const message = instructionMessage(record.instruction, record.input);
  let prompt: number[];
  let full: number[];
  if (tokenizer.chatTemplate !== undefined) {
    prompt = tokenizer.encodeChat([{ role: "user", content: message }], { addGenerationPrompt: true });
    full = tokenizer.encodeChat([
      { role: "user", content: message },
      { role: "assistant", content: record.output },
    ]);
    if (prompt.some((id, i) => full[i] !== id)) {
      throw new Error("train: the chat template renders the user's turn differently with and without the answer");
    }
  } else {
    prompt = tokenizer.encode(plainHeader(message), { bos: tokenizer.addBosByDefault });
    const eos = tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId];
    full = [...prompt, ...tokenizer.encode(record.output, { bos: false }), ...eos];
  }
  const tokens = full.slice(0, maxLength);
  return { tokens, lossMask: tokens.map((_, i) => (i >= prompt.length ? 1 : 0)) };
}

export async function trainJob(gpu: Gpu, state: ModelState, request: TrainRequest, job: Job<TrainJobProgress>): Promise<TrainedAdapter> {
  const { run, records } = request;
  if (records.length === 0) throw new Error(`train ${run}: the dataset holds no records`);
  const maxLength = Math.min(request.maxLength, state.model.config.maxPositionEmbeddings);
  const dataset = records.map((r) => sftExample(state.tokenizer, r, maxLength));
  const config: TrainConfig = {
    ...trainDefaults,
    mode: "lora",
    lora: request.lora,
    lr: request.lr,
    steps: request.steps,
    batchSize: request.batchSize,
    seed: request.seed,
    maxLength,
    checkpointEvery: request.checkpointEvery,
    padId: state.tokenizer.padTokenId ?? 0,
  };
  const progress = (done: number, extra: Partial<TrainJobProgress> = {}) =>
    job.progress({ phase: `training ${run.toUpperCase()}`, done, total: request.steps, unit: "items", run, ...extra });
  progress(request.resume?.step ?? 0);
  // The demo world's suite at its default few-shot, as the Evaluate step scores it.
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed));
  const evaluate = quickEvaluation(
    gpu,
    state.weights,
    request.lora,
    state.tokenizer,
    suite,
    { every: request.evalEvery, items: request.evalItems },
    (quickEval) => progress(quickEval.step, { quickEval }),
    {
      signal: job.signal,
      onProgress: (p) =>
        job.progress({ phase: `quick evaluation of ${run.toUpperCase()}: ${p.task}`, done: p.done, total: p.total, unit: "items", run }),
    },
  );
  const result = await trainModel(gpu, state.model, dataset, config, {
    resume: request.resume,
    signal: job.signal,
    onStep: (report) => progress(report.step, { report }),
    onCheckpoint: (checkpoint) => progress(checkpoint.step, { checkpoint }),
    evaluate,
  });
  if (result.lora) releaseLlamaLora(gpu, result.lora);
  // A cancelled run's last state is what a resume continues from.
  if (result.cancelled) progress(result.checkpoint.step, { checkpoint: result.checkpoint });
  return {
    run,
    config: request.lora,
    tensors: result.checkpoint.parameters,
    layers: state.model.layers.length,
    baseModel: state.card.name,
    history: result.history,
    cancelled: result.cancelled,
  };
}
