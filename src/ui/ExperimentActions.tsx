/** Share the experiment: copy its link, download its manifest, or open a manifest file. */
import { useId, useState } from "react";
import { version } from "../../package.json";
import { createManifest, ManifestError, manifestToJson, parseManifest } from "../engine/manifest";
import { setExperiment, useWorkbench } from "../store/workbench-store";

export function ExperimentActions() {
  const experiment = useWorkbench((s) => s.experiment);
  const [said, setSaid] = useState("");
  const id = useId();

  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      setSaid("Link copied.");
    } catch {
      setSaid("Copy the link from the address bar: the browser refused clipboard access.");
    }
  };

  const download = () => {
    const blob = new Blob([manifestToJson(createManifest(experiment, version))], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "prunelab-manifest.json";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 0);
  };

  const open = async (file: File) => {
    try {
      const { manifest, warnings } = parseManifest(await file.text(), file.name);
      setExperiment(manifest.experiment, [`Opened ${file.name}.`, ...warnings]);
      setSaid("");
    } catch (e) {
      setSaid(e instanceof ManifestError ? e.message : `${file.name} could not be read: ${(e as Error).message}`);
    }
  };

  return (
    <div className="experiment-actions">
      <button type="button" className="secondary" onClick={copyLink}>
        Copy link
      </button>
      <button type="button" className="secondary" onClick={download}>
        Download manifest
      </button>
      <label className="button secondary" htmlFor={`${id}-manifest`}>
        Open manifest…
      </label>
      <input
        id={`${id}-manifest`}
        className="visually-hidden"
        type="file"
        accept=".json,application/json"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void open(file);
          e.target.value = "";
        }}
      />
      <span className="muted" role="status">
        {said}
      </span>
    </div>
  );
}
