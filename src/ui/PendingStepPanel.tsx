/** A step not built yet: what it will do, which issue builds it, and the experiment settings it will use (editable now). */
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import type { StepInfo } from "./steps";

export function PendingStepPanel({ step }: { step: StepInfo }) {
  const fields = panelFields[step.id];
  return (
    <div className="panel-body">
      <p className="note pending" role="status">
        <strong>Not built yet.</strong> The {step.title} step arrives with issue {step.arrivesWith}.
        {fields ? " Its settings below are already part of the experiment: they travel in the link and the manifest." : ""}
      </p>
      {fields ? <ExperimentFields legend={`${step.title} settings`} fields={fields} /> : null}
    </div>
  );
}
