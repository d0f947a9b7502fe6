import { describe, expect, it } from "vitest";
import { mergekitSlerpYaml } from "../../src/export/mergekit-slerp";

describe("mergekit SLERP YAML", () => {
  it("writes mergekit's slices form with a per-filter gradient for t", () => {
    const yaml = mergekitSlerpYaml({
      modelA: "out/sdd-merged-a",
      modelB: "out/sdd-merged-b",
      layers: 26,
      t: [{ filter: "self_attn", value: [0, 0.5, 0.3, 0.7, 1] }, { filter: "mlp", value: [1, 0.5, 0.7, 0.3, 0] }, { value: 0.5 }],
    });
    expect(yaml).toBe(
      [
        "slices:",
        "  - sources:",
        '      - model: "out/sdd-merged-a"',
        "        layer_range: [0, 26]",
        '      - model: "out/sdd-merged-b"',
        "        layer_range: [0, 26]",
        "merge_method: slerp",
        'base_model: "out/sdd-merged-a"',
        "parameters:",
        "  t:",
        '    - filter: "self_attn"',
        "      value: [0, 0.5, 0.3, 0.7, 1]",
        '    - filter: "mlp"',
        "      value: [1, 0.5, 0.7, 0.3, 0]",
        "    - value: 0.5",
        "dtype: bfloat16",
        "",
      ].join("\n"),
    );
  });

  it("writes the models form with one number or one gradient for t", () => {
    expect(mergekitSlerpYaml({ modelA: "a", modelB: "b", layers: 4, t: 0.4, form: "models", dtype: "float16" })).toBe(
      [
        "models:",
        '  - model: "a"',
        '  - model: "b"',
        "merge_method: slerp",
        'base_model: "a"',
        "parameters:",
        "  t: 0.4",
        "dtype: float16",
        "",
      ].join("\n"),
    );
    expect(mergekitSlerpYaml({ modelA: "a", modelB: "b", layers: 4, t: [0, 1] })).toMatch(/\n {2}t: \[0, 1\]\n/);
    expect(() => mergekitSlerpYaml({ modelA: "a", modelB: "b", layers: 0, t: 0.5 })).toThrow(/layers must be an integer ≥ 1, got 0/);
  });
});
