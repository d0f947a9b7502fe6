/**
 * Keeps the page URL in step with the store: the experiment's changed fields (see experiment-url.ts)
 * and the open panel (`step`), written with replaceState so editing a field does not flood history.
 */
import { experimentToSearch } from "../engine/experiment-url";
import { isPanelId } from "../store/panels";
import type { WorkbenchState } from "../store/workbench-store";
import { showPanel, useWorkbench } from "../store/workbench-store";

/** Whether the URL carries experiment fields (a shared link), as opposed to a bare page address. */
export function urlHasExperiment(search: string): boolean {
  return [...new URLSearchParams(search).keys()].some((k) => k.includes("."));
}

export function syncUrlWithStore(): void {
  const panel = new URLSearchParams(location.search).get("step");
  if (isPanelId(panel)) showPanel(panel);
  writeUrl(useWorkbench.getState());
  useWorkbench.subscribe((s, before) => {
    if (s.experiment !== before.experiment || s.panel !== before.panel) writeUrl(s);
  });
}

function writeUrl(s: WorkbenchState): void {
  const params = new URLSearchParams(location.search);
  if (s.panel === "model") params.delete("step");
  else params.set("step", s.panel);
  const search = experimentToSearch(s.experiment, params.toString());
  if (search !== location.search) history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
}
