/**
 * Checks the GGUF files `prunelab convert` writes against real llama.cpp: for stories260K (when
 * ../shared has it), the demo model and a pruned demo model, in f32, f16 and q8_0, llama.cpp (the
 * prebuilt binaries of npm's node-llama-cpp) must load the file, tokenize the prompt to Prunelab's
 * ids and decode the same greedy text as `prunelab generate` on the same file (read alone: its
 * embedded vocabulary is the tokenizer) and on the source model.
 *
 *   npm run check:llama-cpp            (needs a GPU or `source scripts/gpu-env.sh` for Prunelab's side)
 *
 * node-llama-cpp is installed on demand into .cache/llama-cpp/ (ignored by git), pinned, from the
 * npm registry only: the CPU binary package for this platform, without the CUDA/Vulkan variants
 * (83 MB instead of 730 MB) and without its postinstall (which would try to download or build).
 * It is not a project dependency, so CI's install stays small. Exits 1 when any check fails.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import "../src/gpu/node-globals";
import { tokenizerOf } from "../src/cli/command-io";
import { runCli } from "../src/cli/run-cli";
import { ggufDtypes } from "../src/export/model-export";
import { loadModelFromPath } from "../src/model/load-model-path";

const NODE_LLAMA_CPP = "3.21.1";
const root = resolve(import.meta.dirname, "..");
const cacheDir = join(root, ".cache/llama-cpp");
const modelsDir = join(cacheDir, "models");
const maxTokens = 40;
const checkedDtypes = ggufDtypes.filter((d) => d !== "bf16");

interface Case {
  name: string;
  /** What `--model` (and `--tokenizer`) name for the source. */
  source: string[];
  prompts: string[];
}

async function main(): Promise<number> {
  const llamaCpp = await loadNodeLlamaCpp();
  const stories = resolve(root, "../shared/models/stories260K");
  await mkdir(modelsDir, { recursive: true });
  const prunedDir = join(modelsDir, "demo-pruned");
  await cli(["prune", "--model", "public/models/demo", "--start", "4", "--n", "3", "--out", prunedDir]);
  const cases: Case[] = [
    { name: "demo", source: ["public/models/demo"], prompts: ["The farmer", "Bo has 12 eggs and"] },
    { name: "demo-pruned", source: [prunedDir], prompts: ["The farmer"] },
  ];
  if (existsSync(join(stories, "stories260K.bin"))) {
    cases.unshift({
      name: "stories260K",
      source: [join(stories, "stories260K.bin"), "--tokenizer", join(stories, "tok512.bin")],
      prompts: ["Once upon a time"],
    });
  } else console.warn(`stories260K skipped: ${stories} is absent`);

  const llama = await llamaCpp.getLlama({ gpu: false, build: "never", logLevel: "error" });
  const rows: string[][] = [];
  let failures = 0;
  for (const c of cases) {
    const references = new Map<string, string>();
    for (const prompt of c.prompts) references.set(prompt, await prunelabGenerate(["--model", ...c.source], prompt));
    for (const dtype of checkedDtypes) {
      const dir = join(modelsDir, `${c.name}-gguf`);
      const file = join(dir, `${c.name}-${dtype}.gguf`);
      await mkdir(dir, { recursive: true });
      await cli(["convert", "--model", ...c.source, "--to", "gguf", "--dtype", dtype, "--out", file]);
      let model: LlamaCppModel | undefined;
      let loadError = "";
      try {
        model = await llama.loadModel({ modelPath: file });
      } catch (e) {
        loadError = (e as Error).message;
      }
      for (const prompt of c.prompts) {
        const ours = await prunelabGenerate(["--model", file], prompt);
        const reference = references.get(prompt) as string;
        const theirs = model ? await llamaCppGreedy(model, prompt) : undefined;
        const ourIds = tokenizerOf(await loadModelFromPath(file)).encode(prompt, { bos: true });
        const sameIds = theirs !== undefined && theirs.prompt.join() === ourIds.join();
        const ok = theirs !== undefined && sameIds && theirs.text === ours && ours === reference;
        if (!ok) failures++;
        rows.push([
          c.name,
          dtype,
          model ? "yes" : `no (${loadError})`,
          JSON.stringify(prompt),
          theirs ? yes(sameIds) : "-",
          theirs ? yes(theirs.text === ours) : "-",
          yes(ours === reference),
          theirs ? JSON.stringify(theirs.text.slice(0, 60)) : "-",
        ]);
        if (!ok)
          console.error(
            `${c.name} ${dtype} ${JSON.stringify(prompt)}: prompt ids ${theirs?.prompt} (llama.cpp) vs ${ourIds}\n  llama.cpp: ${JSON.stringify(theirs?.text)}\n  prunelab (gguf): ${JSON.stringify(ours)}\n  prunelab (source): ${JSON.stringify(reference)}`,
          );
      }
      await model?.dispose();
    }
  }
  const header = [
    "model",
    "dtype",
    "llama.cpp loads",
    "prompt",
    "same prompt ids",
    "llama.cpp = prunelab (same GGUF)",
    "GGUF = source (prunelab)",
    "greedy text (start)",
  ];
  const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
  console.log(`\nllama.cpp (node-llama-cpp ${NODE_LLAMA_CPP}, CPU) vs prunelab generate, greedy, ${maxTokens} tokens:\n\n${table}\n`);
  await writeFile(join(cacheDir, "report.md"), `${table}\n`);
  console.log(failures === 0 ? "all checks passed" : `${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

const yes = (b: boolean) => (b ? "yes" : "NO");

/** The part of node-llama-cpp's API used here (it is not a project dependency, so its types are not at hand). */
interface LlamaCppModel {
  tokens: { bos: number | null; shouldPrependBosToken: boolean };
  trainContextSize: number;
  tokenize(text: string): number[];
  detokenize(ids: readonly number[]): string;
  isEogToken(id: number): boolean;
  createContext(options: { contextSize: number; threads: number }): Promise<{
    getSequence(): { evaluate(tokens: number[], options: { temperature: number }): AsyncIterable<number> };
    dispose(): Promise<void>;
  }>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(options: {
    gpu: false;
    build: "never";
    logLevel: string;
  }): Promise<{ loadModel(options: { modelPath: string }): Promise<LlamaCppModel> }>;
}

/** node-llama-cpp from .cache/llama-cpp, installed there first when missing or of another version. */
async function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  const pkg = join(cacheDir, "node_modules/node-llama-cpp/package.json");
  const installed = existsSync(pkg) ? JSON.parse(await readFile(pkg, "utf8")).version : undefined;
  if (installed !== NODE_LLAMA_CPP) {
    await mkdir(cacheDir, { recursive: true });
    if (!existsSync(join(cacheDir, "package.json")))
      await writeFile(join(cacheDir, "package.json"), `${JSON.stringify({ name: "prunelab-llama-cpp-check", private: true })}\n`);
    // The CPU build for this platform only (its name is node-llama-cpp's); elsewhere let npm pick among the optional ones.
    const cpuBinaries: Record<string, string> = {
      "linux-x64": "linux-x64",
      "linux-arm64": "linux-arm64",
      "darwin-arm64": "mac-arm64-metal",
      "darwin-x64": "mac-x64",
      "win32-x64": "win-x64",
    };
    const binary = cpuBinaries[`${process.platform}-${process.arch}`];
    const packages = [`node-llama-cpp@${NODE_LLAMA_CPP}`, ...(binary ? [`@node-llama-cpp/${binary}@${NODE_LLAMA_CPP}`] : [])];
    const flags = ["--save-exact", "--ignore-scripts", "--no-audit", "--no-fund", ...(binary ? ["--omit=optional"] : [])];
    console.log(`installing ${packages.join(" ")} into ${cacheDir} …`);
    execFileSync("npm", ["install", ...flags, ...packages], { cwd: cacheDir, stdio: "inherit" });
  }
  return import(pathToFileURL(join(cacheDir, "node_modules/node-llama-cpp/dist/index.js")).href);
}

/** llama.cpp's greedy continuation: its own tokenizer (BOS as the file says), stopping at end-of-generation. */
async function llamaCppGreedy(model: LlamaCppModel, prompt: string): Promise<{ prompt: number[]; text: string; ids: number[] }> {
  // One thread: with more, llama.cpp's spinning workers starve on a loaded 2-core machine and seem to hang.
  const context = await model.createContext({ contextSize: Math.min(256, model.trainContextSize), threads: 1 });
  try {
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos] : [];
    const input = [...bos, ...model.tokenize(prompt)];
    const ids: number[] = [];
    for await (const token of context.getSequence().evaluate(input, { temperature: 0 })) {
      if (model.isEogToken(token)) break;
      ids.push(token);
      if (ids.length >= maxTokens) break;
    }
    return { prompt: input, text: model.detokenize(ids), ids };
  } finally {
    await context.dispose();
  }
}

/** `prunelab generate` (greedy), run in-process; its text without the final newline. */
async function prunelabGenerate(model: string[], prompt: string): Promise<string> {
  let out = "";
  const code = await runCli(["generate", ...model, "--prompt", prompt, "--max-tokens", String(maxTokens)], {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => process.stderr.write(t),
  });
  if (code !== 0) throw new Error(`prunelab generate ${model.join(" ")} failed`);
  return out.replace(/\n$/, "");
}

async function cli(argv: string[]): Promise<void> {
  const code = await runCli(argv, { stdout: () => {}, stderr: (t) => process.stderr.write(t) });
  if (code !== 0) throw new Error(`prunelab ${argv.join(" ")} failed`);
}

process.exitCode = await main();
