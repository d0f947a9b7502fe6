/** The one byte view the format readers work on. */

/**
 * A plain Uint8Array over the same memory. Node's Buffer is a Uint8Array subclass whose `slice`
 * returns a view of its (often pooled, shared) memory instead of a copy, so readers normalise first.
 */
export function fileBytes(source: Uint8Array | ArrayBuffer): Uint8Array {
  return source instanceof Uint8Array ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
}
