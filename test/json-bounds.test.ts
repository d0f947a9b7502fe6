import { describe, expect, it } from "vitest";
import { jsonBoundsProblem } from "../src/json-bounds";

describe("JSON bounds", () => {
  const bounds = { maxDepth: 3, maxString: 5 };
  it("accepts JSON within the bounds, brackets and escaped quotes inside strings included", () => {
    expect(jsonBoundsProblem('{"a": [1, {"b": "[[[["}], "c": "x\\"y"}', bounds)).toBeUndefined();
  });
  it("names the offset of nesting that is too deep and of a string that is too long", () => {
    expect(jsonBoundsProblem('{"a": [[[1]]]}', bounds)).toBe("nesting at offset 8 is deeper than 3 levels");
    expect(jsonBoundsProblem('{"a": "abcdefg"}', bounds)).toBe("a string at offset 6 is longer than 5 characters");
  });
  it("scans a million-deep array in linear time", () => {
    const started = performance.now();
    expect(jsonBoundsProblem("[".repeat(1_000_000), { maxDepth: 64, maxString: 10 })).toMatch(/deeper than 64/);
    expect(jsonBoundsProblem(`"${"a".repeat(1_000_000)}"`, { maxDepth: 64, maxString: 100 })).toMatch(/longer than 100/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
