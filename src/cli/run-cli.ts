/**
 * The `prunelab` commands over the library: load a model from a path, report it, generate. Output
 * goes through `io` so tests can run the CLI in-process; the exit code is returned, not exited.
 * A command is a function of its own argv (after its name) in its own file; register new ones in
 * `commands` (the one table) and their usage in the help list below.
 */
import { type GenerationTiming, generate, tokensPerSecond } from "../model/generate";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFromPath } from "../model/load-model-path";
import { memoryReport } from "../prune/memory-report";
import { analyzeCommand, analyzeUsage } from "./analyze-command";
import {
  asksForHelp,
  generateUsage,
  infoUsage,
  modelPathNote,
  parseGenerateArgs,
  parseInfoArgs,
  UsageError,
  usageExitCode,
  withoutOfflineFlag,
} from "./cli-args";
import { type CliCommand, type CliIo, cliGpu, tokenizerOf } from "./command-io";
import { convertCommand, convertUsage } from "./convert-command";
import { distillCommand, distillUsage } from "./distill-command";
import { downloadProgressLine } from "./download-progress";
import { evalCommand, evalUsage } from "./eval-command";
import { foldCommand, foldUsage } from "./fold-command";
import { reportChannel, writeJsonResult } from "./json-result";
import { mergeCommand, mergeUsage } from "./merge-command";
import { paperCommand, paperUsage } from "./paper-command";
import { pruneCommand, pruneUsage } from "./prune-command";
import { recipeCommand, recipeUsage } from "./recipe-command";
import { replayCommand, replayUsage } from "./replay-command";
import { speculateCommand, speculateUsage } from "./speculate-command";
import { trainCommand, trainUsage } from "./train-command";
import { prunelabVersion } from "./version";

interface CommandEntry {
  run: CliCommand;
  usage: string;
}

/** Every command with its usage, in the order `prunelab --help` lists them. */
const commands: Record<string, CommandEntry> = {
  info: { run: infoCommand, usage: infoUsage },
  generate: { run: generateCommand, usage: generateUsage },
  analyze: { run: analyzeCommand, usage: analyzeUsage },
  prune: { run: pruneCommand, usage: pruneUsage },
  distill: { run: distillCommand, usage: distillUsage },
  eval: { run: evalCommand, usage: evalUsage },
  merge: { run: mergeCommand, usage: mergeUsage },
  speculate: { run: speculateCommand, usage: speculateUsage },
  train: { run: trainCommand, usage: trainUsage },
  paper: { run: paperCommand, usage: paperUsage },
  replay: { run: replayCommand, usage: replayUsage },
  recipe: { run: recipeCommand, usage: recipeUsage },
  convert: { run: convertCommand, usage: convertUsage },
  fold: { run: foldCommand, usage: foldUsage },
};

function fullUsage(): string {
  return `Usage:\n${Object.values(commands)
    .map((c) => c.usage)
    .join("\n")}\n  prunelab --version\n\n${modelPathNote}\n`;
}

export async function runCli(argvGiven: readonly string[], io: CliIo): Promise<number> {
  const { argv, offline } = withoutOfflineFlag(argvGiven);
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(fullUsage());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`prunelab ${prunelabVersion()}\n`);
    return 0;
  }
  if (name === undefined) {
    io.stderr(fullUsage());
    return usageExitCode;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command && asksForHelp(rest)) {
    io.stdout(`Usage:\n${command.usage}\n\n${modelPathNote}\n`);
    return 0;
  }
  try {
    if (!command) throw new UsageError(`unknown command '${name}'`);
    // HF_HUB_OFFLINE is what every model load (hub-model-source.ts) reads, as in Python's tools.
    const before = process.env.HF_HUB_OFFLINE;
    if (offline) process.env.HF_HUB_OFFLINE = "1";
    try {
      await command.run(rest, io);
    } finally {
      if (offline) {
        if (before === undefined) delete process.env.HF_HUB_OFFLINE;
        else process.env.HF_HUB_OFFLINE = before;
      }
    }
    return 0;
  } catch (e) {
    const isUsage = e instanceof UsageError;
    const hint = isUsage ? ` (see prunelab ${command ? `${name} ` : ""}--help)` : "";
    io.stderr(`prunelab: ${(e as Error).message.split("\n")[0]}${hint}\n`);
    return isUsage ? usageExitCode : 1;
  }
}

async function infoCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const args = parseInfoArgs(argv);
  const loaded = await loadModelFromPath(args.model, {
    tokenizer: args.tokenizer,
    requireTokenizer: false,
    onDownload: downloadProgressLine(io),
  });
  const { config } = loaded.weights;
  const report = memoryReport(loaded.weights);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const dtypes = [...new Set([...loaded.weights.tensors.values()].map((t) => t.dtype))];
  if (args.json !== undefined) {
    await writeJsonResult(io, args.json, {
      model: loaded.source,
      format: loaded.format,
      ...report,
      dtypes,
      tokenizer: loaded.tokenizerJson !== undefined,
      config,
    });
    if (reportChannel(io, args.json) === io.stderr) return;
  }
  io.stdout(
    [
      `model: ${loaded.source} (${loaded.format})`,
      `parameters: ${report.parameters.toLocaleString("en-US")}`,
      `weights: ${report.weightBytes.toLocaleString("en-US")} bytes (${mib(report.weightBytes)}, ${dtypes.join(", ")})`,
      `kv cache: ${report.kvBytesPerToken.toLocaleString("en-US")} bytes per token, ${mib(report.kvCacheBytes)} for ${report.contextTokens} tokens`,
      `tokenizer: ${loaded.tokenizerJson ? "yes" : "none found"}`,
      "config:",
      ...Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      "",
    ].join("\n"),
  );
}

async function generateCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const args = parseGenerateArgs(argv);
  const loaded = await loadModelFromPath(args.model, { tokenizer: args.tokenizer, onDownload: downloadProgressLine(io) });
  const tokenizer = tokenizerOf(loaded);
  const prompt = args.chat
    ? tokenizer.encodeChat([{ role: "user", content: args.prompt }], { addGenerationPrompt: true })
    : tokenizer.encode(args.prompt, { bos: true });
  const text = reportChannel(io, args.json);
  const gpu = await cliGpu();
  try {
    const model = uploadLlama(gpu, loaded.weights);
    const stopTokens = [...new Set([...tokenizer.stopTokenIds, ...(loaded.weights.config.eosTokenId ?? [])])];
    let timing: GenerationTiming | undefined;
    const [generation] = await generate(gpu, model, [prompt], {
      maxTokens: args.maxTokens,
      temperature: args.temperature,
      topK: args.topK,
      topP: args.topP,
      seed: args.seed,
      stopTokens,
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      onToken: (e) => text(e.text ?? ""),
      onTiming: (t) => (timing = t),
    });
    text("\n");
    releaseLlama(gpu, model);
    const speed = timing && tokensPerSecond(timing);
    if (speed) {
      io.stderr(
        `prompt: ${timing?.promptTokens} tokens, ${speed.prompt.toFixed(1)} tokens/s; ` +
          `decode: ${timing?.decodeTokens} tokens, ${speed.decode.toFixed(1)} tokens/s\n`,
      );
    }
    if (args.json !== undefined) {
      await writeJsonResult(io, args.json, {
        text: generation.text,
        tokens: generation.tokens,
        stopReason: generation.stopReason,
        promptTokens: prompt.length,
        ...(timing ? { timing, promptTokensPerSecond: speed?.prompt, decodeTokensPerSecond: speed?.decode } : {}),
      });
    }
  } finally {
    gpu.destroy();
  }
}
