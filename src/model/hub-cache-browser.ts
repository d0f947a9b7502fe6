/**
 * The Hub cache in the browser: the origin private file system (OPFS), under
 * `<root>/<owner>/<name>/<revision>/<file>`. OPFS has no portable rename, so a download in progress
 * is the file itself plus an empty `<file>.part` marker beside it, removed once the file is whole.
 */

import { type HubCache, type HubCacheWriter, type HubFileKey, hubCachePath } from "./hub";

/** A writable stream lands on disk only when closed; closing every so often keeps a crashed tab's partial resumable. */
const checkpointBytes = 64 * 1024 * 1024;

function isNotFound(e: unknown): boolean {
  return (e as DOMException).name === "NotFoundError";
}

async function fileOrNull(dir: FileSystemDirectoryHandle, name: string): Promise<File | null> {
  try {
    return await (await dir.getFileHandle(name)).getFile();
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

export async function createBrowserHubCache(rootName = "prunelab-hub"): Promise<HubCache> {
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(rootName, { create: true });

  /** The file's folder and name; the folder is null when it does not exist and `create` is false. */
  const locate = async (key: HubFileKey, create: boolean) => {
    const segments = hubCachePath(key);
    const name = segments.pop() as string;
    let dir: FileSystemDirectoryHandle | null = root;
    try {
      for (const segment of segments) dir = await dir.getDirectoryHandle(segment, { create });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      dir = null;
    }
    return { dir, name };
  };

  /** The file and whether it is still a partial. */
  const entry = async (key: HubFileKey) => {
    const { dir, name } = await locate(key, false);
    if (!dir) return { file: null, partial: false };
    return { file: await fileOrNull(dir, name), partial: (await fileOrNull(dir, `${name}.part`)) !== null };
  };

  return {
    async get(key) {
      const { file, partial } = await entry(key);
      return partial ? null : file;
    },
    async partialSize(key) {
      const { file, partial } = await entry(key);
      return partial && file ? file.size : 0;
    },
    async openPartial(key, append): Promise<HubCacheWriter> {
      const { dir, name } = await locate(key, true);
      if (!dir) throw new Error(`OPFS: cannot create the folder for ${key.repoId}/${key.file}`);
      await dir.getFileHandle(`${name}.part`, { create: true });
      const handle = await dir.getFileHandle(name, { create: true });
      const reopen = async (keepExistingData: boolean) => {
        const stream = await handle.createWritable({ keepExistingData });
        if (keepExistingData) await stream.seek((await handle.getFile()).size);
        return stream;
      };
      let stream = await reopen(append);
      let sinceCheckpoint = 0;
      return {
        async write(chunk) {
          await stream.write(chunk);
          sinceCheckpoint += chunk.byteLength;
          if (sinceCheckpoint >= checkpointBytes) {
            await stream.close();
            stream = await reopen(true);
            sinceCheckpoint = 0;
          }
        },
        async commit() {
          await stream.close();
          await dir.removeEntry(`${name}.part`);
        },
        async close() {
          await stream.close();
        },
      };
    },
  };
}
