/**
 * The experiment schema on hostile input: any link or manifest either decodes or fails with a typed
 * error naming the field (or, for a manifest, the file), never with another exception, and never
 * changes Object.prototype (`/?__proto__.polluted=yes` used to). Seeded, so a failure reproduces.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { defaultExperiment, ExperimentFieldError } from "../../src/engine/experiment";
import { decodeExperimentSearch, experimentFromSearch, experimentWithChanges } from "../../src/engine/experiment-url";
import { ManifestError, parseManifest } from "../../src/engine/manifest";

const forbidden = ["__proto__", "constructor", "prototype"];

/** Every dotted path of the defaults, so that many drawn keys hit real fields. */
function fieldPaths(level: object, prefix = ""): string[] {
  return Object.entries(level).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? fieldPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
const paths = fieldPaths(defaultExperiment());
const sections = Object.keys(defaultExperiment());

const key = fc.oneof(fc.constantFrom(...forbidden), fc.constantFrom(...sections), fc.string({ maxLength: 6 }));
const dottedPath = fc.oneof(
  fc.constantFrom(...paths),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((keys) => keys.join(".")),
  fc.tuple(fc.constantFrom(...paths), fc.constantFrom(...forbidden)).map(([p, f]) => `${p}.${f}`),
  fc.tuple(fc.constantFrom(...forbidden), fc.constantFrom(...paths)).map(([f, p]) => `${f}.${p}`),
);
const textValue = fc.oneof(
  fc.string(),
  fc.double().map(String),
  fc.integer().map(String),
  fc.constantFrom("", "NaN", "Infinity", "-1", "true", "false", "1e400", "yes", "__proto__"),
);

const prototypeKeys = () => Reflect.ownKeys(Object.prototype).map(String).sort();
const before = prototypeKeys();

/** Every object level of a decoded experiment is a plain object with only the defaults' keys. */
function expectPlain(value: object, defaults: object): void {
  expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  expect(Object.keys(value).sort()).toEqual(Object.keys(defaults).sort());
  for (const [k, v] of Object.entries(value)) {
    const d = (defaults as Record<string, unknown>)[k];
    if (typeof d === "object" && d !== null) expectPlain(v as object, d);
    else expect(typeof v).toBe(typeof d);
  }
}

afterEach(() => {
  expect(prototypeKeys()).toEqual(before);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe("experiment schema on command-line changes", () => {
  it("changes fields by their dotted paths, strictly, naming a bad or unknown field", () => {
    const changed = experimentWithChanges(
      defaultExperiment(),
      [
        ["lora.rank", "16"],
        ["lora.weightDecay", "0.01"],
        ["calibration.chatTemplate", "true"],
      ],
      "--set",
    );
    expect(changed).toEqual({
      ...defaultExperiment(),
      lora: { ...defaultExperiment().lora, rank: 16, weightDecay: 0.01 },
      calibration: { ...defaultExperiment().calibration, chatTemplate: true },
    });
    for (const [change, field] of [
      [["lora.rank", "sixteen"], "lora.rank"],
      [["lora.rank", "0"], "lora.rank"],
      [["lora.epochz", "2"], "lora.epochz"],
      [["rank", "2"], "rank"],
      [["__proto__.polluted", "yes"], "__proto__.polluted"],
      [["lora.constructor", "1"], "lora.constructor"],
    ] as const) {
      expect(() => experimentWithChanges(defaultExperiment(), [change], "--set")).toThrow(
        expect.objectContaining({ name: "ExperimentFieldError", field }),
      );
    }
  });
});

describe("experiment schema on hostile links", () => {
  it("never lets a link reach Object.prototype (the reported /?__proto__.polluted=yes)", () => {
    const { experiment, warnings } = experimentFromSearch("?__proto__.polluted=yes&constructor.prototype.polluted=yes&lora.__proto__=1");
    expect(experiment).toEqual(defaultExperiment());
    expect(warnings).toEqual([
      "link: unknown field __proto__.polluted ignored",
      "link: unknown field constructor.prototype.polluted ignored",
      "link: unknown field lora.__proto__ ignored",
    ]);
    expect(() => decodeExperimentSearch("?__proto__.polluted=yes")).toThrow(
      expect.objectContaining({
        name: "ExperimentFieldError",
        field: "__proto__.polluted",
        message: "link: unknown field __proto__.polluted",
      }),
    );
    expect(() => decodeExperimentSearch("?lora.rank=0")).toThrow("link: lora.rank is 0, outside [1, 4096]");
  });

  it("decodes any link or --set list, or fails with an ExperimentFieldError naming one of its parameters", () => {
    const params = fc.array(fc.tuple(dottedPath, textValue), { maxLength: 8 });
    fc.assert(
      fc.property(params, (pairs) => {
        const search = `?${new URLSearchParams(pairs).toString()}`;
        const lenient = experimentFromSearch(search);
        expectPlain(lenient.experiment, defaultExperiment());
        for (const w of lenient.warnings) expect(w).toMatch(/^link: /);
        const strict = [() => decodeExperimentSearch(search), () => experimentWithChanges(defaultExperiment(), pairs, "--set")];
        for (const decode of strict) {
          try {
            expectPlain(decode(), defaultExperiment());
          } catch (e) {
            expect(e).toBeInstanceOf(ExperimentFieldError);
            const field = (e as ExperimentFieldError).field;
            expect(pairs.some(([p]) => p === field || p.startsWith(`${field}.`))).toBe(true);
          }
        }
        expect(prototypeKeys()).toEqual(before);
      }),
      { seed: 15, numRuns: 500 },
    );
  });
});

/** JSON text of arbitrary nesting whose keys may be `__proto__` and friends, written by hand so they stay own keys. */
type Json = null | boolean | number | string | Json[] | { entries: [string, Json][] };
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -5, max: 5000 }),
    fc.string({ maxLength: 8 }),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie("value")), { maxLength: 5 }).map((entries) => ({ entries })),
  ),
})).value;
function jsonText(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(",")}}`;
  return JSON.stringify(v);
}
/** An experiment-shaped value: real sections and fields mixed with hostile keys and wrong types. */
const experimentJson: fc.Arbitrary<Json> = fc.oneof(
  json,
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...sections), key),
        fc.oneof(
          json,
          fc
            .array(fc.tuple(fc.oneof(fc.constantFrom(...paths.map((p) => p.split(".")[1])), key), json), { maxLength: 4 })
            .map((entries) => ({ entries })),
        ),
      ),
      { maxLength: 5 },
    )
    .map((entries) => ({ entries })),
);

describe("experiment schema on hostile manifests", () => {
  it("reads any manifest, or fails with a ManifestError naming the file or an ExperimentFieldError naming the field", () => {
    fc.assert(
      fc.property(experimentJson, fc.constantFrom(1, 2), (experiment, version) => {
        const text = `{"format":"prunelab.manifest","version":${version},"__proto__":{"polluted":"yes"},"experiment":${jsonText(experiment)}}`;
        for (const strict of [false, true]) {
          try {
            const { manifest } = parseManifest(text, "m.json", { strict });
            expectPlain(manifest.experiment, defaultExperiment());
          } catch (e) {
            if (e instanceof ManifestError) expect(e.message).toMatch(/^m\.json /);
            else {
              expect(strict).toBe(true);
              expect(e).toBeInstanceOf(ExperimentFieldError);
              const { message, field } = e as ExperimentFieldError;
              expect(message).toMatch(/^m\.json: /);
              expect(message).toContain(field);
            }
          }
        }
        expect(prototypeKeys()).toEqual(before);
      }),
      { seed: 15, numRuns: 500 },
    );
  });
});
