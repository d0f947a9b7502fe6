/** The playground: chat or plain completion with the loaded model, streamed, with the experiment's sampling settings. */
import { useId } from "react";
import { generate, updatePlayground, useWorkbench } from "../store/workbench-store";
import { ErrorNote } from "./ErrorNote";
import { ExperimentFields } from "./ExperimentFields";
import { panelFields } from "./experiment-fields";

export function PlaygroundPanel() {
  const playground = useWorkbench((s) => s.playground);
  const card = useWorkbench((s) => s.model.card);
  const id = useId();
  const busy = playground.job !== undefined;
  const canSend = card !== undefined && !busy && playground.prompt.trim() !== "";
  const send = () => {
    if (canSend) void generate();
  };

  return (
    <div className="panel-body playground">
      <div className="playground-main">
        <fieldset className="row inline">
          <legend>Mode</legend>
          {(["chat", "completion"] as const).map((mode) => (
            <label key={mode} className="check">
              <input
                type="radio"
                name={`${id}-mode`}
                checked={playground.mode === mode}
                disabled={mode === "chat" && card !== undefined && !card.hasChatTemplate}
                onChange={() => updatePlayground({ mode, output: "" })}
              />
              {mode === "chat" ? (card && !card.hasChatTemplate ? "Chat (the model has no chat template)" : "Chat") : "Plain completion"}
            </label>
          ))}
          {playground.mode === "chat" && playground.messages.length > 0 ? (
            <button type="button" className="secondary" disabled={busy} onClick={() => updatePlayground({ messages: [] })}>
              New conversation
            </button>
          ) : null}
        </fieldset>

        {card ? null : <p className="note pending">Load a model in the Model step to try it here.</p>}

        <div className="transcript" role="log" aria-label="Conversation">
          {playground.mode === "chat"
            ? playground.messages.map((m, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the transcript only grows at its end, so a position is a stable identity
                <div key={i} className={`message ${m.role}`}>
                  <span className="role">{m.role}</span>
                  <p>{m.content}</p>
                </div>
              ))
            : null}
          {playground.output ? (
            <div className="message assistant">
              <span className="role">{playground.mode === "chat" ? "assistant" : "completion"}</span>
              <p>
                {playground.mode === "completion" ? <span className="muted">{playground.prompt}</span> : null}
                {playground.output}
              </p>
            </div>
          ) : null}
        </div>

        <div className="field">
          <label htmlFor={`${id}-prompt`}>{playground.mode === "chat" ? "Message" : "Prompt"} (Ctrl+Enter sends)</label>
          <textarea
            id={`${id}-prompt`}
            rows={4}
            value={playground.prompt}
            onChange={(e) => updatePlayground({ prompt: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                send();
              }
            }}
          />
        </div>
        <div className="row">
          <button type="button" onClick={send} disabled={!canSend}>
            {playground.mode === "chat" ? "Send" : "Complete"}
          </button>
          {busy ? (
            <button type="button" className="secondary" onClick={() => playground.job?.controller.abort()}>
              Stop
            </button>
          ) : null}
          {playground.last ? (
            <span className="muted">
              {playground.last.tokens} tokens in {playground.last.seconds.toFixed(1)} s (
              {(playground.last.tokens / Math.max(playground.last.seconds, 1e-9)).toFixed(1)} tokens/s), stopped by{" "}
              {playground.last.stopReason === "eos" ? "end of text" : "the token limit"}
            </span>
          ) : null}
        </div>
        {playground.error ? <ErrorNote error={playground.error} context="Generation" /> : null}
      </div>
      <ExperimentFields legend="Sampling" fields={panelFields.playground ?? []} />
    </div>
  );
}
