/** Hub repo ids in place of model paths, through the CLI, against the fixture server and a temporary HF cache. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubEnvironment, parseHubModelId } from "../../src/model/hub-model-source";
import { writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { fixtureCommit, type HubFixtureServer, startHubFixtureServer } from "../model/hub-fixture-server";
import { runCliCaptured } from "./cli-harness";

const cli = (...argv: string[]) => runCliCaptured(argv);
const folder = writeTinyChatFolder();
const repo = "test-org/tiny-chat";
let server: HubFixtureServer;
let cacheDir: string;
const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE };

beforeAll(async () => {
  const files = Object.fromEntries(readdirSync(folder).map((name) => [name, new Uint8Array(readFileSync(join(folder, name)))]));
  server = await startHubFixtureServer({ [repo]: { files } });
  cacheDir = mkdtempSync(join(tmpdir(), "prunelab-hf-cache-"));
  process.env.HF_ENDPOINT = server.endpoint;
  process.env.HF_HUB_CACHE = cacheDir;
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await server.close();
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

describe("repo ids", () => {
  it.each([
    ["owner/name", { repoId: "owner/name" }],
    ["HuggingFaceTB/SmolLM2-135M@main", { repoId: "HuggingFaceTB/SmolLM2-135M", revision: "main" }],
    ["o/n@refs/pr/1", { repoId: "o/n", revision: "refs/pr/1" }],
    ["/abs/path", null],
    ["../out/model", null],
    ["m", null],
    ["a/b/c", null],
  ])("%s → %j", (text, id) => {
    expect(parseHubModelId(text)).toEqual(id);
  });

  it("reads HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and the cache folder from the environment", () => {
    expect(hubEnvironment({ HF_ENDPOINT: "http://127.0.0.1:1", HF_TOKEN: "t", HF_HUB_OFFLINE: "1", HF_HOME: "/h" })).toEqual({
      endpoint: "http://127.0.0.1:1",
      token: "t",
      offline: true,
      cacheDir: join("/h", "hub"),
    });
    expect(hubEnvironment({ HF_HUB_OFFLINE: "0" }).offline).toBe(false);
  });
});

describe("prunelab with Hub ids", () => {
  it("loads a repo id into the HF cache, then works --offline from it alone", async () => {
    const local = await cli("info", "--model", folder, "--json");
    const first = await cli("info", "--model", repo, "--json");
    // Progress on stderr, one line per file fetched; stdout stays one JSON object.
    expect(first.stderr).toMatch(/\rdownloading model\.safetensors: [\d.]+ of [\d.]+ MiB \(100 %\)\n/);
    expect(first.stderr).toMatch(/downloading config\.json/);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).parameters).toBe(JSON.parse(local.stdout).parameters);
    expect(readFileSync(join(cacheDir, "models--test-org--tiny-chat", "refs", "main"), "utf8")).toBe(fixtureCommit(repo));
    const requests = server.requests.length;
    const offline = await cli("--offline", "info", "--model", repo, "--json");
    expect(offline.code).toBe(0);
    expect(offline.stderr).toBe("");
    expect(JSON.parse(offline.stdout).config).toEqual(JSON.parse(first.stdout).config);
    expect(server.requests.length).toBe(requests);
    expect(process.env.HF_HUB_OFFLINE).toBeUndefined();
  });

  it("--offline with a repo missing from the cache fails in one line naming the file, with no request", async () => {
    const requests = server.requests.length;
    const r = await cli("info", "--model", "test-org/never-fetched", "--offline");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /config\.json of test-org\/never-fetched \(revision main\) is not in the cache .*offline mode does not download/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(server.requests.length).toBe(requests);
  });

  it("a path that is neither a file nor a repo says both", async () => {
    const r = await cli("info", "--model", "no-org/no-model");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-org\/no-model: no such file or folder, nor a Hub repo: .*HTTP 404/);
  });

  it("generate, speculate (--draft and --target), eval and prune take ids, pinned commits included, as folders", async () => {
    const pinned = `${repo}@${fixtureCommit(repo)}`;
    const args = ["--prompt", "the cat", "--max-tokens", "4", "--chat"];
    const local = await cli("generate", "--model", folder, ...args);
    const hub = await cli("generate", "--model", pinned, ...args);
    expect(hub.stderr).toMatch(/^prompt: /);
    expect(hub.code).toBe(0);
    expect(hub.stdout).toBe(local.stdout);

    const spec = await cli("speculate", "--draft", repo, "--target", pinned, "--k", "2", "--prompt", "the", "--max-tokens", "3", "--json");
    expect(spec.stderr).toMatch(/acceptance rate/);
    expect(spec.code).toBe(0);
    expect(JSON.parse(spec.stdout).acceptanceRate).toBe(1);

    const tasks = join(cacheDir, "tasks.json");
    writeFileSync(
      tasks,
      JSON.stringify({
        name: "t",
        tasks: [{ name: "pick", kind: "multiple-choice", items: [{ context: "the", choices: ["cat", "mat"], gold: 0 }] }],
      }),
    );
    const evalHub = await cli("eval", "--model", repo, "--tasks", tasks, "--json");
    const evalLocal = await cli("eval", "--model", folder, "--tasks", tasks, "--json");
    expect(JSON.parse(evalHub.stdout).average).toBe(JSON.parse(evalLocal.stdout).average);

    const out = join(cacheDir, "pruned");
    const pruned = await cli("prune", "--model", repo, "--start", "0", "--n", "1", "--out", out);
    expect(pruned.stderr).toBe("");
    expect(pruned.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).num_hidden_layers).toBe(1);
  });
});
