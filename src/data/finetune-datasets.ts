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

export function generalInstructionDataset(world: World, options: DatasetOptions = {}): AlpacaRecord[] {
  return dataset("general-instructions", world, drawGeneralInstruction, options);
}

export function mathInstructionDataset(world: World, options: DatasetOptions = {}): AlpacaRecord[] {
  return dataset("math-instructions", world, drawMathInstruction, options);
}
