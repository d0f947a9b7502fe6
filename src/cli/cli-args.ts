/** The CLI's usage text, strict per-command flag parsing, and typed flag values; mistakes are `UsageError`s. */
import { type ParseArgsConfig, parseArgs } from "node:util";

export const usage = `Usage:
  prunelab info --model PATH [--tokenizer PATH]
      Config, parameter count, weight bytes and KV-cache bytes of a model.
  prunelab generate --model PATH [--tokenizer PATH] --prompt TEXT --max-tokens N
                    [--temperature T] [--top-k K] [--top-p P] [--seed S] [--chat]
      Prints the continuation of TEXT (encoded with BOS; with --chat, as one user message
      through the model's chat template). Temperature 0 (the default) is greedy decoding.

PATH is a Hugging Face folder, a .safetensors or .gguf file, or a llama2.c .bin (its tokenizer
.bin from the same folder, or --tokenizer).`;

export class UsageError extends Error {}

export interface InfoArgs {
  model: string;
  tokenizer?: string;
}

export interface GenerateArgs {
  model: string;
  tokenizer?: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  chat: boolean;
}

/** Strict flags of one command (argv after its name): unknown flags, missing values and positionals are `UsageError`s. */
export function parseCommand<O extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseInfoArgs(argv: readonly string[]): InfoArgs {
  const { values } = parseCommand(argv, { model: { type: "string" }, tokenizer: { type: "string" } });
  return { model: required(values.model, "model"), tokenizer: values.tokenizer };
}

export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    prompt: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    chat: { type: "boolean" },
  });
  const optional = (name: keyof typeof values, range: NumberRange) => {
    const text = values[name];
    return typeof text === "string" ? number(name, text, range) : undefined;
  };
  return {
    model: required(values.model, "model"),
    tokenizer: values.tokenizer,
    prompt: required(values.prompt, "prompt"),
    maxTokens: number("max-tokens", required(values["max-tokens"], "max-tokens"), { integer: true, min: 1 }),
    temperature: optional("temperature", { min: 0 }) ?? 0,
    topK: optional("top-k", { integer: true, min: 1 }),
    topP: optional("top-p", { min: 0, max: 1 }),
    seed: optional("seed", { integer: true, min: 0 }) ?? 0,
    chat: values.chat ?? false,
  };
}

export function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export interface NumberRange {
  integer?: boolean;
  min?: number;
  max?: number;
}

/** The value of flag `--name`, checked against `range`. */
export function number(name: string, text: string, range: NumberRange): number {
  const v = Number(text);
  const ok =
    text.trim() !== "" &&
    Number.isFinite(v) &&
    (!range.integer || Number.isInteger(v)) &&
    v >= (range.min ?? -Infinity) &&
    v <= (range.max ?? Infinity);
  if (!ok) {
    const kind = range.integer ? "an integer" : "a number";
    const bounds = [range.min !== undefined ? `≥ ${range.min}` : "", range.max !== undefined ? `≤ ${range.max}` : ""]
      .filter(Boolean)
      .join(" and ");
    throw new UsageError(`--${name} must be ${kind}${bounds ? ` ${bounds}` : ""}, got '${text}'`);
  }
  return v;
}
