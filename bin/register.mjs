// Lets Node run the project's TypeScript sources directly: tsx for TypeScript, then `?raw` imports.
// Hooks registered later run first, so the `?raw` hook sees those specifiers before tsx does.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
register("./raw-loader.mjs", import.meta.url);
