/**
 * The Analyze and Prune steps in headless Chromium on stories260K (uploaded as files, as a user
 * would): the heatmap renders with one cell per (l, n), hover explains a cell, the keyboard moves
 * and chooses, the CSV and the PNG download, and a click → prune updates the model card and reports the
 * perplexity before and after. Screenshots land in e2e/artifacts/.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactsDir, type BrowserSession, hasStories260k, loadStories260k, startBrowserSession, waitForGpu } from "./browser-session";

const calibration = [
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
  "Tom had a red ball. He threw it to his dog, and the dog ran fast to get it.",
  "The sun was big and warm. The birds sang a happy song.",
].join("\n\n");

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
});

describe.skipIf(!hasStories260k)("analyze and prune", () => {
  it("renders the heatmap for a loaded model, and a click → prune updates the model card", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(session.baseUrl);
    await waitForGpu(page);
    await loadStories260k(page);

    const nav = page.getByRole("navigation", { name: "Pipeline" });
    await nav.getByRole("button", { name: "Analyze" }).click();
    await page.getByLabel("Calibration text").fill(calibration);
    await page.getByRole("button", { name: "Analyze layers" }).click();
    const heatmap = page.getByTestId("heatmap");
    await heatmap.waitFor({ timeout: 120_000 });
    // 5 blocks: n = 1 … 5 with 5, 4, 3, 2, 1 starts.
    expect(await heatmap.locator("button[data-n]").count()).toBe(15);
    expect(await heatmap.getByText("★", { exact: true }).count()).toBe(5);
    await expect.poll(() => page.getByTestId("block-influence").locator(".recharts-bar-rectangle").count()).toBe(5);

    await heatmap.locator('button[data-l="1"][data-n="2"]').hover();
    expect(await page.getByTestId("heatmap-info").textContent()).toMatch(
      /l = 1, n = 2: distance 0\.\d{4}\. Dropping blocks 1–2 saves .* parameters/,
    );

    // Keyboard: focus a cell, move right and down, choose with Enter.
    await heatmap.locator('button[data-l="1"][data-n="2"]').focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Enter");
    expect(await heatmap.locator('button[data-l="2"][data-n="1"]').getAttribute("aria-pressed")).toBe("true");
    await expect.poll(() => new URL(page.url()).searchParams.get("prune.start")).toBe("2");

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "layer_distances.csv" }).click();
    const csv = await readFile((await (await download).path()) ?? "", "utf8");
    expect(csv.split("\n")[0]).toBe("block_start,block_end,average_distance");
    expect(csv.trim().split("\n")).toHaveLength(16);
    const png = page.waitForEvent("download");
    await page.getByRole("button", { name: "Heatmap PNG" }).click();
    const pngBytes = await readFile((await (await png).path()) ?? "");
    expect([...pngBytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(pngBytes.length).toBeGreaterThan(1000);
    const influence = page.waitForEvent("download");
    await page.getByRole("button", { name: "Block Influence CSV" }).click();
    const influenceCsv = (await readFile((await (await influence).path()) ?? "", "utf8")).trim().split("\n");
    expect(influenceCsv[0]).toBe("block,block_influence");
    expect(influenceCsv.slice(1).map((row) => Number(row.split(",")[0]))).toEqual([0, 1, 2, 3, 4]);
    const influencePng = page.waitForEvent("download");
    await page.getByRole("button", { name: "Block Influence PNG" }).click();
    expect([...(await readFile((await (await influencePng).path()) ?? "")).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    await page.screenshot({ path: `${artifactsDir}/analyze-heatmap.png`, fullPage: true });

    await heatmap.locator('button[data-l="1"][data-n="2"]').click();
    await page.getByRole("button", { name: "Prune blocks 1–2…" }).click();
    await expect.poll(() => page.locator("#panel-title").textContent()).toBe("Prune");
    expect(await page.getByTestId("prune-choice").textContent()).toMatch(/Blocks 1–2 of 5, angular distance 0\.\d{4}/);
    await page.locator("main").getByRole("button", { name: "Prune", exact: true }).click();
    const check = page.getByTestId("prune-check");
    await check.waitFor({ timeout: 120_000 });
    expect(await check.textContent()).toMatch(/Perplexity on the calibration text: \d+\.\d\d before, \d+\.\d\d after/);
    const card = (await page.getByTestId("model-card").textContent()) ?? "";
    expect(card).toMatch(/stories260K\.bin without blocks 1–2/);
    expect(card).toMatch(/Layers\s*3/);
    expect(await page.getByText("layer_range: [3, 5]").count()).toBe(1);
    await page.screenshot({ path: `${artifactsDir}/prune-done.png`, fullPage: true });

    await page.getByRole("button", { name: "Restore the full model" }).click();
    await expect.poll(async () => (await page.getByTestId("model-card").textContent()) ?? "", { timeout: 60_000 }).toMatch(/Layers\s*5/);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
