/** A long job's progress bar: phase, amount done, estimated time left, and Cancel. */
import { useEffect, useState } from "react";
import type { Progress } from "../engine/job";
import { formatBytes } from "../gpu/errors";
import { cancelJob, type RunningJob } from "../store/workbench-store";
import { formatDuration } from "./quantities";
import { estimateSecondsLeft } from "./time-left";

function amount(p: Progress, n: number): string {
  return p.unit === "bytes" ? formatBytes(n) : `${n.toLocaleString()} ${p.unit}`;
}

/** Re-renders every second while mounted, so the estimate keeps moving between progress events. */
function useNow(): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function JobProgress({ job }: { job: RunningJob }) {
  const now = useNow();
  const p = job.progress;
  const left = p && estimateSecondsLeft(p.done, p.total, job.phaseStart.at, Math.max(now, performance.now()), job.phaseStart.done);
  const known = p && p.total > 0;
  const label = `${job.title}${p ? ` — ${p.phase}` : ""}`;
  return (
    <div className="job" role="status" aria-live="polite">
      <div className="job-head">
        <span>{label}</span>
        <button type="button" className="secondary" onClick={() => cancelJob(job)} disabled={job.controller.signal.aborted}>
          {job.controller.signal.aborted ? "Cancelling…" : "Cancel"}
        </button>
      </div>
      <progress aria-label={label} max={known ? p.total : undefined} value={known ? p.done : undefined} />
      <div className="job-foot">
        <span>{p ? (known ? `${amount(p, p.done)} of ${amount(p, p.total)}` : amount(p, p.done)) : "Starting…"}</span>
        <span>{left !== undefined ? `about ${formatDuration(left)} left` : known ? "estimating time left…" : ""}</span>
      </div>
    </div>
  );
}
