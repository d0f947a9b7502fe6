/**
 * The Speculate and Merge steps in headless Chromium on stories260K (uploaded as files): the pruned
 * model drafts for the full one and every token is coloured by its fate; the model is merged with
 * a second folder at the experiment's t and evaluated. Screenshots land in e2e/artifacts/.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLlama2cCheckpoint } from "../src/model/llama2c";
import { dropBlocksFromWeights } from "../src/prune/drop-blocks";
import { hfFolderFiles } from "../src/prune/hf-folder-export";
import {
  artifactsDir,
  type BrowserSession,
  hasStories260k,
  loadStories260k,
  startBrowserSession,
  stories260kDir,
  waitForGpu,
} from "./browser-session";

const stories = stories260kDir;
const secondDir = mkdtempSync(join(tmpdir(), "prunelab-e2e-merge-"));

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
  rmSync(secondDir, { recursive: true, force: true });
});

describe.skipIf(!hasStories260k)("speculate and merge", () => {
  it("shows coloured speculative tokens with their statistics, and evaluates a merge", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(`${session.baseUrl}?prune.start=3&prune.count=1&sampling.temperature=0&sampling.maxTokens=24`);
    await waitForGpu(page);
    await loadStories260k(page);
    const nav = page.getByRole("navigation", { name: "Pipeline" });
    await nav.getByRole("button", { name: "Prune" }).click();
    await page.locator("main").getByRole("button", { name: "Prune", exact: true }).click();
    await page.getByTestId("prune-check").waitFor({ timeout: 120_000 });

    await nav.getByRole("button", { name: "Speculate" }).click();
    expect(await page.locator("main").textContent()).toMatch(/Draft: stories260K\.bin without block 3/);
    await page.getByLabel(/Draft tokens per round/).fill("3");
    await page.getByRole("button", { name: "Decode speculatively" }).click();
    const stats = page.getByTestId("speculation-stats");
    await stats.waitFor({ timeout: 120_000 });
    expect(await stats.textContent()).toMatch(/Acceptance rate\d+\.\d % \(\d+ of \d+ drafts\).*Speed-up\d+\.\d\d×/);
    const text = page.getByTestId("speculation-text");
    expect(await text.locator('[data-fate="accepted"]').count()).toBeGreaterThan(0);
    expect(await text.locator('[data-fate="rejected"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${artifactsDir}/speculate.png`, fullPage: true });

    // The pruned model (a) merged with itself from a Hugging Face folder (b): a's scores at any t.
    const weights = readLlama2cCheckpoint(new Uint8Array(readFileSync(`${stories}stories260K.bin`)), "stories260K.bin");
    for (const [name, bytes] of hfFolderFiles(dropBlocksFromWeights(weights, 3, 1), {})) writeFileSync(join(secondDir, name), bytes);
    await nav.getByRole("button", { name: "Merge" }).click();
    await page.getByLabel(/Second model/).setInputFiles(secondDir);
    await page.getByLabel("Quick evaluation: items per task").fill("2");
    await page.getByRole("button", { name: /Merge and evaluate at t = 0\.5/ }).click();
    const table = page.getByTestId("merge-results");
    await table.waitFor({ timeout: 120_000 });
    const rows = await table.locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^a: stories260K\.bin without block 3/);
    expect(rows[1]).toMatch(/^SLERP t = 0\.5/);
    expect(rows[1].replace(/^SLERP t = 0\.5/, "")).toBe(rows[0].replace(/^a: stories260K\.bin without block 3/, ""));
    await page.screenshot({ path: `${artifactsDir}/merge.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
