/**
 * The name a model is known by outside this machine: its Hugging Face Hub id when `--model` named
 * one, else the name of its folder (`../out/demo-pruned` → `demo-pruned`, `…/stories260K/stories260K.bin`
 * → `stories260K`). Written as PEFT's base_model_name_or_path and GGUF's general.name, where a
 * relative path as typed would mean nothing to whoever loads the files.
 */
import { statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";

/** `owner/name` with an optional `@revision`, as the Hub spells repository ids. */
const HUB_ID = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(@[^\s]+)?$/;

export function modelSourceName(model: string): string {
  const info = statSync(model, { throwIfNoEntry: false });
  if (!info) {
    // Not on disk: a Hub id, named without its revision (PEFT keeps the revision in a field of its own).
    const hub = HUB_ID.exec(model);
    return hub ? hub[1] : basename(resolve(model));
  }
  return basename(info.isDirectory() ? resolve(model) : dirname(resolve(model)));
}
