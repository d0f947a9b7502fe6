/**
 * Multi-step arithmetic word problems about the town's people and their goods (the GSM8k
 * analogue), each with its worked steps. The same problem is written out in two voices: the demo
 * model's terse one-line solution and the fine-tuning references' verbose step-by-step layout.
 * The numbers are small (every operand and result at most 36): the task probes chaining the steps
 * of a problem, which a 0.65 M-parameter model can learn, not multi-digit arithmetic, which it
 * cannot (with operands up to 40 the first demo model solved 1 problem in 100).
 */
import type { Draws } from "./draws";
import { isHeldOut } from "./held-out";
import { capitalPronoun, type Person, type World } from "./world";

export type Operator = "+" | "-" | "*" | "/";

export interface SolutionStep {
  a: number;
  op: Operator;
  b: number;
  result: number;
  /** What the step finds, in the references' words ("the loaves baked in all"). */
  finds: string;
}

export interface WordProblem {
  question: string;
  steps: SolutionStep[];
  answer: number;
}

function step(a: number, op: Operator, b: number, finds: string): SolutionStep {
  const result = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
  return { a, op, b, result, finds };
}

type Template = (p: Person, q: Person, d: Draws) => WordProblem;

const templates: readonly Template[] = [
  (p, _q, d) => {
    const [x, y] = [d.int(2, 9), d.int(2, 9)];
    const z = d.int(2, x + y - 1);
    const { goods, makes } = p.trade;
    const made = step(x, "+", y, `how many ${goods} ${p.name} has in all`);
    const left = step(made.result, "-", z, `how many are left after giving ${z} away`);
    return {
      question: `${p.name} ${makes} ${x} ${goods} in the morning and ${y} in the afternoon. ${capitalPronoun(p)} gives ${z} of them away. How many ${goods} does ${p.name} have left?`,
      steps: [made, left],
      answer: left.result,
    };
  },
  (p, _q, d) => {
    const [x, y] = [d.int(3, 6), d.int(2, 4)];
    const z = d.int(2, x - 1);
    const { goods } = p.trade;
    const boxed = step(x, "*", y, `how many ${goods} are in the full boxes`);
    const total = step(boxed.result, "+", z, "the total with the ones left over");
    return {
      question: `${p.name} packs ${goods} into boxes of ${x}. ${capitalPronoun(p)} fills ${y} boxes and has ${z} ${goods} left over. How many ${goods} did ${p.name} pack?`,
      steps: [boxed, total],
      answer: total.result,
    };
  },
  (p, _q, d) => {
    const [x, y] = [d.int(2, 5), d.int(2, 5)];
    const z = d.int(1, x * y - 1);
    const { goods } = p.trade;
    const earned = step(x, "*", y, "the coins earned from the sale");
    const left = step(earned.result, "-", z, `the coins left after spending ${z}`);
    return {
      question: `${p.name} sells ${goods} for ${x} coins each. ${capitalPronoun(p)} sells ${y} of them and then spends ${z} coins at the market. How many coins does ${p.name} have left?`,
      steps: [earned, left],
      answer: left.result,
    };
  },
  (p, _q, d) => {
    const z = d.int(2, 3);
    const y = d.int(2, 4);
    const x = z * d.int(1, 3);
    const { goods, makes } = p.trade;
    const total = step(x, "*", y, `how many ${goods} ${p.name} has after ${y} days`);
    const each = step(total.result, "/", z, `how many each of the ${z} neighbours gets`);
    return {
      question: `${p.name} ${makes} ${x} ${goods} every day for ${y} days and shares them equally among ${z} neighbours. How many ${goods} does each neighbour get?`,
      steps: [total, each],
      answer: each.result,
    };
  },
  (p, q, d) => {
    const [x, y] = [d.int(2, 9), d.int(1, 6)];
    const { goods, makes } = p.trade;
    const theirs = step(x, "+", y, `how many ${goods} ${q.name} has`);
    const together = step(x, "+", theirs.result, "how many they have together");
    return {
      question: `${p.name} ${makes} ${x} ${goods}. ${q.name} has ${y} more ${goods} than ${p.name}. How many ${goods} do they have together?`,
      steps: [theirs, together],
      answer: together.result,
    };
  },
  (p, q, d) => {
    const [x, y, z] = [d.int(2, 9), d.int(2, 4), d.int(2, 3)];
    const w = d.int(1, x + y * z - 1);
    const { goods, makes } = p.trade;
    const extra = step(y, "*", z, `the ${goods} made over ${z} days`);
    const total = step(x, "+", extra.result, `the ${goods} ${p.name} has before giving any away`);
    const left = step(total.result, "-", w, `what is left after giving ${w} to ${q.name}`);
    return {
      question: `${p.name} has ${x} ${goods}. ${capitalPronoun(p)} ${makes} ${y} more every day for ${z} days, then gives ${w} to ${q.name}. How many ${goods} does ${p.name} have now?`,
      steps: [extra, total, left],
      answer: left.result,
    };
  },
];

/** One random problem about two different people of `world`. */
export function drawWordProblem(world: World, draws: Draws): WordProblem {
  const [p, q] = draws.sample(world.people, 2);
  return draws.pick(templates)(p, q, draws);
}

/**
 * `count` distinct problems from one side of the held-out split (keyed by question text).
 * Throws rather than loop for ever when the side cannot supply that many.
 */
export function wordProblems(world: World, draws: Draws, count: number, side: "held-out" | "training"): WordProblem[] {
  const seen = new Set<string>();
  const out: WordProblem[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > count * 50) throw new Error(`wordProblems: could not find ${count} distinct ${side} problems`);
    const problem = drawWordProblem(world, draws);
    if (seen.has(problem.question) || isHeldOut("problem", problem.question) !== (side === "held-out")) continue;
    seen.add(problem.question);
    out.push(problem);
  }
  return out;
}
