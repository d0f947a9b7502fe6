/// <reference lib="webworker" />
/** Entry point of the engine's module Web Worker: serves the engine's methods to the page. */
import { createEngine } from "../engine/engine";
import type { EngineMethods } from "./protocol";
import { serveRpc } from "./rpc";

serveRpc<EngineMethods>(self as unknown as DedicatedWorkerGlobalScope, createEngine());
