import { describe, expect, it } from "vitest";
import { toFloat32 } from "../../src/model/host-tensor";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { loadModelFiles } from "../../src/model/load-model-files";
import { randomLlama } from "../../src/model/random-llama";
import { withRopeLayout } from "../../src/model/rope-layout";
import { readSafetensors } from "../../src/model/safetensors";
import { Tokenizer } from "../../src/model/tokenizer";
import { dropBlocksFromWeights } from "../../src/prune/drop-blocks";
import { heatmapColor, heatmapSvg } from "../../src/prune/heatmap-svg";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import type { LayerAnalysis } from "../../src/prune/layer-analysis";
import { blockInfluenceCsv, layerAnalysisJson, layerDistancesCsv } from "../../src/prune/layer-analysis-files";
import { mergekitSliceYaml } from "../../src/prune/mergekit-slice";
import { llamaTokenizerFiles } from "../model/tokenizer-fixtures";
import { expectClose } from "../numerics";

/** A 3-block analysis with distinct, recognisable values: d(l, n) = n / 10 + l / 100. */
const analysis: LayerAnalysis = {
  layers: 3,
  numSamples: 4,
  tokens: "last",
  angular: [[0.1, 0.11, 0.12], [0.2, 0.21], [0.3]],
  blockInfluence: [0.5, 0.25, 0.125],
};

describe("layer analysis files", () => {
  it("JSON has exactly the CLI's keys, 0-based l and n = 1 … L − l", () => {
    const json = layerAnalysisJson(analysis);
    expect(Object.keys(json)).toEqual(["layers", "numSamples", "angular", "blockInfluence"]);
    expect(json).toEqual({
      layers: 3,
      numSamples: 4,
      angular: { "1": { "0": 0.1, "1": 0.11, "2": 0.12 }, "2": { "0": 0.2, "1": 0.21 }, "3": { "0": 0.3 } },
      blockInfluence: [0.5, 0.25, 0.125],
    });
  });

  it("CSV has PruneMe's columns with block_start = l and block_end = l + n", () => {
    expect(layerDistancesCsv(analysis)).toBe(
      ["block_start,block_end,average_distance", "0,1,0.1", "1,2,0.11", "2,3,0.12", "0,2,0.2", "1,3,0.21", "0,3,0.3", ""].join("\n"),
    );
  });

  it("Block Influence CSV has one row per block, 0-based as in the heatmap", () => {
    expect(blockInfluenceCsv(analysis)).toBe(["block,block_influence", "0,0.5", "1,0.25", "2,0.125", ""].join("\n"));
  });

  it("mergekit passthrough YAML keeps [0, l) and [l + n, L), leaving out empty slices", () => {
    expect(mergekitSliceYaml("meta-llama/Llama-3.1-8B-Instruct", 32, 22, 6)).toBe(
      [
        "slices:",
        "  - sources:",
        '      - model: "meta-llama/Llama-3.1-8B-Instruct"',
        "        layer_range: [0, 22]",
        "  - sources:",
        '      - model: "meta-llama/Llama-3.1-8B-Instruct"',
        "        layer_range: [28, 32]",
        "merge_method: passthrough",
        "dtype: bfloat16",
        "",
      ].join("\n"),
    );
    expect(mergekitSliceYaml("m", 8, 0, 2)).not.toMatch(/\[0, 0\]/);
    expect(mergekitSliceYaml("m", 8, 0, 2)).toMatch(/layer_range: \[2, 8\]/);
    expect(mergekitSliceYaml("m", 8, 5, 3).match(/layer_range/g)).toHaveLength(1);
    expect(() => mergekitSliceYaml("m", 8, 6, 3)).toThrow(/cannot drop blocks 6…8/);
  });

  it("heatmap SVG has one cell per (l, n) with its distance, the best start of each size outlined, and a legend", () => {
    const svg = heatmapSvg(analysis);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<title>/g)).toHaveLength(6);
    expect(svg).toContain("<title>l=1 n=2 d=0.2100</title>");
    expect(svg.match(/stroke="#e0245e"/g)).toHaveLength(3);
    expect(svg).toContain("0.100");
    expect(svg).toContain("0.300");
    expect(heatmapColor(0)).toBe("rgb(68, 1, 84)");
    expect(heatmapColor(1)).toBe("rgb(253, 231, 37)");
    expect(heatmapColor(Number.NaN)).toBe(heatmapColor(0));
  });
});

describe("pruned model as a Hugging Face folder", () => {
  it("reloads on its own: rotate_half weights, renumbered blocks, updated config, tokenizer files, same logits", async () => {
    // A Meta-layout (interleaved) model, as llama2.c and GGUF load, must be written in HF's layout.
    const weights = withRopeLayout(
      randomLlama(
        { hiddenSize: 24, intermediateSize: 40, numHiddenLayers: 5, numAttentionHeads: 6, numKeyValueHeads: 2, vocabSize: 300 },
        2,
      ),
      true,
    );
    const pruned = dropBlocksFromWeights(weights, 1, 2);
    const tokenizer = llamaTokenizerFiles();
    const files = hfFolderFiles(pruned, { ...tokenizer, generationConfig: { eos_token_id: 2 } });
    expect([...files.keys()].sort()).toEqual([
      "config.json",
      "generation_config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const config = JSON.parse(new TextDecoder().decode(files.get("config.json")));
    expect(config.num_hidden_layers).toBe(3);
    expect(config.torch_dtype).toBe("float32");
    expect(config.rope_interleaved).toBeUndefined();
    const st = readSafetensors(files.get("model.safetensors") as Uint8Array, "model.safetensors");
    expect(st.metadata).toEqual({ format: "pt" });
    expect(st.tensors.has("model.layers.2.mlp.down_proj.weight")).toBe(true);
    expect(st.tensors.has("model.layers.3.mlp.down_proj.weight")).toBe(false);
    // Block 3 of the original is block 1 of the export; its v_proj needs no RoPE permutation.
    expect(toFloat32(st.tensors.get("model.layers.1.self_attn.v_proj.weight") ?? fail())).toEqual(
      toFloat32(weights.tensors.get("model.layers.3.self_attn.v_proj.weight") ?? fail()),
    );
    const loaded = await loadModelFiles(files);
    expect(loaded.weights.config.numHiddenLayers).toBe(3);
    const tokens = [1, 200, 17, 42, 299];
    expectClose(
      llamaForwardCpu(llamaCpu(loaded.weights), tokens).logits,
      llamaForwardCpu(llamaCpu(pruned), tokens).logits,
      1e-9,
      1e-9,
      "logits after reload",
    );
    const reloadedTokenizer = new Tokenizer({ tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig });
    expect(reloadedTokenizer.encode("the cat")).toEqual(new Tokenizer(tokenizer).encode("the cat"));
  });

  it("names bf16 weights bfloat16 in config.json", () => {
    const weights = randomLlama(
      { hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, vocabSize: 10 },
      1,
    );
    const bf16 = new Map(
      [...weights.tensors].map(([name, t]) => [name, { dtype: "bf16" as const, shape: t.shape, data: new Uint16Array(t.data.length) }]),
    );
    const files = hfFolderFiles({ config: weights.config, tensors: bf16 }, {});
    expect(JSON.parse(new TextDecoder().decode(files.get("config.json"))).torch_dtype).toBe("bfloat16");
    expect(files.has("tokenizer.json")).toBe(false);
  });
});

function fail(): never {
  throw new Error("tensor missing");
}
