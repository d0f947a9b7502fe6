/**
 * Node has no WebGPU globals and Node 20 has no Float16Array; webgpu-utils reads both when it is
 * imported, so this module must be imported before anything that imports webgpu-utils.
 */
import { Float16Array as Float16ArrayPolyfill } from "@petamoriken/float16";
import { globals } from "webgpu";

Object.assign(globalThis, globals);
if (!("Float16Array" in globalThis)) {
  Object.assign(globalThis, { Float16Array: Float16ArrayPolyfill });
}
