/**
 * Downloads the files of a Llama from the Hugging Face Hub by repo id into a cache: streamed with
 * per-file progress, cancellable, resumed from partial files after a dropped connection, and served
 * from the cache without touching the network once a revision is complete (or ever, `offline`).
 * Caches that keep the Hub's own layout (hub-cache-node.ts, shared with Python's huggingface_hub)
 * first ask the server for each file's commit and etag with a HEAD request, as huggingface_hub does.
 */

import { ModelFormatError } from "./errors";
import { parseShardIndex, SHARD_INDEX_FILE } from "./sharded";

/** One file of one revision of one repo. */
export interface HubFileKey {
  repoId: string;
  revision: string;
  file: string;
  /** Absent: a model repo. */
  repoType?: HubRepoType;
}

export type HubRepoType = "model" | "dataset";

/** What the Hub says of one file of a revision (HEAD on its resolve URL). */
export interface HubFileMetadata {
  /** The commit the revision resolves to (X-Repo-Commit). */
  commit: string;
  /** The file's content id: sha256 for LFS files (X-Linked-Etag), git's blob sha1 otherwise (ETag). */
  etag: string;
}

/** A file being written; its bytes stay a partial (resumable) until `commit`. */
export interface HubCacheWriter {
  write(chunk: Uint8Array<ArrayBuffer>): Promise<void>;
  /** The file is whole: make it visible to `get`. */
  commit(): Promise<void>;
  /** Stop writing and keep what was written as the partial to resume from. */
  close(): Promise<void>;
}

/** Where downloads live: a directory in Node (hub-cache-node.ts), OPFS in the browser (hub-cache-browser.ts). */
export interface HubCache {
  /** The complete file, or null. A Blob so that multi-GiB shards are read lazily, slice by slice. */
  get(key: HubFileKey): Promise<Blob | null>;
  /** Bytes of the partial download, 0 when there is none. */
  partialSize(key: HubFileKey, metadata?: HubFileMetadata): Promise<number>;
  /** Opens the partial for writing: appended to when `append`, else emptied first. */
  openPartial(key: HubFileKey, append: boolean, metadata?: HubFileMetadata): Promise<HubCacheWriter>;
  /** Caches laid out by commit and etag: downloads fetch each file's metadata first and pass it on. */
  wantsMetadata?: boolean;
  /** Whether the cache records that the revision has no such file (huggingface_hub's `.no_exist`). */
  knownMissing?(key: HubFileKey): Promise<boolean>;
  /** Records that the file does not exist at `commit`. */
  markMissing?(key: HubFileKey, commit: string): Promise<void>;
  /** Where the file would be, for messages. */
  describe?(key: HubFileKey): string;
}

/** Path segments of a cached file: `[datasets/]<repo owner>/<repo name>/<revision>/<file path…>`. */
export function hubCachePath({ repoId, revision, file, repoType }: HubFileKey): string[] {
  // Revisions such as "refs/pr/1" contain slashes; one segment keeps them from nesting.
  return [...(repoType === "dataset" ? ["datasets"] : []), ...repoId.split("/"), encodeURIComponent(revision), ...file.split("/")];
}

export type HubErrorKind = "not-found" | "unauthorized" | "http" | "network" | "incomplete" | "invalid" | "offline";

/** A download that failed; the message names the repo, the file and what to do. */
export class HubError extends Error {
  override name = "HubError";
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly url?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface DownloadProgress {
  file: string;
  loadedBytes: number;
  /** From Content-Length (Content-Range when resuming); undefined when the server does not say. */
  totalBytes: number | undefined;
  fromCache: boolean;
}

export interface DownloadOptions {
  cache: HubCache;
  revision?: string;
  endpoint?: string;
  /** A Hugging Face access token, for gated or private repos. */
  token?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Times a file is resumed after its connection drops, within one call. */
  retries?: number;
  /** Never touch the network: files come from the cache or the call fails naming the first missing one. */
  offline?: boolean;
}

/** The downloaded files, read from the cache. */
export interface DownloadedModel {
  repoId: string;
  revision: string;
  /** Every file that exists in the repo among those a Llama needs, by name. */
  files: ReadonlyMap<string, Blob>;
  /** A text file by name, null when the repo has none (the shape `loadTokenizer` reads through). */
  readText(name: string): Promise<string | null>;
}

const requiredFiles = ["config.json", "tokenizer.json", "tokenizer_config.json"];
const optionalFiles = ["generation_config.json", "special_tokens_map.json", "chat_template.jinja"];
const singleWeights = "model.safetensors";
/** Written last: its presence means every file of the revision is in the cache. */
const manifestFile = ".prunelab-complete.json";

const repoIdPattern = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** Shard file names of the index, checked to stay inside the repo folder. */
function shardFiles(indexText: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(indexText);
  } catch (e) {
    throw new ModelFormatError(SHARD_INDEX_FILE, `is not valid JSON: ${(e as Error).message}`);
  }
  const { shards } = parseShardIndex(json);
  for (const shard of shards) {
    // parseShardIndex rules out folders; "" "." and ".." would still name the cache folder or its parent.
    if (shard === "" || shard === "." || shard === "..")
      throw new ModelFormatError(SHARD_INDEX_FILE, `names the shard "${shard}", which is not a file`);
  }
  return shards;
}

/**
 * Fetches config, tokenizer and weights (one model.safetensors, or the shard index and every shard
 * it names) of `repoId` at `revision` into `cache`; files already complete there are not fetched.
 * A branch such as "main" is cached under its name and not checked again; pass a commit hash to pin one.
 */
export async function downloadModel(repoId: string, options: DownloadOptions): Promise<DownloadedModel> {
  const { cache, revision = "main", signal } = options;
  if (!repoIdPattern.test(repoId) || repoId.includes("..")) {
    throw new HubError(
      "invalid",
      `"${repoId}" is not a Hugging Face repo id (expected "owner/name", e.g. "HuggingFaceTB/SmolLM2-135M-Instruct")`,
    );
  }
  if (revision === "" || revision.includes("..")) {
    throw new HubError("invalid", `revision "${revision}" of ${repoId} is not a branch, tag or commit`);
  }
  signal?.throwIfAborted();
  const key = (file: string): HubFileKey => ({ repoId, revision, file });
  const files = new Map<string, Blob>();
  const model: DownloadedModel = {
    repoId,
    revision,
    files,
    readText: async (name) => (await files.get(name)?.text()) ?? null,
  };

  // A cache in the Hub's layout has no room for a manifest; its `.no_exist` markers do that job.
  const manifest = cache.wantsMetadata ? null : await cache.get(key(manifestFile));
  if (manifest) {
    const names: string[] = JSON.parse(await manifest.text());
    const cached = await Promise.all(names.map((name) => cache.get(key(name))));
    if (cached.every((blob) => blob !== null)) {
      for (const [i, blob] of cached.entries()) {
        files.set(names[i], blob);
        options.onProgress?.({ file: names[i], loadedBytes: blob.size, totalBytes: blob.size, fromCache: true });
      }
      return model;
    }
  }

  const fetchInto = async (file: string, optional: boolean): Promise<Blob | null> => {
    const blob = await downloadFile(key(file), options, optional);
    if (blob) files.set(file, blob);
    return blob;
  };
  for (const file of requiredFiles) await fetchInto(file, false);
  for (const file of optionalFiles) await fetchInto(file, true);
  // A cached index means a sharded model; otherwise ask for the single file first, as transformers does.
  const shardedInCache = (await cache.get(key(SHARD_INDEX_FILE))) !== null;
  const single = shardedInCache ? null : await fetchInto(singleWeights, true);
  const index = single ? null : await fetchInto(SHARD_INDEX_FILE, true);
  if (!single && !index && options.offline) {
    throw new HubError(
      "offline",
      `${repoId} (revision ${revision}): neither ${singleWeights} nor ${SHARD_INDEX_FILE} is in the cache${cache.describe ? ` (${cache.describe(key(singleWeights))})` : ""}, and offline mode does not download`,
    );
  }
  if (!single && !index) {
    throw new HubError(
      "not-found",
      `${repoId} (revision ${revision}) has neither ${singleWeights} nor ${SHARD_INDEX_FILE}; only safetensors weights are supported`,
    );
  }
  if (index) for (const shard of shardFiles(await index.text())) await fetchInto(shard, false);
  if (cache.wantsMetadata) return model;

  const writer = await cache.openPartial(key(manifestFile), false);
  await writer.write(new TextEncoder().encode(JSON.stringify([...files.keys()])));
  await writer.commit();
  return model;
}

/** One file of a repo (a model's or a dataset's) through the cache: the same download, resume and offline rules as `downloadModel`. */
export async function downloadHubFile(key: HubFileKey, options: DownloadOptions): Promise<Blob> {
  const blob = await downloadFile(key, options, false);
  if (!blob) throw new HubError("not-found", `${key.file} of ${key.repoId} was not found`);
  return blob;
}

/**
 * Every file path of a revision: the Hub's tree API (`/api/{models|datasets}/{repo}/tree/{revision}?recursive=true`,
 * following its Link pagination), or offline the cache's own listing of the snapshot.
 */
export async function listHubFiles(
  repo: { repoId: string; repoType?: HubRepoType; revision?: string },
  options: DownloadOptions & { listCached?: (key: HubFileKey) => Promise<string[] | null> },
): Promise<string[]> {
  const revision = repo.revision ?? "main";
  const key: HubFileKey = { repoId: repo.repoId, repoType: repo.repoType, revision, file: "" };
  if (options.offline) {
    const cached = await options.listCached?.(key);
    if (!cached)
      throw new HubError(
        "offline",
        `${repo.repoId} (revision ${revision}) has no snapshot in the cache, and offline mode does not download`,
      );
    return cached;
  }
  const endpoint = (options.endpoint ?? "https://huggingface.co").replace(/\/+$/, "");
  let url: string | undefined =
    `${endpoint}/api/${repo.repoType ?? "model"}s/${repo.repoId}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const paths: string[] = [];
  while (url) {
    let response: Response;
    try {
      response = await fetch(url, { headers: options.token ? { Authorization: `Bearer ${options.token}` } : {}, signal: options.signal });
    } catch (e) {
      throw new HubError("network", `cannot reach ${url} to list ${repo.repoId}: ${reasonOf(e)}`, url);
    }
    if (response.status === 404)
      throw new HubError("not-found", `${repo.repoId} (revision ${revision}) was not found (HTTP 404 at ${url})`, url, 404);
    if (response.status === 401 || response.status === 403) throw unauthorized({ ...key, file: "its file list" }, url, response.status);
    if (!response.ok) throw new HubError("http", `listing ${repo.repoId}: HTTP ${response.status} from ${url}`, url, response.status);
    const entries = (await response.json()) as { type?: string; path?: string }[];
    if (!Array.isArray(entries)) throw new HubError("invalid", `listing ${repo.repoId}: ${url} did not answer a JSON array`, url);
    for (const e of entries) if (e.type === "file" && typeof e.path === "string") paths.push(e.path);
    url = response.headers.get("Link")?.match(/<([^>]+)>;\s*rel="next"/)?.[1];
  }
  return paths;
}

function fileUrl(endpoint: string, { repoId, revision, file, repoType }: HubFileKey): string {
  const repo = repoType === "dataset" ? `datasets/${repoId}` : repoId;
  return `${endpoint.replace(/\/+$/, "")}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split("/").map(encodeURIComponent).join("/")}`;
}

/** An etag header without its weak marker and quotes. */
function plainEtag(header: string | null): string | undefined {
  return header?.replace(/^W\//, "").replace(/^"|"$/g, "") || undefined;
}

/**
 * HEAD on the resolve URL without following the redirect (an LFS file's redirect carries its sha256
 * as X-Linked-Etag; the CDN's answer would not): the commit and etag, or null on 404.
 */
async function fileMetadata(
  url: string,
  key: HubFileKey,
  cache: HubCache,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<HubFileMetadata | null> {
  let response: Response;
  try {
    response = await fetch(url, { method: "HEAD", redirect: "manual", headers, signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new HubError("network", `cannot reach ${url} for ${what}: ${reasonOf(e)}`, url);
  }
  const commit = response.headers.get("X-Repo-Commit") ?? undefined;
  if (response.status === 404) {
    if (commit && cache.markMissing) await cache.markMissing(key, commit);
    return null;
  }
  if (response.status === 401 || response.status === 403) throw unauthorized(key, url, response.status);
  const etag = plainEtag(response.headers.get("X-Linked-Etag")) ?? plainEtag(response.headers.get("ETag"));
  if (response.status >= 400 || !commit || !etag) {
    throw new HubError(
      "http",
      `${what}: HEAD ${url} answered HTTP ${response.status}${commit && etag ? "" : " without X-Repo-Commit and ETag (is the endpoint a Hugging Face Hub?)"}`,
      url,
      response.status,
    );
  }
  return { commit, etag };
}

function unauthorized(key: HubFileKey, url: string, status: number): HubError {
  return new HubError(
    "unauthorized",
    `${key.repoId} refused ${key.file} (HTTP ${status}): the repo may be gated or private; accept its terms on the Hub and pass an access token (token option, or HF_TOKEN)`,
    url,
    status,
  );
}

/** `bytes START-END/TOTAL` → START and TOTAL (TOTAL may be `*`). */
function parseContentRange(header: string | null): { start: number; total: number | undefined } | null {
  const m = header?.match(/^bytes (\d+)-\d+\/(\d+|\*)$/);
  return m ? { start: Number(m[1]), total: m[2] === "*" ? undefined : Number(m[2]) } : null;
}

/** One file into the cache, resuming its partial; null when `optional` and the repo has no such file. */
async function downloadFile(key: HubFileKey, options: DownloadOptions, optional: boolean): Promise<Blob | null> {
  const { cache, endpoint = "https://huggingface.co", token, onProgress, signal, retries = 3 } = options;
  const cached = await cache.get(key);
  if (cached) {
    onProgress?.({ file: key.file, loadedBytes: cached.size, totalBytes: cached.size, fromCache: true });
    return cached;
  }
  const url = fileUrl(endpoint, key);
  const what = `${key.file} of ${key.repoId} (revision ${key.revision})`;
  const missing = () => {
    if (optional) return null;
    throw new HubError("not-found", `${what} was not found (HTTP 404 at ${url}): check the repo id, revision and file name`, url, 404);
  };
  if (await cache.knownMissing?.(key)) return missing();
  if (options.offline) {
    if (optional) return null;
    const where = cache.describe ? ` (looked for ${cache.describe(key)})` : "";
    throw new HubError("offline", `${what} is not in the cache${where}, and offline mode does not download`, url);
  }
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const metadata = cache.wantsMetadata ? await fileMetadata(url, key, cache, auth, signal, what) : undefined;
  if (metadata === null) return missing();
  for (let attempt = 0; ; attempt++) {
    const offset = await cache.partialSize(key, metadata);
    const headers: Record<string, string> = { ...auth };
    if (offset > 0) headers.Range = `bytes=${offset}-`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new HubError("network", `cannot reach ${url} for ${what}: ${reasonOf(e)}`, url);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return missing();
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw unauthorized(key, url, response.status);
    }
    if (response.status === 416) {
      // The partial holds every byte already (a commit was interrupted), or it is stale and starts over.
      await response.body?.cancel();
      const whole = offset > 0 && response.headers.get("Content-Range") === `bytes */${offset}`;
      const writer = await cache.openPartial(key, whole, metadata);
      if (whole) return committed(cache, key, writer, what);
      await writer.close();
      if (attempt < retries) continue;
      throw new HubError("http", `${what}: ${url} cannot serve bytes from ${offset} (HTTP 416)`, url, 416);
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new HubError("http", `${what}: HTTP ${response.status} ${response.statusText} from ${url}`, url, response.status);
    }
    // A 200 to a Range request is the whole file, so the partial starts over. Browsers hide
    // Content-Range from cross-origin scripts unless the server exposes it; a 206 then counts from `offset`.
    const resumed = response.status === 206;
    const contentRange = response.headers.get("Content-Range");
    const range = parseContentRange(contentRange);
    if (resumed && contentRange !== null && range?.start !== offset) {
      await response.body?.cancel();
      throw new HubError("http", `${what}: asked for bytes from ${offset} but ${url} answered Content-Range ${contentRange}`, url, 206);
    }
    const start = resumed ? offset : 0;
    // Content-Length counts the bytes on the wire, and fetch hands over decompressed ones.
    const compressed = (response.headers.get("Content-Encoding") ?? "identity") !== "identity";
    const length = response.headers.get("Content-Length");
    const totalBytes = range?.total ?? (length === null || compressed ? undefined : start + Number(length));
    const writer = await cache.openPartial(key, start > 0, metadata);
    let loadedBytes = start;
    try {
      if (!response.body) throw new Error("the response has no body");
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writer.write(value);
        loadedBytes += value.byteLength;
        onProgress?.({ file: key.file, loadedBytes, totalBytes, fromCache: false });
      }
    } catch (e) {
      await writer.close();
      if (signal?.aborted) throw signal.reason;
      if (attempt < retries) continue;
      throw new HubError(
        "network",
        `download of ${what} from ${url} broke off after ${loadedBytes} bytes (${reasonOf(e)}); the partial file is kept and the next call resumes it`,
        url,
      );
    }
    if (totalBytes !== undefined && loadedBytes !== totalBytes) {
      await writer.close();
      if (attempt < retries) continue;
      throw new HubError("incomplete", `${what}: got ${loadedBytes} of ${totalBytes} bytes from ${url}; the next call resumes it`, url);
    }
    return committed(cache, key, writer, what);
  }
}

async function committed(cache: HubCache, key: HubFileKey, writer: HubCacheWriter, what: string): Promise<Blob> {
  await writer.commit();
  const blob = await cache.get(key);
  if (!blob) throw new HubError("invalid", `${what} was written but the cache cannot read it back`);
  return blob;
}

/** undici reports "fetch failed" and puts the reason (ECONNREFUSED, "other side closed") in `cause`. */
function reasonOf(e: unknown): string {
  const cause = (e as Error).cause;
  return cause instanceof Error ? cause.message : (e as Error).message;
}
