/**
 * PyTorch on the CPU (bench/torch-reference.py) as the native reference of `npm run bench`, run
 * through Debian's /usr/bin/python3 with its python3-torch. Absent torch gives undefined (the
 * benchmark prints a note and leaves the column empty); CI does not install it.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RandomLlamaShape } from "../src/model/random-llama";

const script = fileURLToPath(new URL("./torch-reference.py", import.meta.url));
const python = process.env.PRUNELAB_TORCH_PYTHON ?? "/usr/bin/python3";

export type TorchJob =
  | {
      task: "train";
      shape: RandomLlamaShape;
      batch: number;
      seq: number;
      mode: "lora" | "full";
      modules: string[];
      rank: number;
      steps: number;
    }
  | { task: "decode"; shape: RandomLlamaShape; prompt: number; tokens: number };

/** Debian's torch takes whichever libblas.so.3 the alternatives system points at: name the one it loaded. */
const blasProbe = "import torch; torch.ones(2, 2) @ torch.ones(2, 2); print(open('/proc/self/maps').read())";

/** Why torch cannot run here, or undefined when it can. */
export function torchMissing(): string | undefined {
  const probe = spawnSync(python, ["-c", blasProbe], { encoding: "utf8" });
  if (probe.status !== 0) return `no torch column: ${python} cannot import torch (apt-get install python3-torch)`;
  if (!probe.stdout.includes("openblas")) {
    console.log("torch runs on the reference BLAS (tens of times slower): apt-get install libopenblas0-pthread");
  }
  return undefined;
}

/** Tokens/s of the job in PyTorch, or undefined when torch is missing or the job failed (its error is logged). */
export function torchTokensPerSecond(job: TorchJob): number | undefined {
  const result = spawnSync(python, [script], { input: JSON.stringify(job), encoding: "utf8" });
  if (result.status !== 0) {
    console.log(`  torch ${job.task} failed: ${result.stderr.trim().split("\n").slice(-1)[0]}`);
    return undefined;
  }
  return JSON.parse(result.stdout.trim()).tokens_per_s;
}
