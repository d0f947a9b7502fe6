/**
 * The demo world's benchmark suite, after the Open LLM Leaderboard v1: five multiple-choice tasks
 * scored by log-likelihood (ARC, HellaSwag, MMLU, TruthfulQA and Winogrande analogues) and one
 * word-problem task scored by exact match of the final number after a worked solution (GSM8k).
 * Items come only from the held-out side of the split (held-out.ts); few-shot examples only from
 * the training side. Deterministic in (world, seed).
 */
import type { EvalSuite, EvalTask, MultipleChoiceItem } from "../eval/task-format";
import { type ClueKind, factItem, pairItems, pairKey, problemItem, routineItem, subjectItem, taleItem } from "./benchmark-items";
import { Draws } from "./draws";
import { isHeldOut } from "./held-out";
import { wordProblems } from "./word-problems";
import type { Person, World } from "./world";
import { landmarks, trades, weekdays } from "./world-lexicon";
import { arithmeticQuestions, personQuestions, subjectQuestions, tales, type WorldQuestion } from "./world-questions";

export interface SuiteOptions {
  /** Evaluation items per task (default 200). */
  items?: number;
  /** Few-shot examples carried by each task (default 3). */
  fewShot?: number;
  seed?: number;
}

/** Task names and what each stands in for; every task also says its chance level. */
export const benchmarkTasks = {
  "town-facts": "ARC: questions about the townsfolk, four answers",
  "daily-routines": "HellaSwag: the plausible next step of a working day, four endings",
  "town-subjects": "MMLU: nature, crafts, geography and arithmetic, four listed options",
  "old-tales": "TruthfulQA: the truth against the town's popular tales, four answers",
  "who-was-it": "Winogrande: which of two people a clue points to, twin items",
  "word-problems": "GSM8k: multi-step arithmetic with a worked solution, exact match of the final number",
} as const;

export type DemoTask = EvalTask & { description: string };

/**
 * Tasks no fine-tuning set trains (src/data/finetune-datasets.ts asks no tale questions and nothing
 * about encounters): a fine-tuned model's change on them is forgetting, or a side effect, never
 * the data teaching the task. old-tales keeps its accuracy through pruning (the paper run of
 * 301ed0e's model: 100 % with 1–4 blocks dropped, though its gold-answer loss rises), so only loss
 * can show there; who-was-it is damaged by pruning and can be recovered only as a side effect.
 */
export const forgettingProbes: readonly (keyof typeof benchmarkTasks)[] = ["old-tales", "who-was-it"];

function split<T>(items: readonly T[], heldOut: (item: T) => boolean): { training: T[]; heldOut: T[] } {
  return { training: items.filter((x) => !heldOut(x)), heldOut: items.filter(heldOut) };
}

function needAtLeast<T>(pool: readonly T[], count: number, what: string): readonly T[] {
  if (pool.length < count) throw new Error(`buildBenchmarkSuite: ${what} has ${pool.length} items, ${count} asked for`);
  return pool;
}

function multipleChoice(
  name: keyof typeof benchmarkTasks,
  chance: number,
  metric: "acc" | "acc_norm",
  fewShot: MultipleChoiceItem[],
  items: MultipleChoiceItem[],
): DemoTask {
  return { name, description: benchmarkTasks[name], kind: "multiple-choice", chance, metric, fewShot, items };
}

export function buildBenchmarkSuite(
  world: World,
  { items = 200, fewShot = 3, seed = 0 }: SuiteOptions = {},
): EvalSuite & { tasks: DemoTask[] } {
  const draws = (label: string) => new Draws(seed, `suite:${world.seed}:${label}`);
  const byQuestion = (q: WorldQuestion) => isHeldOut(q.family, q.key);

  const facts = split(personQuestions(world), byQuestion);
  const d = draws("town-facts");
  const townFacts = multipleChoice(
    "town-facts",
    1 / 4,
    "acc_norm",
    d.sample(facts.training, fewShot).map((q) => factItem(q, d)),
    d.sample(needAtLeast(facts.heldOut, items, "town-facts"), items).map((q) => factItem(q, d)),
  );

  const dr = draws("daily-routines");
  const days = world.people.flatMap((person) => weekdays.map((day) => ({ person, day })));
  const routines = split(days, ({ person, day }) => isHeldOut("routine", `${person.name}:${day}`));
  const routine = ({ person, day }: { person: Person; day: string }) =>
    routineItem(
      person,
      day,
      dr.int(1, 4),
      trades.filter((t) => t !== person.trade),
      dr,
    );
  const dailyRoutines = multipleChoice(
    "daily-routines",
    1 / 4,
    "acc_norm",
    dr.sample(routines.training, fewShot).map(routine),
    dr.sample(needAtLeast(routines.heldOut, items, "daily-routines"), items).map(routine),
  );

  // Knowledge subjects are few; arithmetic fills the rest, as elementary maths is one subject among many in MMLU.
  const ds = draws("town-subjects");
  const knowledge = split(subjectQuestions(world), byQuestion);
  const arithmetic = split(arithmeticQuestions(), byQuestion);
  const subjectPool = [...ds.shuffle(knowledge.heldOut), ...ds.shuffle(arithmetic.heldOut)];
  const townSubjects = multipleChoice(
    "town-subjects",
    1 / 4,
    "acc",
    ds.sample([...knowledge.training, ...arithmetic.training], fewShot).map((q) => subjectItem(q, ds)),
    ds.shuffle(needAtLeast(subjectPool, items, "town-subjects").slice(0, items)).map((q) => subjectItem(q, ds)),
  );

  const dt = draws("old-tales");
  const allTales = split(tales(), (t) => isHeldOut("tale", t.key));
  const oldTales = multipleChoice(
    "old-tales",
    1 / 4,
    "acc",
    dt.sample(allTales.training, fewShot).map((t) => taleItem(t, world.town, dt)),
    dt.sample(needAtLeast(allTales.heldOut, items, "old-tales"), items).map((t) => taleItem(t, world.town, dt)),
  );

  const dw = draws("who-was-it");
  const twins = (count: number, side: "held-out" | "training"): MultipleChoiceItem[] => {
    const seen = new Set<string>();
    const out: MultipleChoiceItem[] = [];
    for (let tries = 0; out.length < count; tries++) {
      if (tries > count * 100) throw new Error(`buildBenchmarkSuite: who-was-it cannot find ${count} ${side} pairs`);
      const [a, b] = dw.sample(world.people, 2);
      const key = pairKey(a, b);
      if (a.trade === b.trade || seen.has(key) || isHeldOut("pair", key) !== (side === "held-out")) continue;
      seen.add(key);
      out.push(...pairItems(a, b, dw.pick(landmarks), dw.pick<ClueKind>(["tool", "goods", "workplace"]), dw));
    }
    return out.slice(0, count);
  };
  const whoWasIt = multipleChoice("who-was-it", 1 / 2, "acc", twins(fewShot, "training"), twins(items, "held-out"));

  const dp = draws("word-problems");
  const problems: DemoTask = {
    name: "word-problems",
    description: benchmarkTasks["word-problems"],
    kind: "generative",
    chance: 0,
    extractor: { kind: "last-number" },
    stopStrings: ["\n\n"],
    maxTokens: 96,
    fewShot: wordProblems(world, dp, fewShot, "training").map(problemItem),
    items: wordProblems(world, dp, items, "held-out").map(problemItem),
  };

  return { name: `${world.town} suite`, tasks: [townFacts, dailyRoutines, townSubjects, oldTales, whoWasIt, problems] };
}
