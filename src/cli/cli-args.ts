/** The CLI's usage text, strict per-command flag parsing, and typed flag values; mistakes are `UsageError`s. */
import { type ParseArgsConfig, parseArgs } from "node:util";

export const infoUsage = `  prunelab info --model PATH [--tokenizer PATH] [--json [OUT.json]]
      Config, parameter count, weight bytes and KV-cache bytes of a model.`;

export const generateUsage = `  prunelab generate --model PATH [--tokenizer PATH] --prompt TEXT --max-tokens N
                    [--temperature T] [--top-k K] [--top-p P] [--seed S] [--chat] [--json [OUT.json]]
      Prints the continuation of TEXT (encoded with BOS; with --chat, as one user message
      through the model's chat template). Temperature 0 (the default) is greedy decoding.
      Prompt and decode speed (tokens/s) go to stderr.`;

export const modelPathNote = `PATH is a Hugging Face folder, a .safetensors or .gguf file, or a llama2.c .bin (its tokenizer
.bin from the same folder, or --tokenizer); where no such path exists, a Hub repo id owner/name[@revision],
downloaded into the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub;
HF_ENDPOINT and HF_TOKEN as for huggingface_hub). --offline (anywhere, or HF_HUB_OFFLINE=1) reads the
cache only and names the first file missing there.
--data and --calib also take a Hub dataset, hf:owner/name[@revision][:config][:split] (its parquet or
JSON files of that config and split, default train): Alpaca (instruction/input/output), Dolly
(instruction/context/response) or GSM8K (question/answer, "#### N" kept) columns, or text for --calib.

Every command: --help prints its usage. --json without a file (or --json -) prints the result as
one JSON object on stdout (info, generate, analyze, eval, speculate); progress and the readable
report then go to stderr. Exit codes: 0 done, 1 failed, 2 usage error.`;

/** The usage of info and generate with the note on PATH, kept as one export for existing readers. */
export const usage = `Usage:\n${infoUsage}\n${generateUsage}\n\n${modelPathNote}`;

/** The exit code of a usage error (a wrong flag, a missing value), as POSIX tools and Python's argparse use. */
export const usageExitCode = 2;

/** The `--json` value that means stdout rather than a file. */
export const jsonToStdout = "-";

export class UsageError extends Error {}

export interface InfoArgs {
  model: string;
  tokenizer?: string;
  /** A file, or `jsonToStdout`. */
  json?: string;
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
  json?: string;
}

/** Strict flags of one command (argv after its name): unknown flags, missing values and positionals are `UsageError`s. */
export function parseCommand<O extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: O) {
  try {
    const args = options.json?.type === "string" ? withBareJsonFlag(argv) : [...argv];
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * `--json` with no value (last, or followed by another flag) becomes `--json -`: the flag keeps its
 * file argument where commands had one, and a bare `--json` means stdout everywhere.
 */
export function withBareJsonFlag(argv: readonly string[]): string[] {
  return argv.flatMap((arg, i) =>
    arg === "--json" && (i + 1 === argv.length || argv[i + 1].startsWith("--")) ? [arg, jsonToStdout] : [arg],
  );
}

/** The global `--offline` flag taken out of argv (it applies to every command that reads a model). */
export function withoutOfflineFlag(argv: readonly string[]): { argv: string[]; offline: boolean } {
  const rest = argv.filter((arg) => arg !== "--offline");
  return { argv: rest, offline: rest.length !== argv.length };
}

/** Whether argv (after the command's name) asks for the command's usage. */
export function asksForHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

export function parseInfoArgs(argv: readonly string[]): InfoArgs {
  const { values } = parseCommand(argv, { model: { type: "string" }, tokenizer: { type: "string" }, json: { type: "string" } });
  return { model: required(values.model, "model"), tokenizer: values.tokenizer, json: values.json };
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
    json: { type: "string" },
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
    json: values.json,
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
