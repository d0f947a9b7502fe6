/**
 * The `prunelab` commands over the library: load a model from a path, report it, generate. Output
 * goes through `io` so tests can run the CLI in-process; the exit code is returned, not exited.
 * A command is a function of its own argv (after its name); register new ones in `commands`.
 */
import type { Gpu } from "../gpu/context";
import { acquireGpu, noWebGpuHelp } from "../gpu/device";
import { nodeGpu } from "../gpu/node-gpu";
import { generate } from "../model/generate";
import { releaseLlama, uploadLlama } from "../model/llama-gpu";
import type { LoadedModel } from "../model/load-model-files";
import { loadModelFromPath } from "../model/load-model-path";
import { memoryReport } from "../model/memory-report";
import { Tokenizer } from "../model/tokenizer";
import { analyzeCommand, analyzeUsage } from "./analyze-command";
import { parseGenerateArgs, parseInfoArgs, UsageError, usage } from "./cli-args";
import { distillCommand, distillUsage } from "./distill-command";
import { evalCommand, evalUsage } from "./eval-command";
import { mergeCommand, mergeUsage } from "./merge-command";
import { paperCommand, paperUsage } from "./paper-command";
import { pruneCommand, pruneUsage } from "./prune-command";
import { recipeCommand, recipeUsage } from "./recipe-command";
import { replayCommand, replayUsage } from "./replay-command";
import { speculateCommand, speculateUsage } from "./speculate-command";
import { trainCommand, trainUsage } from "./train-command";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<void>;

const commands: Record<string, CliCommand> = {
  info: infoCommand,
  generate: generateCommand,
  analyze: analyzeCommand,
  prune: pruneCommand,
  distill: distillCommand,
  eval: evalCommand,
  merge: mergeCommand,
  speculate: speculateCommand,
  train: trainCommand,
  paper: paperCommand,
  replay: replayCommand,
  recipe: recipeCommand,
};

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(
      `${[usage, analyzeUsage, pruneUsage, distillUsage, evalUsage, mergeUsage, speculateUsage, trainUsage, paperUsage, replayUsage, recipeUsage].join("\n")}\n`,
    );
    return name === undefined ? 1 : 0;
  }
  try {
    const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!command) throw new UsageError(`unknown command '${name}'`);
    await command(rest, io);
    return 0;
  } catch (e) {
    const hint = e instanceof UsageError ? " (see prunelab --help)" : "";
    io.stderr(`prunelab: ${(e as Error).message.split("\n")[0]}${hint}\n`);
    return 1;
  }
}

/** The GPU for a command, or an error that says what to install. */
export async function cliGpu(): Promise<Gpu> {
  return acquireGpu(nodeGpu()).catch((e: Error) => {
    throw new Error(
      `no GPU: ${e.message.replace(noWebGpuHelp, "").trim()} Install a Vulkan driver (Debian: libvulkan1 mesa-vulkan-drivers) ` +
        "or run `source scripts/gpu-env.sh` for a CPU one (lavapipe / SwiftShader).",
    );
  });
}

export function tokenizerOf(loaded: LoadedModel): Tokenizer {
  if (!loaded.tokenizerJson) throw new Error(`${loaded.source} has no tokenizer; pass --tokenizer PATH`);
  return new Tokenizer(
    { tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig, generationConfig: loaded.generationConfig },
    loaded.source,
  );
}

async function infoCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const args = parseInfoArgs(argv);
  const loaded = await loadModelFromPath(args.model, { tokenizer: args.tokenizer, requireTokenizer: false });
  const { config } = loaded.weights;
  const report = memoryReport(loaded.weights);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const dtypes = [...new Set([...loaded.weights.tensors.values()].map((t) => t.dtype))].join(", ");
  io.stdout(
    [
      `model: ${loaded.source} (${loaded.format})`,
      `parameters: ${report.parameters.toLocaleString("en-US")}`,
      `weights: ${report.weightBytes.toLocaleString("en-US")} bytes (${mib(report.weightBytes)}, ${dtypes})`,
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
  const loaded = await loadModelFromPath(args.model, { tokenizer: args.tokenizer });
  const tokenizer = tokenizerOf(loaded);
  const prompt = args.chat
    ? tokenizer.encodeChat([{ role: "user", content: args.prompt }], { addGenerationPrompt: true })
    : tokenizer.encode(args.prompt, { bos: true });
  const gpu = await cliGpu();
  try {
    const model = uploadLlama(gpu, loaded.weights);
    const stopTokens = [...new Set([...tokenizer.stopTokenIds, ...(loaded.weights.config.eosTokenId ?? [])])];
    await generate(gpu, model, [prompt], {
      maxTokens: args.maxTokens,
      temperature: args.temperature,
      topK: args.topK,
      topP: args.topP,
      seed: args.seed,
      stopTokens,
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      onToken: (e) => io.stdout(e.text ?? ""),
    });
    io.stdout("\n");
    releaseLlama(gpu, model);
  } finally {
    gpu.destroy();
  }
}
