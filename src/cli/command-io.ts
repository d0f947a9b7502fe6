/**
 * What every command is given and shares: its output streams (tests capture them in-process), the
 * GPU with an install hint when there is none, and a loaded model's tokenizer. Commands import
 * this, never run-cli.ts, so the command table imports the commands and nothing imports it back.
 */
import type { Gpu } from "../gpu/context";
import { acquireGpu, noWebGpuHelp } from "../gpu/device";
import { nodeGpu } from "../gpu/node-gpu";
import type { LoadedModel } from "../model/load-model-files";
import { Tokenizer } from "../model/tokenizer";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<void>;

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
