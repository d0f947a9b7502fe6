/**
 * The engine's Train job: LoRA fine-tuning of the model in use (the pruned one) on an Alpaca
 * dataset, the loss on response tokens only; each step and each checkpoint is reported, so that the
 * UI draws the curve live and can resume the run after a reload; the adapter comes back as PEFT-keyed
 * host tensors.
 */

import { instructionMessage } from "../data/pretraining-corpus";
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
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
import type { Progress } from "./protocol";
import type { PrunableModel } from "./prune-jobs";
import type { Job } from "./rpc";

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
}

export interface TrainRequest extends TrainSettings {
  run: TrainRun;
  records: AlpacaRecord[];
  /** A checkpoint of the same run and settings to continue from. */
  resume?: TrainCheckpoint;
}

export type TrainJobProgress = Progress & { run: TrainRun; report?: TrainStepReport; checkpoint?: TrainCheckpoint };

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

export async function trainJob(gpu: Gpu, ready: PrunableModel, request: TrainRequest, job: Job<TrainJobProgress>): Promise<TrainedAdapter> {
  const { run, records } = request;
  if (records.length === 0) throw new Error(`train ${run}: the dataset holds no records`);
  const maxLength = Math.min(request.maxLength, ready.model.config.maxPositionEmbeddings);
  const dataset = records.map((r) => sftExample(ready.tokenizer, r, maxLength));
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
    padId: ready.tokenizer.padTokenId ?? 0,
  };
  const progress = (done: number, extra: Partial<TrainJobProgress> = {}) =>
    job.progress({ phase: `training ${run.toUpperCase()}`, done, total: request.steps, unit: "items", run, ...extra });
  progress(request.resume?.step ?? 0);
  const result = await trainModel(gpu, ready.model, dataset, config, {
    resume: request.resume,
    signal: job.signal,
    onStep: (report) => progress(report.step, { report }),
    onCheckpoint: (checkpoint) => progress(checkpoint.step, { checkpoint }),
  });
  if (result.lora) releaseLlamaLora(gpu, result.lora);
  // A cancelled run's last state is what a resume continues from.
  if (result.cancelled) progress(result.checkpoint.step, { checkpoint: result.checkpoint });
  return {
    run,
    config: request.lora,
    tensors: result.checkpoint.parameters,
    layers: ready.model.layers.length,
    baseModel: ready.card.name,
    history: result.history,
    cancelled: result.cancelled,
  };
}
