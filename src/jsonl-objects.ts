/** JSON Lines of objects: blank lines skipped, every error naming the file and the line. */
export interface JsonlObject {
  value: Record<string, unknown>;
  /** "FILE line N", for the caller's own field errors. */
  where: string;
}

export function parseJsonlObjects(text: string, source: string): JsonlObject[] {
  const objects: JsonlObject[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`);
    objects.push({ value: value as Record<string, unknown>, where });
  });
  return objects;
}
