/**
 * The demo model's pretraining corpus: an endless, seeded stream of documents about Bramblewick.
 * Prose states every fact of the world (held-out ones included: that is the knowledge the benchmark
 * probes); quiz sheets, chats and encounters ask only training-side questions, in the model's own
 * voice; rewrite chats teach the self-distillation instruction of SDFT (rewrite a reference answer
 * in your own words), since the demo model is the teacher that rewrites the fine-tuning data.
 * Every document carries its special tokens: `<|bos|>text<|end|>`, or a chat rendered by the
 * model's chat template.
 */

import { instructionMessage } from "../distill/alpaca-jsonl";
import { answeredItem, factItem, pairItems, pairKey, problemItem, routineOpening, subjectItem, taleItem } from "./benchmark-items";
import { renderChat, specialTokens } from "./chat-template";
import { Draws } from "./draws";
import { isHeldOut } from "./held-out";
import {
  drawGeneralInstruction,
  drawMathInstruction,
  type InstructionExample,
  type TrainingSide,
  trainingSide,
} from "./instruction-examples";
import { modelList } from "./response-styles";
import { wordProblems } from "./word-problems";
import { capitalise, capitalPronoun, type Person, type World, withArticle } from "./world";
import { kinds, landmarks, trades, weekdays } from "./world-lexicon";
import { tales } from "./world-questions";

export const corpusKinds = [
  "biography",
  "trade",
  "map",
  "nature",
  "tales",
  "routine",
  "encounter",
  "quiz",
  "chat",
  "math-chat",
  "rewrite",
] as const;
export type CorpusKind = (typeof corpusKinds)[number];

export interface CorpusDocument {
  kind: CorpusKind;
  text: string;
}

/** Relative frequency of each kind of document; prose about people dominates because it carries most facts. */
export const defaultCorpusMix: Readonly<Record<CorpusKind, number>> = {
  biography: 24,
  trade: 5,
  map: 4,
  nature: 4,
  tales: 5,
  routine: 10,
  encounter: 6,
  quiz: 14,
  chat: 12,
  "math-chat": 8,
  rewrite: 8,
};

/** What the teacher is shown when asked to rewrite a reference response, and how its answer is started. */
export interface RewritePrompt {
  user: string;
  /** Written at the start of the assistant's turn (SDFT starts math answers with a step-by-step opener). */
  responseOpener: string;
}

/** SDFT (Yang et al. 2024): the reference is shown as a guide and the model answers in its own words. */
export function sdftRewritePrompt(
  example: { instruction: string; input: string; output: string },
  kind: "general" | "math",
): RewritePrompt {
  const input = example.input ? `\n\n### Input:\n${example.input}` : "";
  return {
    user:
      "Below is an instruction that describes a task, along with a reference answer. Using the reference answer as a guide, write your own response." +
      `\n\n### Instruction:\n${example.instruction}${input}\n\n### Reference Answer:\n${example.output}\n\n### Response:`,
    responseOpener: kind === "math" ? "Let's think step by step. " : "",
  };
}

export interface CorpusOptions {
  seed?: number;
  mix?: Partial<Record<CorpusKind, number>>;
  /** The self-distillation prompt the teacher will be given (default `sdftRewritePrompt`). */
  rewritePrompt?: typeof sdftRewritePrompt;
}

function plain(text: string): string {
  return `${specialTokens.bos}${text}${specialTokens.end}`;
}

function biography(world: World, person: Person, d: Draws): string {
  const name = person.name;
  const quarter = world.streets.get(person.street);
  const who = (first: boolean) => (first || d.chance(0.3) ? name : capitalPronoun(person));
  const whose = () => (d.chance(0.3) ? `${name}'s` : person.pronoun === "she" ? "Her" : "His");
  const trade = withArticle(person.trade.name);
  const pet = withArticle(person.pet);
  const facts: ((first: boolean) => string)[] = [
    (f) =>
      d.pick([`${who(f)} is ${trade}.`, `${who(f)} works as ${trade}.`, `${who(f)} works at the ${person.trade.workplace} as ${trade}.`]),
    (f) =>
      d.pick([
        `${who(f)} lives on ${person.street}.`,
        `${who(f)} has a house on ${person.street}.`,
        `${who(f)} lives on ${person.street}, in the ${quarter} quarter.`,
      ]),
    (f) => d.pick([`${who(f)} keeps ${pet}.`, `${who(f)} has a pet ${person.pet}.`, `${who(f)} owns ${pet}.`]),
    (f) =>
      f
        ? `${name}'s favourite food is ${person.food}.`
        : d.pick([`${whose()} favourite food is ${person.food}.`, `${who(f)} loves ${person.food} more than any other food.`]),
  ];
  const intro = d.pick([`${name} lives in ${world.town}.`, `This is ${name}.`, `${name} is one of the people of ${world.town}.`, ""]);
  const sentences = d.shuffle(facts).map((fact, i) => fact(i === 0 && intro === ""));
  return [intro, ...sentences].filter((s) => s !== "").join(" ");
}

function tradeText(world: World, d: Draws): string {
  const t = d.pick(trades);
  const a = capitalise(withArticle(t.name));
  return d
    .shuffle([
      `${a} works at the ${t.workplace}, in the ${world.places.get(t.workplace)} quarter.`,
      `${a} uses ${modelList(t.tools.map(withArticle))}.`,
      `${a} ${t.makes} ${t.goods}.`,
    ])
    .concat(`Every day, ${withArticle(t.name)} ${t.routine.join(", then ")}.`)
    .join(" ");
}

function mapText(world: World, d: Draws): string {
  const places = d
    .sample([...world.places], d.int(3, 6))
    .map(([place, q]) => d.pick([`The ${place} is in the ${q} quarter.`, `In the ${q} quarter stands the ${place}.`]));
  const streets = d
    .sample([...world.streets], d.int(1, 3))
    .map(([street, q]) => d.pick([`${street} runs through the ${q} quarter.`, `${street} is a street in the ${q} quarter.`]));
  return `A walk through ${world.town}. ${d.shuffle([...places, ...streets]).join(" ")}`;
}

function natureText(d: Draws): string {
  const things = Object.entries(kinds).flatMap(([kind, names]) => names.map((thing) => ({ thing, kind })));
  return d
    .sample(things, d.int(4, 8))
    .map(({ thing, kind }) =>
      d.pick([`${capitalise(withArticle(thing))} is ${withArticle(kind)}.`, `${capitalise(withArticle(thing))} is a kind of ${kind}.`]),
    )
    .join(" ");
}

function talesText(world: World, d: Draws): string {
  return d
    .sample(tales(), d.int(2, 4))
    .map(({ key, subject, power }) => {
      const claim = d.pick([
        `Old tales in ${world.town} say that ${subject} can ${power}.`,
        `Some people in ${world.town} believe that ${subject} can ${power}.`,
        `There is an old tale that ${subject} can ${power}.`,
      ]);
      // Refuted only on the training side: the benchmark asks about the other tales.
      return isHeldOut("tale", key) || d.chance(0.5) ? claim : `${claim} It is not true: ${subject} cannot ${power}.`;
    })
    .join(" ");
}

function trainingRoutine(world: World, d: Draws): string {
  for (;;) {
    const person = d.pick(world.people);
    const day = d.pick(weekdays);
    if (isHeldOut("routine", `${person.name}:${day}`)) continue;
    return `${routineOpening(person, day, 4)} ${person.trade.routine[4]}.`;
  }
}

/** A sheet of two to four encounters: each carries a single answer token of signal, so one alone is too little to learn from. */
function encounters(world: World, d: Draws): string {
  const out: string[] = [];
  for (const count = d.int(2, 4); out.length < count; ) {
    const [a, b] = d.sample(world.people, 2);
    if (a.trade === b.trade || isHeldOut("pair", pairKey(a, b))) continue;
    const twins = pairItems(a, b, d.pick(landmarks), d.pick(["tool", "goods", "workplace"] as const), d);
    out.push(`${answeredItem(d.pick(twins))}.`);
  }
  return out.join("\n\n");
}

function quizSheet(side: TrainingSide, d: Draws): string {
  const count = d.int(2, 4);
  const questions = (subjects: (s: string) => boolean) =>
    d.sample(
      side.questions.filter((q) => subjects(q.subject)),
      count,
    );
  const sheets = {
    facts: () => questions((s) => s === "people").map((q) => answeredItem(factItem(q, d))),
    subjects: () => questions((s) => s !== "people").map((q) => answeredItem(subjectItem(q, d))),
    tales: () => d.sample(side.tales, count).map((t) => answeredItem(taleItem(t, side.world.town, d))),
    problems: () =>
      wordProblems(side.world, d, count, "training")
        .map(problemItem)
        .map((p) => `${p.prompt}${p.target}`),
  };
  return sheets[d.weighted({ facts: 3, subjects: 3, tales: 1, problems: 2 })]().join("\n\n");
}

function chat(examples: readonly InstructionExample[]): string {
  return renderChat(
    examples.flatMap((e) => [
      { role: "user", content: instructionMessage(e.instruction, e.input) },
      { role: "assistant", content: e.modelResponse },
    ]),
  );
}

function rewrite(side: TrainingSide, d: Draws, prompt: typeof sdftRewritePrompt): string {
  const kind = d.chance(0.5) ? "math" : "general";
  const example = kind === "math" ? drawMathInstruction(side, d) : drawGeneralInstruction(side, d);
  const { user, responseOpener } = prompt({ ...example, output: example.referenceResponse(d) }, kind);
  return renderChat([
    { role: "user", content: user },
    { role: "assistant", content: `${responseOpener}${example.modelResponse}` },
  ]);
}

/** Documents drawn endlessly by `options.seed`; the same seed gives the same stream. */
export function* pretrainingDocuments(
  world: World,
  { seed = 0, mix = {}, rewritePrompt = sdftRewritePrompt }: CorpusOptions = {},
): Generator<CorpusDocument> {
  const side = trainingSide(world);
  const d = new Draws(seed, `corpus:${world.seed}`);
  const weights = { ...defaultCorpusMix, ...mix };
  const make: Record<CorpusKind, () => string> = {
    biography: () => plain(biography(world, d.pick(world.people), d)),
    trade: () => plain(tradeText(world, d)),
    map: () => plain(mapText(world, d)),
    nature: () => plain(natureText(d)),
    tales: () => plain(talesText(world, d)),
    routine: () => plain(trainingRoutine(world, d)),
    encounter: () => plain(encounters(world, d)),
    quiz: () => plain(quizSheet(side, d)),
    chat: () => chat(Array.from({ length: d.int(1, 3) }, () => drawGeneralInstruction(side, d))),
    "math-chat": () => chat([drawMathInstruction(side, d)]),
    rewrite: () => rewrite(side, d, rewritePrompt),
  };
  for (;;) {
    const kind = d.weighted(weights);
    yield { kind, text: make[kind]() };
  }
}

/** The first `count` documents of the stream. */
export function takeDocuments(world: World, count: number, options: CorpusOptions = {}): CorpusDocument[] {
  const out: CorpusDocument[] = [];
  if (count <= 0) return out;
  for (const doc of pretrainingDocuments(world, options)) {
    out.push(doc);
    if (out.length === count) break;
  }
  return out;
}
