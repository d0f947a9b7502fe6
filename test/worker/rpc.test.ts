import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { CancelledError } from "../../src/engine/job";
import { type MessagePortLike, type Outcome, RpcClient, serveRpc } from "../../src/worker/rpc";

interface TestMethods {
  count: { params: { to: number }; progress: number; result: string };
  wait: { params: Record<string, never>; progress: never; result: string };
  fail: { params: { name: string }; progress: never; result: never };
}

class EngineStateError extends Error {
  override name = "EngineStateError";
}

const open: { close(): void }[] = [];

afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** A client and a server joined by a real MessageChannel (structured clone, asynchronous delivery), as with a worker. */
function connect(): RpcClient<TestMethods> {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  serveRpc<TestMethods>(port2 as unknown as MessagePortLike, {
    count: async ({ to }, job) => {
      for (let i = 1; i <= to; i++) job.progress(i);
      return `counted to ${to}`;
    },
    wait: (_params, job) =>
      new Promise((resolve, reject) => {
        job.signal.addEventListener("abort", () => reject(new Error("stopped")));
        setTimeout(() => resolve("finished"), 5_000);
      }),
    fail: async ({ name }) => {
      if (name === "string") throw "a thrown string";
      throw new EngineStateError("no model is loaded");
    },
  });
  return new RpcClient<TestMethods>(port1 as unknown as MessagePortLike);
}

describe("typed request/response protocol", () => {
  it("delivers progress events in order, then the result", async () => {
    const client = connect();
    const seen: number[] = [];
    const outcome = await client.call("count", { to: 5 }, { onProgress: (p) => seen.push(p) });
    expect(outcome).toEqual({ ok: true, value: "counted to 5" });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps concurrent calls apart by id", async () => {
    const client = connect();
    const a: number[] = [];
    const b: number[] = [];
    const [ra, rb] = await Promise.all([
      client.call("count", { to: 3 }, { onProgress: (p) => a.push(p) }),
      client.call("count", { to: 2 }, { onProgress: (p) => b.push(p) }),
    ]);
    expect([ra, rb]).toEqual([
      { ok: true, value: "counted to 3" },
      { ok: true, value: "counted to 2" },
    ]);
    expect([a, b]).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
  });

  it("returns errors as typed values with the error's class name, never as a rejection", async () => {
    const client = connect();
    expect(await client.call("fail", { name: "typed" })).toEqual({
      ok: false,
      error: { name: "EngineStateError", message: "no model is loaded" },
    });
    expect(await client.call("fail", { name: "string" })).toEqual({ ok: false, error: { name: "Error", message: "a thrown string" } });
    const unknown = await (client as unknown as RpcClient<{ nope: { params: object; progress: never; result: never } }>).call("nope", {});
    expect(unknown).toEqual({ ok: false, error: { name: "UnknownMethodError", message: "the engine has no method 'nope'" } });
  });

  it("cancels a running call: the callee sees the abort and the caller gets a CancelledError", async () => {
    const client = connect();
    const controller = new AbortController();
    const pending = client.call("wait", {}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const started = performance.now();
    const outcome: Outcome<string> = await pending;
    expect(outcome).toEqual({ ok: false, error: { name: "CancelledError", message: "cancelled by the user" } });
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it("does not start a call whose signal is already aborted", async () => {
    const client = connect();
    const outcome = await client.call("count", { to: 1 }, { signal: AbortSignal.abort() });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.name).toBe(new CancelledError().name);
  });

  it("fails every call in flight when the worker dies", async () => {
    const client = connect();
    const pending = client.call("wait", {});
    client.failAll({ name: "WorkerError", message: "gone" });
    expect(await pending).toEqual({ ok: false, error: { name: "WorkerError", message: "gone" } });
  });
});
