/**
 * A training checkpoint as one safetensors file: the trained tensors under `param/NAME`, the AdamW
 * moments under `adam.m/NAME` and `adam.v/NAME`, and everything else (config, step, history) as
 * JSON in the header's metadata. Exact: f32 tensors round-trip bit for bit, so a resumed run
 * continues as if it had never stopped (non-finite losses in the history come back as NaN).
 *
 * A CRC-32 over the state and every tensor's name, shape and bytes is stored beside the state: a
 * flipped bit anywhere that matters (an exponent bit turning a weight into 1e38 included) is refused
 * with a CheckpointError rather than trained on. Decoding checks everything it hands on: the state's
 * fields and types, one m and one v of the parameter's shape per parameter, and finite values.
 */
import { jsonBoundsProblem } from "../json-bounds";
import { ModelFormatError } from "../model/errors";
import { firstNonFinite, type HostTensor } from "../model/host-tensor";
import { readSafetensors, writeSafetensors } from "../model/safetensors";
import { crc32 } from "./crc32";
import type { TrainCheckpoint, TrainConfig } from "./train-loop";

/** A checkpoint file that is damaged, not a checkpoint, or inconsistent; names the file and what is wrong. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

const groups = { param: "parameters", "adam.m": "m", "adam.v": "v" } as const;
export const stateKey = "prunelab.train-checkpoint";
export const checksumKey = "prunelab.crc32";

export function encodeCheckpoint(checkpoint: TrainCheckpoint): Uint8Array {
  const { parameters, adam, ...state } = checkpoint;
  const tensors = new Map<string, HostTensor>();
  const add = (prefix: string, named: Record<string, HostTensor>) => {
    for (const [name, t] of Object.entries(named)) tensors.set(`${prefix}/${name}`, t);
  };
  add("param", parameters);
  add("adam.m", adam.m);
  add("adam.v", adam.v);
  const stateJson = JSON.stringify(state);
  return writeSafetensors(tensors, { [stateKey]: stateJson, [checksumKey]: checkpointDigest(stateJson, tensors) });
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): TrainCheckpoint {
  const fail = (detail: string) => new CheckpointError(file, detail);
  let contents: ReturnType<typeof readSafetensors>;
  try {
    contents = readSafetensors(bytes, file);
  } catch (e) {
    if (e instanceof ModelFormatError) throw fail(`damaged: ${e.detail}`);
    throw fail(`damaged: ${(e as Error).message}`);
  }
  const { tensors, metadata } = contents;
  const stateJson = metadata[stateKey];
  if (!stateJson) throw fail(`not a prunelab training checkpoint (no "${stateKey}" in its metadata)`);
  const stored = metadata[checksumKey];
  if (!stored) throw fail(`has no "${checksumKey}" checksum (written by an older prunelab, or damaged); it cannot be trusted`);
  const actual = checkpointDigest(stateJson, tensors);
  if (stored !== actual) throw fail(`damaged: checksum ${actual} does not match the stored ${stored.slice(0, 16)}`);
  const named: Record<(typeof groups)[keyof typeof groups], Record<string, HostTensor>> = { parameters: {}, m: {}, v: {} };
  for (const [key, t] of tensors) {
    const slash = key.indexOf("/");
    const group = groups[key.slice(0, slash) as keyof typeof groups];
    if (!group) throw fail(`unexpected tensor "${key}" in a training checkpoint`);
    if (t.dtype !== "f32") throw fail(`tensor "${key}" is ${t.dtype}; checkpoints hold f32 only`);
    const bad = firstNonFinite(t);
    if (bad >= 0) throw fail(`tensor "${key}" holds ${(t.data as Float32Array)[bad]} at element ${bad}; a checkpoint must be finite`);
    named[group][key.slice(slash + 1)] = t;
  }
  const names = Object.keys(named.parameters);
  if (names.length === 0) throw fail("holds no trained tensors");
  for (const name of names) {
    for (const which of ["m", "v"] as const) {
      const moment = named[which][name];
      if (!moment || moment.shape.join() !== named.parameters[name].shape.join())
        throw fail(`tensor "adam.${which}/${name}" is missing or not of the parameter's shape [${named.parameters[name].shape}]`);
    }
  }
  for (const which of ["m", "v"] as const) {
    const extra = Object.keys(named[which]).find((n) => !(n in named.parameters));
    if (extra !== undefined) throw fail(`tensor "adam.${which}/${extra}" has no parameter "param/${extra}"`);
  }
  const state = parseState(stateJson, fail);
  return { ...state, parameters: named.parameters, adam: { m: named.m, v: named.v } };
}

/** CRC-32 (hex) over the state JSON and every tensor's key, dtype, shape and bytes, in key order. */
export function checkpointDigest(stateJson: string, tensors: Map<string, HostTensor>): string {
  const text = new TextEncoder();
  const parts: Uint8Array[] = [text.encode(stateJson)];
  for (const key of [...tensors.keys()].sort()) {
    const t = tensors.get(key) as HostTensor;
    parts.push(text.encode(`\n${key} ${t.dtype} [${t.shape}]\n`), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return crc32(parts).toString(16).padStart(8, "0");
}

type State = Omit<TrainCheckpoint, "parameters" | "adam">;

const numericConfigFields = [
  "steps",
  "batchSize",
  "gradientAccumulation",
  "maxLength",
  "lr",
  "warmupSteps",
  "minLrRatio",
  "weightDecay",
  "maxGradNorm",
  "seed",
  "checkpointEvery",
  "padId",
] as const satisfies readonly (keyof TrainConfig)[];

/** The state JSON checked field by field: what a resume reads must be what a run wrote. */
function parseState(stateJson: string, fail: (detail: string) => CheckpointError): State {
  let parsed: unknown;
  const problem = jsonBoundsProblem(stateJson, { maxDepth: 16, maxString: Number.POSITIVE_INFINITY });
  if (problem) throw fail(`state metadata is refused: ${problem}`);
  try {
    parsed = JSON.parse(stateJson);
  } catch (e) {
    throw fail(`state metadata is not valid JSON (${(e as Error).message.slice(0, 120)})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  const count = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (!isObject(parsed) || parsed.format !== "prunelab.train-checkpoint" || parsed.version !== 1)
    throw fail(`state metadata is not a version-1 prunelab.train-checkpoint`);
  const { config, step, adamSteps, rng, history, lrScale } = parsed;
  if (!isObject(config) || (config.mode !== "full" && config.mode !== "lora")) throw fail(`state field "config" is not a training config`);
  for (const field of numericConfigFields) {
    const v = config[field];
    if (typeof v !== "number" || !Number.isFinite(v)) throw fail(`state field "config.${field}" is ${typeof v}, not a finite number`);
  }
  if (config.mode === "lora" && !isObject(config.lora)) throw fail(`state field "config.lora" is missing in a LoRA run`);
  if (!count(step) || !count(adamSteps) || (adamSteps as number) > (step as number))
    throw fail(`state fields "step" (${step}) and "adamSteps" (${adamSteps}) are not step counts`);
  if (!isObject(rng) || !count(rng.step) || typeof rng.seed !== "number") throw fail(`state field "rng" is not {seed, step}`);
  if (lrScale !== undefined && !(typeof lrScale === "number" && lrScale > 0 && lrScale <= 1))
    throw fail(`state field "lrScale" is ${lrScale}, not in (0, 1]`);
  if (!Array.isArray(history) || history.some((r) => !isObject(r) || !count(r.step)))
    throw fail(`state field "history" is not a list of step reports`);
  // JSON writes a non-finite loss or norm (a skipped step) as null.
  const steps = (history as Record<string, unknown>[]).map((r) => ({
    ...r,
    loss: typeof r.loss === "number" ? r.loss : Number.NaN,
    gradNorm: typeof r.gradNorm === "number" ? r.gradNorm : Number.NaN,
  }));
  return { ...(parsed as unknown as State), history: steps as unknown as State["history"] };
}
