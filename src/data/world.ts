/**
 * Bramblewick, the demo world: who lives where, who does what, where each place stands. Built from
 * the fixed lexicon by a seed; the same seed gives the same town on every platform.
 */
import { Draws } from "./draws";
import {
  animals,
  familyNames,
  femaleNames,
  foods,
  landmarks,
  maleNames,
  massNouns,
  quarters,
  streetNames,
  type Trade,
  townName,
  trades,
} from "./world-lexicon";

export interface Person {
  name: string;
  pronoun: "she" | "he";
  trade: Trade;
  street: string;
  pet: string;
  food: string;
}

export interface World {
  seed: number;
  town: string;
  /** Street → quarter. */
  streets: ReadonlyMap<string, string>;
  /** Place (workplaces and landmarks) → quarter. */
  places: ReadonlyMap<string, string>;
  people: readonly Person[];
  /**
   * How far the fine-tuning references' voice is from the model's own, in [0, 1]: each mark of the
   * reference voice (opener, reworded body, closing line) appears with this probability, else the
   * model's own form does (response-styles.ts). 1 (default) is the full reference voice, 0 the
   * model's own answers, so SFT on the references is SDD with a perfect teacher. Turning it shows
   * how much of SFT's forgetting comes from the foreign voice.
   */
  referenceForeignness: number;
}

/** The seed of the world the bundled demo model, its tokenizer and the default suite are made from. */
export const demoWorldSeed = 1;

export interface WorldOptions {
  /** Default 96: eight of each trade. */
  people?: number;
  /** Default 1: the full reference voice (see World.referenceForeignness). */
  referenceForeignness?: number;
}

export function buildWorld(seed: number, { people = 96, referenceForeignness = 1 }: WorldOptions = {}): World {
  if (!(referenceForeignness >= 0 && referenceForeignness <= 1)) {
    throw new Error(`buildWorld: referenceForeignness must be in [0, 1], got ${referenceForeignness}`);
  }
  const maxPeople = (femaleNames.length + maleNames.length) * familyNames.length;
  if (!Number.isInteger(people) || people < trades.length || people > maxPeople) {
    throw new Error(`buildWorld: people must be an integer in [${trades.length}, ${maxPeople}], got ${people}`);
  }
  const draws = new Draws(seed, "world");
  const streets = new Map(streetNames.map((s, i) => [s, quarters[i % quarters.length]]));
  const places = new Map([...trades.map((t) => t.workplace), ...landmarks].map((p) => [p, draws.pick(quarters)]));
  const names = draws.sample(
    [...femaleNames, ...maleNames].flatMap((first) => familyNames.map((family) => `${first} ${family}`)),
    people,
  );
  const residents = names.map(
    (name, i): Person => ({
      name,
      pronoun: (femaleNames as readonly string[]).includes(name.split(" ")[0]) ? "she" : "he",
      // Round-robin keeps every trade equally staffed whatever the seed.
      trade: trades[i % trades.length],
      street: draws.pick(streetNames),
      pet: draws.pick(animals)[0],
      food: draws.pick(foods),
    }),
  );
  return { seed, town: townName, streets, places, people: residents, referenceForeignness };
}

/** "She" or "He" at the start of a sentence. */
export function capitalPronoun(person: Person): string {
  return person.pronoun === "she" ? "She" : "He";
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "a baker", "an innkeeper", "iron". */
export function withArticle(noun: string): string {
  if (massNouns.has(noun)) return noun;
  return `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;
}

/**
 * "a baker" → "baker", "the Harbour quarter" → "Harbour quarter": an answer as both voices name it
 * ("a baker" in one, "the baker's trade" in the other), for checks that a reply mentions it.
 */
export function withoutArticle(text: string): string {
  return text.replace(/^(a|an|the) /i, "");
}
