/**
 * Datasets from the Hugging Face Hub: `hf:owner/name[@revision][:config][:split]` names a dataset
 * repo's parquet or JSON(L) files of one config and split, chosen by the Hub's file-name conventions
 * (`<config>/<split>-00000-of-00001.parquet`, `data/<split>-….parquet`, `<split>.jsonl`, or the only
 * data file of a one-file repo), fetched through a Hub cache and read into plain rows (parquet with
 * hyparquet).
 */
import { type AsyncBuffer, parquetReadObjects } from "hyparquet";
import { parseJsonlObjects } from "../jsonl-objects";
import { type DownloadOptions, downloadHubFile, type HubFileKey, listHubFiles } from "../model/hub";

export interface HubDatasetSpec {
  repoId: string;
  revision?: string;
  config?: string;
  /** Absent: "train" where the repo has one, else every data file. */
  split?: string;
}

const specPattern = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+?))?(?::([\w.-]*))?(?::([\w.-]+))?$/;

/** The spec of an `hf:` dataset, or null for anything else (a local file). Malformed `hf:` text is an error. */
export function parseHubDatasetSpec(text: string): HubDatasetSpec | null {
  if (!text.startsWith("hf:")) return null;
  const m = specPattern.exec(text);
  if (!m || text.includes("..")) {
    throw new Error(`"${text}" is not a Hub dataset (expected hf:owner/name[@revision][:config][:split], e.g. hf:openai/gsm8k:main:train)`);
  }
  return {
    repoId: m[1],
    ...(m[2] ? { revision: m[2] } : {}),
    ...(m[3] ? { config: m[3] } : {}),
    ...(m[4] ? { split: m[4] } : {}),
  };
}

const dataFile = /\.(parquet|jsonl|json)$/;

/** Whether a path segment or the file name's stem names the split (`train`, `train-00000-of-00002`, `train.jsonl`). */
function namesSplit(path: string, split: string): boolean {
  const parts = path.split("/");
  const stem = (parts.pop() ?? "").replace(dataFile, "");
  return parts.includes(split) || stem === split || stem.startsWith(`${split}-`) || stem.startsWith(`${split}_`);
}

/** The files of the spec's config and split among a repo's paths; errors say which configs or splits exist. */
export function datasetFilesFor(spec: HubDatasetSpec, paths: readonly string[]): string[] {
  const what = `hf:${spec.repoId}`;
  let files = paths.filter((p) => dataFile.test(p) && !p.split("/").some((s) => s.startsWith(".")));
  if (files.length === 0) throw new Error(`${what} has no parquet or JSON data files (it has ${paths.length} files)`);
  // Configs are the top folders other than the conventional data/; a config must be named when there are several.
  const configs = [...new Set(files.filter((p) => p.includes("/")).map((p) => p.split("/")[0]))].filter((c) => c !== "data");
  if (spec.config) {
    files = files.filter((p) => p.split("/")[0] === spec.config);
    if (files.length === 0) throw new Error(`${what} has no config "${spec.config}" (configs: ${configs.join(", ") || "none"})`);
  } else if (configs.length > 1) {
    throw new Error(`${what} has several configs (${configs.join(", ")}): name one, as hf:${spec.repoId}:CONFIG[:SPLIT]`);
  }
  const split = spec.split ?? (files.some((p) => namesSplit(p, "train")) ? "train" : undefined);
  if (split) {
    const inSplit = files.filter((p) => namesSplit(p, split));
    if (inSplit.length === 0) throw new Error(`${what} has no split "${split}" among ${files.join(", ")}`);
    files = inSplit;
  }
  return files.sort();
}

/** Rows of one data file: parquet, JSON Lines, or a JSON array (or `{"data": [...]}`). */
export async function readDatasetRows(name: string, blob: Blob): Promise<Record<string, unknown>[]> {
  if (name.endsWith(".parquet")) {
    const file: AsyncBuffer = { byteLength: blob.size, slice: (start, end) => blob.slice(start, end).arrayBuffer() };
    try {
      return (await parquetReadObjects({ file })) as Record<string, unknown>[];
    } catch (e) {
      throw new Error(`${name} is not a readable parquet file: ${(e as Error).message}`);
    }
  }
  const text = await blob.text();
  if (name.endsWith(".jsonl")) return parseJsonlObjects(text, name).map(({ value }) => value);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${(e as Error).message}`);
  }
  const rows = Array.isArray(json) ? json : (json as { data?: unknown })?.data;
  if (!Array.isArray(rows) || rows.some((r) => typeof r !== "object" || r === null || Array.isArray(r))) {
    throw new Error(`${name} is neither a JSON array of objects nor {"data": [objects]}`);
  }
  return rows as Record<string, unknown>[];
}

export type HubDatasetOptions = DownloadOptions & { listCached?: (key: HubFileKey) => Promise<string[] | null> };

/** The rows of the spec's files in file order, and the files they came from. */
export async function loadHubDatasetRows(
  spec: HubDatasetSpec,
  options: HubDatasetOptions,
): Promise<{ rows: Record<string, unknown>[]; files: string[] }> {
  const repo = { repoId: spec.repoId, repoType: "dataset" as const, revision: spec.revision };
  const files = datasetFilesFor(spec, await listHubFiles(repo, options));
  const rows: Record<string, unknown>[] = [];
  for (const file of files) {
    const blob = await downloadHubFile({ ...repo, revision: spec.revision ?? "main", file }, options);
    for (const row of await readDatasetRows(`hf:${spec.repoId}/${file}`, blob)) rows.push(row);
  }
  return { rows, files };
}
