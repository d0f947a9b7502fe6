import { describe, expect, it } from "vitest";
import { formatCount, formatDuration } from "../../src/ui/quantities";

describe("quantities", () => {
  it("formats durations and parameter counts", () => {
    expect(formatDuration(4.4)).toBe("4 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(3 * 3600 + 61)).toBe("3 h 1 min");
    expect(formatCount(260_000)).toBe("260 K");
    expect(formatCount(134_515_008)).toBe("135 M");
    expect(formatCount(1_235_814_400)).toBe("1.24 B");
    expect(formatCount(15_200_000)).toBe("15.2 M");
    expect(formatCount(999)).toBe("999");
  });
});
