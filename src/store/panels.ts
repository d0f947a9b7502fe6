/** The workbench's panels: the pipeline's steps in order with what each does, then the tools. */
export type StepId = "model" | "analyze" | "prune" | "distill" | "train" | "evaluate" | "merge" | "speculate" | "export";
export type ToolId = "playground" | "runs";
export type PanelId = StepId | ToolId;

export interface StepInfo {
  id: StepId;
  title: string;
  summary: string;
}

export const steps: readonly StepInfo[] = [
  { id: "model", title: "Model", summary: "Load the bundled demo model, local files, or a Hugging Face Hub repo." },
  {
    id: "analyze",
    title: "Analyze",
    summary: "Measure how much each run of n consecutive blocks changes the hidden state (angular distance, Block Influence).",
  },
  { id: "prune", title: "Prune", summary: "Drop the chosen block of layers and account for parameters and FLOPs." },
  {
    id: "distill",
    title: "Distill",
    summary: "The unpruned model rewrites each fine-tuning target in its own words; a consistency filter keeps faithful rewrites.",
  },
  {
    id: "train",
    title: "Train",
    summary: "LoRA fine-tune the pruned model on the original (SFT) and self-distilled (SDD) data.",
  },
  { id: "evaluate", title: "Evaluate", summary: "Benchmark suite, average accuracy and quality recovery %." },
  { id: "merge", title: "Merge", summary: "SLERP-merge two fine-tuned models." },
  {
    id: "speculate",
    title: "Speculate",
    summary: "Use the pruned model as a speculative-decoding draft: acceptance rate and speed-up.",
  },
  {
    id: "export",
    title: "Export",
    summary: "safetensors + config.json or GGUF, PEFT adapters, layer_distances.csv, mergekit YAML, JSONL, manifest.",
  },
];

export const tools: readonly { id: ToolId; title: string }[] = [
  { id: "playground", title: "Playground" },
  { id: "runs", title: "Runs" },
];

const panelIds = new Set<string>([...steps.map((s) => s.id), ...tools.map((t) => t.id)]);

export function isPanelId(value: string | null): value is PanelId {
  return value !== null && panelIds.has(value);
}
