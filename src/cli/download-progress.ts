/** Hub download progress as one stderr line per file, rewritten in place (at most once per percent). */
import type { DownloadProgress } from "../model/hub";
import type { CliIo } from "./command-io";

export function downloadProgressLine(io: CliIo): (p: DownloadProgress) => void {
  let shown = "";
  return (p) => {
    if (p.fromCache) return;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const done = p.totalBytes !== undefined && p.loadedBytes >= p.totalBytes;
    const percent = p.totalBytes ? Math.floor((100 * p.loadedBytes) / p.totalBytes) : undefined;
    const line = `downloading ${p.file}: ${mib(p.loadedBytes)}${p.totalBytes === undefined ? "" : ` of ${mib(p.totalBytes)}`} MiB${percent === undefined ? "" : ` (${percent} %)`}`;
    const key = `${p.file} ${percent ?? mib(p.loadedBytes)}`;
    if (key === shown && !done) return;
    shown = key;
    io.stderr(`\r${line}${done ? "\n" : ""}`);
  };
}
