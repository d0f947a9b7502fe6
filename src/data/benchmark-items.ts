/**
 * One benchmark item of each task, built from a piece of the world. The benchmark, its few-shot
 * examples and the corpus's quiz sheets all use these builders, so the demo model reads questions
 * in exactly the layout it is evaluated on (as a web-trained model has seen exam pages) — but only
 * ever for keys on the training side of the held-out split.
 */
import type { GenerativeItem, MultipleChoiceItem } from "../eval/task-format";
import type { Draws } from "./draws";
import { modelSolution } from "./response-styles";
import type { WordProblem } from "./word-problems";
import { type Person, withArticle } from "./world";
import type { Trade } from "./world-lexicon";
import type { Tale, WorldQuestion } from "./world-questions";

/** Gold first in `choices`, then shuffled; the gold index follows it. */
function shuffled(context: string, gold: string, wrong: readonly string[], draws: Draws): MultipleChoiceItem {
  const choices = draws.shuffle([gold, ...wrong]);
  return { context, choices, gold: choices.indexOf(gold) };
}

export function questionContext(question: string): string {
  return `Question: ${question}\nAnswer:`;
}

/** ARC-like: a question about a person, four answers of the same type. */
export function factItem(q: WorldQuestion, draws: Draws): MultipleChoiceItem {
  return shuffled(questionContext(q.question), q.answer, draws.sample(q.distractors, 3), draws);
}

/** MMLU-like: the subject named, the four options listed, the option's text scored. */
export function subjectItem(q: WorldQuestion, draws: Draws): MultipleChoiceItem {
  const { choices, gold } = shuffled("", q.answer, draws.sample(q.distractors, 3), draws);
  const listed = choices.map((c, i) => `${"ABCD"[i]}. ${c}`).join("\n");
  return { context: `The following is a question about ${q.subject}.\nQuestion: ${q.question}\n${listed}\nAnswer:`, choices, gold };
}

/** TruthfulQA-like: the true answer against the tale and embellishments of it. */
export function taleItem({ subject, power }: Tale, town: string, draws: Draws): MultipleChoiceItem {
  const falsehoods = [
    `Yes, ${subject} can ${power}.`,
    "Yes, but only when the moon is full.",
    `Only the oldest ${subject} can ${power}.`,
    `Yes, everyone in ${town} knows that ${subject} can ${power}.`,
  ];
  return shuffled(questionContext(`Can ${subject} ${power}?`), `No, ${subject} cannot ${power}.`, draws.sample(falsehoods, 3), draws);
}

export function routineOpening(person: Person, day: string, shown: number): string {
  const [first, ...rest] = person.trade.routine.slice(0, shown);
  const then = rest.map((s) => ` After that, ${person.pronoun} ${s}.`).join("");
  return `On ${day}, ${person.name} the ${person.trade.name} ${first}.${then} After that, ${person.pronoun}`;
}

/**
 * HellaSwag-like: the first `shown` steps of a person's working day; the next step against the same
 * step of two other trades and an out-of-order step of the person's own trade.
 */
export function routineItem(person: Person, day: string, shown: number, otherTrades: readonly Trade[], draws: Draws): MultipleChoiceItem {
  const routine = person.trade.routine;
  const misplaced = draws.pick(routine.filter((_, i) => i !== shown));
  const wrong = [...draws.sample(otherTrades, 2).map((t) => t.routine[shown]), misplaced];
  return shuffled(
    routineOpening(person, day, shown),
    `${routine[shown]}.`,
    wrong.map((s) => `${s}.`),
    draws,
  );
}

export type ClueKind = "tool" | "goods" | "workplace";

function clue(trade: Trade, kind: ClueKind, draws: Draws): string {
  if (kind === "tool") return `was carrying ${withArticle(draws.pick(trade.tools))}`;
  if (kind === "goods") return `was selling ${trade.goods}`;
  return `had just come from the ${trade.workplace}`;
}

/**
 * Winogrande-like twins: "A is a baker and B is a fisher. At the fountain, one of them was carrying
 * a net. It was" → B; the twin carries the baker's clue → A. Twins cancel any preference for a name.
 */
export function pairItems(a: Person, b: Person, place: string, kind: ClueKind, draws: Draws): [MultipleChoiceItem, MultipleChoiceItem] {
  const intro = `${a.name} is ${withArticle(a.trade.name)} and ${b.name} is ${withArticle(b.trade.name)}. At the ${place}, one of them`;
  const item = (who: Person, gold: number): MultipleChoiceItem => ({
    context: `${intro} ${clue(who.trade, kind, draws)}. It was`,
    choices: [a.name, b.name],
    gold,
  });
  return [item(a, 0), item(b, 1)];
}

/** Order-free, so that (A, B) and (B, A) fall on the same side of the split. */
export function pairKey(a: Person, b: Person): string {
  return [a.name, b.name].sort().join("|");
}

/** GSM8k-like: the question, the final number, and the worked solution in the model's voice for few-shot. */
export function problemItem(problem: WordProblem): GenerativeItem {
  return { prompt: questionContext(problem.question), answer: String(problem.answer), target: ` ${modelSolution(problem)}` };
}

/** How an item reads with its answer filled in (few-shot examples, quiz sheets). */
export function answeredItem(item: MultipleChoiceItem): string {
  return `${item.context} ${item.choices[item.gold]}`;
}
