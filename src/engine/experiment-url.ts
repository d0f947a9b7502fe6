/**
 * Experiment ⇄ page URL. Only fields that differ from the defaults are written, one query parameter
 * per field under its dotted path (`?prune.start=9&prune.count=6&lora.rank=16`), so a shared link
 * stays short and readable, and a link keeps meaning the same thing when new fields get defaults.
 * Parameters without a dot (e.g. `step`) belong to the page, not the experiment, and are kept.
 */
import {
  decodeExperiment,
  defaultExperiment,
  type Experiment,
  ExperimentFieldError,
  experimentChanges,
  type NormalisedExperiment,
  normaliseExperiment,
} from "./experiment";

type Level = Record<string, unknown>;

/** Replaces the experiment's parameters in `search` (with or without "?"); other parameters are kept. */
export function experimentToSearch(experiment: Experiment, search = ""): string {
  const params = new URLSearchParams(search);
  for (const key of [...params.keys()]) if (key.includes(".")) params.delete(key);
  for (const [path, value] of flatten(experimentChanges(experiment), "")) params.set(path, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function experimentFromSearch(search: string): NormalisedExperiment {
  return normaliseExperiment(searchFields(new URLSearchParams(search)), "link");
}

/** The strict reading of a link: the first unknown or bad field throws an ExperimentFieldError naming it. */
export function decodeExperimentSearch(search: string): Experiment {
  return decodeExperiment(searchFields(new URLSearchParams(search)), "link");
}

/**
 * `experiment` with changes given as a link gives them (`lora.rank` = "16"), read strictly: the
 * command line's `--set PATH=VALUE` goes through the same schema as the URL and the manifest, so
 * an unknown path or a bad value is an ExperimentFieldError naming the field.
 */
export function experimentWithChanges(experiment: Experiment, changes: readonly (readonly [string, string])[], source: string): Experiment {
  const pageParameter = changes.find(([path]) => !path.includes("."));
  if (pageParameter)
    throw new ExperimentFieldError(source, pageParameter[0], "unknown field FIELD (a field is section.name, e.g. lora.rank)");
  return decodeExperiment(overlay(experiment as unknown as Level, searchFields(changes)), source);
}

/** `changes` laid over `base`, level by level, into new plain objects. */
function overlay(base: Level, changes: Level): Level {
  const out: Level = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const under = Object.hasOwn(base, key) ? base[key] : undefined;
    out[key] = isLevel(value) && isLevel(under) ? overlay(under, value) : value;
  }
  return out;
}

const isLevel = (v: unknown): v is Level => typeof v === "object" && v !== null;

/**
 * The link's dotted parameters as a nested object for the schema to judge. Only paths that name a
 * field of the defaults (own keys, level by level) are nested; any other path (`__proto__.x`,
 * `lora.constructor`, a typo) stays one flat key, which the schema reports as unknown, so no
 * parameter can ever reach a prototype.
 */
function searchFields(params: Iterable<readonly [string, string]>): Level {
  const defaults = defaultExperiment() as unknown as Level;
  const nested: Level = {};
  for (const [path, text] of params) {
    if (!path.includes(".")) continue;
    const keys = path.split(".");
    const fallback = leafAt(defaults, keys);
    if (fallback === undefined) {
      nested[path] = text;
      continue;
    }
    let level = nested;
    for (const key of keys.slice(0, -1)) {
      if (!Object.hasOwn(level, key)) level[key] = {};
      level = level[key] as Level;
    }
    level[keys.at(-1) as string] = parseValue(text, fallback);
  }
  return nested;
}

function* flatten(level: Level, prefix: string): Generator<[string, unknown]> {
  for (const [key, value] of Object.entries(level)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "object" && value !== null) yield* flatten(value as Level, path);
    else yield [path, value];
  }
}

/** The default at a dotted path when it names a leaf field (own keys only); undefined otherwise. */
function leafAt(level: Level, keys: string[]): unknown {
  let v: unknown = level;
  for (const key of keys) v = typeof v === "object" && v !== null && Object.hasOwn(v, key) ? (v as Level)[key] : undefined;
  return typeof v === "object" ? undefined : v;
}

/** Text from the URL as the type the default has, so normalisation can judge it like any other input. */
function parseValue(text: string, fallback: unknown): unknown {
  if (typeof fallback === "number") return text.trim() === "" ? Number.NaN : Number(text);
  if (typeof fallback === "boolean") return text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text;
  return text;
}
