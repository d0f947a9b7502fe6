/** A labelled form over some experiment settings; edits go to the store (and from there to the URL). */
import { useEffect, useId, useState } from "react";
import { type Experiment, numberRule } from "../engine/experiment";
import { updateExperiment, useWorkbench } from "../store/workbench-store";
import type { FieldInfo } from "./experiment-fields";

type Level = Record<string, unknown>;

function split(path: string): [string, string] {
  const [section, key] = path.split(".");
  return [section, key];
}

function read(experiment: Experiment, path: string): unknown {
  const [section, key] = split(path);
  return (experiment as unknown as Record<string, Level>)[section]?.[key];
}

function write(path: string, value: unknown): void {
  const [section, key] = split(path);
  updateExperiment((draft) => {
    (draft as unknown as Record<string, Level>)[section][key] = value;
  });
}

export function ExperimentFields({ fields, legend }: { fields: readonly FieldInfo[]; legend: string }) {
  const experiment = useWorkbench((s) => s.experiment);
  const id = useId();
  return (
    <fieldset className="settings">
      <legend>{legend}</legend>
      {fields.map((f) => {
        const value = read(experiment, f.path);
        const inputId = `${id}-${f.path}`;
        if (typeof value === "boolean") {
          return (
            <label key={f.path} className="check" htmlFor={inputId}>
              <input id={inputId} type="checkbox" checked={value} onChange={(e) => write(f.path, e.target.checked)} />
              {f.label}
            </label>
          );
        }
        return (
          <div key={f.path} className="field">
            <label htmlFor={inputId}>{f.label}</label>
            {f.choices ? (
              <select id={inputId} value={String(value)} onChange={(e) => write(f.path, e.target.value)}>
                {f.choices.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </select>
            ) : typeof value === "number" ? (
              <NumberInput id={inputId} path={f.path} value={value} step={f.step} />
            ) : (
              <input id={inputId} type="text" value={String(value)} onChange={(e) => write(f.path, e.target.value)} />
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

function NumberInput({ id, path, value, step }: { id: string; path: string; value: number; step?: number }) {
  const rule = numberRule(path);
  // The text being typed ("0.", "") may not be a valid value yet; it follows the store only when the value changes elsewhere.
  const [text, setText] = useState(String(value));
  useEffect(() => setText((t) => (Number(t) === value ? t : String(value))), [value]);
  return (
    <input
      id={id}
      type="number"
      value={text}
      min={rule?.min}
      max={rule?.max}
      step={step ?? (rule?.integer ? 1 : "any")}
      onChange={(e) => {
        setText(e.target.value);
        const v = e.target.valueAsNumber;
        const ok =
          e.target.value !== "" &&
          Number.isFinite(v) &&
          (!rule || (v >= rule.min && v <= rule.max && (!rule.integer || Number.isInteger(v))));
        e.target.setCustomValidity(ok ? "" : `Enter a number${rule ? ` from ${rule.min} to ${rule.max}` : ""}`);
        if (ok && v !== value) write(path, v);
      }}
    />
  );
}
