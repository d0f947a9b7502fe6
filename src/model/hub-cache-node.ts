/**
 * The Hub cache in Node: a directory laid out `<cacheDir>/<owner>/<name>/<revision>/<file>`, with a
 * download in progress kept beside its final name as `<file>.part` and renamed when whole.
 */

import { openAsBlob } from "node:fs";
import { mkdir, open, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type HubCache, type HubCacheWriter, type HubFileKey, hubCachePath } from "./hub";

async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function createNodeHubCache(cacheDir: string): HubCache {
  const pathOf = (key: HubFileKey) => join(cacheDir, ...hubCachePath(key));
  return {
    async get(key) {
      const path = pathOf(key);
      return (await sizeOrNull(path)) === null ? null : openAsBlob(path);
    },
    async partialSize(key) {
      return (await sizeOrNull(`${pathOf(key)}.part`)) ?? 0;
    },
    async openPartial(key, append): Promise<HubCacheWriter> {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(`${path}.part`, append ? "a" : "w");
      return {
        async write(chunk) {
          // appendFile writes the whole chunk at the current position (write() may write less).
          await handle.appendFile(chunk);
        },
        async commit() {
          await handle.close();
          await rename(`${path}.part`, path);
        },
        async close() {
          await handle.close();
        },
      };
    },
  };
}
