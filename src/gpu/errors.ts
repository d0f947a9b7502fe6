/** Typed GPU failures. Each names what was being done and the sizes involved, so a user can act on it. */

export class GpuUnavailableError extends Error {
  override name = "GpuUnavailableError";
}

export class GpuValidationError extends Error {
  override name = "GpuValidationError";
  constructor(
    readonly op: string,
    readonly detail: string,
    readonly gpuMessage: string,
  ) {
    super(`GPU validation error in ${op} (${detail}): ${gpuMessage}`);
  }
}

export class GpuOutOfMemoryError extends Error {
  override name = "GpuOutOfMemoryError";
  constructor(
    readonly what: string,
    readonly bytes: number,
    gpuMessage: string,
  ) {
    super(`GPU out of memory allocating ${what} (${formatBytes(bytes)}): ${gpuMessage}`);
  }
}

export class GpuDeviceLostError extends Error {
  override name = "GpuDeviceLostError";
  constructor(
    readonly reason: string,
    gpuMessage: string,
  ) {
    super(`GPU device lost (${reason}): ${gpuMessage}. Re-initialise the GPU to continue.`);
  }
}

/** A request the kernels cannot serve on this adapter (a binding too large, a missing feature). */
export class GpuLimitError extends Error {
  override name = "GpuLimitError";
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
