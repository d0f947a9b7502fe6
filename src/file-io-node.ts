/**
 * Node file I/O for the CLI whose failures name the file: Node's own messages for ENOSPC, EROFS or
 * EACCES often name none (a write stream's) or only a temporary one. Writes are atomic (a temporary
 * file beside the target, flushed, then renamed), so a kill or a full disk never leaves half a file.
 */
import { constants } from "node:fs";
import { access, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** A file that could not be read or written; `code` is Node's (ENOSPC, EROFS, EACCES, ENOENT, …). */
export class FileIoError extends Error {
  override name = "FileIoError";
  constructor(
    readonly file: string,
    readonly operation: "read" | "write" | "create the folder",
    readonly code: string,
    detail: string,
  ) {
    super(`cannot ${operation} ${file}: ${explain(code)}${detail ? ` (${detail})` : ""}`);
  }
}

function explain(code: string): string {
  const reasons: Record<string, string> = {
    ENOSPC: "no space left on the device",
    EROFS: "the file system is read-only",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOENT: "no such file or folder",
    ENOTDIR: "a part of the path is not a folder",
    EISDIR: "it is a folder",
    EDQUOT: "disk quota exceeded",
  };
  return reasons[code] ?? code;
}

function wrap(file: string, operation: FileIoError["operation"], e: unknown): FileIoError {
  const err = e as NodeJS.ErrnoException;
  return new FileIoError(file, operation, err.code ?? "error", err.code ? "" : err.message);
}

export async function readFileNamed(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw wrap(file, "read", e);
  }
}

/** Writes `bytes` to `file` through `file.tmp` + fsync + rename: readers see the old file or the whole new one. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const temp = `${file}.tmp`;
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw wrap(file, "write", e);
  }
}

/**
 * Creates `dir` if needed and proves it writable by writing and removing a probe file, so a run that
 * cannot save its results fails before its first step rather than after its last.
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw wrap(dir, "create the folder", e);
  }
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    throw wrap(dir, "write", e);
  }
  const probe = join(dir, ".prunelab-write-probe");
  await writeFileAtomic(probe, "probe").catch((e: FileIoError) => {
    throw new FileIoError(dir, "write", e.code, `a probe file ${probe} could not be written`);
  });
  await rm(probe, { force: true });
}
