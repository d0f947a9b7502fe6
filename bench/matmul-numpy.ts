/**
 * numpy's float32 matmul on the same CPU (BLAS, all cores): the native ceiling for the CPU adapters.
 * Best of the reps, since a ceiling should not move with the load other processes put on the machine.
 */
import { spawnSync } from "node:child_process";
import type { MatmulCase } from "./matmul-cases";

const script = `
import json, sys, time
import numpy as np
cases, reps = json.load(sys.stdin)
rng = np.random.default_rng(0)
out = []
for c in cases:
    a = rng.uniform(-1, 1, (c["m"], c["k"])).astype(np.float32)
    b = rng.uniform(-1, 1, (c["n"], c["k"]) if c["transB"] else (c["k"], c["n"])).astype(np.float32)
    run = (lambda: a @ b.T) if c["transB"] else (lambda: a @ b)
    run()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    out.append(2 * c["m"] * c["k"] * c["n"] / min(times) / 1e9)
print(json.dumps(out))
`;

/** GFLOP/s per case, or undefined where python3 with numpy is not available. */
export function numpyGflops(cases: MatmulCase[], reps: number): number[] | undefined {
  const result = spawnSync("python3", ["-c", script], { input: JSON.stringify([cases, reps]), encoding: "utf8" });
  if (result.status !== 0) return undefined;
  return JSON.parse(result.stdout.trim());
}
