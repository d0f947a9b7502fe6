/**
 * The Speculate step: the model in use (the pruned one) drafts k tokens at a time for the full
 * model. Shows the continuation with every token coloured by its fate (accepted draft, rejected
 * draft, the target's correction, the target's bonus token), the acceptance statistics and the
 * wall-clock speed-up over decoding with the full model alone.
 */
import { type CSSProperties, useId, useState } from "react";
import type { SpeculateResult } from "../engine/speculate";
import type { TokenFate } from "../spec/token-pieces";
import { usePruneStep } from "../store/prune-store";
import { engineClient, engineMissing, type RunningJob, startJob, useWorkbench, withProgress } from "../store/workbench-store";
import type { RpcError } from "../worker/rpc";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";
import { JobProgress } from "./JobProgress";

const fateStyles: Record<TokenFate, CSSProperties> = {
  accepted: { background: "#d7f0df", color: "var(--good)" },
  rejected: { background: "#fbe1e1", color: "var(--bad)", textDecoration: "line-through" },
  corrected: { background: "var(--warn-bg)", outline: "1px solid var(--warn-line)" },
  bonus: { background: "var(--accent-soft)", color: "var(--accent)" },
};

const fateLabels: Record<TokenFate, string> = {
  accepted: "draft accepted",
  rejected: "draft rejected (or discarded after a rejection)",
  corrected: "the target's correction",
  bonus: "the target's bonus token (every draft accepted)",
};

export function SpeculatePanel() {
  const card = useWorkbench((s) => s.model.card);
  const sampling = useWorkbench((s) => s.experiment.sampling);
  const pruned = usePruneStep((s) => s.pruned);
  const id = useId();
  const [prompt, setPrompt] = useState("Once upon a time");
  const [k, setK] = useState(4);
  const [job, setJob] = useState<RunningJob>();
  const [error, setError] = useState<RpcError>();
  const [result, setResult] = useState<SpeculateResult>();
  if (!card) {
    return (
      <div className="panel-body">
        <p className="note">Load a model in the Model step first.</p>
      </div>
    );
  }

  const run = async () => {
    const started = startJob("Speculative decoding");
    setJob(started);
    setError(undefined);
    const engine = engineClient();
    const outcome = engine
      ? await engine.call(
          "speculate",
          { prompt, k, sampling },
          { signal: started.controller.signal, onProgress: (p) => setJob((current) => current && withProgress(current, p)) },
        )
      : ({ ok: false, error: engineMissing } as const);
    setJob(undefined);
    if (outcome.ok) setResult(outcome.value);
    else setError(outcome.error);
  };

  return (
    <div className="panel-body playground">
      <div className="playground-main">
        <p className={pruned ? "" : "note"}>
          {pruned
            ? `Draft: ${card.name}. Target: the full model.`
            : "Prune the model in the Prune step first: until then the draft is the full model itself and accepts every token."}
        </p>
        <div className="field">
          <label htmlFor={`${id}-prompt`}>Prompt</label>
          <textarea id={`${id}-prompt`} rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-k`}>Draft tokens per round: k = {k}</label>
          <input id={`${id}-k`} type="range" min={1} max={8} step={1} value={k} onChange={(e) => setK(Number(e.target.value))} />
        </div>
        <div className="row">
          <button type="button" onClick={() => void run()} disabled={job !== undefined || prompt.trim() === ""}>
            Decode speculatively
          </button>
        </div>
        {job ? <JobProgress job={job} /> : null}
        {error ? <ErrorNote error={error} context="Speculative decoding" /> : null}
        {result ? <SpeculationView result={result} prompt={prompt} /> : null}
      </div>
      <ExperimentFields legend="Sampling" fields={panelFields.playground ?? []} />
    </div>
  );
}

function SpeculationView({ result, prompt }: { result: SpeculateResult; prompt: string }) {
  const rows: [string, string][] = [
    ["Acceptance rate", `${(100 * result.acceptanceRate).toFixed(1)} % (${result.acceptedTokens} of ${result.draftTokens} drafts)`],
    ["Tokens per target forward", result.meanAcceptedLength.toFixed(2)],
    ["Target forwards", String(result.targetForwards)],
    ["Speculative decoding", `${result.seconds.toFixed(2)} s`],
    ["Target alone", `${result.plainSeconds.toFixed(2)} s`],
    ["Speed-up", `${result.speedup.toFixed(2)}×`],
  ];
  return (
    <>
      <div className="transcript" data-testid="speculation-text">
        <p style={{ whiteSpace: "pre-wrap", margin: 0 }}>
          <span className="muted">{prompt}</span>
          {result.pieces.map((piece, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the pieces are a fixed result, so a position is a stable identity
            <span key={i} data-fate={piece.fate} title={fateLabels[piece.fate]} style={fateStyles[piece.fate]}>
              {piece.text}
            </span>
          ))}
        </p>
      </div>
      <p className="row">
        {(Object.keys(fateLabels) as TokenFate[]).map((fate) => (
          <span key={fate} style={{ ...fateStyles[fate], padding: "0 0.3rem" }}>
            {fateLabels[fate]}
          </span>
        ))}
      </p>
      <dl className="facts" data-testid="speculation-stats">
        {rows.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}
