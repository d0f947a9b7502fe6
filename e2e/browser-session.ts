/**
 * What every browser test needs: the built app (`dist/`, from `npm run build`) served in-process by
 * Vite's preview server on a free port of 127.0.0.1, and headless Debian Chromium with WebGPU
 * (SwiftShader). Every console error and uncaught page error is collected so a test can fail on it.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { type PreviewServer, preview } from "vite";
import { expect } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
export const artifactsDir = fileURLToPath(new URL("./artifacts/", import.meta.url));

/** The real pretrained Llama the browser tests load as a user would; tests skip where ../shared is absent. */
export const stories260kDir = fileURLToPath(new URL("../../shared/models/stories260K/", import.meta.url));
export const hasStories260k = existsSync(`${stories260kDir}stories260K.bin`);

/** Waits until the GPU badge reports the worker's adapter state. */
export async function waitForGpu(page: Page, state: "ready" | "unavailable" = "ready"): Promise<void> {
  await expect.poll(() => page.getByTestId("gpu-badge").getAttribute("data-state"), { timeout: 60_000 }).toBe(state);
}

/** Loads stories260K through the Model step's file input and waits for its model card. */
export async function loadStories260k(page: Page): Promise<void> {
  await page.getByRole("radio", { name: "Local files" }).check();
  await page.getByLabel("Choose files…").setInputFiles([`${stories260kDir}stories260K.bin`, `${stories260kDir}tok512.bin`]);
  await page.getByRole("button", { name: "Load model" }).click();
  await page.getByTestId("model-card").waitFor({ timeout: 120_000 });
}

const chromiumPath = process.env.PRUNELAB_CHROMIUM ?? "/usr/bin/chromium";
const webGpuFlag = "--enable-unsafe-webgpu";
const chromiumArgs = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

export interface BrowserSession {
  baseUrl: string;
  browser: Browser;
  /**
   * A fresh page (own context: own IndexedDB) at 1280×800 whose console errors and page errors land
   * in `problems`. `webgpu: false` opens it in a second Chromium started without --enable-unsafe-webgpu,
   * which on Linux offers `navigator.gpu` but no adapter, as most users' browsers do.
   */
  newPage(options?: { webgpu?: boolean }): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
}

export async function startBrowserSession(): Promise<BrowserSession> {
  if (!existsSync(`${root}/dist/index.html`)) throw new Error("dist/ is missing: run `npm run build` before the browser tests");
  if (!existsSync(chromiumPath))
    throw new Error(`Chromium not found at ${chromiumPath}: install Debian's chromium (scripts/setup.sh --test does)`);
  await mkdir(artifactsDir, { recursive: true });
  const server: PreviewServer = await preview({
    root,
    logLevel: "silent",
    preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === "string") throw new Error("the preview server did not report a TCP port");
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const launch = (webgpu: boolean) =>
    chromium.launch({ executablePath: chromiumPath, headless: true, args: webgpu ? [webGpuFlag, ...chromiumArgs] : chromiumArgs });
  const browser = await launch(true).catch(async (e: Error) => {
    await server.close();
    throw e;
  });
  let withoutWebGpu: Promise<Browser> | undefined;
  return {
    baseUrl,
    browser,
    async newPage({ webgpu = true } = {}) {
      if (!webgpu) withoutWebGpu ??= launch(false);
      const chosen = webgpu ? browser : await (withoutWebGpu as Promise<Browser>);
      const context = await chosen.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console error: ${m.text()} (${m.location().url})`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.name}: ${e.message}`));
      page.on("crash", () => problems.push("the page crashed"));
      return { page, problems };
    },
    async close() {
      await (await withoutWebGpu)?.close();
      await browser.close();
      await server.close();
    },
  };
}
