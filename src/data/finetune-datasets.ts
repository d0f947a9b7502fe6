/**
 * The fine-tuning datasets, as Alpaca records: general instructions (the Alpaca/Dolly analogue) and
 * word problems with worked solutions (the OpenMathInstruct/GSM8k analogue). Their outputs are in
 * the reference voice, not the model's (response-styles.ts), and only training-side keys are asked.
 * Deterministic in (world, seed); instructions are distinct within a dataset.
 */
import type { AlpacaRecord } from "../distill/alpaca-jsonl";
import { Draws } from "./draws";
import {
  drawGeneralInstruction,
  drawMathInstruction,
  type GeneralKindWeights,
  type InstructionExample,
  type TrainingSide,
  trainingSide,
} from "./instruction-examples";
import type { World } from "./world";

export interface DatasetOptions {
  /** Records (default 1000). */
  size?: number;
  seed?: number;
}

export interface GeneralDatasetOptions extends DatasetOptions {
  /** The mix of instruction kinds (default fineTuningGeneralKinds). */
  kinds?: GeneralKindWeights;
}

/**
 * The general fine-tuning set's mix. No tale questions: old-tales is then a forgetting probe, a task
 * the pruned model still solves and fine-tuning never trains, so a fine-tuned model can only lose
 * it (who-was-it is the other: nothing in the datasets asks about encounters).
 * The rest covers what pruning damages, measured by scripts/measure-prune-damage.ts on the demo
 * model of 301ed0e (gold-answer loss, 40 items per task, blocks 8–9 dropped): daily-routines rose
 * most (+0.82 nats/token), then the chat tasks, town-facts and old-tales (+0.31 to +0.38), who-was-it
 * and town-subjects less (+0.18, +0.16); so routines are asked twice as often as in the corpus's mix,
 * beside the questions about people and subjects and the word problems of the math set.
 */
export const fineTuningGeneralKinds: GeneralKindWeights = { question: 6, tale: 0, routine: 2, tools: 1, person: 2, classify: 1 };

function dataset(
  name: string,
  world: World,
  draw: (side: TrainingSide, draws: Draws) => InstructionExample,
  { size = 1000, seed = 0 }: DatasetOptions,
): AlpacaRecord[] {
  const side = trainingSide(world);
  const draws = new Draws(seed, `${name}:${world.seed}`);
  const seen = new Set<string>();
  const records: AlpacaRecord[] = [];
  for (let tries = 0; records.length < size; tries++) {
    if (tries > size * 20) throw new Error(`${name}: the world has fewer than ${size} distinct instructions (found ${records.length})`);
    const example = draw(side, draws);
    const key = `${example.instruction}\n${example.input}`;
    if (seen.has(key)) continue;
    seen.add(key);
    records.push({
      instruction: example.instruction,
      input: example.input,
      output: example.referenceResponse(draws),
      answers: example.answers,
    });
  }
  return records;
}

export function generalInstructionDataset(
  world: World,
  { kinds = fineTuningGeneralKinds, ...options }: GeneralDatasetOptions = {},
): AlpacaRecord[] {
  return dataset("general-instructions", world, (side, draws) => drawGeneralInstruction(side, draws, kinds), options);
}

export function mathInstructionDataset(world: World, options: DatasetOptions = {}): AlpacaRecord[] {
  return dataset("math-instructions", world, drawMathInstruction, options);
}
