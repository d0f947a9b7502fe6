import { describe, expect, it } from "vitest";
import { MissingModelFileError, TensorShapeError } from "../../src/model/errors";
import { randomLlama } from "../../src/model/random-llama";
import { parseShardIndex, readShardedSafetensors, writeShardedSafetensors } from "../../src/model/sharded";
import { tinyLlamaShape } from "./tiny-llama";

describe("sharded safetensors", () => {
  const { tensors } = randomLlama(tinyLlamaShape);

  it("writes transformers-style shards and an index, and reads them back", async () => {
    const { index, shards } = writeShardedSafetensors(tensors, 8000);
    expect(shards.size).toBeGreaterThan(2);
    expect([...shards.keys()][0]).toBe(`model-00001-of-${String(shards.size).padStart(5, "0")}.safetensors`);
    const total = [...tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
    expect(index.metadata.total_size).toBe(total);
    const parsed = parseShardIndex(JSON.parse(JSON.stringify(index)));
    const read: string[] = [];
    const back = await readShardedSafetensors(parsed, async (name) => {
      read.push(name);
      return shards.get(name) ?? new Uint8Array();
    });
    expect(read).toEqual([...shards.keys()]);
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) expect(back.get(name), name).toEqual(t);
  });

  it("names a tensor found in another shard than the index says, one listed but absent, and one not listed", async () => {
    const { index, shards } = writeShardedSafetensors(tensors, 8000);
    const first = [...shards.keys()][0];
    const read = async (n: string) => shards.get(n) ?? new Uint8Array();
    const moved = parseShardIndex({ weight_map: { ...index.weight_map, "model.norm.weight": first } });
    await expect(readShardedSafetensors(moved, read)).rejects.toThrow(TensorShapeError);
    await expect(readShardedSafetensors(moved, read)).rejects.toThrow(
      /tensor "model\.norm\.weight" is also in this shard, but .* places it in model-00001/,
    );
    const phantom = parseShardIndex({ weight_map: { ...index.weight_map, "model.extra.weight": first } });
    await expect(readShardedSafetensors(phantom, read)).rejects.toThrow(MissingModelFileError);
    await expect(readShardedSafetensors(phantom, read)).rejects.toThrow(
      /tensor "model\.extra\.weight".*places it in model-00001.*which does not contain it/,
    );
    const { "model.embed_tokens.weight": _, ...rest } = index.weight_map;
    await expect(readShardedSafetensors(parseShardIndex({ weight_map: rest }), read)).rejects.toThrow(
      /tensor "model\.embed_tokens\.weight" is not listed in/,
    );
  });

  it("rejects an index without a weight_map or with a path outside the folder", () => {
    expect(() => parseShardIndex({ metadata: {} })).toThrow(/model\.safetensors\.index\.json: has no "weight_map" object/);
    expect(() => parseShardIndex({ weight_map: { a: "../x.safetensors" } })).toThrow(/weight_map entry "a" is "\.\.\/x\.safetensors"/);
  });
});
