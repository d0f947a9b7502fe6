/**
 * The fault drills of `prunelab train` on a tiny model: learning rates that break the weights
 * (1e39 overflows f32 outright, 1e30 makes every adapter value ~1e30), a checkpoint with 20 exponent
 * bits flipped, an output folder that cannot be written, and a real kill -9 followed by --resume.
 */
import { spawn } from "node:child_process";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toAlpacaJsonl } from "../../src/distill/alpaca-jsonl";
import { ensureWritableDir, FileIoError } from "../../src/file-io-node";
import { readSafetensors } from "../../src/model/safetensors";
import { mulberry32 } from "../../src/seeded-random";
import { CheckpointError, decodeCheckpoint } from "../../src/train/checkpoint-file";
import { writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { runCliCaptured as cli } from "./cli-harness";

const dir = writeTinyChatFolder();
afterAll(() => rmSync(dir, { recursive: true }));

const data = join(dir, "data.jsonl");
writeFileSync(
  data,
  toAlpacaJsonl([
    { instruction: "Add 1 and 2.", input: "", output: "1 + 2 = 3" },
    { instruction: "Greet the cat.", input: "politely", output: "hello cat" },
    { instruction: "Name a place to sit.", input: "", output: "the mat" },
  ]),
);
const trainArgs = (out: string, lr = "0.05") =>
  ["train", "--model", dir, "--data", data, "--out", out, "--steps", "4", "--batch-size", "2", "--lr", lr, "--modules", "q,v,down"].concat([
    "--rank",
    "2",
    "--alpha",
    "4",
    "--seed",
    "3",
    "--checkpoint-every",
    "2",
  ]);

const allFinite = (file: string) => {
  for (const [name, t] of readSafetensors(readFileSync(file), file).tensors) {
    expect((t.data as Float32Array).every(Number.isFinite), `${file}: ${name}`).toBe(true);
  }
};

describe("prunelab train fault drills", () => {
  it.each([
    ["1e39", /non-finite parameters/],
    ["1e30", /non-finite parameters|exploding parameters/],
  ])(
    "--lr %s: each bad update is undone and the lr halved 4 times, then the run stops with status 1 and saves nothing broken",
    async (lr, reason) => {
      const out = join(dir, `lr-${lr}`);
      const run = await cli(trainArgs(out, lr));
      expect(run.code).toBe(1);
      expect(run.stderr.match(/step 1: update undone/g)).toHaveLength(4);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).toMatch(
        /prunelab: training diverged at step 1: .* the run stops at its last good state \(step 0\), nothing broken was saved/,
      );
      expect(existsSync(join(out, "adapter_model.safetensors"))).toBe(false);
      for (const f of ["checkpoint.safetensors", "checkpoint.prev.safetensors"]) if (existsSync(join(out, f))) allFinite(join(out, f));
    },
    120_000,
  );

  it("a checkpoint with 20 exponent bits flipped is refused by its checksum; --resume uses the previous one and ends as an uninterrupted run", async () => {
    const whole = join(dir, "whole");
    expect((await cli(trainArgs(whole))).code).toBe(0);
    const out = join(dir, "flipped");
    expect((await cli(trainArgs(out))).code).toBe(0);
    // Steps 4 (last) and 2 (previous) are on disk; damage the last one's tensor data.
    const file = join(out, "checkpoint.safetensors");
    const bytes = new Uint8Array(readFileSync(file));
    const dataStart = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const random = mulberry32(5);
    for (let i = 0; i < 20; i++) {
      const float = dataStart + 4 * Math.floor(random() * ((bytes.length - dataStart) / 4));
      bytes[float + 3] ^= 1 << Math.floor(random() * 7); // bits 24…30: the high exponent bits
    }
    writeFileSync(file, bytes);
    expect(() => decodeCheckpoint(bytes, file)).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(bytes, file)).toThrow(/flipped.*checkpoint\.safetensors: damaged: checksum [0-9a-f]{8} does not match/);
    const again = await cli([...trainArgs(out), "--resume"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/checksum .* does not match/);
    expect(again.stderr).toMatch(/using the previous checkpoint .*checkpoint\.prev\.safetensors \(step 2\) instead/);
    expect(again.stderr).toMatch(/resuming from .*checkpoint\.prev\.safetensors at step 2 of 4/);
    expect(existsSync(`${file}.damaged`)).toBe(true);
    for (const f of ["adapter_model.safetensors", "loss.csv"]) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    }
  }, 180_000);

  it("an --out that cannot be written fails before the first step, naming the folder", async () => {
    const out = readOnlyDir();
    if (!out) return;
    const run = await cli(trainArgs(out));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write ${out}`);
    expect(run.stderr).not.toMatch(/step 1\//);
    await expect(ensureWritableDir(join(data, "sub"))).rejects.toThrow(FileIoError);
    await expect(ensureWritableDir(join(data, "sub"))).rejects.toThrow(`cannot create the folder ${join(data, "sub")}`);
  }, 60_000);

  it("kill -9 mid-run, then --resume, ends byte-identical to an uninterrupted run", async () => {
    const whole = join(dir, "whole-for-kill");
    expect((await cli(trainArgs(whole))).code).toBe(0);
    const out = join(dir, "killed");
    const cliPath = resolve(import.meta.dirname, "../../bin/prunelab.mjs");
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [cliPath, ...trainArgs(out)], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // The step-2 checkpoint is written before step 3 starts.
        if (stderr.includes("step 3/4")) child.kill("SIGKILL");
      });
      child.on("exit", (code, signal) => (signal === "SIGKILL" ? done() : fail(new Error(`not killed (exit ${code}): ${stderr}`))));
    });
    expect(existsSync(join(out, "adapter_model.safetensors"))).toBe(false);
    const again = await cli([...trainArgs(out), "--resume"]);
    expect(again.stderr).toMatch(/resuming from .*checkpoint\.safetensors at step 2 of 4/);
    for (const f of ["adapter_model.safetensors", "adapter_config.json", "loss.csv"]) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    }
  }, 180_000);
});

/**
 * An existing folder this process cannot write: a chmod 555 one for an ordinary user; for root
 * (whom permissions do not stop) sysfs's /sys/kernel, which refuses new files. Undefined (the test
 * then checks nothing) where neither is available.
 */
function readOnlyDir(): string | undefined {
  if (process.getuid?.() !== 0) {
    const d = join(dir, "read-only");
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o555);
    return d;
  }
  try {
    accessSync("/sys/kernel", constants.F_OK);
    writeFileSync("/sys/kernel/.prunelab-probe", "x");
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EROFS" || code === "EPERM") return "/sys/kernel";
    console.warn(`SKIPPING the read-only --out drill: no read-only folder found (${code})`);
    return undefined;
  }
}
