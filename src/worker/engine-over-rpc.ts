/**
 * The engine's steps as plain async functions over an RPC client: each call's failure outcome
 * becomes a thrown error of the same name again, so library code written against the engine
 * (runExperiment) runs unchanged against the worker.
 */
import type { Engine } from "../engine/engine";
import type { Job } from "../engine/job";
import type { EngineClient, EngineMethods } from "./protocol";

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
