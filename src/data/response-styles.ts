/**
 * The two voices of the demo world. They differ on purpose, as a human-written dataset differs from
 * a model's own outputs, so that plain SFT on the references pulls the model away from what it
 * learned and self-distillation (the model rewriting the references in its own words) has
 * something to preserve.
 *
 * Model voice — the pretraining corpus, hence the demo model's own answers:
 *   terse declarative sentences, answer first, the subject restated ("Mara Quill is a baker."),
 *   no greeting, no closing; lists as one sentence with commas and "and"; math as one line of
 *   equations "12 + 9 = 21. 21 - 3 = 18. The answer is 18." with * and / for × and ÷.
 *
 * Reference voice — the fine-tuning datasets' `output` (the Alpaca/Dolly and OpenMathInstruct
 *   analogues): an opener ("Sure!", "Great question!"), the answer wrapped in a longer sentence
 *   with other words ("earns a living as", "makes a home on"), lists as "- item" lines or numbered
 *   steps in the imperative, a closing line; math as "Let's solve this step by step." then
 *   "Step k: …" lines with LaTeX-style $a \times b = c$, ending "The final answer is $\boxed{N}$."
 */
import type { Draws } from "./draws";
import type { Operator, WordProblem } from "./word-problems";

const openers = ["Sure!", "Great question!", "Of course.", "Happy to help.", "Certainly!", "Good question."] as const;
const closers = [
  "I hope this helps!",
  "Let me know if you would like to know more.",
  "Feel free to ask if anything is unclear.",
  "I hope that answers your question.",
] as const;

/**
 * Whether one mark of the reference voice is used, at foreignness f: always at 1 and never at 0
 * without a draw, so the default world's data (f = 1) is the same text, draw for draw, as before
 * foreignness was a parameter (the committed tokenizer is fitted on it).
 */
function foreign(draws: Draws, foreignness: number): boolean {
  if (foreignness >= 1) return true;
  return foreignness > 0 && draws.chance(foreignness);
}

/**
 * A reference answer at a foreignness f ∈ [0, 1] (World.referenceForeignness): the opener, the
 * reworded body and the closing line each appear with probability f, else the model's own form
 * (no opener, its own body, no closing line). f = 1 is the full reference voice, f = 0 the
 * model's own answer.
 */
export function referenceVoice(draws: Draws, foreignness: number, body: { reference: string; model: string }): string {
  const opener = foreign(draws, foreignness) ? `${draws.pick(openers)} ` : "";
  const text = foreign(draws, foreignness) ? body.reference : body.model;
  const closer = foreign(draws, foreignness) ? `\n\n${draws.pick(closers)}` : "";
  return `${opener}${text}${closer}`;
}

export function referenceBullets(items: readonly string[]): string {
  return items.map((item) => `- ${item}`).join("\n");
}

export function referenceSteps(items: readonly string[]): string {
  return items.map((item, i) => `${i + 1}. ${item}`).join("\n");
}

/** "a, b and c". */
export function modelList(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function modelSolution(problem: WordProblem): string {
  const lines = problem.steps.map((s) => `${s.a} ${s.op} ${s.b} = ${s.result}.`);
  return `${lines.join(" ")} The answer is ${problem.answer}.`;
}

const latexOperator: Record<Operator, string> = { "+": "+", "-": "-", "*": "\\times", "/": "\\div" };

/**
 * A worked solution at a foreignness f ∈ [0, 1], as referenceVoice: the "Let's solve this step by
 * step." opener, the "Step k:" lines in LaTeX and the boxed final answer each appear with
 * probability f, else the model's form (its one-line equations, "The answer is N.").
 */
export function referenceSolution(problem: WordProblem, draws: Draws, foreignness: number): string {
  const opener = foreign(draws, foreignness) ? "Let's solve this step by step.\n\n" : "";
  const stepLines = problem.steps.map((s, i) => `Step ${i + 1}: Find ${s.finds}: $${s.a} ${latexOperator[s.op]} ${s.b} = ${s.result}$.`);
  const modelLines = problem.steps.map((s) => `${s.a} ${s.op} ${s.b} = ${s.result}.`);
  const steps = foreign(draws, foreignness) ? stepLines.join("\n") : modelLines.join(" ");
  const answer = foreign(draws, foreignness)
    ? `\n\nThe final answer is $\\boxed{${problem.answer}}$.`
    : ` The answer is ${problem.answer}.`;
  return `${opener}${steps}${answer}`;
}
