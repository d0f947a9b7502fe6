/**
 * An HTTP server on 127.0.0.1 that serves fixture repos in the Hub's URL layout
 * (`/{owner}/{name}/resolve/{revision}/{file}`, `/datasets/{owner}/{name}/resolve/…` for repos
 * named `datasets/owner/name`), at revision "main" or the repo's commit (`fixtureCommit`), with the
 * headers huggingface_hub reads (X-Repo-Commit, and ETag = the sha256 of the file as LFS gives it,
 * also on HEAD and on a known repo's 404), with Range requests and the failures a real
 * download meets: a body that stalls part-way and a connection dropped there, a server that
 * ignores Range or hides Content-Range, a gated repo that wants a token.
 */

import { createHash } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureRepo {
  files: Record<string, Uint8Array>;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
}

/** The commit a fixture repo's "main" points to: a stable 40-hex id derived from its name. */
export function fixtureCommit(repo: string): string {
  return createHash("sha1").update(repo).digest("hex");
}

/** The etag the server gives a file: its sha256, as the Hub gives LFS files. */
export function fixtureEtag(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface ServedRequest {
  method: string;
  repo: string;
  file: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
}

export interface HubFixtureServer {
  endpoint: string;
  requests: ServedRequest[];
  /** file → bytes sent before the body stalls (never ends), on the next request for it only. */
  stallOnce: Map<string, number>;
  /**
   * Destroys the connections of stalled bodies. Called from the client's onProgress once it holds
   * the stalled bytes, so the drop point is exact (a drop racing the client's reads is not).
   */
  dropStalled(): void;
  /** Answer every request with the whole file (200), as servers without Range support do. */
  ignoreRange: boolean;
  /** Send 206 without Content-Range, as a browser shows it when a cross-origin server does not expose the header. */
  hideContentRange: boolean;
  /** Entries per page of the tree API (`/api/{models|datasets}/{repo}/tree/{revision}`), paged by a Link header as the Hub does. */
  treePageSize: number;
  close(): Promise<void>;
}

export async function startHubFixtureServer(repos: Record<string, FixtureRepo>): Promise<HubFixtureServer> {
  const requests: ServedRequest[] = [];
  const stallOnce = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const state = { ignoreRange: false, hideContentRange: false, treePageSize: 1000 };
  const server = createServer((req, res) => {
    const tree = (req.url ?? "").match(/^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/tree\/([^/?]+)\?recursive=true(?:&cursor=(\d+))?$/);
    if (tree) {
      const name = `${tree[1] === "datasets" ? "datasets/" : ""}${decodeURIComponent(tree[2])}`;
      const listed = repos[name];
      const revision = decodeURIComponent(tree[3]);
      requests.push({
        method: "GET",
        repo: name,
        file: "(tree)",
        range: undefined,
        authorization: req.headers.authorization,
        status: listed ? 200 : 404,
      });
      if (!listed || (revision !== "main" && revision !== fixtureCommit(name))) {
        res.writeHead(404).end("Repository not found");
        return;
      }
      const start = Number(tree[4] ?? 0);
      const paths = Object.keys(listed.files).sort();
      const page = paths.slice(start, start + state.treePageSize).map((path) => ({ type: "file", path, size: listed.files[path].length }));
      const next =
        start + state.treePageSize < paths.length
          ? { Link: `<http://${req.headers.host}${req.url?.replace(/&cursor=\d+$/, "")}&cursor=${start + state.treePageSize}>; rel="next"` }
          : {};
      res.writeHead(200, { "Content-Type": "application/json", ...next }).end(JSON.stringify(page));
      return;
    }
    const m = (req.url ?? "").match(/^\/((?:datasets\/)?[^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const repoName = m ? decodeURIComponent(m[1]) : "";
    const file = m ? decodeURIComponent(m[3]) : "";
    const repo = repos[repoName];
    const method = req.method ?? "GET";
    const served = (status: number) => {
      requests.push({ method, repo: repoName, file, range: req.headers.range, authorization: req.headers.authorization, status });
    };
    if (repo?.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
      served(401);
      res.writeHead(401).end("Access to this repo is restricted");
      return;
    }
    const body = repo?.files[file];
    const revision = m ? decodeURIComponent(m[2]) : "";
    const commit = fixtureCommit(repoName);
    if (!m || (revision !== "main" && revision !== commit) || !body) {
      served(404);
      res.writeHead(404, { "X-Error-Code": "EntryNotFound", ...(repo ? { "X-Repo-Commit": commit } : {}) }).end("Entry not found");
      return;
    }
    const fileHeaders = { "X-Repo-Commit": commit, ETag: `"${fixtureEtag(body)}"` };
    if (method === "HEAD") {
      served(200);
      res.writeHead(200, { ...fileHeaders, "Content-Length": body.length }).end();
      return;
    }
    const range = state.ignoreRange ? null : req.headers.range?.match(/^bytes=(\d+)-$/);
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length && range) {
      served(416);
      res.writeHead(416, { "Content-Range": `bytes */${body.length}` }).end();
      return;
    }
    const part = body.subarray(start);
    served(range ? 206 : 200);
    res.writeHead(range ? 206 : 200, {
      ...fileHeaders,
      "Content-Length": part.length,
      ...(range && !state.hideContentRange ? { "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const stall = stallOnce.get(file);
    stallOnce.delete(file);
    if (stall === undefined) {
      res.end(part);
    } else {
      res.write(part.subarray(0, stall));
      stalled.add(res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stallOnce,
    dropStalled() {
      for (const res of stalled) res.destroy();
      stalled.clear();
    },
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(v: boolean) {
      state.ignoreRange = v;
    },
    get treePageSize() {
      return state.treePageSize;
    },
    set treePageSize(v: number) {
      state.treePageSize = v;
    },
    get hideContentRange() {
      return state.hideContentRange;
    },
    set hideContentRange(v: boolean) {
      state.hideContentRange = v;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
