/**
 * The chat-format suite: held-out questions asked zero-shot as a user turn through the demo chat
 * template, the reply generated greedily to the end of the assistant's turn. This is the format
 * fine-tuning trains (the plain suite's few-shot pages are not), so this is where recovery by
 * fine-tuning can show. Scoring accepts either voice: an entity answer counts when the reply names
 * it ("Mara Quill is a baker." and "Sure! Mara Quill earns a living as a baker" both do), a word
 * problem when the reply's last number is the answer (after "The answer is 18." or "$\boxed{18}$").
 */
import type { AnswerExtractor } from "../eval/answer-extractor";
import type { EvalSuite, GenerativeItem } from "../eval/task-format";
import type { DemoTask } from "./benchmark-suite";
import { renderChat, specialTokens } from "./chat-template";
import { Draws } from "./draws";
import { isHeldOut } from "./held-out";
import { modelSolution } from "./response-styles";
import { wordProblems } from "./word-problems";
import { type World, withoutArticle } from "./world";
import { arithmeticQuestions, personQuestions, subjectQuestions, type WorldQuestion } from "./world-questions";

export const chatTasks = {
  "chat-facts": "a held-out question about a townsperson, asked in chat; right when the reply names the answer",
  "chat-subjects": "a held-out question on nature, crafts, geography or arithmetic, asked in chat; right when the reply names the answer",
  "chat-math": "a held-out word problem, asked in chat; right when the reply's last number is the answer",
} as const;

export interface ChatSuiteOptions {
  /** Items per task (default 200). */
  items?: number;
  seed?: number;
}

/** The user turn and the opened assistant turn, without BOS: the evaluator adds the tokenizer's BOS itself. */
export function chatPrompt(question: string): string {
  const text = renderChat([{ role: "user", content: question }], { addGenerationPrompt: true });
  return text.startsWith(specialTokens.bos) ? text.slice(specialTokens.bos.length) : text;
}

function take<T>(pool: readonly T[], count: number, what: string): readonly T[] {
  if (pool.length < count) throw new Error(`buildChatSuite: ${what} has ${pool.length} held-out items, ${count} asked for`);
  return pool;
}

export function buildChatSuite(world: World, { items = 200, seed = 0 }: ChatSuiteOptions = {}): EvalSuite & { tasks: DemoTask[] } {
  const draws = (label: string) => new Draws(seed, `chat-suite:${world.seed}:${label}`);
  const heldOut = (qs: readonly WorldQuestion[]) => qs.filter((q) => isHeldOut(q.family, q.key));
  // The target is the model-voice reply the corpus teaches: what per-task loss is measured on.
  const asked = (q: WorldQuestion): GenerativeItem => ({
    prompt: chatPrompt(q.question),
    answer: withoutArticle(q.answer),
    target: q.modelAnswer,
  });
  const task = (name: keyof typeof chatTasks, extractor: AnswerExtractor, maxTokens: number, list: GenerativeItem[]): DemoTask => ({
    name,
    description: chatTasks[name],
    kind: "generative",
    chance: 0,
    extractor,
    // Only the end of the turn stops a reply: the reference voice puts blank lines inside its answers.
    stopStrings: [],
    maxTokens,
    fewShot: [],
    items: list,
  });

  const df = draws("chat-facts");
  const facts = df.sample(take(heldOut(personQuestions(world)), items, "chat-facts"), items).map(asked);
  const ds = draws("chat-subjects");
  const subjectPool = [...ds.shuffle(heldOut(subjectQuestions(world))), ...ds.shuffle(heldOut(arithmeticQuestions()))];
  const subjects = ds.shuffle(take(subjectPool, items, "chat-subjects").slice(0, items)).map(asked);
  const dm = draws("chat-math");
  const math = wordProblems(world, dm, items, "held-out").map((p) => ({
    prompt: chatPrompt(p.question),
    answer: String(p.answer),
    target: modelSolution(p),
  }));
  return {
    name: `${world.town} chat suite`,
    tasks: [
      task("chat-facts", { kind: "mentions" }, 48, facts),
      task("chat-subjects", { kind: "mentions" }, 48, subjects),
      // The reference voice's worked solution runs to about 100 tokens.
      task("chat-math", { kind: "last-number" }, 128, math),
    ],
  };
}
