import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DownloadedModel, type DownloadOptions, type DownloadProgress, downloadModel, HubError } from "../../src/model/hub";
import { createNodeHubCache, hfHubCacheDir } from "../../src/model/hub-cache-node";
import { loadTokenizer } from "../../src/model/tokenizer";
import { fixtureCommit, fixtureEtag, type HubFixtureServer, startHubFixtureServer } from "./hub-fixture-server";
import { chatMlTokenizerFiles } from "./tokenizer-fixtures";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
/** Stand-in weight bytes: the hub moves bytes and never parses weights. Odd sizes, so no chunk boundary lines up. */
const fakeWeights = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % 251);

const tokenizer = chatMlTokenizerFiles();
const textFiles = {
  "config.json": json({ architectures: ["LlamaForCausalLM"], hidden_size: 8, num_hidden_layers: 2, bos_token_id: 0, eos_token_id: 2 }),
  "tokenizer.json": json(tokenizer.tokenizerJson),
  "tokenizer_config.json": json(tokenizer.tokenizerConfig),
};
const single = {
  files: { ...textFiles, "generation_config.json": json(tokenizer.generationConfig), "model.safetensors": fakeWeights(300_007, 1) },
};
const shard1 = "model-00001-of-00002.safetensors";
const shard2 = "model-00002-of-00002.safetensors";
const sharded = {
  files: {
    ...textFiles,
    "model.safetensors.index.json": json({
      metadata: { total_size: 0 },
      weight_map: { "a.weight": shard1, "b.weight": shard2, "c.weight": shard1 },
    }),
    [shard1]: fakeWeights(250_003, 2),
    [shard2]: fakeWeights(123_457, 3),
  },
};

let server: HubFixtureServer;
let cacheDir: string;

beforeAll(async () => {
  server = await startHubFixtureServer({
    "test-org/tiny-llama": single,
    "test-org/tiny-llama-sharded": sharded,
    "test-org/gated-llama": { ...single, token: "hf_secret" },
    "test-org/evil-index": {
      files: { ...textFiles, "model.safetensors.index.json": json({ weight_map: { "a.weight": "../../outside.safetensors" } }) },
    },
    "test-org/parent-shard": { files: { ...textFiles, "model.safetensors.index.json": json({ weight_map: { "a.weight": ".." } }) } },
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "prunelab-hub-"));
  server.requests.length = 0;
  server.ignoreRange = false;
  server.hideContentRange = false;
  return () => rm(cacheDir, { recursive: true, force: true });
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { cache: createNodeHubCache(cacheDir), endpoint: server.endpoint, ...extra };
}

/** Byte equality that names the first differing offset (element-wise toEqual on 300 kB is slow). */
async function expectFile(model: DownloadedModel, file: string, expected: Uint8Array): Promise<void> {
  const blob = model.files.get(file);
  const got = new Uint8Array((await blob?.arrayBuffer()) ?? new ArrayBuffer(0));
  const firstDiff = got.findIndex((b, i) => b !== expected[i]);
  expect({ file, length: got.length, firstDiff }).toEqual({ file, length: expected.length, firstDiff: -1 });
}

/** Drops the stalled connection once the client has written exactly `bytes` of `file`. */
const dropAt = (file: string, bytes: number) => (p: DownloadProgress) => {
  if (p.file === file && p.loadedBytes === bytes) server.dropStalled();
};

/** GET requests for the file (each download first asks for its metadata with a HEAD). */
const requestsFor = (file: string) => server.requests.filter((r) => r.file === file && r.method === "GET");
const headsFor = (file: string) => server.requests.filter((r) => r.file === file && r.method === "HEAD");
/** huggingface_hub's folder of a model repo, and the paths it keeps a file under. */
const repoDir = (repo: string) => join(cacheDir, `models--${repo.replace("/", "--")}`);
const snapshotOf = (repo: string, file: string) => join(repoDir(repo), "snapshots", fixtureCommit(repo), file);
const incompleteOf = (repo: string, bytes: Uint8Array) => join(repoDir(repo), "blobs", `${fixtureEtag(bytes)}.incomplete`);

describe("downloadModel", () => {
  it("fetches a single-file model with per-file progress, then serves it from the cache alone", async () => {
    const progress: DownloadProgress[] = [];
    const model = await downloadModel("test-org/tiny-llama", options({ onProgress: (p) => progress.push(p) }));
    expect([...model.files.keys()].sort()).toEqual(Object.keys(single.files).sort());
    for (const [name, bytes] of Object.entries(single.files)) await expectFile(model, name, bytes);

    const weights = progress.filter((p) => p.file === "model.safetensors");
    expect(weights.length).toBeGreaterThan(1);
    expect(
      weights.every((p, i) => p.totalBytes === 300_007 && !p.fromCache && (i === 0 || p.loadedBytes > weights[i - 1].loadedBytes)),
    ).toBe(true);
    expect(weights.at(-1)?.loadedBytes).toBe(300_007);
    // Absent optional files are asked for once (HEAD) and skipped; the shard index is never needed.
    expect(headsFor("special_tokens_map.json").map((r) => r.status)).toEqual([404]);
    expect(requestsFor("special_tokens_map.json")).toHaveLength(0);
    expect(server.requests.filter((r) => r.file === "model.safetensors.index.json")).toHaveLength(0);

    expect((await stat(snapshotOf("test-org/tiny-llama", "model.safetensors"))).size).toBe(300_007);
    expect((await readdir(join(repoDir("test-org/tiny-llama"), "blobs"))).filter((f) => f.endsWith(".incomplete"))).toEqual([]);

    const tok = await loadTokenizer(model.repoId, model.readText);
    expect([...tok.stopTokenIds].sort()).toEqual([0, 2]);
    expect(await model.readText("special_tokens_map.json")).toBeNull();

    server.requests.length = 0;
    const again: DownloadProgress[] = [];
    const cached = await downloadModel("test-org/tiny-llama", options({ onProgress: (p) => again.push(p) }));
    expect(server.requests).toEqual([]);
    expect(again.every((p) => p.fromCache)).toBe(true);
    await expectFile(cached, "model.safetensors", single.files["model.safetensors"]);
  });

  it("fetches the shard index and every shard it names, once each", async () => {
    const model = await downloadModel("test-org/tiny-llama-sharded", options());
    expect(headsFor("model.safetensors").map((r) => r.status)).toEqual([404]);
    expect(requestsFor(shard1)).toHaveLength(1);
    for (const name of [shard1, shard2, "model.safetensors.index.json"]) {
      await expectFile(model, name, sharded.files[name as keyof typeof sharded.files]);
    }
    expect(model.files.has("model.safetensors")).toBe(false);
  });

  it("keeps the partial of a dropped connection and resumes it with a Range request", async () => {
    server.stallOnce.set(shard1, 100_000);
    const failed = downloadModel("test-org/tiny-llama-sharded", options({ retries: 0, onProgress: dropAt(shard1, 100_000) }));
    await expect(failed).rejects.toThrow(
      new RegExp(
        `download of ${shard1} of test-org/tiny-llama-sharded .* from ${server.endpoint}/test-org/tiny-llama-sharded/resolve/main/${shard1} broke off after 100000 bytes`,
      ),
    );
    await expect(failed).rejects.toMatchObject({ name: "HubError", kind: "network" });
    const partial = (await stat(incompleteOf("test-org/tiny-llama-sharded", sharded.files[shard1]))).size;
    expect(partial).toBe(100_000);

    const progress: DownloadProgress[] = [];
    const model = await downloadModel("test-org/tiny-llama-sharded", options({ onProgress: (p) => progress.push(p) }));
    expect(requestsFor(shard1).map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [`bytes=${partial}-`, 206],
    ]);
    expect(progress.find((p) => p.file === shard1)?.loadedBytes).toBeGreaterThan(partial);
    expect(progress.find((p) => p.file === shard1)?.totalBytes).toBe(250_003);
    await expectFile(model, shard1, sharded.files[shard1]);
    // Files finished before the drop came from the cache.
    expect(requestsFor("tokenizer.json")).toHaveLength(1);
  });

  it("resumes within one call, and starts over when the server ignores Range", async () => {
    server.stallOnce.set("model.safetensors", 70_000);
    const resumed = await downloadModel("test-org/tiny-llama", options({ onProgress: dropAt("model.safetensors", 70_000) }));
    expect(requestsFor("model.safetensors").map((r) => r.status)).toEqual([200, 206]);
    await expectFile(resumed, "model.safetensors", single.files["model.safetensors"]);

    await rm(cacheDir, { recursive: true });
    server.requests.length = 0;
    server.ignoreRange = true;
    server.stallOnce.set("model.safetensors", 70_000);
    const restarted = await downloadModel("test-org/tiny-llama", options({ onProgress: dropAt("model.safetensors", 70_000) }));
    expect(requestsFor("model.safetensors").map((r) => [r.range !== undefined, r.status])).toEqual([
      [false, 200],
      [true, 200],
    ]);
    await expectFile(restarted, "model.safetensors", single.files["model.safetensors"]);
  });

  it("resumes a 206 whose Content-Range is hidden, counting from the partial", async () => {
    server.hideContentRange = true;
    server.stallOnce.set(shard2, 40_000);
    const progress: DownloadProgress[] = [];
    const drop = dropAt(shard2, 40_000);
    const onProgress = (p: DownloadProgress) => {
      drop(p);
      if (p.file === shard2) progress.push(p);
    };
    const model = await downloadModel("test-org/tiny-llama-sharded", options({ onProgress }));
    expect(requestsFor(shard2).map((r) => r.status)).toEqual([200, 206]);
    expect(progress.at(-1)).toEqual({ file: shard2, loadedBytes: 123_457, totalBytes: 123_457, fromCache: false });
    await expectFile(model, shard2, sharded.files[shard2]);
  });

  it("stops on abort, keeping the partial for the next call", async () => {
    server.stallOnce.set("model.safetensors", 50_000);
    const controller = new AbortController();
    const aborted = downloadModel(
      "test-org/tiny-llama",
      options({ signal: controller.signal, onProgress: (p) => p.file === "model.safetensors" && controller.abort() }),
    );
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
    const partial = incompleteOf("test-org/tiny-llama", single.files["model.safetensors"]);
    expect((await stat(partial)).size).toBeGreaterThan(0);
    const model = await downloadModel("test-org/tiny-llama", options());
    expect(requestsFor("model.safetensors").at(-1)?.status).toBe(206);
    await expectFile(model, "model.safetensors", single.files["model.safetensors"]);
    expect(existsSync(partial)).toBe(false);
  });

  it("finishes a partial that already holds every byte when the server answers 416", async () => {
    const partial = incompleteOf("test-org/tiny-llama", single.files["model.safetensors"]);
    await mkdir(join(partial, ".."), { recursive: true });
    await writeFile(partial, single.files["model.safetensors"]);
    const model = await downloadModel("test-org/tiny-llama", options());
    expect(requestsFor("model.safetensors").map((r) => [r.range, r.status])).toEqual([["bytes=300007-", 416]]);
    await expectFile(model, "model.safetensors", single.files["model.safetensors"]);
  });

  it("names the repo and the file on 404, and asks for a token on 401", async () => {
    const missing = downloadModel("test-org/no-such-model", options());
    await expect(missing).rejects.toBeInstanceOf(HubError);
    await expect(missing).rejects.toThrow(/config\.json of test-org\/no-such-model \(revision main\) was not found \(HTTP 404/);

    const gated = downloadModel("test-org/gated-llama", options());
    await expect(gated).rejects.toMatchObject({ kind: "unauthorized", status: 401 });
    await expect(gated).rejects.toThrow(/may be gated or private.*access token/);
    const model = await downloadModel("test-org/gated-llama", options({ token: "hf_secret" }));
    expect(model.files.has("model.safetensors")).toBe(true);
    expect(
      server.requests
        .filter((r) => r.repo === "test-org/gated-llama" && r.status !== 401)
        .every((r) => r.authorization === "Bearer hf_secret"),
    ).toBe(true);
  });

  it("names the URL when the server cannot be reached", async () => {
    const gone = await startHubFixtureServer({});
    await gone.close();
    const failed = downloadModel("test-org/tiny-llama", options({ endpoint: gone.endpoint }));
    await expect(failed).rejects.toMatchObject({ kind: "network", url: `${gone.endpoint}/test-org/tiny-llama/resolve/main/config.json` });
    await expect(failed).rejects.toThrow(`cannot reach ${gone.endpoint}/test-org/tiny-llama/resolve/main/config.json`);
  });

  it("rejects repo ids and shard names that would leave the cache folder", async () => {
    await expect(downloadModel("../etc", options())).rejects.toThrow(/"\.\.\/etc" is not a Hugging Face repo id/);
    await expect(downloadModel("test-org/evil-index", options())).rejects.toThrow(
      /weight_map entry "a\.weight" is "\.\.\/\.\.\/outside\.safetensors", not a file name/,
    );
    await expect(downloadModel("test-org/parent-shard", options())).rejects.toThrow(/names the shard "\.\.", which is not a file/);
    expect(existsSync(join(cacheDir, "outside.safetensors"))).toBe(false);
  });

  it("keeps huggingface_hub's layout: refs, blobs by etag, relative snapshot links, .no_exist markers", async () => {
    const repo = "test-org/tiny-llama";
    await downloadModel(repo, options());
    const commit = fixtureCommit(repo);
    expect(await readFile(join(repoDir(repo), "refs", "main"), "utf8")).toBe(commit);
    const weights = single.files["model.safetensors"];
    const link = snapshotOf(repo, "model.safetensors");
    expect(await readlink(link)).toBe(join("..", "..", "blobs", fixtureEtag(weights)));
    expect((await stat(join(repoDir(repo), "blobs", fixtureEtag(weights)))).size).toBe(weights.length);
    expect(existsSync(join(repoDir(repo), ".no_exist", commit, "special_tokens_map.json"))).toBe(true);
    // A pinned commit reads the same snapshot and writes no ref of its own.
    server.requests.length = 0;
    const pinned = await downloadModel(repo, options({ revision: commit }));
    expect(server.requests).toEqual([]);
    await expectFile(pinned, "model.safetensors", weights);
    expect(await readdir(join(repoDir(repo), "refs"))).toEqual(["main"]);
  });

  it("reuses a snapshot that Python's huggingface_hub wrote, offline and online, without a request", async () => {
    // Laid out by hand as hf_hub_download leaves it (the sharded fixture, every file fetched).
    const repo = "test-org/tiny-llama-sharded";
    const commit = fixtureCommit(repo);
    await mkdir(join(repoDir(repo), "refs"), { recursive: true });
    await writeFile(join(repoDir(repo), "refs", "main"), commit);
    await mkdir(join(repoDir(repo), "blobs"), { recursive: true });
    await mkdir(join(repoDir(repo), "snapshots", commit), { recursive: true });
    for (const [name, bytes] of Object.entries(sharded.files)) {
      await writeFile(join(repoDir(repo), "blobs", fixtureEtag(bytes)), bytes);
      await symlink(join("..", "..", "blobs", fixtureEtag(bytes)), snapshotOf(repo, name));
    }
    await mkdir(join(repoDir(repo), ".no_exist", commit), { recursive: true });
    for (const name of ["generation_config.json", "special_tokens_map.json", "chat_template.jinja", "model.safetensors"]) {
      await writeFile(join(repoDir(repo), ".no_exist", commit, name), "");
    }
    for (const offline of [true, false]) {
      const model = await downloadModel(repo, options({ offline }));
      await expectFile(model, shard2, sharded.files[shard2]);
    }
    expect(server.requests).toEqual([]);
  });

  it("offline, a file missing from the cache is a typed error that names it, and nothing is fetched", async () => {
    const failed = downloadModel("test-org/tiny-llama", options({ offline: true }));
    await expect(failed).rejects.toMatchObject({ name: "HubError", kind: "offline" });
    await expect(failed).rejects.toThrow(
      /config\.json of test-org\/tiny-llama \(revision main\) is not in the cache \(looked for .*models--test-org--tiny-llama.*config\.json\)/,
    );
    // With the text files cached but no weights, the error names the weights.
    await downloadModel("test-org/tiny-llama", options());
    await rm(snapshotOf("test-org/tiny-llama", "model.safetensors"));
    server.requests.length = 0;
    await expect(downloadModel("test-org/tiny-llama", options({ offline: true }))).rejects.toThrow(
      /neither model\.safetensors nor model\.safetensors\.index\.json is in the cache/,
    );
    expect(server.requests).toEqual([]);
  });

  it("finds the cache where huggingface_hub does: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub", () => {
    expect(hfHubCacheDir({ HF_HUB_CACHE: "/a/hub-cache", HF_HOME: "/b" })).toBe("/a/hub-cache");
    expect(hfHubCacheDir({ HF_HOME: "/b" })).toBe(join("/b", "hub"));
    expect(hfHubCacheDir({ XDG_CACHE_HOME: "/c" })).toBe(join("/c", "huggingface", "hub"));
    expect(hfHubCacheDir({})).toMatch(/\.cache\/huggingface\/hub$/);
  });
});
