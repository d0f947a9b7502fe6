/**
 * Instructions about the world, each answered in both voices (response-styles.ts): the model voice
 * goes into the pretraining corpus as chat, the reference voice into the fine-tuning datasets.
 * Only the training side of the held-out split is ever asked here.
 */
import type { Draws } from "./draws";
import { isHeldOut } from "./held-out";
import { modelList, modelSolution, referenceBullets, referenceSolution, referenceSteps, referenceVoice } from "./response-styles";
import { drawWordProblem, type WordProblem } from "./word-problems";
import { capitalise, type World, withArticle, withoutArticle } from "./world";
import { kinds, trades } from "./world-lexicon";
import { arithmeticQuestions, personQuestions, subjectQuestions, type Tale, tales, type WorldQuestion } from "./world-questions";

export interface InstructionExample {
  kind: string;
  instruction: string;
  input: string;
  modelResponse: string;
  /**
   * What a correct response mentions in either voice (entities, numbers, the steps' objects),
   * matched case-insensitively as whole words: the distillation filter's content check.
   */
  answers: string[];
  /** Opener and closing line come from `draws`, so one instruction has several reference wordings. */
  referenceResponse: (draws: Draws) => string;
}

/** A general example before its reference is given a voice: the reference's body alone. */
type GeneralExample = Omit<InstructionExample, "referenceResponse"> & { referenceBody: string };

/** The training side of everything askable, gathered once per world. */
export interface TrainingSide {
  world: World;
  questions: readonly WorldQuestion[];
  /** Person facts by name, training side only (for "tell me about" answers). */
  factsByPerson: ReadonlyMap<string, readonly WorldQuestion[]>;
  tales: readonly Tale[];
  things: readonly { thing: string; kind: string }[];
}

export function trainingSide(world: World): TrainingSide {
  const questions = [...personQuestions(world), ...subjectQuestions(world), ...arithmeticQuestions()].filter(
    (q) => !isHeldOut(q.family, q.key),
  );
  const factsByPerson = new Map<string, WorldQuestion[]>();
  for (const q of questions) {
    if (q.family !== "fact") continue;
    const name = q.key.slice(0, q.key.indexOf(":"));
    factsByPerson.set(name, [...(factsByPerson.get(name) ?? []), q]);
  }
  return {
    world,
    questions,
    factsByPerson,
    tales: tales().filter((t) => !isHeldOut("tale", t.key)),
    things: Object.entries(kinds)
      .flatMap(([kind, things]) => things.map((thing) => ({ thing, kind })))
      .filter(({ thing }) => !isHeldOut("subject", `kind:${thing}`)),
  };
}

function question(side: TrainingSide, draws: Draws): GeneralExample {
  const q = draws.pick(side.questions);
  return {
    kind: `question:${q.subject}`,
    instruction: q.question,
    input: "",
    modelResponse: q.modelAnswer,
    answers: [withoutArticle(q.answer)],
    referenceBody: q.referenceAnswer,
  };
}

function tale(side: TrainingSide, draws: Draws): GeneralExample {
  const { subject, power } = draws.pick(side.tales);
  return {
    kind: "tale",
    instruction: `Is it true that ${subject} can ${power}?`,
    input: "",
    modelResponse: `No. ${capitalise(subject)} cannot ${power}; that is only an old tale.`,
    // The verdict has no voice-neutral wording ("cannot" against "a myth"); the topic does.
    answers: [subject, power],
    referenceBody: `That is a myth. Although the old tales of ${side.world.town} claim that ${subject} can ${power}, there is no truth in it.`,
  };
}

/** "lights the oven" → "Light the oven". */
function imperative(step: string): string {
  const [verb, ...rest] = step.split(" ");
  return capitalise([verb.replace(/s$/, ""), ...rest].join(" "));
}

function routine(_side: TrainingSide, draws: Draws): GeneralExample {
  const trade = draws.pick(trades);
  return {
    kind: "routine",
    instruction: `Describe the working day of ${withArticle(trade.name)}.`,
    input: "",
    modelResponse: `${capitalise(withArticle(trade.name))} ${trade.routine.join(", then ")}.`,
    // The steps' objects: the verbs change form between the voices ("lights" against "Light").
    answers: trade.routine.map((s) => s.slice(s.indexOf(" ") + 1)),
    referenceBody: `Here is what a typical day looks like for ${withArticle(trade.name)}:\n${referenceSteps(trade.routine.map((s) => `${imperative(s)}.`))}`,
  };
}

function tools(_side: TrainingSide, draws: Draws): GeneralExample {
  const trade = draws.pick(trades);
  return {
    kind: "tools",
    instruction: `Which tools does ${withArticle(trade.name)} use?`,
    input: "",
    modelResponse: `${capitalise(withArticle(trade.name))} uses ${modelList(trade.tools.map(withArticle))}.`,
    answers: [...trade.tools],
    referenceBody: `${capitalise(withArticle(trade.name))} relies on the following tools:\n${referenceBullets(trade.tools)}`,
  };
}

function person(side: TrainingSide, draws: Draws): GeneralExample {
  const name = draws.pick([...side.factsByPerson.keys()]);
  const facts = side.factsByPerson.get(name) ?? [];
  return {
    kind: "person",
    instruction: `Tell me about ${name}.`,
    input: "",
    modelResponse: facts.map((f) => f.modelAnswer).join(" "),
    answers: [name, ...facts.map((f) => withoutArticle(f.answer))],
    referenceBody: `Here is what I know about ${name}:\n${referenceBullets(facts.map((f) => f.referenceAnswer))}`,
  };
}

function classify(side: TrainingSide, draws: Draws): GeneralExample {
  const picked = draws.sample(side.things, 3);
  return {
    kind: "classify",
    instruction: "Say what kind of thing each of these is.",
    input: picked.map((p) => p.thing).join(", "),
    modelResponse: picked.map((p) => `${capitalise(withArticle(p.thing))} is ${withArticle(p.kind)}.`).join(" "),
    // Bare names: the reference lists "owl: bird", without articles.
    answers: picked.flatMap((p) => [p.thing, p.kind]),
    referenceBody: `Here is the classification:\n${referenceBullets(picked.map((p) => `${p.thing}: ${p.kind}`))}`,
  };
}

const drawKind = { question, tale, routine, tools, person, classify };
export type GeneralKind = keyof typeof drawKind;
export type GeneralKindWeights = Readonly<Record<GeneralKind, number>>;

/** The mix of general instructions in the pretraining corpus's chats and rewrites. */
export const corpusGeneralKinds: GeneralKindWeights = { question: 6, tale: 2, routine: 1, tools: 1, person: 2, classify: 1 };

/** One general instruction (the Alpaca/Dolly analogue), kinds mixed in the given proportions. */
export function drawGeneralInstruction(
  side: TrainingSide,
  draws: Draws,
  kinds: GeneralKindWeights = corpusGeneralKinds,
): InstructionExample {
  const { referenceBody, ...example } = drawKind[draws.weighted(kinds)](side, draws);
  const body = { reference: referenceBody, model: example.modelResponse };
  return { ...example, referenceResponse: (d) => referenceVoice(d, side.world.referenceForeignness, body) };
}

export function mathInstruction(problem: WordProblem, foreignness: number): InstructionExample {
  return {
    kind: "math",
    instruction: problem.question,
    input: "",
    modelResponse: modelSolution(problem),
    answers: [String(problem.answer)],
    referenceResponse: (d) => referenceSolution(problem, d, foreignness),
  };
}

/** One training-side word problem as an instruction (the OpenMathInstruct/GSM8k analogue). */
export function drawMathInstruction(side: TrainingSide, draws: Draws): InstructionExample {
  for (;;) {
    const problem = drawWordProblem(side.world, draws);
    if (!isHeldOut("problem", problem.question)) return mathInstruction(problem, side.world.referenceForeignness);
  }
}
