/**
 * The Hub cache in Node, in the layout of Python's huggingface_hub so that either side reuses what the
 * other fetched:
 *   <cache>/models--<owner>--<name>/            (datasets--… for dataset repos)
 *     refs/<revision>                           the commit the branch or tag pointed to
 *     blobs/<etag>                              the file's bytes (sha256 for LFS files, git sha1 otherwise)
 *     blobs/<etag>.incomplete                   a download in progress, resumed from its size
 *     snapshots/<commit>/<file>                 a relative symlink to ../../blobs/<etag>
 *     .no_exist/<commit>/<file>                 an empty marker: the revision has no such file
 * <cache> is HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, as huggingface_hub reads them.
 */

import { openAsBlob } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import type { HubCache, HubCacheWriter, HubFileKey, HubFileMetadata } from "./hub";

/** The hub cache folder the environment names, as huggingface_hub resolves it. */
export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return join(home, "hub");
}

/** `models--owner--name` (or `datasets--…`): huggingface_hub's folder of one repo. */
export function hubRepoFolderName(repoId: string, repoType: HubFileKey["repoType"] = "model"): string {
  return `${repoType}s--${repoId.split("/").join("--")}`;
}

const commitPattern = /^[0-9a-f]{40}$/;

async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function createNodeHubCache(
  cacheDir: string = hfHubCacheDir(),
): HubCache & { listCached(key: HubFileKey): Promise<string[] | null> } {
  const repoDir = (key: HubFileKey) => join(cacheDir, hubRepoFolderName(key.repoId, key.repoType));
  // A revision that is a commit hash names its snapshot directly; a branch or tag goes through refs/.
  const commitOf = async (key: HubFileKey): Promise<string | null> => {
    if (commitPattern.test(key.revision)) return key.revision;
    const ref = await readFile(join(repoDir(key), "refs", key.revision), "utf8").catch(() => null);
    return ref?.trim() || null;
  };
  const snapshotPath = (key: HubFileKey, commit: string) => join(repoDir(key), "snapshots", commit, ...key.file.split("/"));
  const blobPath = (key: HubFileKey, etag: string) => join(repoDir(key), "blobs", etag);
  const writeRef = async (key: HubFileKey, commit: string) => {
    if (key.revision === commit) return;
    const ref = join(repoDir(key), "refs", key.revision);
    await mkdir(dirname(ref), { recursive: true });
    await writeFile(ref, commit);
  };
  const needMetadata = (metadata: HubFileMetadata | undefined, key: HubFileKey): HubFileMetadata => {
    if (!metadata) throw new Error(`the Hub cache needs the commit and etag of ${key.file} of ${key.repoId} to store it`);
    if (!/^[\w.-]+$/.test(metadata.etag) || !commitPattern.test(metadata.commit)) {
      throw new Error(`the Hub sent an unusable commit "${metadata.commit}" or etag "${metadata.etag}" for ${key.file} of ${key.repoId}`);
    }
    return metadata;
  };
  return {
    wantsMetadata: true,
    /** The files of the revision's snapshot (paths relative to it), or null when the cache has none. */
    async listCached(key) {
      const commit = await commitOf(key);
      if (!commit) return null;
      const root = join(repoDir(key), "snapshots", commit);
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => null);
      if (!entries) return null;
      return entries.filter((e) => !e.isDirectory()).map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"));
    },
    async get(key) {
      const commit = await commitOf(key);
      if (!commit) return null;
      const path = snapshotPath(key, commit);
      return (await sizeOrNull(path)) === null ? null : openAsBlob(path);
    },
    async knownMissing(key) {
      const commit = await commitOf(key);
      return commit !== null && (await sizeOrNull(join(repoDir(key), ".no_exist", commit, ...key.file.split("/")))) !== null;
    },
    async markMissing(key, commit) {
      const marker = join(repoDir(key), ".no_exist", commit, ...key.file.split("/"));
      await mkdir(dirname(marker), { recursive: true });
      await writeFile(marker, "");
      await writeRef(key, commit);
    },
    describe(key) {
      return join(repoDir(key), "snapshots", commitPattern.test(key.revision) ? key.revision : `<refs/${key.revision}>`, key.file);
    },
    async partialSize(key, metadata) {
      return (await sizeOrNull(`${blobPath(key, needMetadata(metadata, key).etag)}.incomplete`)) ?? 0;
    },
    async openPartial(key, append, metadata): Promise<HubCacheWriter> {
      const { commit, etag } = needMetadata(metadata, key);
      const blob = blobPath(key, etag);
      await mkdir(dirname(blob), { recursive: true });
      const handle = await open(`${blob}.incomplete`, append ? "a" : "w");
      return {
        async write(chunk) {
          // appendFile writes the whole chunk at the current position (write() may write less).
          await handle.appendFile(chunk);
        },
        async commit() {
          await handle.close();
          await rename(`${blob}.incomplete`, blob);
          const pointer = snapshotPath(key, commit);
          await mkdir(dirname(pointer), { recursive: true });
          await rm(pointer, { force: true });
          // Relative, as huggingface_hub writes it, so the cache folder can move; a copy where links are refused.
          await symlink(relative(dirname(pointer), blob), pointer).catch(async (e: NodeJS.ErrnoException) => {
            if (e.code !== "EPERM" && e.code !== "ENOTSUP") throw e;
            await copyFile(blob, pointer);
          });
          await writeRef(key, commit);
        },
        async close() {
          await handle.close();
        },
      };
    },
  };
}
