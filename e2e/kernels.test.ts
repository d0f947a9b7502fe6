/** Issue 3's browser kernel test: real kernels against their CPU references, in the page and in a module worker, on Chromium's WebGPU. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, startBrowserSession } from "./browser-session";
import type { KernelRun } from "./kernel-run";

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
});

describe("kernel self-test page", () => {
  it("runs rmsnorm and matmul in the page and in a module worker, matching the CPU references", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(`${session.baseUrl}/e2e/kernels.html`);
    await page.waitForSelector("body[data-state=done]", { timeout: 150_000 });
    const runs = (await page.evaluate(() => window.kernelRuns)) as KernelRun[];
    expect(runs.map((r) => r.where)).toEqual(["page", "worker"]);
    for (const run of runs) {
      expect(run.error, `${run.where}: ${run.error}`).toBeUndefined();
      expect(run.adapter, `${run.where} got an adapter`).not.toBe("");
      const names = run.checks.map((c) => c.name).join(", ");
      expect(names).toMatch(/rmsnorm forward/);
      expect(names).toMatch(/rmsnorm backward dx/);
      expect(names).toMatch(/matmul scalar/);
      expect(names).toMatch(/matmul vec4/);
      for (const c of run.checks) expect(c.ok, `${run.where}: ${c.name}: ${c.detail}`).toBe(true);
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
