/** An engine error as the user sees it: what failed, in words, and the error's class for bug reports. */
import type { RpcError } from "../worker/rpc";

export function ErrorNote({ error, context }: { error: RpcError; context: string }) {
  if (error.name === "CancelledError") return <p className="note">{context} was cancelled.</p>;
  const pending = error.name === "NotAvailableError";
  return (
    <div className={pending ? "note pending" : "note error"} role={pending ? "status" : "alert"}>
      <strong>{pending ? "Not available yet" : `${context} failed`}</strong>
      <p>{error.message}</p>
      {pending ? null : <p className="muted">{error.name}</p>}
    </div>
  );
}
