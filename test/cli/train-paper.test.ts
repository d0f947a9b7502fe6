import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toAlpacaJsonl } from "../../src/distill/alpaca-jsonl";
import { readPeftAdapter } from "../../src/export/peft-adapter";
import { llamaForward, releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { matmul } from "../../src/ops/matmul";
import { foldLora } from "../../src/train/fold-lora";
import { createLlamaLora, releaseLlamaLora } from "../../src/train/llama-lora";
import { llamaTrainForward, normed, releaseActivations } from "../../src/train/llama-train-forward";
import { writeTensors } from "../../src/train/parameters";
import { tinyChatWeights, writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { testGpu } from "../gpu-harness";
import { expectClose } from "../numerics";
import { runCliCaptured } from "./cli-harness";

const dir = writeTinyChatFolder();
afterAll(() => rmSync(dir, { recursive: true }));

const cli = runCliCaptured;

const records = [
  { instruction: "Add 1 and 2.", input: "", output: "1 + 2 = 3" },
  { instruction: "Greet the cat.", input: "politely", output: "hello cat" },
  { instruction: "Name a place to sit.", input: "", output: "the mat" },
];
const data = join(dir, "data.jsonl");
writeFileSync(data, toAlpacaJsonl(records));
const trainArgs = (out: string) =>
  [
    "train",
    "--model",
    dir,
    "--data",
    data,
    "--out",
    out,
    "--steps",
    "4",
    "--batch-size",
    "2",
    "--lr",
    "0.05",
    "--modules",
    "q,v,down",
  ].concat(["--rank", "2", "--alpha", "4", "--seed", "3", "--checkpoint-every", "2"]);

describe("prunelab train", () => {
  it("writes a PEFT adapter whose folded model gives the adapter model's logits, and a resumed run ends as an uninterrupted one", async () => {
    const whole = join(dir, "whole");
    const run = await cli(trainArgs(whole));
    expect(run.stderr).toMatch(/step 4\/4: loss \d/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^4 steps on 3 examples, final loss \d+\.\d+: wrote the PEFT adapter/);
    const csv = readFileSync(join(whole, "loss.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("step,loss,lr,grad_norm,counted_tokens,tokens,skipped");
    expect(csv.slice(1).map((l) => l.split(",")[0])).toEqual(["1", "2", "3", "4"]);

    const adapter = readPeftAdapter(
      readFileSync(join(whole, "adapter_config.json"), "utf8"),
      new Uint8Array(readFileSync(join(whole, "adapter_model.safetensors"))),
      tinyChatWeights,
    );
    expect(adapter.config).toEqual({ rank: 2, alpha: 4, dropout: 0.05, modules: ["q", "v", "down"] });
    // PEFT's base_model_name_or_path: the model folder's name, not the path as typed.
    expect(adapter.baseModel).toBe(basename(dir));

    const gpu = await testGpu();
    const model = uploadLlama(gpu, tinyChatWeights, { weightDtype: "f32" });
    const lora = createLlamaLora(gpu, model, adapter.config, 0);
    writeTensors(
      gpu,
      lora.layers.flatMap((layer, l) =>
        Object.entries(layer).flatMap(([m, a]) => [
          {
            name: `base_model.model.model.layers.${l}.${m === "down" ? "mlp.down_proj" : `self_attn.${m}_proj`}.lora_A.weight`,
            tensor: a.a,
          },
          {
            name: `base_model.model.model.layers.${l}.${m === "down" ? "mlp.down_proj" : `self_attn.${m}_proj`}.lora_B.weight`,
            tensor: a.b,
          },
        ]),
      ),
      adapter.tensors,
      "test",
    );
    const tokens = [[1, 40, 41, 42, 43, 44, 45]];
    const acts = llamaTrainForward(gpu, model, { inputs: tokens, targets: tokens, lossMask: [tokens[0].map(() => 1)] }, { lora });
    const hidden = normed(gpu, acts.final, model.norm, tinyChatWeights.config.rmsNormEps);
    const adapted = matmul(gpu, hidden, model.lmHead.chunks[0], { transB: true });
    const withAdapter = await gpu.read(adapted);
    gpu.release(hidden, adapted);
    releaseActivations(gpu, acts);
    const folded = uploadLlama(gpu, foldLora(tinyChatWeights, adapter.tensors, adapter.config), { weightDtype: "f32" });
    const { logits } = llamaForward(gpu, folded, tokens, { logits: "all" });
    const base = llamaForward(gpu, model, tokens, { logits: "all" }).logits;
    if (!logits || !base) throw new Error("no logits");
    const foldedLogits = await gpu.read(logits);
    const baseLogits = await gpu.read(base);
    // W·x + s·B·(A·x) against (W + s·B·A)·x: the same sums in another order, a few f32 ulps apart.
    expectClose(foldedLogits, withAdapter, 1e-4, 1e-5, "logits");
    // The adapter was trained (B starts at zero): it moved the logits.
    expect(Math.max(...baseLogits.map((v, i) => Math.abs(v - foldedLogits[i])))).toBeGreaterThan(1e-3);
    gpu.release(logits, base);
    releaseLlama(gpu, folded);
    releaseLlamaLora(gpu, lora);
    releaseLlama(gpu, model);

    // Kill the run when step 3 reports (the step-2 checkpoint is on disk), then resume it.
    const resumed = join(dir, "resumed");
    const killed = await cli(trainArgs(resumed), (t) => {
      if (t.includes("step 3/4")) throw new Error("killed");
    });
    expect(killed.code).toBe(1);
    expect(existsSync(join(resumed, "adapter_model.safetensors"))).toBe(false);
    const again = await cli([...trainArgs(resumed), "--resume"]);
    expect(again.stderr).toMatch(/resuming from .*checkpoint\.safetensors at step 2 of 4/);
    expect(again.code).toBe(0);
    for (const file of ["adapter_model.safetensors", "adapter_config.json"]) {
      expect(readFileSync(join(resumed, file)).equals(readFileSync(join(whole, file)))).toBe(true);
    }
    const lossColumn = (d: string) =>
      readFileSync(join(d, "loss.csv"), "utf8")
        .split("\n")
        .map((l) => l.split(",")[1]);
    expect(lossColumn(resumed)).toEqual(lossColumn(whole));
  }, 120_000);

  it("prints a quick evaluation every K steps and at the last, and writes them to eval.csv", async () => {
    const out = join(dir, "quick-eval");
    const run = await cli([...trainArgs(out).slice(0, 7), "--steps", "3", "--batch-size", "2", "--eval-every", "2", "--eval-items", "1"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n").filter((l) => l.startsWith("quick evaluation"));
    expect(lines.map((l) => l.match(/at step (\d+)/)?.[1])).toEqual(["2", "3"]);
    expect(lines[0]).toMatch(/^quick evaluation at step 2: average \d+\.\d % \(town-facts \d+\.\d %, .*word-problems \d+\.\d %\)$/);
    const csv = readFileSync(join(out, "eval.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toMatch(/^run,step,average,town-facts,.*,word-problems$/);
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 2).join(","))).toEqual(["train,2", "train,3"]);
  }, 120_000);

  it.each([
    [["train", "--model", "m", "--data", "d.jsonl"], /--out is required/],
    [
      ["train", "--model", "m", "--data", "d.jsonl", "--out", "o", "--steps", "2", "--epochs", "1"],
      /--steps and --epochs exclude each other/,
    ],
    [
      ["train", "--model", "m", "--data", "d.jsonl", "--out", "o", "--modules", "q,x"],
      /--modules must be a comma-separated subset of q,k,v,o,gate,up,down, got 'q,x'/,
    ],
    [["train", "--model", "m", "--data", "d.jsonl", "--out", "o", "--rank", "0"], /--rank must be an integer ≥ 1/],
    [["train", "--model", "m", "--data", "d.jsonl", "--out", "o", "--eval-items", "0"], /--eval-items must be an integer ≥ 1/],
    [["train", "--model", "m", "--data", "d.jsonl", "--out", "o", "--resume", "yes"], /Unexpected argument 'yes'/],
    [["paper", "--seeds", "3", "--blocks", "1,2"], /--out is required/],
    [["paper", "--seeds", "0", "--blocks", "1", "--out", "o"], /--seeds must be an integer ≥ 1, got '0'/],
    [["paper", "--seeds", "1", "--blocks", "1,x", "--out", "o"], /--blocks must be an integer ≥ 1, got 'x'/],
    [["paper", "--seeds", "1", "--blocks", "2,2", "--out", "o"], /--blocks lists a size twice/],
    [["paper", "--seeds", "1", "--blocks", "1", "--out", "o", "--bogus", "1"], /Unknown option '--bogus'/],
  ])("%j is a usage error on one line, exit 2", async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  });

  it("refuses --blocks that would drop every block, naming the model's size", async () => {
    const r = await cli(["paper", "--seeds", "1", "--blocks", "2", "--out", join(dir, "p0"), "--model", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--blocks 2 leaves no block of the model's 2/);
  });
});

describe("prunelab paper", () => {
  it("writes results.json, results.md and curves.csv, and a second run takes every piece from DIR/units", async () => {
    const out = join(dir, "paper");
    const args = ["paper", "--seeds", "1", "--blocks", "1", "--out", out, "--model", dir, "--limit", "1", "--train-examples", "2"].concat([
      "--steps",
      "2",
      "--calib-samples",
      "2",
      "--spec-prompts",
      "1",
      "--distill-max-tokens",
      "4",
    ]);
    const first = await cli(args);
    expect(first.stderr).toMatch(/n=1 seed=1: SDD training/);
    expect(first.code).toBe(0);
    const md = readFileSync(join(out, "results.md"), "utf8");
    for (const label of ["original", "pruned", "pruned+SFT", "pruned+SDD", "merged"])
      expect(md).toMatch(new RegExp(`\\| ${label.replace("+", "\\+")} \\|`));
    expect(md).toMatch(
      /\| blocks dropped \| model \| town-facts \(acc_norm %\) .* \| word-problems \(exact_match %\) \| average % \| recovery % \| acceptance rate \|/,
    );
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.settings.seeds).toEqual([1]);
    expect(results.versions.prunelab).toMatch(/^\d+\.\d+\.\d+/);
    expect(results.units).toHaveLength(1);
    expect(results.units[0].merged.draft.acceptanceRate).toBeGreaterThanOrEqual(0);
    const curves = readFileSync(join(out, "curves.csv"), "utf8").trim().split("\n");
    expect(curves).toHaveLength(1 + 2 * 2);

    const second = await cli(args);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/training|evaluating|distilling/);
    expect(second.stdout.split("wrote")[0]).toBe(first.stdout.split("wrote")[0]);
    const other = await cli(args.map((a) => (a === "2" ? "3" : a)));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds a run with other settings .* delete it to start over/);
  }, 400_000);
});
