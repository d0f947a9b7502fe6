/** An engine error as the user sees it: what failed, in words, and the error's class for bug reports. */
import type { RpcError } from "../worker/rpc";

export function ErrorNote({ error, context }: { error: RpcError; context: string }) {
  if (error.name === "CancelledError") return <p className="note">{context} was cancelled.</p>;
  return (
    <div className="note error" role="alert">
      <strong>{`${context} failed`}</strong>
      <p>{error.message}</p>
      <p className="muted">{error.name}</p>
    </div>
  );
}
