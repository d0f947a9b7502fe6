/** Starts the engine worker and returns its typed client. A worker that fails to start fails its calls, never the page. */

import type { EngineClient, EngineMethods } from "./protocol";
import { RpcClient } from "./rpc";

export function startEngine(): EngineClient {
  const worker = new Worker(new URL("./engine-worker.ts", import.meta.url), { type: "module", name: "prunelab-engine" });
  const client = new RpcClient<EngineMethods>(worker);
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    client.failAll({ name: "WorkerError", message: `The engine worker failed: ${event.message || "it could not be started"}` });
  });
  worker.addEventListener("messageerror", () => {
    client.failAll({ name: "WorkerError", message: "A message from the engine worker could not be read." });
  });
  return client;
}
