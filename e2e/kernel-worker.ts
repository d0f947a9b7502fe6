/// <reference lib="webworker" />
/** The kernel self-test inside a module Web Worker: runs on request and posts its results. */
import { runKernels } from "./kernel-run";

self.addEventListener("message", async () => {
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(await runKernels("worker"));
});
