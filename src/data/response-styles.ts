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

/** A reference-voice answer: opener, body, closing line. */
export function referenceVoice(draws: Draws, body: string): string {
  return `${draws.pick(openers)} ${body}\n\n${draws.pick(closers)}`;
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

export function referenceSolution(problem: WordProblem): string {
  const steps = problem.steps.map((s, i) => `Step ${i + 1}: Find ${s.finds}: $${s.a} ${latexOperator[s.op]} ${s.b} = ${s.result}$.`);
  return `Let's solve this step by step.\n\n${steps.join("\n")}\n\nThe final answer is $\\boxed{${problem.answer}}$.`;
}
