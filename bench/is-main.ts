/** Whether a bench module is the script Node was started with (its CLI), not imported by `npm run bench`. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(resolve(process.argv[1])).href;
}
