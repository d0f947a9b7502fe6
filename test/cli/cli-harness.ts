/** Runs the CLI in-process and captures what it prints, for the command tests. */
import { runCli } from "../../src/cli/run-cli";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `onStderr` sees progress lines as they are printed (e.g. to kill a run half-way). */
export async function runCliCaptured(argv: readonly string[], onStderr: (text: string) => void = () => {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => {
      stderr += t;
      onStderr(t);
    },
  });
  return { code, stdout, stderr };
}
