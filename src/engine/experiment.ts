/**
 * The state that defines an experiment: everything needed to replay a study (model source,
 * calibration set, chosen block, distillation, LoRA, evaluation, merging, seeds). It is a plain
 * object of strings, numbers and booleans so that it serialises to a URL, a JSON manifest and
 * IndexedDB without adapters, and so that `normaliseExperiment` can check any untrusted copy
 * field by field against the defaults. This is the one schema: URL state (experiment-url.ts),
 * manifests (manifest.ts) and IndexedDB all read an experiment through it. It builds plain objects
 * from the defaults' own keys only, so no key of the input (`__proto__`, `constructor`,
 * `prototype` included) can reach a prototype.
 */
import { sdftSampling } from "../distill/distill-dataset";
import { trainDefaults } from "../train/train-loop";

export type ModelSourceKind = "demo" | "hub" | "local";

export interface Experiment {
  model: {
    source: ModelSourceKind;
    /** Hugging Face repo id, e.g. "HuggingFaceTB/SmolLM2-135M-Instruct" (source "hub"). */
    repo: string;
    revision: string;
    /** The Hub (or a mirror of it) that serves `repo`. */
    endpoint: string;
    /** What the user picked (folder or file names) for source "local"; files cannot travel in a link. */
    localName: string;
  };
  /**
   * dataset "demo-calibration": the demo world's prose; any other name is the user's own text (pasted or a JSONL file), which
   * must be given again to replay. tokens: the distance over the last token of each sample or all of them.
   */
  calibration: {
    dataset: string;
    samples: number;
    maxTokens: number;
    tokens: "last" | "all";
    chatTemplate: boolean;
    batchSize: number;
  };
  /** The block of consecutive decoder layers to drop; count 0 means none chosen yet. */
  prune: { start: number; count: number; metric: "angular" | "block-influence" };
  /**
   * dataset "demo-train" (the demo world's general instructions) or "demo-math" (its word problems), or the name of the
   * user's Alpaca JSONL; the first `count` records, drawn with seeds.data, which also seeds the sampling.
   */
  distill: {
    dataset: string;
    consistencyFilter: boolean;
    maxNewTokens: number;
    count: number;
    temperature: number;
    topP: number;
    batchSize: number;
  };
  lora: {
    rank: number;
    alpha: number;
    dropout: number;
    learningRate: number;
    batchSize: number;
    targets: string;
    steps: number;
    maxLength: number;
    /** Linear warmup steps before the cosine decay. */
    warmupSteps: number;
    /** AdamW's decoupled weight decay. */
    weightDecay: number;
    /** Global L2 norm the gradients are clipped to (0: no clipping). */
    maxGradNorm: number;
  };
  /** items: the first ones of each task. */
  evaluate: { fewShot: number; items: number };
  merge: { t: number };
  sampling: { temperature: number; topK: number; topP: number; maxTokens: number; seed: number };
  seeds: { data: number; train: number };
}

/**
 * The one table of defaults. Sources: LoRA r 8, alpha 16, dropout 0.05 and the sampling of the
 * rewrites (temperature 0.95, top-p 0.7, src/distill/distill-dataset.ts) are SDFT's recipe (Yang
 * et al. 2024), on which the paper's self-data distillation builds; the optimizer's warmup, weight
 * decay and clipping are the trainer's (src/train/train-loop.ts: Hugging Face TrainingArguments');
 * SLERP t 0.5 weighs the two fine-tunes equally. The rest (learning rate 2e-4 on q, k, v, o for 20
 * steps, 16 records, 20 items per task, 3-shot) are sized for the workbench's demo model and a
 * browser's budget. `prunelab paper` starts from this table and states its departures
 * (src/engine/study.ts).
 */
export function defaultExperiment(): Experiment {
  return {
    model: { source: "demo", repo: "", revision: "main", endpoint: "https://huggingface.co", localName: "" },
    calibration: { dataset: "demo-calibration", samples: 64, maxTokens: 256, tokens: "last", chatTemplate: false, batchSize: 8 },
    prune: { start: 0, count: 0, metric: "angular" },
    distill: { dataset: "demo-train", consistencyFilter: true, maxNewTokens: 128, count: 16, ...sdftSampling, batchSize: 4 },
    lora: {
      rank: 8,
      alpha: 16,
      dropout: 0.05,
      learningRate: 2e-4,
      batchSize: 8,
      targets: "q_proj,k_proj,v_proj,o_proj",
      steps: 20,
      maxLength: 256,
      // The trainer's own defaults (Hugging Face TrainingArguments': no warmup, no weight decay, clip at 1).
      warmupSteps: trainDefaults.warmupSteps,
      weightDecay: trainDefaults.weightDecay,
      maxGradNorm: trainDefaults.maxGradNorm,
    },
    evaluate: { fewShot: 3, items: 20 },
    merge: { t: 0.5 },
    sampling: { temperature: 0.7, topK: 40, topP: 0.95, maxTokens: 128, seed: 1 },
    seeds: { data: 1, train: 1 },
  };
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** Bounds for numeric fields by dotted path; a value outside them is replaced by the default. */
const numberRules: Record<string, NumberRule> = {
  "calibration.samples": { min: 1, max: 100_000, integer: true },
  "calibration.maxTokens": { min: 1, max: 131_072, integer: true },
  "calibration.batchSize": { min: 1, max: 4096, integer: true },
  "prune.start": { min: 0, max: 1024, integer: true },
  "prune.count": { min: 0, max: 1024, integer: true },
  "distill.maxNewTokens": { min: 1, max: 131_072, integer: true },
  "distill.count": { min: 1, max: 1_000_000, integer: true },
  "distill.temperature": { min: 0, max: 10 },
  "distill.topP": { min: 0, max: 1 },
  "distill.batchSize": { min: 1, max: 4096, integer: true },
  "lora.rank": { min: 1, max: 4096, integer: true },
  "lora.alpha": { min: 0, max: 1e6 },
  "lora.dropout": { min: 0, max: 0.99 },
  "lora.learningRate": { min: 0, max: 1 },
  "lora.batchSize": { min: 1, max: 4096, integer: true },
  "lora.steps": { min: 1, max: 1_000_000, integer: true },
  "lora.maxLength": { min: 2, max: 131_072, integer: true },
  "lora.warmupSteps": { min: 0, max: 1_000_000, integer: true },
  "lora.weightDecay": { min: 0, max: 1 },
  "lora.maxGradNorm": { min: 0, max: 1e6 },
  "evaluate.fewShot": { min: 0, max: 64, integer: true },
  "evaluate.items": { min: 1, max: 1_000_000, integer: true },
  "merge.t": { min: 0, max: 1 },
  "sampling.temperature": { min: 0, max: 10 },
  "sampling.topK": { min: 0, max: 1_000_000, integer: true },
  "sampling.topP": { min: 0, max: 1 },
  "sampling.maxTokens": { min: 1, max: 131_072, integer: true },
  "sampling.seed": { min: 0, max: 2 ** 32 - 1, integer: true },
  "seeds.data": { min: 0, max: 2 ** 32 - 1, integer: true },
  "seeds.train": { min: 0, max: 2 ** 32 - 1, integer: true },
};

/** The bounds of a numeric field (dotted path), for forms that should not offer values the experiment rejects. */
export function numberRule(path: string): NumberRule | undefined {
  return numberRules[path];
}

const stringChoices: Record<string, readonly string[]> = {
  "model.source": ["demo", "hub", "local"],
  "prune.metric": ["angular", "block-influence"],
  "calibration.tokens": ["last", "all"],
};

export interface NormalisedExperiment {
  experiment: Experiment;
  /** One line per field that was ignored or replaced, naming the field and why. */
  warnings: string[];
}

/** A field of an experiment that is unknown, of the wrong type or out of range; `field` is its dotted path. */
export class ExperimentFieldError extends Error {
  override name = "ExperimentFieldError";
  constructor(
    readonly source: string,
    readonly field: string,
    /** What is wrong, with FIELD where the field's path goes. */
    problem: string,
    /** What the lenient reading does instead (e.g. `; using 8`, ` ignored`); not part of the error's message. */
    readonly lenient = "",
  ) {
    super(`${source}: ${problem.replace("FIELD", field)}`);
  }
}

/** Fields older manifests and links carry that no step ever read; they are dropped without a word. */
const retiredFields = new Set(["lora.epochs", "evaluate.suite"]);

/**
 * Reads an experiment from untrusted input (URL, manifest, IndexedDB): missing fields take their
 * defaults, fields of the wrong type or out of range are replaced by the default with a warning,
 * unknown fields are dropped with a warning. Never throws for a bad field.
 */
export function normaliseExperiment(value: unknown, source: string): NormalisedExperiment {
  const warnings: string[] = [];
  const experiment = readExperiment(value, source, (e) => warnings.push(`${e.message}${e.lenient}`));
  return { experiment, warnings };
}

/** The strict reading, for what must mean exactly what it says (a manifest to replay): the first bad field throws. */
export function decodeExperiment(value: unknown, source: string): Experiment {
  return readExperiment(value, source, (e) => {
    throw e;
  });
}

function readExperiment(value: unknown, source: string, onError: (e: ExperimentFieldError) => void): Experiment {
  return mergeLevel(defaultExperiment(), value, "", source, onError) as unknown as Experiment;
}

type Level = Record<string, unknown>;

function isObject(v: unknown): v is Level {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mergeLevel(defaults: object, value: unknown, prefix: string, source: string, onError: (e: ExperimentFieldError) => void): Level {
  const out: Level = { ...(defaults as Level) };
  if (value === undefined) return out;
  if (!isObject(value)) {
    onError(new ExperimentFieldError(source, prefix || "experiment", "FIELD should be an object", "; using defaults"));
    return out;
  }
  for (const [key, given] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    // Own keys of the defaults only: `key in out` would also find `constructor` or `__proto__`.
    if (!Object.hasOwn(out, key)) {
      if (!retiredFields.has(path)) onError(new ExperimentFieldError(source, path, "unknown field FIELD", " ignored"));
      continue;
    }
    const fallback = out[key];
    if (isObject(fallback)) {
      out[key] = mergeLevel(fallback, given, path, source, onError);
    } else if (typeof given !== typeof fallback) {
      onError(
        new ExperimentFieldError(
          source,
          path,
          `FIELD should be a ${typeof fallback}, got ${JSON.stringify(given)}`,
          `; using ${JSON.stringify(fallback)}`,
        ),
      );
    } else {
      const problem = checkLeaf(path, given);
      if (problem) onError(new ExperimentFieldError(source, path, `FIELD ${problem}`, `; using ${JSON.stringify(fallback)}`));
      else out[key] = given;
    }
  }
  return out;
}

/** String fields that must look like something; e.g. an endpoint that is not an http(s) URL would fail every download. */
const stringPatterns: Record<string, { pattern: RegExp; what: string }> = {
  "model.endpoint": { pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/, what: "an http(s) URL" },
};

function checkLeaf(path: string, value: unknown): string | undefined {
  const rule = numberRules[path];
  if (rule && typeof value === "number") {
    if (!Number.isFinite(value) || value < rule.min || value > rule.max) return `is ${value}, outside [${rule.min}, ${rule.max}]`;
    if (rule.integer && !Number.isInteger(value)) return `is ${value}, not an integer`;
  }
  const choices = stringChoices[path];
  if (choices && typeof value === "string" && !choices.includes(value)) return `is "${value}", not one of ${choices.join(", ")}`;
  const shape = stringPatterns[path];
  if (shape && typeof value === "string" && !shape.pattern.test(value)) return `is "${value}", not ${shape.what}`;
  return undefined;
}

/** The fields of `experiment` that differ from the defaults, as a nested partial object. */
export function experimentChanges(experiment: Experiment): Level {
  return diffLevel(defaultExperiment() as unknown as Level, experiment as unknown as Level);
}

function diffLevel(defaults: Level, value: Level): Level {
  const out: Level = {};
  for (const [key, v] of Object.entries(value)) {
    const d = defaults[key];
    if (isObject(v) && isObject(d)) {
      const inner = diffLevel(d, v);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (v !== d) {
      out[key] = v;
    }
  }
  return out;
}
