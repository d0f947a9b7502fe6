/**
 * A training checkpoint as one safetensors file: the trained tensors under `param/NAME`, the AdamW
 * moments under `adam.m/NAME` and `adam.v/NAME`, and everything else (config, step, history) as
 * JSON in the header's metadata. Exact: f32 tensors round-trip bit for bit, so a resumed run
 * continues as if it had never stopped (non-finite losses in the history come back as NaN).
 */
import type { HostTensor } from "../model/host-tensor";
import { readSafetensors, writeSafetensors } from "../model/safetensors";
import type { TrainCheckpoint } from "./train-loop";

const groups = { param: "parameters", "adam.m": "m", "adam.v": "v" } as const;
const stateKey = "prunelab.train-checkpoint";

export function encodeCheckpoint(checkpoint: TrainCheckpoint): Uint8Array {
  const { parameters, adam, ...state } = checkpoint;
  const tensors = new Map<string, HostTensor>();
  const add = (prefix: string, named: Record<string, HostTensor>) => {
    for (const [name, t] of Object.entries(named)) tensors.set(`${prefix}/${name}`, t);
  };
  add("param", parameters);
  add("adam.m", adam.m);
  add("adam.v", adam.v);
  return writeSafetensors(tensors, { [stateKey]: JSON.stringify(state) });
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): TrainCheckpoint {
  const { tensors, metadata } = readSafetensors(bytes, file);
  const state = metadata[stateKey];
  if (!state) throw new Error(`${file} is not a prunelab training checkpoint (no "${stateKey}" in its metadata)`);
  const named: Record<(typeof groups)[keyof typeof groups], Record<string, HostTensor>> = { parameters: {}, m: {}, v: {} };
  for (const [key, t] of tensors) {
    const slash = key.indexOf("/");
    const group = groups[key.slice(0, slash) as keyof typeof groups];
    if (!group) throw new Error(`${file}: unexpected tensor ${key} in a training checkpoint`);
    named[group][key.slice(slash + 1)] = t;
  }
  const parsed = JSON.parse(state) as Omit<TrainCheckpoint, "parameters" | "adam">;
  // JSON writes a non-finite loss or norm (a skipped step) as null.
  const history = parsed.history.map((r) => ({ ...r, loss: r.loss ?? Number.NaN, gradNorm: r.gradNorm ?? Number.NaN }));
  return { ...parsed, history, parameters: named.parameters, adam: { m: named.m, v: named.v } };
}
