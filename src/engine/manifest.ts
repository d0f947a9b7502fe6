/**
 * The run manifest: a JSON file that records an experiment in full (not just its changes from the
 * defaults, so it still means the same thing if the defaults change) with when and by what it was
 * written. The UI downloads and uploads it; the CLI replays it.
 */
import { decodeExperiment, type Experiment, normaliseExperiment } from "./experiment";

export const manifestFormat = "prunelab.manifest";
export const manifestVersion = 1;

export interface Manifest {
  format: typeof manifestFormat;
  version: typeof manifestVersion;
  createdAt: string;
  app: { name: "prunelab"; version: string };
  experiment: Experiment;
}

export class ManifestError extends Error {
  override name = "ManifestError";
}

export function createManifest(experiment: Experiment, appVersion: string, createdAt = new Date()): Manifest {
  return {
    format: manifestFormat,
    version: manifestVersion,
    createdAt: createdAt.toISOString(),
    app: { name: "prunelab", version: appVersion },
    experiment: structuredClone(experiment),
  };
}

export function manifestToJson(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Parses a manifest file. A file that is not a Prunelab manifest, or is from a newer format version,
 * throws a ManifestError naming the file; questionable fields only produce warnings, or with
 * `strict` (a replay, which must compute exactly what the file says) an ExperimentFieldError
 * naming the first of them.
 */
export function parseManifest(text: string, fileName: string, { strict = false } = {}): { manifest: Manifest; warnings: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${fileName} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null || (json as { format?: unknown }).format !== manifestFormat) {
    throw new ManifestError(`${fileName} is not a Prunelab manifest (expected "format": "${manifestFormat}")`);
  }
  const raw = json as Partial<Record<keyof Manifest, unknown>>;
  if (raw.version !== manifestVersion) {
    throw new ManifestError(
      `${fileName} has manifest version ${JSON.stringify(raw.version)}; this Prunelab reads version ${manifestVersion}`,
    );
  }
  const { experiment, warnings } = strict
    ? { experiment: decodeExperiment(raw.experiment, fileName), warnings: [] }
    : normaliseExperiment(raw.experiment, fileName);
  const app = raw.app as { version?: unknown } | undefined;
  return {
    manifest: {
      format: manifestFormat,
      version: manifestVersion,
      createdAt: typeof raw.createdAt === "string" ? raw.createdAt : "",
      app: { name: "prunelab", version: typeof app?.version === "string" ? app.version : "unknown" },
      experiment,
    },
    warnings,
  };
}
