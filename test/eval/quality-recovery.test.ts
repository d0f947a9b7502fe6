import { describe, expect, it } from "vitest";
import { qualityRecovery, recoveryTable, taskTable } from "../../src/eval/quality-recovery";
import { meanStderr, type SuiteResult } from "../../src/eval/suite-runner";

const result = (scores: number[], n = 200): SuiteResult => ({
  suite: "demo",
  tasks: scores.map((score, i) => ({
    name: `t${i}`,
    kind: "multiple-choice",
    metric: "acc",
    score,
    stderr: meanStderr(score, n),
    acc: score,
    accNorm: score,
    n,
    chance: 0.25,
  })),
  average: scores.reduce((a, b) => a + b, 0) / scores.length,
});

describe("quality recovery", () => {
  it("is the model's average over the original's, in percent", () => {
    expect(qualityRecovery(0.45, 0.6)).toBeCloseTo(75, 12);
    expect(qualityRecovery(0.6, 0.6)).toBe(100);
    expect(() => qualityRecovery(0.3, 0)).toThrow(/original model's average must be > 0/);
  });

  it("tabulates each model's tasks, average and recovery, with the chance row", () => {
    const original = result([0.8, 0.6]);
    const pruned = result([0.5, 0.4]);
    const table = recoveryTable(
      [
        { label: "original", result: original },
        { label: "pruned", result: pruned },
      ],
      original,
    );
    expect(table.split("\n")).toEqual([
      "| model | t0 (acc) | t1 (acc) | average | recovery % |",
      "| --- | --- | --- | --- | --- |",
      "| original | 80.0 | 60.0 | 70.0 | 100.0 |",
      "| pruned | 50.0 | 40.0 | 45.0 | 64.3 |",
      "| chance | 25.0 | 25.0 |  |  |",
      "",
    ]);
    // √(0.4 · 0.6 / 199) = 0.0347
    expect(taskTable(pruned)).toContain("| t1 | acc | 40.0 | 3.5 | 40.0 | 40.0 | 200 | 25.0 |");
  });

  it("standard error of a mean of 0/1 outcomes: sample deviation over √n", () => {
    const outcomes = [1, 1, 0, 1, 0];
    const mean = 3 / 5;
    const sampleVariance = outcomes.reduce((s, x) => s + (x - mean) ** 2, 0) / 4;
    expect(meanStderr(mean, 5)).toBeCloseTo(Math.sqrt(sampleVariance / 5), 14);
    expect(meanStderr(1, 1)).toBe(0);
  });

  it("refuses to compare results over other tasks or item counts", () => {
    expect(() => recoveryTable([{ label: "quick", result: result([0.5, 0.4], 20) }], result([0.8, 0.6]))).toThrow(
      /quick was evaluated on other tasks or item counts \(t0:20, t1:20\) than the original \(t0:200, t1:200\)/,
    );
  });
});
