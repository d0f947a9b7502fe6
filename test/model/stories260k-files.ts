/** Where the tests find ../shared/models/stories260K (read in place, never copied), and the skip reason when it is absent. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const stories260kDir = resolve(import.meta.dirname, "../../../shared/models/stories260K");
export const hasStories260k = existsSync(resolve(stories260kDir, "stories260K.bin"));

if (!hasStories260k) console.warn(`SKIPPING stories260K tests: ${stories260kDir} is absent (../shared is provided by CI)`);
