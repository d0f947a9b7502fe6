/** Sharded safetensors models: `model.safetensors.index.json` maps each tensor to its shard file. */
import { MissingModelFileError, ModelFormatError, TensorShapeError } from "./errors";
import { bytesPerElement, type HostTensor, numel } from "./host-tensor";
import { readSafetensors, writeSafetensors } from "./safetensors";

export const SHARD_INDEX_FILE = "model.safetensors.index.json";

export interface ShardIndex {
  /** Tensor name → shard file name. */
  weightMap: Map<string, string>;
  /** Shard file names in first-use order. */
  shards: string[];
}

export function parseShardIndex(json: unknown, file = SHARD_INDEX_FILE): ShardIndex {
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new ModelFormatError(file, `has no "weight_map" object`);
  }
  const map = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new ModelFormatError(file, `weight_map entry "${tensor}" is ${JSON.stringify(shard)}, not a file name in the model folder`);
    }
    map.set(tensor, shard);
  }
  return { weightMap: map, shards: [...new Set(map.values())] };
}

/** Reads every shard once (through `readShard`, so the caller decides Node path, File or Hub) and merges their tensors. */
export async function readShardedSafetensors(
  index: ShardIndex,
  readShard: (name: string) => Promise<Uint8Array | ArrayBuffer>,
  indexFile = SHARD_INDEX_FILE,
): Promise<Map<string, HostTensor>> {
  const tensors = new Map<string, HostTensor>();
  for (const shard of index.shards) {
    const { tensors: inShard } = readSafetensors(await readShard(shard), shard);
    for (const [name, t] of inShard) {
      const listed = index.weightMap.get(name);
      if (listed !== shard) {
        throw new TensorShapeError(
          shard,
          name,
          listed ? `is also in this shard, but ${indexFile} places it in ${listed}` : `is not listed in ${indexFile}`,
        );
      }
      tensors.set(name, t);
    }
  }
  for (const [name, shard] of index.weightMap) {
    if (!tensors.has(name))
      throw new MissingModelFileError(`tensor "${name}"`, `${indexFile} places it in ${shard}, which does not contain it`);
  }
  return tensors;
}

/** Splits tensors (in order) into shards of at most `maxShardBytes` of data each, named as transformers names them. */
export function writeShardedSafetensors(
  tensors: Map<string, HostTensor>,
  maxShardBytes: number,
  metadata: Record<string, string> = { format: "pt" },
): { index: { metadata: { total_size: number }; weight_map: Record<string, string> }; shards: Map<string, Uint8Array> } {
  const groups: Map<string, HostTensor>[] = [];
  let size = Number.POSITIVE_INFINITY;
  let total = 0;
  for (const [name, t] of tensors) {
    const bytes = numel(t.shape) * bytesPerElement[t.dtype];
    if (size + bytes > maxShardBytes || groups.length === 0) {
      groups.push(new Map());
      size = 0;
    }
    groups[groups.length - 1].set(name, t);
    size += bytes;
    total += bytes;
  }
  const pad = (n: number) => String(n).padStart(5, "0");
  const shards = new Map<string, Uint8Array>();
  const weightMap: Record<string, string> = {};
  groups.forEach((group, i) => {
    const name = `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
    shards.set(name, writeSafetensors(group, metadata));
    for (const tensor of group.keys()) weightMap[tensor] = name;
  });
  return { index: { metadata: { total_size: total }, weight_map: weightMap }, shards };
}
