import { describe, expect, it } from "vitest";
import { Draws } from "../../src/data/draws";
import { heldOutShare, isHeldOut, stableHash } from "../../src/data/held-out";
import { buildWorld } from "../../src/data/world";
import { trades } from "../../src/data/world-lexicon";
import { arithmeticQuestions, personQuestions, subjectQuestions, tales } from "../../src/data/world-questions";

const snapshot = (seed: number) => JSON.stringify(buildWorld(seed), (_, v) => (v instanceof Map ? [...v] : v));

describe("demo world", () => {
  it("is a pure function of its seed", () => {
    expect(snapshot(7)).toBe(snapshot(7));
    expect(snapshot(7)).not.toBe(snapshot(8));
  });

  it("staffs every trade equally with distinct people, and refuses impossible sizes", () => {
    const world = buildWorld(3);
    expect(world.people).toHaveLength(96);
    expect(new Set(world.people.map((p) => p.name)).size).toBe(96);
    for (const t of trades) expect(world.people.filter((p) => p.trade === t)).toHaveLength(8);
    expect(() => buildWorld(3, { people: 5 })).toThrow(/buildWorld: people must be an integer in \[12, 384\], got 5/);
  });

  it("gives every question one answer that is not among its distractors", () => {
    const world = buildWorld(3);
    const all = [...personQuestions(world), ...subjectQuestions(world), ...arithmeticQuestions()];
    for (const q of all) {
      expect(q.distractors).not.toContain(q.answer);
      expect(q.distractors.length).toBeGreaterThanOrEqual(3);
    }
    expect(new Set(all.map((q) => `${q.family}:${q.key}`)).size).toBe(all.length);
    expect(new Set(all.map((q) => q.question)).size).toBe(all.length);
  });
});

describe("held-out split", () => {
  it("hashes stably (FNV-1a with a final mix) and splits each family near its stated share", () => {
    expect(stableHash("")).toBe(stableHash(""));
    expect(stableHash("fact:a")).not.toBe(stableHash("fact:b"));
    const talesHeldOut = tales().filter((t) => isHeldOut("tale", t.key)).length / tales().length;
    expect(Math.abs(talesHeldOut - heldOutShare.tale)).toBeLessThan(0.08);
    const sums = arithmeticQuestions();
    const share = sums.filter((q) => isHeldOut(q.family, q.key)).length / sums.length;
    expect(Math.abs(share - heldOutShare.arithmetic)).toBeLessThan(0.08);
  });
});

describe("seeded draws", () => {
  it("repeat per (seed, label) and differ across labels", () => {
    const a = new Draws(1, "x");
    const b = new Draws(1, "x");
    const c = new Draws(1, "y");
    const seq = (d: Draws) => Array.from({ length: 8 }, () => d.int(0, 1000));
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
  });

  it("sample k distinct items and weighted picks follow the weights", () => {
    const d = new Draws(2);
    const picked = d.sample([1, 2, 3, 4, 5], 5);
    expect([...picked].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(() => d.sample([1], 2)).toThrow(/asked for 2 of 1/);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) counts[d.weighted({ a: 3, b: 1 })]++;
    expect(counts.a / 4000).toBeCloseTo(0.75, 1);
  });
});
