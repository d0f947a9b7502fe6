/**
 * The kernel self-test page: runs the kernel checks in the page, then in a module Web Worker, shows
 * them in a table, and leaves them on `window.kernelRuns` (and `data-state="done"` on <body>) for the e2e test.
 */
import { type KernelRun, runKernels } from "./kernel-run";

declare global {
  interface Window {
    kernelRuns?: KernelRun[];
  }
}

function inWorker(): Promise<KernelRun> {
  const worker = new Worker(new URL("./kernel-worker.ts", import.meta.url), { type: "module" });
  return new Promise<KernelRun>((resolve) => {
    worker.addEventListener("message", (e: MessageEvent<KernelRun>) => resolve(e.data));
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      resolve({ where: "worker", adapter: "", features: [], checks: [], error: `the worker failed: ${e.message}` });
    });
    worker.postMessage("run");
  }).finally(() => worker.terminate());
}

function render(runs: KernelRun[]): void {
  const table = document.getElementById("results") as HTMLTableSectionElement;
  for (const run of runs) {
    const rows = run.error ? [{ name: "(no run)", ok: false, worstRatio: Number.NaN, detail: run.error }] : run.checks;
    for (const c of rows) {
      const tr = table.insertRow();
      for (const text of [run.where, run.adapter, c.name, c.ok ? "pass" : "FAIL", c.worstRatio.toPrecision(3), c.detail]) {
        tr.insertCell().textContent = text;
      }
      tr.className = c.ok ? "pass" : "fail";
    }
  }
}

async function main(): Promise<void> {
  const status = document.getElementById("status") as HTMLElement;
  status.textContent = "Running in the page…";
  const page = await runKernels("page");
  status.textContent = "Running in a worker…";
  const worker = await inWorker();
  const runs = [page, worker];
  render(runs);
  const failed = runs.some((r) => r.error || r.checks.some((c) => !c.ok));
  status.textContent = failed ? "Some checks failed." : "All checks passed.";
  window.kernelRuns = runs;
  document.body.dataset.state = "done";
}

void main();
