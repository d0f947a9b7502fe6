/** A labelled number input for the study's step settings; keeps the text being typed until it is a valid number in range. */
import { useEffect, useId, useState } from "react";

export interface NumberFieldProps {
  label: string;
  value: number;
  onChange: (value: number) => void;
  min: number;
  max: number;
  integer?: boolean;
}

export function NumberField({ label, value, onChange, min, max, integer = false }: NumberFieldProps) {
  const id = useId();
  const [text, setText] = useState(String(value));
  useEffect(() => setText((t) => (Number(t) === value ? t : String(value))), [value]);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        value={text}
        min={min}
        max={max}
        step={integer ? 1 : "any"}
        onChange={(e) => {
          setText(e.target.value);
          const v = e.target.valueAsNumber;
          const ok = e.target.value !== "" && v >= min && v <= max && (!integer || Number.isInteger(v));
          e.target.setCustomValidity(ok ? "" : `Enter a${integer ? "n integer" : " number"} from ${min} to ${max}`);
          if (ok && v !== value) onChange(v);
        }}
      />
    </div>
  );
}
