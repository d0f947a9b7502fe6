/**
 * The engine's steps as plain async functions over an RPC client, for tests that run library code
 * written against the engine (runExperiment) through the worker's protocol: each call's failure
 * outcome becomes a thrown error of the same name again.
 */
import type { Engine } from "../../src/engine/engine";
import type { Job } from "../../src/engine/job";
import type { EngineClient, EngineMethods } from "../../src/worker/protocol";

/** An error that crossed the RPC as `{ name, message }`. */
export class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export function engineOverRpc<K extends keyof Engine & string>(client: EngineClient, methods: readonly K[]): Pick<Engine, K> {
  const call =
    (method: K) =>
    async (params: EngineMethods[K]["params"], job: Job<EngineMethods[K]["progress"]>): Promise<EngineMethods[K]["result"]> => {
      const outcome = await client.call(method, params, { signal: job.signal, onProgress: (p) => job.progress(p) });
      if (!outcome.ok) throw new RemoteError(outcome.error.name, outcome.error.message);
      return outcome.value;
    };
  return Object.fromEntries(methods.map((m) => [m, call(m)])) as unknown as Pick<Engine, K>;
}
