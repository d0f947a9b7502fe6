/**
 * The workbench page: reads the experiment from the link (or reopens the last one), opens the run
 * store, starts the engine worker, keeps the URL in step with the store, and renders the app.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { normaliseExperiment } from "./engine/experiment";
import { experimentFromSearch } from "./engine/experiment-url";
import { RunStore } from "./persist/run-store";
import { attachRunStore, connectEngine, setExperiment } from "./store/workbench-store";
import { App } from "./ui/App";
import { syncUrlWithStore, urlHasExperiment } from "./ui/url-sync";
import { startEngine } from "./worker/start-engine";
import "./ui/styles.css";

async function restoreExperiment(store: RunStore | undefined): Promise<void> {
  if (urlHasExperiment(location.search)) {
    const { experiment, warnings } = experimentFromSearch(location.search);
    setExperiment(experiment, warnings);
    return;
  }
  const last = await store?.getSetting("experiment");
  if (last !== undefined) setExperiment(normaliseExperiment(last, "the last session").experiment);
}

async function start(): Promise<void> {
  const store = await RunStore.open().catch(() => undefined);
  await restoreExperiment(store);
  if (store) await attachRunStore(store);
  syncUrlWithStore();
  const root = document.getElementById("root");
  if (!root) throw new Error("index.html has no #root element");
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  await connectEngine(startEngine());
}

void start();
