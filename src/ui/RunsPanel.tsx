/** Saved runs (IndexedDB): save the current experiment, reopen or delete a past one. */
import { useId, useState } from "react";
import { deleteRun, openRun, saveRun, useWorkbench } from "../store/workbench-store";

export function RunsPanel() {
  const runs = useWorkbench((s) => s.runs);
  const store = useWorkbench((s) => s.runStore);
  const [name, setName] = useState("");
  const id = useId();
  if (!store) return <p className="note error">Saved runs need IndexedDB, which this browser did not allow (private mode?).</p>;
  return (
    <div className="panel-body">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void saveRun(name.trim() || `Run ${runs.length + 1}`);
          setName("");
        }}
      >
        <div className="field grow">
          <label htmlFor={`${id}-name`}>Save the current experiment as</label>
          <input
            id={`${id}-name`}
            type="text"
            value={name}
            placeholder={`Run ${runs.length + 1}`}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button type="submit">Save run</button>
      </form>
      {runs.length === 0 ? (
        <p className="muted">No saved runs yet.</p>
      ) : (
        <table className="runs">
          <caption className="visually-hidden">Saved runs</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model</th>
              <th scope="col">Pruned block</th>
              <th scope="col">Saved</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => {
              const m = run.experiment.model;
              const p = run.experiment.prune;
              return (
                <tr key={run.id}>
                  <th scope="row">{run.name}</th>
                  <td>{m.source === "hub" ? m.repo : m.source === "local" ? m.localName || "local files" : "demo model"}</td>
                  <td>{p.count > 0 ? `layers ${p.start}–${p.start + p.count - 1}` : "—"}</td>
                  <td>{new Date(run.updatedAt).toLocaleString()}</td>
                  <td className="actions">
                    <button type="button" className="secondary" onClick={() => openRun(run)} aria-label={`Open ${run.name}`}>
                      Open
                    </button>
                    <button type="button" className="danger" onClick={() => void deleteRun(run.id)} aria-label={`Delete ${run.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
