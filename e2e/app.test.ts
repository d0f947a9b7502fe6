/**
 * The workbench in headless Chromium: it loads, the engine worker gets a WebGPU adapter (the badge
 * shows it), every step panel renders (a screenshot of each lands in e2e/artifacts/), the experiment
 * travels in the URL, and saved runs survive a reload and can be deleted. Any console error or
 * uncaught page error fails the test that caused it.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultExperiment } from "../src/experiment/experiment";
import { parseManifest } from "../src/experiment/manifest";
import { toHfConfig } from "../src/model/config";
import { readLlama2cCheckpoint } from "../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../src/model/llama2c-tokenizer";
import { writeSafetensors } from "../src/model/safetensors";
import { steps, tools } from "../src/ui/steps";
import { artifactsDir, type BrowserSession, hasStories260k, startBrowserSession, stories260kDir, waitForGpu } from "./browser-session";
import { startHubFixture } from "./hub-fixture-server";

// A real pretrained Llama (llama2.c format) from ../shared; the project must not copy it, so without it the tests that use it are skipped.
const stories = stories260kDir;

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
});

describe("workbench", () => {
  it("loads, gets a GPU adapter in the worker, and renders every step", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(session.baseUrl);
    const badge = page.getByTestId("gpu-badge");
    await expect.poll(() => badge.getAttribute("data-state"), { timeout: 60_000 }).not.toBe("starting");
    expect(await badge.getAttribute("data-state"), (await badge.textContent()) ?? "").toBe("ready");
    expect(await badge.textContent()).toMatch(/swiftshader/i);
    await badge.click();
    await expect.poll(() => page.getByText("maxStorageBufferBindingSize").isVisible()).toBe(true);
    expect(await page.getByRole("link", { name: "Run the kernel self-test" }).getAttribute("href")).toBe("/e2e/kernels.html");
    await page.screenshot({ path: `${artifactsDir}/gpu-badge.png` });
    await badge.click();

    for (const [i, step] of steps.entries()) {
      await page.getByRole("navigation", { name: "Pipeline" }).getByRole("button", { name: step.title, exact: false }).click();
      await expect.poll(() => page.locator("#panel-title").textContent()).toBe(step.title);
      expect(await page.locator("main").getAttribute("data-panel")).toBe(step.id);
      if (step.arrivesWith) expect(await page.locator("main").textContent()).toContain(`arrives with issue ${step.arrivesWith}`);
      await page.screenshot({ path: `${artifactsDir}/step-${i + 1}-${step.id}.png`, fullPage: true });
    }
    for (const tool of tools) {
      await page.getByRole("navigation", { name: "Pipeline" }).getByRole("button", { name: tool.title }).click();
      await expect.poll(() => page.locator("#panel-title").textContent()).toBe(tool.title);
      await page.screenshot({ path: `${artifactsDir}/tool-${tool.id}.png`, fullPage: true });
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("loads the bundled demo model through the worker, then keeps a Hub repo id in the link", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(session.baseUrl);
    await waitForGpu(page);
    expect(await page.getByRole("radio", { name: "Bundled demo model" }).isChecked()).toBe(true);
    await page.getByRole("button", { name: "Load model" }).click();
    const card = page.getByTestId("model-card");
    await card.waitFor({ timeout: 120_000 });
    const cardText = (await card.textContent()) ?? "";
    expect(cardText).toContain("Prunelab demo model");
    expect(cardText).toMatch(/Layers\s*12/);
    await page.getByRole("radio", { name: "Hugging Face Hub" }).check();
    await page.getByRole("textbox", { name: "Repo id" }).fill("HuggingFaceTB/SmolLM2-135M-Instruct");
    // Playwright learns of replaceState asynchronously, hence the poll.
    await expect.poll(() => new URL(page.url()).searchParams.get("model.repo")).toBe("HuggingFaceTB/SmolLM2-135M-Instruct");
    await page.screenshot({ path: `${artifactsDir}/model-request.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it.skipIf(!hasStories260k)("loads local llama2.c files, shows the model card, and streams a completion", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(session.baseUrl);
    await waitForGpu(page);
    await page.getByRole("radio", { name: "Local files" }).check();
    await page.getByLabel("Choose files…").setInputFiles([`${stories}stories260K.bin`, `${stories}tok512.bin`]);
    await page.getByRole("button", { name: "Load model" }).click();
    const card = page.getByTestId("model-card");
    await card.waitFor({ timeout: 120_000 });
    const cardText = (await card.textContent()) ?? "";
    expect(cardText).toContain("llama2.c");
    expect(cardText).toMatch(/Layers\s*5/);
    await page.screenshot({ path: `${artifactsDir}/model-loaded.png`, fullPage: true });

    await page.getByRole("button", { name: "Playground" }).click();
    expect(await page.getByRole("radio", { name: "Plain completion" }).isChecked()).toBe(true);
    await page.getByLabel("Max new tokens").fill("24");
    await page.getByLabel(/^Prompt/).fill("Once upon a time");
    await page.getByRole("button", { name: "Complete" }).click();
    const stats = page.getByText(/tokens in .* s \(/);
    await stats.waitFor({ timeout: 120_000 });
    const completion = (await page.getByRole("log", { name: "Conversation" }).textContent()) ?? "";
    expect(completion.startsWith("completionOnce upon a time")).toBe(true);
    expect(completion.length).toBeGreaterThan("completionOnce upon a time".length + 10);
    await page.screenshot({ path: `${artifactsDir}/playground-completion.png`, fullPage: true });

    // A long generation streams into the page and stops on request.
    await page.getByLabel("Max new tokens").fill("400");
    await page.getByRole("button", { name: "Complete" }).click();
    const stop = page.getByRole("button", { name: "Stop" });
    await stop.waitFor();
    const log = page.getByRole("log", { name: "Conversation" });
    await expect
      .poll(async () => ((await log.textContent()) ?? "").length, { timeout: 60_000 })
      .toBeGreaterThan("completionOnce upon a time".length + 5);
    await stop.click();
    await page.getByText("Generation was cancelled.").waitFor({ timeout: 60_000 });
    expect(await stop.count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it.skipIf(!hasStories260k)("downloads a Hub repo with progress, cancels, resumes, and chats with it", async () => {
    const checkpoint = readLlama2cCheckpoint(await readFile(`${stories}stories260K.bin`), "stories260K.bin");
    const { config } = checkpoint;
    const tokenizer = llama2cTokenizerToHf(
      readLlama2cTokenizer(await readFile(`${stories}tok512.bin`), "tok512.bin", config.vocabSize),
      config.maxPositionEmbeddings,
    );
    const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const weights = writeSafetensors(checkpoint.tensors);
    const hub = await startHubFixture({
      repo: "prunelab/stories260K",
      files: new Map([
        ["config.json", json(toHfConfig(config))],
        ["tokenizer.json", json(tokenizer.tokenizerJson)],
        ["tokenizer_config.json", json(tokenizer.tokenizerConfig)],
        ["generation_config.json", json({})],
        ["special_tokens_map.json", json({})],
        ["chat_template.jinja", new TextEncoder().encode("{% for m in messages %}{{ m.content }}\n{% endfor %}")],
        ["model.safetensors", weights],
      ]),
      // About 3 s for the ~1 MiB of weights: long enough to see an estimate and to cancel.
      slow: { file: "model.safetensors", chunkBytes: 32 * 1024, delayMs: 100 },
    });
    try {
      const { page, problems } = await session.newPage();
      await page.goto(
        `${session.baseUrl}/?model.source=hub&model.repo=prunelab/stories260K&model.endpoint=${encodeURIComponent(hub.endpoint)}`,
      );
      await waitForGpu(page);
      expect(await page.getByRole("textbox", { name: "Repo id" }).inputValue()).toBe("prunelab/stories260K");
      // The link chose the download host: the page asks once before using it (declined: nothing is fetched).
      const questions: string[] = [];
      page.once("dialog", (d) => {
        questions.push(d.message());
        void d.dismiss();
      });
      await page.getByRole("button", { name: "Load model" }).click();
      await expect.poll(() => questions.length).toBe(1);
      expect(questions[0]).toContain(`from ${new URL(hub.endpoint).host}?`);
      expect(hub.log).toEqual([]);
      page.once("dialog", (d) => void d.accept());
      await page.getByRole("button", { name: "Load model" }).click();
      const job = page.getByRole("status").filter({ hasText: "downloading model.safetensors" });
      await expect.poll(async () => (await job.textContent()) ?? "", { timeout: 60_000 }).toMatch(/about \d+ s left/);
      await page.screenshot({ path: `${artifactsDir}/model-hub-download.png`, fullPage: true });
      await job.getByRole("button", { name: "Cancel" }).click();
      await page.getByText("Loading the model was cancelled.").waitFor({ timeout: 30_000 });

      await page.getByRole("button", { name: "Load model" }).click();
      const card = page.getByTestId("model-card");
      await card.waitFor({ timeout: 120_000 });
      expect(await card.textContent()).toMatch(/prunelab\/stories260K.*Hugging Face safetensors/);
      expect(
        hub.log.filter((l) => /^GET model\.safetensors bytes=\d+-$/.test(l)),
        hub.log.join("\n"),
      ).toHaveLength(1);
      await page.screenshot({ path: `${artifactsDir}/model-hub-loaded.png`, fullPage: true });

      await page.getByRole("button", { name: "Playground" }).click();
      expect(await page.getByRole("radio", { name: "Chat" }).isChecked()).toBe(true);
      await page.getByLabel("Max new tokens").fill("16");
      await page.getByLabel(/^Message/).fill("Once upon a time");
      await page.getByLabel(/^Message/).press("Control+Enter");
      await page.getByText(/tokens in .* s \(/).waitFor({ timeout: 120_000 });
      const log = (await page.getByRole("log", { name: "Conversation" }).textContent()) ?? "";
      expect(log).toMatch(/^userOnce upon a timeassistant\S/);
      await page.screenshot({ path: `${artifactsDir}/playground-chat.png`, fullPage: true });
      expect(problems).toEqual([]);
      await page.context().close();
    } finally {
      await hub.close();
    }
  });

  it("is served with a strict Content-Security-Policy (header and meta tag) under which the app runs and an inline script is refused", async () => {
    const { page } = await session.newPage();
    const response = await page.goto(session.baseUrl);
    const header = response?.headers()["content-security-policy"] ?? "";
    expect(header).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(header).toMatch(/connect-src 'self' https:\/\/huggingface\.co /);
    expect(header).toContain("frame-ancestors 'none'");
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content")).toMatch(/script-src 'self';/);
    await waitForGpu(page);
    // The page works under it (the worker got its GPU above); an inline script is refused. (eval cannot be
    // tried from here: code run through DevTools is exempt from the page's eval check; the policy has no 'unsafe-eval'.)
    const attempt = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) =>
        document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective), { once: true }),
      );
      const s = document.createElement("script");
      s.textContent = "window.__inlineRan = true";
      document.head.append(s);
      return { ran: (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false, directive: await violation };
    });
    expect(attempt).toEqual({ ran: false, directive: "script-src-elem" });
    expect(header).not.toMatch(/unsafe-eval/);
    await page.context().close();
  });

  it("without WebGPU, explains what to do instead of failing", async () => {
    const { page, problems } = await session.newPage({ webgpu: false });
    await page.goto(session.baseUrl);
    await waitForGpu(page, "unavailable");
    const help = page.getByRole("alert").filter({ hasText: "needs WebGPU" });
    expect(await help.textContent()).toMatch(/--enable-unsafe-webgpu/);
    expect(await page.getByRole("button", { name: "Load model" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Train" }).click();
    expect(await page.getByLabel("LoRA rank r").inputValue()).toBe("8");
    await page.screenshot({ path: `${artifactsDir}/no-webgpu.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("keeps the experiment in the URL: an edit shows up in the link, and the link restores it", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(`${session.baseUrl}/?step=train`);
    const rank = page.getByLabel("LoRA rank r");
    expect(await rank.inputValue()).toBe("8");
    await rank.fill("16");
    await expect.poll(() => new URL(page.url()).searchParams.get("lora.rank")).toBe("16");
    await expect.poll(() => new URL(page.url()).searchParams.get("step")).toBe("train");
    const link = page.url();

    const other = await session.newPage();
    await other.page.goto(link);
    expect(await other.page.getByLabel("LoRA rank r").inputValue()).toBe("16");
    expect(other.problems).toEqual([]);
    expect(problems).toEqual([]);
    await other.page.context().close();
    await page.context().close();
  });

  it("downloads the experiment as a manifest, and opening that manifest elsewhere restores it", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(`${session.baseUrl}/?step=prune&prune.start=7&prune.count=3&seeds.train=42`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download manifest" }).click()]);
    const file = `${artifactsDir}/prunelab-manifest.json`;
    await download.saveAs(file);
    const { manifest, warnings } = parseManifest(await readFile(file, "utf8"), "prunelab-manifest.json");
    expect(warnings).toEqual([]);
    expect(manifest.experiment.prune).toEqual({ ...defaultExperiment().prune, start: 7, count: 3 });
    expect(manifest.experiment.seeds.train).toBe(42);

    const other = await session.newPage();
    await other.page.goto(session.baseUrl);
    await other.page.getByLabel("Open manifest…").setInputFiles(file);
    await expect.poll(() => new URL(other.page.url()).searchParams.get("prune.start")).toBe("7");
    await expect.poll(() => new URL(other.page.url()).searchParams.get("seeds.train")).toBe("42");
    await other.page.getByText("Opened prunelab-manifest.json.").waitFor();
    expect(other.problems).toEqual([]);
    expect(problems).toEqual([]);
    await other.page.context().close();
    await page.context().close();
  });

  it("saves a run to IndexedDB, lists it after a reload, reopens and deletes it", async () => {
    const { page, problems } = await session.newPage();
    await page.goto(`${session.baseUrl}/?step=prune&prune.start=3&prune.count=2`);
    await page.getByRole("button", { name: "Runs" }).click();
    await page.getByLabel("Save the current experiment as").fill("drop 3-4");
    await page.getByRole("button", { name: "Save run" }).click();
    await page.getByRole("rowheader", { name: "drop 3-4" }).waitFor();

    await page.goto(`${session.baseUrl}/?step=runs`);
    const row = page.getByRole("row", { name: /drop 3-4/ });
    await row.waitFor();
    expect(await row.textContent()).toContain("layers 3–4");
    await page.getByRole("button", { name: "Open drop 3-4" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("prune.start")).toBe("3");

    await page.getByRole("button", { name: "Runs" }).click();
    await page.getByRole("button", { name: "Delete drop 3-4" }).click();
    await page.getByText("No saved runs yet.").waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
