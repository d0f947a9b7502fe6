/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1: serves a model folder in the Hub's URL layout
 * (`/<owner>/<name>/resolve/<revision>/<file>`), with CORS as the Hub sends it, Range requests, and
 * the weights trickled out slowly so a test can watch progress, cancel, and resume.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface HubFixture {
  endpoint: string;
  /** Every request served, e.g. "GET model.safetensors bytes=4096-". */
  log: string[];
  close(): Promise<void>;
}

export interface HubFixtureOptions {
  repo: string;
  files: Map<string, Uint8Array>;
  /** Files sent in `chunkBytes` pieces, `delayMs` apart. */
  slow: { file: string; chunkBytes: number; delayMs: number };
}

const cors = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "Range, Authorization",
  "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag",
};

export async function startHubFixture({ repo, files, slow }: HubFixtureOptions): Promise<HubFixture> {
  const log: string[] = [];
  const prefix = `/${repo}/resolve/`;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.startsWith(prefix) ? path.slice(prefix.length).split("/").slice(1).join("/") : "";
    const body = files.get(file);
    log.push(`${req.method} ${file || path}${req.headers.range ? ` ${req.headers.range}` : ""}`);
    if (!body) {
      res.writeHead(404, cors).end();
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1] ?? 0);
    const part = body.subarray(start);
    const headers = { ...cors, "Content-Type": "application/octet-stream", "Content-Length": String(part.byteLength) };
    if (start > 0) res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${body.byteLength - 1}/${body.byteLength}` });
    else res.writeHead(200, headers);
    if (file !== slow.file) {
      res.end(part);
      return;
    }
    for (let at = 0; at < part.byteLength && !res.destroyed; at += slow.chunkBytes) {
      res.write(part.subarray(at, at + slow.chunkBytes));
      await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the Hub fixture server has no TCP port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
