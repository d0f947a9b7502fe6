/**
 * A small typed request/response protocol over a message port (a Worker, the worker's `self`, or a
 * MessagePort). Each call carries an id; the callee may send progress events before its one
 * result; the caller may cancel; failures come back as values `{ name, message }` — a call's
 * promise never rejects, so a failed job can never become an unhandled rejection.
 * Why not comlink: its proxies give a call one result, while a job here streams typed progress
 * events, is cancelled through the engine's own AbortSignal, and returns errors as values; wrapping
 * that in comlink callbacks would add a dependency and keep all of this code.
 */
import { CancelledError, type Job } from "../engine/job";

/** What one method takes, reports while running, and returns. */
export interface MethodSpec {
  params: unknown;
  progress: unknown;
  result: unknown;
}

/** A table of methods by name: `{ loadModel: { params, progress, result }, … }`. */
export type Methods<M> = { [K in keyof M]: MethodSpec };

export interface RpcError {
  /** The error class name, e.g. "CancelledError", "EngineStateError", "GpuOutOfMemoryError". */
  name: string;
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: RpcError };

type CallMessage = { type: "call"; id: number; method: string; params: unknown };
type CancelMessage = { type: "cancel"; id: number };
type ReplyMessage =
  | { type: "progress"; id: number; progress: unknown }
  | { type: "done"; id: number; result: unknown }
  | { type: "error"; id: number; error: RpcError };

/** The part of Worker / DedicatedWorkerGlobalScope / MessagePort this protocol uses. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  start?(): void;
}

export function toRpcError(e: unknown): RpcError {
  if (e instanceof Error) return { name: e.name || "Error", message: e.message };
  return { name: "Error", message: String(e) };
}

export type Handlers<M extends Methods<M>> = {
  [K in keyof M]: (params: M[K]["params"], job: Job<M[K]["progress"]>) => Promise<M[K]["result"]>;
};

/** Serves calls arriving on `port`; returns a function that stops serving. */
export function serveRpc<M extends Methods<M>>(port: MessagePortLike, handlers: Handlers<M>): () => void {
  const jobs = new Map<number, AbortController>();
  const reply = (m: ReplyMessage) => port.postMessage(m);
  const onMessage = async (event: MessageEvent) => {
    const m = event.data as CallMessage | CancelMessage;
    if (m.type === "cancel") {
      jobs.get(m.id)?.abort(new CancelledError("cancelled by the user"));
      return;
    }
    if (m.type !== "call") return;
    const handler = Object.hasOwn(handlers, m.method) ? handlers[m.method as keyof M] : undefined;
    if (!handler) {
      reply({ type: "error", id: m.id, error: { name: "UnknownMethodError", message: `the engine has no method '${m.method}'` } });
      return;
    }
    const controller = new AbortController();
    jobs.set(m.id, controller);
    const job = { signal: controller.signal, progress: (progress: unknown) => reply({ type: "progress", id: m.id, progress }) };
    try {
      const result = await handler(m.params, job);
      reply({ type: "done", id: m.id, result });
    } catch (e) {
      const cancelled = controller.signal.aborted;
      reply({ type: "error", id: m.id, error: cancelled ? toRpcError(controller.signal.reason) : toRpcError(e) });
    } finally {
      jobs.delete(m.id);
    }
  };
  port.addEventListener("message", onMessage);
  port.start?.();
  return () => {
    port.removeEventListener("message", onMessage);
    for (const c of jobs.values()) c.abort(new CancelledError("the engine stopped"));
  };
}

export interface CallOptions<P> {
  onProgress?: (p: P) => void;
  /** Aborting it asks the callee to stop; the call then ends with a CancelledError (or its result, if it finished first). */
  signal?: AbortSignal;
}

interface Pending {
  resolve(o: Outcome<unknown>): void;
  onProgress?: (p: unknown) => void;
}

export class RpcClient<M extends Methods<M>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly port: MessagePortLike) {
    port.addEventListener("message", (event) => this.receive(event.data as ReplyMessage));
    port.start?.();
  }

  call<K extends keyof M & string>(
    method: K,
    params: M[K]["params"],
    options: CallOptions<M[K]["progress"]> = {},
  ): Promise<Outcome<M[K]["result"]>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (options.signal?.aborted) {
        resolve({ ok: false, error: toRpcError(new CancelledError("cancelled before it started")) });
        return;
      }
      const onAbort = () => this.port.postMessage({ type: "cancel", id } satisfies CancelMessage);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (o) => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve(o as Outcome<M[K]["result"]>);
        },
        onProgress: options.onProgress as ((p: unknown) => void) | undefined,
      });
      try {
        this.port.postMessage({ type: "call", id, method, params } satisfies CallMessage);
      } catch (e) {
        this.settle(id, { ok: false, error: toRpcError(e) });
      }
    });
  }

  /** Ends every call in flight with `error` (the worker crashed or could not start). */
  failAll(error: RpcError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, error });
  }

  private receive(m: ReplyMessage): void {
    if (m.type === "progress") this.pending.get(m.id)?.onProgress?.(m.progress);
    else if (m.type === "done") this.settle(m.id, { ok: true, value: m.result });
    else if (m.type === "error") this.settle(m.id, { ok: false, error: m.error });
  }

  private settle(id: number, outcome: Outcome<unknown>): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.resolve(outcome);
  }
}
