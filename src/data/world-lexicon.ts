/**
 * The fixed vocabulary of the demo world, Bramblewick: trades with their workplaces, tools, goods
 * and daily routines (in order), animals, things by kind, old tales' claimed powers, names. The
 * seed decides how these are combined (who does what, where things are), never the words.
 */

export const townName = "Bramblewick";

export const quarters = ["Harbour", "Market", "Hill", "Mill"] as const;

export const streetNames = [
  "Anchor Lane",
  "Gull Street",
  "Copper Row",
  "Linden Street",
  "Bell Road",
  "Thistle Way",
  "Weir Lane",
  "Oak Street",
] as const;

export interface Trade {
  name: string;
  workplace: string;
  tools: readonly [string, string, string];
  /** What the trade makes or handles, plural and countable (word problems count it). */
  goods: string;
  /** Present-tense verb for making the goods ("bakes 12 loaves"). */
  makes: string;
  /** The working day, in order: "lights the oven", then "kneads the dough", … */
  routine: readonly [string, string, string, string, string];
}

export const trades: readonly Trade[] = [
  {
    name: "baker",
    workplace: "bakery",
    tools: ["oven", "rolling pin", "flour scoop"],
    goods: "loaves",
    makes: "bakes",
    routine: ["lights the oven", "kneads the dough", "shapes the loaves", "bakes the bread", "sells the bread at the counter"],
  },
  {
    name: "smith",
    workplace: "forge",
    tools: ["anvil", "hammer", "tongs"],
    goods: "horseshoes",
    makes: "forges",
    routine: [
      "stokes the fire",
      "heats the iron",
      "hammers the iron on the anvil",
      "cools the horseshoe in water",
      "fits the horseshoe on a horse",
    ],
  },
  {
    name: "fisher",
    workplace: "dock",
    tools: ["net", "fishing rod", "rowing boat"],
    goods: "fish",
    makes: "catches",
    routine: [
      "checks the sky for storms",
      "rows out past the harbour wall",
      "casts the net",
      "hauls in the catch",
      "sells the fish on the quay",
    ],
  },
  {
    name: "farmer",
    workplace: "farm",
    tools: ["plough", "hoe", "pitchfork"],
    goods: "eggs",
    makes: "collects",
    routine: ["feeds the hens", "collects the eggs", "milks the cows", "ploughs the field", "brings the cows in from the meadow"],
  },
  {
    name: "teacher",
    workplace: "school",
    tools: ["chalk", "slate", "school bell"],
    goods: "pencils",
    makes: "sharpens",
    routine: ["rings the school bell", "greets the pupils", "writes the lesson on the board", "marks the slates", "sends the pupils home"],
  },
  {
    name: "librarian",
    workplace: "library",
    tools: ["ledger", "ink stamp", "book ladder"],
    goods: "books",
    makes: "mends",
    routine: [
      "unlocks the library",
      "sorts the returned books",
      "stamps the new books",
      "shelves the books",
      "reads a story to the children",
    ],
  },
  {
    name: "miller",
    workplace: "mill",
    tools: ["millstone", "sieve", "grain shovel"],
    goods: "sacks of flour",
    makes: "fills",
    routine: ["opens the sluice gate", "starts the millstone", "grinds the grain", "sifts the flour", "ties up the sacks"],
  },
  {
    name: "carpenter",
    workplace: "workshop",
    tools: ["saw", "plane", "chisel"],
    goods: "chairs",
    makes: "builds",
    routine: ["chooses a plank", "measures the wood", "saws the plank", "planes the boards smooth", "glues the chair together"],
  },
  {
    name: "doctor",
    workplace: "clinic",
    tools: ["stethoscope", "bandage", "thermometer"],
    goods: "bottles of tonic",
    makes: "mixes",
    routine: [
      "opens the clinic",
      "boils the instruments",
      "listens to the patients",
      "writes the prescriptions",
      "visits the sick at home",
    ],
  },
  {
    name: "innkeeper",
    workplace: "inn",
    tools: ["kettle", "ring of keys", "serving tray"],
    goods: "cups of tea",
    makes: "pours",
    routine: ["sweeps the floor of the inn", "boils the kettle", "serves breakfast", "makes the beds", "lights the lamps"],
  },
  {
    name: "gardener",
    workplace: "orchard",
    tools: ["spade", "shears", "watering can"],
    goods: "apples",
    makes: "picks",
    routine: ["waters the seedlings", "digs the beds", "prunes the trees", "picks the ripe apples", "rakes the fallen leaves"],
  },
  {
    name: "courier",
    workplace: "post office",
    tools: ["satchel", "bicycle", "parcel string"],
    goods: "letters",
    makes: "delivers",
    routine: ["sorts the letters", "packs the satchel", "cycles up the hill", "delivers the letters", "collects the parcels"],
  },
];

/** Places that belong to no trade; with the workplaces they make up the town's map. */
export const landmarks = ["lighthouse", "market hall", "chapel", "fountain", "old well", "stone bridge"] as const;

/** Singular and plural: pets, and the subjects of old tales. */
export const animals = [
  ["cat", "cats"],
  ["dog", "dogs"],
  ["goat", "goats"],
  ["parrot", "parrots"],
  ["rabbit", "rabbits"],
  ["owl", "owls"],
  ["pony", "ponies"],
  ["tortoise", "tortoises"],
  ["hen", "hens"],
  ["fox", "foxes"],
  ["crow", "crows"],
  ["donkey", "donkeys"],
] as const;

export const foods = ["plum pie", "fish soup", "honey cake", "pea stew", "apple tart", "cheese bread", "pear jam", "onion soup"] as const;

/** Things by kind (the "nature" and "crafts" subjects). */
export const kinds: Readonly<Record<string, readonly string[]>> = {
  fruit: ["apple", "pear", "plum", "cherry", "quince", "fig"],
  vegetable: ["carrot", "onion", "turnip", "leek", "cabbage", "parsnip"],
  bird: ["wren", "gull", "heron", "robin", "swan", "magpie"],
  tree: ["oak", "birch", "willow", "linden", "elm", "hazel"],
  flower: ["rose", "tulip", "daisy", "poppy", "lily", "violet"],
  fish: ["trout", "cod", "herring", "eel", "carp", "salmon"],
  metal: ["iron", "copper", "tin", "silver", "gold", "brass"],
  instrument: ["fiddle", "flute", "drum", "harp", "horn", "lute"],
};

/** Named without an article: "Iron is a metal." */
export const massNouns: ReadonlySet<string> = new Set(kinds.metal);

/** Lucky charms of the old tales, singular and plural. */
export const charms = [
  ["horseshoe", "horseshoes"],
  ["copper coin", "copper coins"],
  ["blue ribbon", "blue ribbons"],
  ["silver key", "silver keys"],
  ["white pebble", "white pebbles"],
  ["acorn", "acorns"],
  ["feather", "feathers"],
  ["candle stub", "candle stubs"],
] as const;

/** What the old tales claim their subjects can do (none of it is true in Bramblewick). */
export const talePowers = [
  "read minds",
  "see the future",
  "grant wishes",
  "turn invisible",
  "bring good luck",
  "cure a cold",
  "keep storms away",
  "find lost things",
  "call the rain",
  "speak every language",
  "stop the clocks",
  "keep bad dreams away",
  "walk through walls",
  "make bread rise overnight",
  "talk to ghosts",
  "turn lead into gold",
  "make it snow in summer",
  "heal a broken bone",
] as const;

export const femaleNames = ["Mara", "Ada", "Nell", "Tilly", "Rosa", "Edith", "Ivy", "June", "Hazel", "Greta", "Lena", "Orla"] as const;
export const maleNames = ["Tom", "Jonas", "Felix", "Otto", "Hugo", "Silas", "Abel", "Ned", "Rufus", "Milo", "Bram", "Cyril"] as const;
export const familyNames = [
  "Quill",
  "Reed",
  "Thatcher",
  "Marsh",
  "Fenwick",
  "Cobb",
  "Hale",
  "Pollard",
  "Dunmore",
  "Pike",
  "Ashby",
  "Tansley",
  "Corder",
  "Mossop",
  "Tull",
  "Blythe",
] as const;

export const weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
