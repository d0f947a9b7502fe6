/**
 * The study's steps in headless Chromium on stories260K (uploaded as files), pruned by one block:
 * Distill a few demo-world records, Train SFT and SDD for 2 steps each with a quick evaluation at the
 * last, Evaluate the five models (SFT and SDD SLERP-merged included) on 2 items per task, download
 * charts as PNG and their data as CSV, merge the two runs in the Merge step (again as the t slider
 * moves), and list the Export step's files. Screenshots land in e2e/artifacts/.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactsDir, type BrowserSession, hasStories260k, loadStories260k, startBrowserSession, waitForGpu } from "./browser-session";

let session: BrowserSession;

/** Clicks the button and returns the file it downloads, checking its name. */
async function download(page: Page, button: string, name: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.locator("main").getByRole("button", { name: button }).click()]);
  expect(file.suggestedFilename()).toBe(name);
  return readFile((await file.path()) ?? "");
}

/** A PNG of the chart in `figure` at twice its width (IHDR), whose top-left corner, outside the plot, is opaque white. */
async function expectChartPng(page: Page, png: Buffer, figure: string): Promise<void> {
  const width = Number(
    await page.getByTestId(figure).locator(".recharts-wrapper svg:not(.recharts-legend-wrapper svg)").first().getAttribute("width"),
  );
  expect(width).toBeGreaterThan(100);
  expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  expect(png.readUInt32BE(16)).toBe(2 * width);
  const corner = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const context = new OffscreenCanvas(1, 1).getContext("2d");
    context?.drawImage(bitmap, 0, 0);
    return [...(context?.getImageData(0, 0, 1, 1).data ?? [])];
  }, png.toString("base64"));
  expect(corner).toEqual([255, 255, 255, 255]);
  await writeFile(`${artifactsDir}/${figure}.png`, png);
}

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
    await main.getByLabel("Quick evaluation every (steps, 0 = off)").fill("2");
    await main.getByLabel("Quick evaluation items per task").fill("1");
    await main.getByRole("button", { name: "Train SFT and SDD" }).click();
    const runs = page.getByTestId("train-runs");
    await expect
      .poll(() => runs.locator("tbody tr").allTextContents(), { timeout: 300_000 })
      .toEqual([expect.stringMatching(/^SFT2 \/ 2\d+\.\d{4}finished$/), expect.stringMatching(/^SDD2 \/ 2\d+\.\d{4}finished$/)]);
    expect(await page.getByTestId("loss-curves").locator("svg .recharts-line").count()).toBe(2);
    // One quick evaluation per run, at its last step: one dot on each run's evaluation curve.
    expect(await page.getByTestId("eval-curves").locator("svg .recharts-line-dot").count()).toBe(2);
    const evalCsv = (await download(page, "Evaluation CSV", "eval_curves.csv")).toString().trim().split("\n");
    expect(evalCsv[0]).toMatch(/^run,step,average,town-facts,/);
    expect(evalCsv.slice(1).map((l) => l.split(",").slice(0, 2).join(","))).toEqual(["sft,2", "sdd,2"]);
    expect((await download(page, "Loss CSV", "loss_curves.csv")).toString()).toMatch(/^run,step,loss,/);
    await expectChartPng(page, await download(page, "Evaluation PNG", "eval_curves.png"), "eval-curves");
    await page.screenshot({ path: `${artifactsDir}/train.png`, fullPage: true });

    await nav.getByRole("button", { name: "Evaluate" }).click();
    await main.getByLabel("Items per task").fill("2");
    await main.getByLabel("Few-shot examples").fill("0");
    await main.getByRole("button", { name: "Evaluate 5 models" }).click();
    const table = page.getByTestId("recovery-table");
    await table.waitFor({ timeout: 300_000 });
    const rows = await table.locator("tbody tr td:first-child").allTextContents();
    expect(rows).toEqual(["original", "pruned", "pruned + SFT", "pruned + SDD", "pruned + SLERP(SFT, SDD) t = 0.5"]);
    expect(await table.locator("tbody tr").first().locator("td").last().textContent()).toMatch(/^(100\.0|—)$/);
    await page.getByTestId("recovery-chart").waitFor();
    await expectChartPng(page, await download(page, "Chart as PNG", "recovery.png"), "recovery-chart");
    await page.screenshot({ path: `${artifactsDir}/evaluate.png`, fullPage: true });

    // The Merge step folds the two runs' adapters into the pruned model itself, and evaluates again where the slider stops.
    await nav.getByRole("button", { name: "Merge" }).click();
    expect(await main.getByRole("radio", { name: /^The SFT \(t = 0\) and SDD \(t = 1\) runs/ }).isChecked()).toBe(true);
    await main.getByLabel("Quick evaluation: items per task").fill("1");
    await main.getByRole("button", { name: /Merge and evaluate at t = 0\.5/ }).click();
    const merges = page.getByTestId("merge-results");
    await merges.waitFor({ timeout: 120_000 });
    expect(await merges.locator("tbody tr td:first-child").allTextContents()).toEqual([
      "a: pruned + SFT",
      "SLERP t = 0.5",
      "b: pruned + SDD",
    ]);
    await main.getByLabel("t slider").press("ArrowRight");
    await expect.poll(() => merges.locator("tbody tr td:first-child").allTextContents(), { timeout: 120_000 }).toContain("SLERP t = 0.55");
    await page.screenshot({ path: `${artifactsDir}/merge-study.png`, fullPage: true });

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
        "loss_curves.csv",
        "eval_curves.csv",
        "results.json",
      ]),
    );
    // The pruned model with the SDD adapter merged in, as a llama.cpp GGUF.
    const modelOptions = main.getByTestId("export-model-options");
    await modelOptions.getByLabel("Format").selectOption("gguf");
    await modelOptions.getByLabel("Type").selectOption("q8_0");
    await modelOptions.getByLabel("Adapter").selectOption("sdd");
    const [gguf] = await Promise.all([
      page.waitForEvent("download"),
      modelOptions.getByRole("button", { name: "Download merged model" }).click(),
    ]);
    expect(gguf.suggestedFilename()).toMatch(/-q8_0\.gguf$/);
    expect((await readFile((await gguf.path()) ?? "")).subarray(0, 4).toString()).toBe("GGUF");
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
    expect(await page.getByTestId("eval-curves").locator("svg .recharts-line-dot").count()).toBe(2);
    await nav.getByRole("button", { name: "Evaluate" }).click();
    expect(await table.locator("tbody tr").count()).toBe(5);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 900_000);
});
