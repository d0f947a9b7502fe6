/**
 * Every short question the world can ask, with its key for the held-out split, the short answer
 * (the form a multiple-choice option takes), the pool its distractors come from, and the answer in
 * the demo model's own voice. Training text asks only the questions whose keys fall on the training
 * side; the benchmark asks only the held-out ones.
 */
import type { KeyFamily } from "./held-out";
import { capitalise, type Person, type World, withArticle } from "./world";
import { animals, charms, foods, kinds, quarters, streetNames, talePowers, trades } from "./world-lexicon";

export interface WorldQuestion {
  family: KeyFamily;
  key: string;
  /** The benchmark's subject, for the MMLU-like task. */
  subject: string;
  question: string;
  answer: string;
  /** Wrong answers of the same type (the answer is not among them). */
  distractors: readonly string[];
  /** The demo model's own terse answer (see response-styles.ts). */
  modelAnswer: string;
  /** The fine-tuning references' wording, without opener and closing line. */
  referenceAnswer: string;
}

const others = (pool: readonly string[], answer: string) => pool.filter((x) => x !== answer);

/** Four facts about each person: trade, street, pet, favourite food. */
export function personQuestions(world: World): WorldQuestion[] {
  const tradeNames = trades.map((t) => withArticle(t.name));
  const pets = animals.map(([a]) => withArticle(a));
  return world.people.flatMap((p: Person) => {
    const trade = withArticle(p.trade.name);
    const pet = withArticle(p.pet);
    const fact = (
      relation: string,
      question: string,
      answer: string,
      pool: readonly string[],
      modelAnswer: string,
      referenceAnswer: string,
    ) => ({
      family: "fact" as const,
      key: `${p.name}:${relation}`,
      subject: "people",
      question,
      answer,
      distractors: others(pool, answer),
      modelAnswer,
      referenceAnswer,
    });
    const quarter = world.streets.get(p.street);
    return [
      fact(
        "trade",
        `What does ${p.name} do for a living?`,
        trade,
        tradeNames,
        `${p.name} is ${trade}.`,
        `When it comes to work, ${p.name} earns a living as ${trade}, spending most days at the ${p.trade.workplace}.`,
      ),
      fact(
        "street",
        `Which street does ${p.name} live on?`,
        p.street,
        streetNames,
        `${p.name} lives on ${p.street}.`,
        `${p.name} makes a home on ${p.street}, which lies in the ${quarter} quarter of ${world.town}.`,
      ),
      fact(
        "pet",
        `What pet does ${p.name} keep?`,
        pet,
        pets,
        `${p.name} keeps ${pet}.`,
        `At home, ${p.name} looks after a pet, namely ${pet}.`,
      ),
      fact(
        "food",
        `What is ${p.name}'s favourite food?`,
        p.food,
        foods,
        `${p.name} likes ${p.food} best.`,
        `If you ask ${p.name} about food, the favourite dish is ${p.food}.`,
      ),
    ];
  });
}

/** General knowledge of the town: kinds of things, trades and their tools, the map. */
export function subjectQuestions(world: World): WorldQuestion[] {
  const kindNames = Object.keys(kinds);
  const tradeNames = trades.map((t) => withArticle(t.name));
  const places = [...world.places.keys()];
  const q = (
    subject: string,
    key: string,
    question: string,
    answer: string,
    pool: readonly string[],
    modelAnswer: string,
    referenceAnswer: string,
  ): WorldQuestion => ({
    family: "subject",
    key,
    subject,
    question,
    answer,
    distractors: others(pool, answer),
    modelAnswer,
    referenceAnswer,
  });
  return [
    ...Object.entries(kinds).flatMap(([kind, things]) =>
      things.map((thing) =>
        q(
          "nature",
          `kind:${thing}`,
          `What kind of thing is ${withArticle(thing)}?`,
          withArticle(kind),
          kindNames.map(withArticle),
          `${capitalise(withArticle(thing))} is ${withArticle(kind)}.`,
          `Looking at its kind, ${withArticle(thing)} counts as ${withArticle(kind)}.`,
        ),
      ),
    ),
    ...trades.flatMap((t) =>
      t.tools.map((tool) =>
        q(
          "crafts",
          `tool:${tool}`,
          `Who works with ${withArticle(tool)}?`,
          withArticle(t.name),
          tradeNames,
          `${capitalise(withArticle(t.name))} works with ${withArticle(tool)}.`,
          `The ${tool} is one of the tools of the ${t.name}'s trade.`,
        ),
      ),
    ),
    ...trades.map((t) =>
      q(
        "crafts",
        `workplace:${t.name}`,
        `Where does ${withArticle(t.name)} work?`,
        `the ${t.workplace}`,
        trades.map((u) => `the ${u.workplace}`),
        `${capitalise(withArticle(t.name))} works at the ${t.workplace}.`,
        `You will find ${withArticle(t.name)} hard at work in the ${t.workplace}.`,
      ),
    ),
    ...trades.map((t) =>
      q(
        "crafts",
        `goods:${t.name}`,
        `Which goods does ${withArticle(t.name)} deal in?`,
        t.goods,
        trades.map((u) => u.goods),
        `${capitalise(withArticle(t.name))} ${t.makes} ${t.goods}.`,
        `The goods that ${withArticle(t.name)} deals in are ${t.goods}.`,
      ),
    ),
    ...places.map((place) => {
      const quarter = `the ${world.places.get(place)} quarter`;
      return q(
        "geography",
        `place:${place}`,
        `In which quarter is the ${place}?`,
        quarter,
        quarters.map((x) => `the ${x} quarter`),
        `The ${place} is in ${quarter}.`,
        `On the map of ${world.town}, the ${place} sits in ${quarter}.`,
      );
    }),
    ...[...world.streets].map(([street, quarterName]) => {
      const quarter = `the ${quarterName} quarter`;
      return q(
        "geography",
        `street:${street}`,
        `In which quarter is ${street}?`,
        quarter,
        quarters.map((x) => `the ${x} quarter`),
        `${street} is in ${quarter}.`,
        `On the map of ${world.town}, ${street} runs through ${quarter}.`,
      );
    }),
  ];
}

/** Sums, differences and products with near-miss distractors (the "arithmetic" subject). */
export function arithmeticQuestions(): WorldQuestion[] {
  const out: WorldQuestion[] = [];
  const add = (a: number, op: "plus" | "minus" | "times", b: number) => {
    const value = op === "plus" ? a + b : op === "minus" ? a - b : a * b;
    const near = [value + 1, value - 1, value + 10, value - 10, value + 2, op === "times" ? value + a : value + 5].filter(
      (v) => v >= 0 && v !== value,
    );
    out.push({
      family: "arithmetic",
      key: `${a} ${op} ${b}`,
      subject: "arithmetic",
      question: `What is ${a} ${op} ${b}?`,
      answer: String(value),
      distractors: [...new Set(near)].map(String),
      modelAnswer: `${a} ${op} ${b} is ${value}.`,
      referenceAnswer: `If we work out ${a} ${op} ${b}, we get ${value}.`,
    });
  };
  for (let a = 2; a <= 12; a++) for (let b = 2; b <= 12; b++) add(a, "times", b);
  for (let a = 11; a <= 49; a += 2) for (let b = 3; b <= 29; b += 3) add(a, "plus", b);
  for (let a = 20; a <= 60; a += 4) for (let b = 2; b < a && b <= 19; b += 3) add(a, "minus", b);
  return out;
}

export interface Tale {
  key: string;
  /** Plural subject: "owls", "horseshoes". */
  subject: string;
  power: string;
}

/** Every (subject, power) the old tales speak of. All of them are false in Bramblewick. */
export function tales(): Tale[] {
  const subjects = [...animals.map(([, plural]) => plural), ...charms.map(([, plural]) => plural)];
  return subjects.flatMap((subject) => talePowers.map((power) => ({ key: `${subject}:${power}`, subject, power })));
}
