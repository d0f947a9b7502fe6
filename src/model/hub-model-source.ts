/**
 * Hub repo ids where a model path is expected (`owner/name[@revision]`), downloaded into the
 * standard Hugging Face cache with the environment Python's tools read: HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE and HF_HUB_CACHE / HF_HOME (hub-cache-node.ts).
 */
import { type DownloadedModel, type DownloadProgress, downloadModel } from "./hub";
import { createNodeHubCache, hfHubCacheDir } from "./hub-cache-node";

export interface HubModelId {
  repoId: string;
  /** Absent: "main". */
  revision?: string;
}

const hubIdPattern = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/;

/** `owner/name` or `owner/name@revision` as a repo id, or null when the text cannot be one (an absolute or dotted path). */
export function parseHubModelId(text: string): HubModelId | null {
  const m = hubIdPattern.exec(text);
  if (!m || text.includes("..")) return null;
  return m[2] ? { repoId: m[1], revision: m[2] } : { repoId: m[1] };
}

export interface HubEnvironment {
  endpoint?: string;
  token?: string;
  offline: boolean;
  cacheDir: string;
}

/** The Hub settings of the environment, as huggingface_hub reads them (HF_HUB_OFFLINE accepts 1/true/yes/on). */
export function hubEnvironment(env: NodeJS.ProcessEnv = process.env): HubEnvironment {
  const offline = ["1", "true", "yes", "on"].includes((env.HF_HUB_OFFLINE ?? "").toLowerCase());
  return {
    ...(env.HF_ENDPOINT ? { endpoint: env.HF_ENDPOINT } : {}),
    ...(env.HF_TOKEN ? { token: env.HF_TOKEN } : {}),
    offline,
    cacheDir: hfHubCacheDir(env),
  };
}

/** The model's files from the cache, fetching what is missing unless offline. */
export function downloadHubModel(
  id: HubModelId,
  environment: HubEnvironment = hubEnvironment(),
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadedModel> {
  const { cacheDir, ...rest } = environment;
  return downloadModel(id.repoId, { cache: createNodeHubCache(cacheDir), revision: id.revision, onProgress, ...rest });
}
