import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultExperiment, type Experiment, experimentChanges, normaliseExperiment } from "../../src/engine/experiment";
import { experimentFromSearch, experimentToSearch } from "../../src/engine/experiment-url";
import { createManifest, ManifestError, manifestToJson, parseManifest } from "../../src/engine/manifest";

/** Experiments with every field drawn from its valid range (strings include URL-hostile characters). */
const experiments: fc.Arbitrary<Experiment> = fc.record({
  model: fc.record({
    source: fc.constantFrom("demo" as const, "hub" as const, "local" as const),
    repo: fc.string(),
    revision: fc.string(),
    endpoint: fc.webUrl(),
    localName: fc.string({ unit: "grapheme" }),
  }),
  calibration: fc.record({
    dataset: fc.string(),
    samples: fc.integer({ min: 1, max: 100_000 }),
    maxTokens: fc.integer({ min: 1, max: 4096 }),
    tokens: fc.constantFrom("last" as const, "all" as const),
    chatTemplate: fc.boolean(),
    batchSize: fc.integer({ min: 1, max: 4096 }),
  }),
  prune: fc.record({
    start: fc.integer({ min: 0, max: 100 }),
    count: fc.integer({ min: 0, max: 100 }),
    metric: fc.constantFrom("angular" as const, "block-influence" as const),
  }),
  distill: fc.record({
    dataset: fc.string(),
    consistencyFilter: fc.boolean(),
    maxNewTokens: fc.integer({ min: 1, max: 4096 }),
    count: fc.integer({ min: 1, max: 1_000_000 }),
    temperature: fc.double({ min: 0, max: 10, noNaN: true }),
    topP: fc.double({ min: 0, max: 1, noNaN: true }),
    batchSize: fc.integer({ min: 1, max: 4096 }),
  }),
  lora: fc.record({
    rank: fc.integer({ min: 1, max: 256 }),
    alpha: fc.double({ min: 0, max: 1e6, noNaN: true }),
    dropout: fc.double({ min: 0, max: 0.99, noNaN: true }),
    learningRate: fc.double({ min: 0, max: 1, noNaN: true }),
    batchSize: fc.integer({ min: 1, max: 4096 }),
    targets: fc.string(),
    steps: fc.integer({ min: 1, max: 1_000_000 }),
    maxLength: fc.integer({ min: 2, max: 131_072 }),
    warmupSteps: fc.integer({ min: 0, max: 1_000_000 }),
    weightDecay: fc.double({ min: 0, max: 1, noNaN: true }),
    maxGradNorm: fc.double({ min: 0, max: 1e6, noNaN: true }),
  }),
  evaluate: fc.record({ fewShot: fc.integer({ min: 0, max: 64 }), items: fc.integer({ min: 1, max: 1_000_000 }) }),
  merge: fc.record({ t: fc.double({ min: 0, max: 1, noNaN: true }) }),
  sampling: fc.record({
    temperature: fc.double({ min: 0, max: 10, noNaN: true }),
    topK: fc.integer({ min: 0, max: 1000 }),
    topP: fc.double({ min: 0, max: 1, noNaN: true }),
    maxTokens: fc.integer({ min: 1, max: 4096 }),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  }),
  seeds: fc.record({ data: fc.integer({ min: 0, max: 2 ** 32 - 1 }), train: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
});

describe("experiment defaults and normalisation", () => {
  it("has defaults that normalise to themselves without warnings", () => {
    const defaults = defaultExperiment();
    expect(normaliseExperiment(defaults, "test")).toEqual({ experiment: defaults, warnings: [] });
    expect(experimentChanges(defaults)).toEqual({});
    expect(defaults.model.source).toBe("demo");
    expect(defaults.prune.count).toBe(0);
  });

  it("fills missing fields from the defaults", () => {
    const { experiment, warnings } = normaliseExperiment({ lora: { rank: 32 } }, "test");
    expect(warnings).toEqual([]);
    expect(experiment).toEqual({ ...defaultExperiment(), lora: { ...defaultExperiment().lora, rank: 32 } });
  });

  it("replaces wrong types, out-of-range values and unknown choices, naming the field", () => {
    const { experiment, warnings } = normaliseExperiment(
      { lora: { rank: "16", dropout: 2 }, prune: { count: 1.5, metric: "cosine" }, sampling: { topP: Number.NaN }, extra: 1 },
      "run.json",
    );
    expect(experiment).toEqual(defaultExperiment());
    expect(warnings).toHaveLength(6);
    expect(warnings.join("\n")).toMatch(/run\.json: lora\.rank should be a number, got "16"; using 8/);
    expect(warnings.join("\n")).toMatch(/lora\.dropout is 2, outside \[0, 0\.99\]/);
    expect(warnings.join("\n")).toMatch(/prune\.count is 1\.5, not an integer/);
    expect(warnings.join("\n")).toMatch(/prune\.metric is "cosine", not one of angular, block-influence/);
    expect(warnings.join("\n")).toMatch(/sampling\.topP is NaN/);
    expect(warnings.join("\n")).toMatch(/unknown field extra ignored/);
  });

  it("rejects an endpoint that is not an http(s) URL", () => {
    const { experiment, warnings } = normaliseExperiment({ model: { endpoint: "ftp://mirror" } }, "x");
    expect(experiment.model.endpoint).toBe("https://huggingface.co");
    expect(warnings).toEqual(['x: model.endpoint is "ftp://mirror", not an http(s) URL; using "https://huggingface.co"']);
    expect(normaliseExperiment({ model: { endpoint: "http://127.0.0.1:8080/hf" } }, "x").warnings).toEqual([]);
  });

  it("treats a non-object as all defaults, with a warning", () => {
    expect(normaliseExperiment([1, 2], "x")).toEqual({
      experiment: defaultExperiment(),
      warnings: ["x: experiment should be an object; using defaults"],
    });
    expect(normaliseExperiment({ lora: 3 }, "x").warnings).toEqual(["x: lora should be an object; using defaults"]);
  });
});

describe("experiment in the URL", () => {
  it("writes only changed fields, as readable dotted parameters, and keeps page parameters", () => {
    const e = defaultExperiment();
    expect(experimentToSearch(e)).toBe("");
    e.prune.start = 9;
    e.prune.count = 6;
    e.model.source = "hub";
    e.model.repo = "HuggingFaceTB/SmolLM2-135M-Instruct";
    e.distill.consistencyFilter = false;
    const search = experimentToSearch(e, "?step=prune&lora.rank=99");
    expect(search).toBe(
      "?step=prune&model.source=hub&model.repo=HuggingFaceTB%2FSmolLM2-135M-Instruct&prune.start=9&prune.count=6&distill.consistencyFilter=false",
    );
    expect(experimentFromSearch(search)).toEqual({ experiment: e, warnings: [] });
  });

  it("round-trips any valid experiment", () => {
    fc.assert(
      fc.property(experiments, (e) => {
        const back = experimentFromSearch(experimentToSearch(e));
        expect(back.warnings).toEqual([]);
        expect(back.experiment).toEqual(e);
      }),
      { numRuns: 300 },
    );
  });

  it("reports bad values in a hand-edited link and keeps the defaults for them", () => {
    const { experiment, warnings } = experimentFromSearch(
      "?lora.rank=lots&merge.t=&distill.consistencyFilter=maybe&lora.nope=1&step=train",
    );
    expect(experiment).toEqual(defaultExperiment());
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/^link: lora\.rank is NaN/);
  });
});

describe("run manifest", () => {
  it("round-trips any valid experiment through JSON, recording when and by what", () => {
    fc.assert(
      fc.property(experiments, (e) => {
        const manifest = createManifest(e, "1.2.3", new Date("2026-01-02T03:04:05Z"));
        const back = parseManifest(manifestToJson(manifest), "m.json");
        expect(back.warnings).toEqual([]);
        expect(back.manifest).toEqual(manifest);
        expect(back.manifest.createdAt).toBe("2026-01-02T03:04:05.000Z");
        expect(back.manifest.app).toEqual({ name: "prunelab", version: "1.2.3" });
      }),
      { numRuns: 100 },
    );
  });

  it("writes every field, not just the changes, so it keeps its meaning if defaults change", () => {
    const json = JSON.parse(manifestToJson(createManifest(defaultExperiment(), "0.1.0")));
    expect(json.format).toBe("prunelab.manifest");
    expect(json.version).toBe(1);
    expect(json.experiment).toEqual(defaultExperiment());
  });

  it("rejects files that are not manifests, naming the file", () => {
    expect(() => parseManifest("{oops", "a.json")).toThrow(ManifestError);
    expect(() => parseManifest("{oops", "a.json")).toThrow(/a\.json is not valid JSON/);
    expect(() => parseManifest('{"format":"other"}', "b.json")).toThrow(/b\.json is not a Prunelab manifest/);
    expect(() => parseManifest('{"format":"prunelab.manifest","version":2}', "c.json")).toThrow(
      /c\.json has manifest version 2; this Prunelab reads version 1/,
    );
  });

  it("reads an older manifest with a missing field and an unknown one, with warnings", () => {
    const text = JSON.stringify({
      format: "prunelab.manifest",
      version: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      experiment: { lora: { rank: 4, old: true } },
    });
    const { manifest, warnings } = parseManifest(text, "old.json");
    expect(manifest.experiment.lora.rank).toBe(4);
    expect(manifest.experiment.seeds).toEqual(defaultExperiment().seeds);
    expect(manifest.app.version).toBe("unknown");
    expect(warnings).toEqual(["old.json: unknown field lora.old ignored"]);
  });
});
