/**
 * The study's steps in headless Chromium on stories260K (uploaded as files), pruned by one block:
 * Distill a few demo-world records, Train SFT and SDD for 2 steps each, Evaluate the four models on
 * 2 items per task, and list the Export step's files. Screenshots land in e2e/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactsDir, type BrowserSession, hasStories260k, loadStories260k, startBrowserSession, waitForGpu } from "./browser-session";

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
});

describe.skipIf(!hasStories260k)("study", () => {
  it("distills, trains SFT and SDD with live curves, evaluates with recovery %, and lists the exports", async () => {
    const { page, problems } = await session.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${session.baseUrl}?prune.start=3&prune.count=1`);
    await waitForGpu(page);
    await loadStories260k(page);
    const nav = page.getByRole("navigation", { name: "Pipeline" });
    const main = page.locator("main");
    await nav.getByRole("button", { name: "Prune" }).click();
    await main.getByRole("button", { name: "Prune", exact: true }).click();
    await page.getByTestId("prune-check").waitFor({ timeout: 120_000 });

    await nav.getByRole("button", { name: "Distill" }).click();
    await main.getByLabel("Examples", { exact: true }).fill("3");
    await main.getByLabel("Max tokens per rewrite").fill("8");
    await main.getByLabel("Batch size", { exact: true }).fill("2");
    await main.getByRole("button", { name: "Distill", exact: true }).click();
    const examples = page.getByTestId("distill-examples");
    await expect.poll(() => examples.locator("tbody tr").count(), { timeout: 180_000 }).toBe(3);
    await expect
      .poll(() => page.getByTestId("distill-counts").textContent(), { timeout: 60_000 })
      .toMatch(/^3 examples: \d+ rewrites kept, \d+ replaced/);
    await page.screenshot({ path: `${artifactsDir}/distill.png`, fullPage: true });

    await nav.getByRole("button", { name: "Train" }).click();
    await main.getByLabel("Steps", { exact: true }).fill("2");
    await main.getByLabel("Batch size", { exact: true }).fill("2");
    await main.getByLabel("Max length (tokens)").fill("64");
    await main.getByLabel("Checkpoint every (steps)").fill("1");
    await main.getByRole("button", { name: "Train SFT and SDD" }).click();
    const runs = page.getByTestId("train-runs");
    await expect
      .poll(() => runs.locator("tbody tr").allTextContents(), { timeout: 300_000 })
      .toEqual([expect.stringMatching(/^SFT2 \/ 2\d+\.\d{4}finished$/), expect.stringMatching(/^SDD2 \/ 2\d+\.\d{4}finished$/)]);
    expect(await page.getByTestId("loss-curves").locator("svg .recharts-line").count()).toBe(2);
    await page.screenshot({ path: `${artifactsDir}/train.png`, fullPage: true });

    await nav.getByRole("button", { name: "Evaluate" }).click();
    await main.getByLabel("Items per task").fill("2");
    await main.getByLabel("Few-shot examples").fill("0");
    await main.getByRole("button", { name: "Evaluate 4 models" }).click();
    const table = page.getByTestId("recovery-table");
    await table.waitFor({ timeout: 300_000 });
    const rows = await table.locator("tbody tr td:first-child").allTextContents();
    expect(rows).toEqual(["original", "pruned", "pruned + SFT", "pruned + SDD"]);
    expect(await table.locator("tbody tr").first().locator("td").last().textContent()).toMatch(/^(100\.0|—)$/);
    await page.getByTestId("recovery-chart").waitFor();
    await page.screenshot({ path: `${artifactsDir}/evaluate.png`, fullPage: true });

    await nav.getByRole("button", { name: "Export" }).click();
    const files = await page.getByTestId("export-files").locator("li button").allTextContents();
    expect(files).toEqual(
      expect.arrayContaining([
        "manifest.json",
        "mergekit/slice.yaml",
        "mergekit/slerp.yaml",
        "datasets/original.jsonl",
        "datasets/self-distilled.jsonl",
        "adapters/sft/adapter_model.safetensors",
        "adapters/sdd/adapter_config.json",
        "results.json",
      ]),
    );
    await page.screenshot({ path: `${artifactsDir}/export.png`, fullPage: true });

    // After a reload the study comes back from IndexedDB once the model is loaded again.
    await page.reload();
    await waitForGpu(page);
    await nav.getByRole("button", { name: "Model" }).click();
    await loadStories260k(page);
    await nav.getByRole("button", { name: "Train" }).click();
    await expect
      .poll(() => runs.locator("tbody tr td:last-child").allTextContents(), { timeout: 30_000 })
      .toEqual(["finished", "finished"]);
    await nav.getByRole("button", { name: "Evaluate" }).click();
    expect(await table.locator("tbody tr").count()).toBe(4);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 900_000);
});
