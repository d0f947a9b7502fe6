/** The package's version for `prunelab --version`, read from package.json so there is one place to bump it. */
import { readFileSync } from "node:fs";

export function prunelabVersion(): string {
  const json = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof json.version !== "string") throw new Error('package.json has no "version" string');
  return json.version;
}
