/**
 * The study's products in IndexedDB, so that a reload keeps them and long runs resume: the
 * distillation (its request and the examples finished so far), each training run (settings, loss
 * history, quick-evaluation curve, last checkpoint, finished adapter) and the last evaluation. One
 * record per key; values are structured clones (typed arrays included), never JSON.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { DistilledExample } from "../distill/distill-dataset";
import type { DistillRequest } from "../engine/distill";
import type { EvaluatedModel } from "../engine/evaluate";
import type { TrainedAdapter, TrainRun, TrainSettings } from "../engine/train";
import type { QuickEvalPoint } from "../eval/eval-curve";
import type { TrainCheckpoint, TrainStepReport } from "../train/train-loop";

export interface SavedDistillation {
  /** Without `done`: the request the examples belong to. */
  request: Omit<DistillRequest, "done">;
  examples: DistilledExample[];
  finished: boolean;
}

export interface SavedTrainRun {
  settings: TrainSettings;
  /** Identifies the dataset trained on, so a resume never continues on other data. */
  datasetKey: string;
  history: TrainStepReport[];
  /** Quick-evaluation points so far (absent in runs saved before quick evaluation existed). */
  evalCurve?: QuickEvalPoint[];
  checkpoint?: TrainCheckpoint;
  adapter?: TrainedAdapter;
}

export interface StudyRecordValues {
  distillation: SavedDistillation;
  "train:sft": SavedTrainRun;
  "train:sdd": SavedTrainRun;
  evaluation: EvaluatedModel[];
}

export type StudyRecordKey = keyof StudyRecordValues;

export const trainKey = (run: TrainRun): StudyRecordKey => `train:${run}`;

interface StudyDb extends DBSchema {
  records: { key: string; value: unknown };
}

export class StudyRecords {
  private constructor(private readonly db: IDBPDatabase<StudyDb>) {}

  static async open(name = "prunelab-study"): Promise<StudyRecords> {
    const db = await openDB<StudyDb>(name, 1, {
      upgrade(db) {
        db.createObjectStore("records");
      },
    });
    return new StudyRecords(db);
  }

  async get<K extends StudyRecordKey>(key: K): Promise<StudyRecordValues[K] | undefined> {
    return (await this.db.get("records", key)) as StudyRecordValues[K] | undefined;
  }

  async put<K extends StudyRecordKey>(key: K, value: StudyRecordValues[K]): Promise<void> {
    await this.db.put("records", value, key);
  }

  async delete(key: StudyRecordKey): Promise<void> {
    await this.db.delete("records", key);
  }
}
