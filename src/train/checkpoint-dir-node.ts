/**
 * A run's checkpoints in its output folder (Node): the last good one and the one before it, each
 * written atomically with its checksum. Resuming refuses a damaged last checkpoint with its
 * CheckpointError and falls back to the previous one, saying so.
 */
import { readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { FileIoError, writeFileAtomic } from "../file-io-node";
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from "./checkpoint-file";
import type { TrainCheckpoint } from "./train-loop";

export const checkpointFile = "checkpoint.safetensors";
export const previousCheckpointFile = "checkpoint.prev.safetensors";

/** Writes `checkpoint` as DIR/checkpoint.safetensors, keeping the one it replaces as checkpoint.prev.safetensors. */
export async function saveCheckpoint(dir: string, checkpoint: TrainCheckpoint): Promise<void> {
  const current = join(dir, checkpointFile);
  const next = `${current}.next`;
  // Written in full (and flushed) before anything is renamed: a kill at any point leaves a good checkpoint behind.
  await writeFileAtomic(next, encodeCheckpoint(checkpoint));
  try {
    await rename(current, join(dir, previousCheckpointFile));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new FileIoError(current, "write", (e as NodeJS.ErrnoException).code ?? "error", "");
  }
  try {
    await rename(next, current);
  } catch (e) {
    throw new FileIoError(current, "write", (e as NodeJS.ErrnoException).code ?? "error", "");
  }
}

/**
 * The newest checkpoint of DIR that passes its checksum and checks: the last one, else the previous
 * one (reported through `log`); undefined when DIR has none; the last one's CheckpointError when
 * neither can be used.
 */
export async function loadCheckpoint(
  dir: string,
  log: (line: string) => void,
): Promise<{ checkpoint: TrainCheckpoint; file: string } | undefined> {
  let refused: CheckpointError | undefined;
  for (const name of [checkpointFile, `${checkpointFile}.next`, previousCheckpointFile]) {
    const file = join(dir, name);
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw new FileIoError(file, "read", e.code ?? "error", "");
    });
    if (!bytes) continue;
    try {
      const checkpoint = decodeCheckpoint(new Uint8Array(bytes), file);
      if (refused) {
        // Kept aside for inspection, and so that the next save does not rotate it into the "previous" slot.
        await rename(refused.file, `${refused.file}.damaged`);
        log(
          `${refused.message}\n  kept as ${refused.file}.damaged; using the previous checkpoint ${file} (step ${checkpoint.step}) instead\n`,
        );
      }
      return { checkpoint, file };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      refused ??= e;
    }
  }
  if (refused) throw refused;
  return undefined;
}
