/**
 * Runs the matmul benchmark page in headless Chromium (Debian's /usr/bin/chromium, WebGPU on its
 * SwiftShader adapter), served by Vite's dev server started in this process.
 */
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createServer } from "vite";
import type { MatmulCase } from "./matmul-cases";
import type { PageResult } from "./matmul-page";
import type { BenchOptions } from "./matmul-timing";

export async function runInChromium(cases: MatmulCase[], options: BenchOptions, log: (line: string) => void): Promise<PageResult> {
  const server = await createServer({ configFile: fileURLToPath(new URL("vite.config.ts", import.meta.url)) });
  await server.listen();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--enable-unsafe-webgpu",
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
  try {
    const page = await browser.newPage();
    page.on("console", (msg) => log(`  [chromium] ${msg.text()}`));
    page.on("pageerror", (e) => log(`  [chromium error] ${e.message}`));
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new Error("bench: Vite did not report a URL");
    await page.goto(new URL("bench/matmul.html", base).href);
    await page.waitForFunction(() => typeof window.runMatmulBench === "function", undefined, { timeout: 120_000 });
    return await page.evaluate(([c, o]) => window.runMatmulBench(c, o), [cases, options] as const);
  } finally {
    await browser.close();
    await server.close();
  }
}
