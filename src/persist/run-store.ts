/**
 * Runs and settings in IndexedDB. A run is a named experiment (and, as later steps arrive, its
 * results); settings are small values by key (e.g. the last experiment, to reopen where the user
 * left). Stored experiments are normalised on the way out, so runs saved by older versions still open.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import { type Experiment, normaliseExperiment } from "../engine/experiment";

export interface RunRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  experiment: Experiment;
}

interface PrunelabDb extends DBSchema {
  runs: { key: string; value: RunRecord; indexes: { updatedAt: string } };
  settings: { key: string; value: unknown };
}

const databaseName = "prunelab";
const databaseVersion = 1;

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<PrunelabDb>) {}

  static async open(name = databaseName): Promise<RunStore> {
    const db = await openDB<PrunelabDb>(name, databaseVersion, {
      upgrade(db) {
        db.createObjectStore("runs", { keyPath: "id" }).createIndex("updatedAt", "updatedAt");
        db.createObjectStore("settings");
      },
    });
    return new RunStore(db);
  }

  /** Newest first. */
  async list(): Promise<RunRecord[]> {
    const runs = await this.db.getAllFromIndex("runs", "updatedAt");
    return runs.reverse().map((r) => this.normalise(r));
  }

  async create(name: string, experiment: Experiment, now = new Date()): Promise<RunRecord> {
    const at = now.toISOString();
    const run: RunRecord = { id: crypto.randomUUID(), name, createdAt: at, updatedAt: at, experiment: structuredClone(experiment) };
    await this.db.put("runs", run);
    return run;
  }

  async delete(id: string): Promise<void> {
    await this.db.delete("runs", id);
  }

  async getSetting(key: string): Promise<unknown> {
    return this.db.get("settings", key);
  }

  async setSetting(key: string, value: unknown): Promise<void> {
    await this.db.put("settings", value, key);
  }

  private normalise(run: RunRecord): RunRecord {
    return { ...run, experiment: normaliseExperiment(run.experiment, `run "${run.name}"`).experiment };
  }
}
