/**
 * `prunelab convert`: rewrites a model (any format the loader reads) as a Hugging Face folder or as
 * one GGUF file that llama.cpp loads unchanged, in the dtype asked for.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type GgufDtype, ggufDtypes, ggufModelFile, hfDtypes, hfModelFiles } from "../export/model-export";
import { type HostDtype, storedDtype } from "../model/host-tensor";
import { loadModelFromPath } from "../model/load-model-path";
import { modelSourceName } from "../model/model-source-name";
import { parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./command-io";

export const convertUsage = `  prunelab convert --model PATH [--tokenizer PATH] --to hf|gguf --out PATH [--dtype f32|f16|bf16|q8_0]
      Writes the model as a Hugging Face folder (--out DIR) or as one llama.cpp GGUF file (--out FILE)
      with its tokenizer, special tokens and chat template. --dtype defaults to the model's own when
      all its tensors share one, else f32; q8_0 (GGUF only) stores rows that are not whole 32-value
      blocks as f16, as llama.cpp's converter does.`;

export async function convertCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    to: { type: "string" },
    out: { type: "string" },
    dtype: { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const to = required(values.to, "to");
  if (to !== "hf" && to !== "gguf") throw new UsageError(`--to must be hf or gguf, got '${to}'`);
  const allowed: readonly string[] = to === "hf" ? hfDtypes : ggufDtypes;
  if (values.dtype !== undefined && !allowed.includes(values.dtype))
    throw new UsageError(`--dtype for --to ${to} must be one of ${allowed.join(", ")}, got '${values.dtype}'`);
  const out = required(values.out, "out");
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer });
  const dtype = values.dtype ?? storedDtype(loaded.weights);
  if (to === "hf") {
    await mkdir(out, { recursive: true });
    for (const [name, bytes] of hfModelFiles(loaded, dtype as HostDtype)) await writeFile(join(out, name), bytes);
  } else {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, ggufModelFile(loaded, dtype as GgufDtype, modelSourceName(modelPath)));
  }
  io.stdout(`wrote ${loaded.source} (${loaded.format}) as ${to === "hf" ? "a Hugging Face folder" : "GGUF"} in ${dtype} to ${out}\n`);
}
