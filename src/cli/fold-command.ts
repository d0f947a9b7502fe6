/** `prunelab fold`: merges a PEFT LoRA adapter into its base model and writes the result as a Hugging Face folder. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { foldPeftAdapter } from "../export/folded-model";
import { hfDtypes, hfModelFiles } from "../export/model-export";
import { peftConfigFile, peftWeightsFile } from "../export/peft-adapter";
import type { HostDtype } from "../model/host-tensor";
import { loadModelFromPath } from "../model/load-model-path";
import { parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./command-io";

export const foldUsage = `  prunelab fold --model PATH [--tokenizer PATH] --adapter DIR --out DIR [--dtype f32|f16|bf16]
      Merges the PEFT LoRA adapter in DIR (adapter_config.json, adapter_model.safetensors) into the
      model, W + (alpha/r)·B·A, and writes a Hugging Face folder whose tensors are all --dtype
      (default f32, which keeps the merge exact).`;

export async function foldCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: "string" },
    tokenizer: { type: "string" },
    adapter: { type: "string" },
    out: { type: "string" },
    dtype: { type: "string" },
  });
  const modelPath = required(values.model, "model");
  const adapterDir = required(values.adapter, "adapter");
  const out = required(values.out, "out");
  const dtype = values.dtype ?? "f32";
  if (!(hfDtypes as readonly string[]).includes(dtype))
    throw new UsageError(`--dtype must be one of ${hfDtypes.join(", ")}, got '${dtype}'`);
  const loaded = await loadModelFromPath(modelPath, { tokenizer: values.tokenizer });
  const weights = foldPeftAdapter(loaded.weights, {
    configText: await readFile(join(adapterDir, peftConfigFile), "utf8"),
    weights: new Uint8Array(await readFile(join(adapterDir, peftWeightsFile))),
  });
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of hfModelFiles({ ...loaded, weights }, dtype as HostDtype)) await writeFile(join(out, name), bytes);
  io.stdout(`folded the adapter in ${adapterDir} into ${loaded.source}: ${dtype} Hugging Face folder written to ${out}\n`);
}
