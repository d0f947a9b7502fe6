/** The workbench: header (experiment actions, GPU badge), the pipeline's steps and tools as a sidebar, and the open panel. */
import { type PanelId, steps, tools } from "../store/panels";
import { dismissNotices, showPanel, useWorkbench } from "../store/workbench-store";
import { AnalyzePanel } from "./AnalyzePanel";
import { DistillPanel } from "./DistillPanel";
import { EvaluatePanel } from "./EvaluatePanel";
import { ExperimentActions } from "./ExperimentActions";
import { ExportPanel } from "./ExportPanel";
import { GpuBadge } from "./GpuBadge";
import { MergePanel } from "./MergePanel";
import { ModelPanel } from "./ModelPanel";
import { NoWebGpuNotice } from "./NoWebGpuNotice";
import { PlaygroundPanel } from "./PlaygroundPanel";
import { PrunePanel } from "./PrunePanel";
import { RunsPanel } from "./RunsPanel";
import { SpeculatePanel } from "./SpeculatePanel";
import { TrainPanel } from "./TrainPanel";

function NavButton({ id, label, index }: { id: PanelId; label: string; index?: number }) {
  const current = useWorkbench((s) => s.panel === id);
  return (
    <li>
      <button type="button" className="nav" aria-current={current ? "page" : undefined} onClick={() => showPanel(id)} data-panel={id}>
        {index !== undefined ? <span className="nav-index">{index + 1}</span> : null}
        {label}
      </button>
    </li>
  );
}

/** Every panel by id: a step or tool without a panel is a type error, not a blank page. */
const panels: Record<PanelId, () => React.JSX.Element> = {
  model: ModelPanel,
  analyze: AnalyzePanel,
  prune: PrunePanel,
  distill: DistillPanel,
  train: TrainPanel,
  evaluate: EvaluatePanel,
  merge: MergePanel,
  speculate: SpeculatePanel,
  export: ExportPanel,
  playground: PlaygroundPanel,
  runs: RunsPanel,
};

function Panel({ id }: { id: PanelId }) {
  const View = panels[id];
  return <View />;
}

export function App() {
  const panel = useWorkbench((s) => s.panel);
  const notices = useWorkbench((s) => s.notices);
  const step = steps.find((s) => s.id === panel);
  const title = step?.title ?? tools.find((t) => t.id === panel)?.title ?? "";
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="brand">
          Prunelab <span className="muted">prune · distill · recover</span>
        </h1>
        <ExperimentActions />
        <GpuBadge />
      </header>
      <nav className="sidebar" aria-label="Pipeline">
        <h2 className="nav-heading">Pipeline</h2>
        <ol>
          {steps.map((s, i) => (
            <NavButton key={s.id} id={s.id} label={s.title} index={i} />
          ))}
        </ol>
        <h2 className="nav-heading">Tools</h2>
        <ul>
          {tools.map((t) => (
            <NavButton key={t.id} id={t.id} label={t.title} />
          ))}
        </ul>
      </nav>
      <main className="main" aria-labelledby="panel-title" data-panel={panel}>
        <NoWebGpuNotice />
        {notices.length > 0 ? (
          <div className="note" role="status">
            <ul>
              {notices.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
            <button type="button" className="secondary" onClick={dismissNotices}>
              Dismiss
            </button>
          </div>
        ) : null}
        <h2 id="panel-title">{title}</h2>
        {step ? <p className="summary">{step.summary}</p> : null}
        <Panel id={panel} />
      </main>
    </div>
  );
}
