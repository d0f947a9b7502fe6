import { describe, expect, it } from "vitest";
import { estimateSecondsLeft } from "../../src/ui/time-left";

describe("time-left estimate", () => {
  it("extrapolates the average rate so far", () => {
    // 25 % done in 10 s → 30 s left.
    expect(estimateSecondsLeft(250, 1000, 0, 10_000)).toBeCloseTo(30, 10);
    expect(estimateSecondsLeft(1000, 1000, 0, 10_000)).toBe(0);
  });

  it("counts only what was done since the start of a resumed phase", () => {
    // Resumed at 600 of 1000; 100 more in 10 s → 300 left at 10 per second.
    expect(estimateSecondsLeft(700, 1000, 0, 10_000, 600)).toBeCloseTo(30, 10);
  });

  it("gives no estimate while it cannot be judged", () => {
    expect(estimateSecondsLeft(10, 0, 0, 10_000)).toBeUndefined(); // total unknown
    expect(estimateSecondsLeft(0, 1000, 0, 10_000)).toBeUndefined(); // nothing done
    expect(estimateSecondsLeft(500, 1000, 0, 500)).toBeUndefined(); // under a second in
    expect(estimateSecondsLeft(5, 1000, 0, 10_000)).toBeUndefined(); // under 1 % done
  });
});
