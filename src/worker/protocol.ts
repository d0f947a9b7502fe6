/**
 * The engine's methods as the page calls them through the worker: derived from the engine's own
 * function types (src/engine/engine.ts), so a step's settings, progress and result can never
 * drift between the library and its RPC.
 */
import type { Engine } from "../engine/engine";
import type { Job } from "../engine/job";
import type { RpcClient } from "./rpc";

type ProgressOf<J> = J extends Job<infer P> ? P : never;

export type EngineMethods = {
  [K in keyof Engine]: {
    params: Parameters<Engine[K]>[0];
    progress: ProgressOf<Parameters<Engine[K]>[1]>;
    result: Awaited<ReturnType<Engine[K]>>;
  };
};

export type EngineClient = RpcClient<EngineMethods>;
