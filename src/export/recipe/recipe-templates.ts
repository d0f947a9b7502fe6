/**
 * The recipe's files that are written as they are: Python scripts, configuration templates and the
 * pinned requirements, kept as real files (lintable Python, parseable YAML, bash) and imported as
 * text — by Vite in the browser, by bin/raw-loader.mjs in Node.
 */
import deepspeedYaml from "./templates/accelerate-deepspeed-zero3.yaml?raw";
import fsdpYaml from "./templates/accelerate-fsdp.yaml?raw";
import analyzePy from "./templates/analyze_layers.py?raw";
import distillPy from "./templates/distill.py?raw";
import foldPy from "./templates/fold_adapter.py?raw";
import recoveryPy from "./templates/recovery_table.py?raw";
import requirements from "./templates/requirements.txt?raw";
import sdftPy from "./templates/sdft.py?raw";
import speculatePy from "./templates/speculate.py?raw";
import trainPy from "./templates/train.py?raw";
import sbatch from "./templates/train.sbatch?raw";

/** Scripts copied into the recipe unchanged, by their name there. */
export const recipeScripts: Readonly<Record<string, string>> = {
  "sdft.py": sdftPy,
  "analyze_layers.py": analyzePy,
  "distill.py": distillPy,
  "train.py": trainPy,
  "fold_adapter.py": foldPy,
  "recovery_table.py": recoveryPy,
  "speculate.py": speculatePy,
};

export const recipeTemplates = { fsdpYaml, deepspeedYaml, sbatch, requirements };
