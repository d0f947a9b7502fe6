/** Which experiment settings each panel edits, with their labels; the form's input types follow the defaults' types. */
import type { PanelId } from "../store/panels";

export interface FieldInfo {
  /** Dotted path into the experiment, e.g. "lora.rank". */
  path: string;
  label: string;
  step?: number;
  choices?: readonly { value: string; label: string }[];
}

export const panelFields: Partial<Record<PanelId, readonly FieldInfo[]>> = {
  analyze: [
    { path: "calibration.dataset", label: "Calibration set" },
    { path: "calibration.samples", label: "Calibration prompts" },
    { path: "calibration.maxTokens", label: "Tokens per prompt" },
    {
      path: "prune.metric",
      label: "Metric",
      choices: [
        { value: "angular", label: "Angular distance" },
        { value: "block-influence", label: "Block Influence" },
      ],
    },
    { path: "seeds.data", label: "Data seed" },
  ],
  prune: [
    { path: "prune.start", label: "First layer to drop" },
    { path: "prune.count", label: "Layers to drop (0: none chosen)" },
  ],
  distill: [
    { path: "distill.count", label: "Examples" },
    { path: "seeds.data", label: "Data seed (draws the examples, seeds the sampling)" },
    { path: "distill.consistencyFilter", label: "Math data: keep a rewrite only if its final number matches the reference's" },
    { path: "distill.temperature", label: "Temperature", step: 0.05 },
    { path: "distill.topP", label: "Top-p", step: 0.05 },
    { path: "distill.maxNewTokens", label: "Max tokens per rewrite" },
    { path: "distill.batchSize", label: "Batch size" },
  ],
  train: [
    { path: "lora.rank", label: "LoRA rank r" },
    { path: "lora.alpha", label: "LoRA alpha" },
    { path: "lora.dropout", label: "LoRA dropout", step: 0.01 },
    { path: "lora.targets", label: "Target modules (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)" },
    { path: "lora.learningRate", label: "Learning rate", step: 1e-5 },
    { path: "lora.batchSize", label: "Batch size" },
    { path: "lora.steps", label: "Steps" },
    { path: "lora.maxLength", label: "Max length (tokens)" },
    { path: "seeds.train", label: "Training seed" },
  ],
  evaluate: [
    { path: "evaluate.items", label: "Items per task" },
    { path: "evaluate.fewShot", label: "Few-shot examples" },
  ],
  merge: [{ path: "merge.t", label: "SLERP t (0: first model, 1: second)", step: 0.05 }],
  playground: [
    { path: "sampling.temperature", label: "Temperature", step: 0.05 },
    { path: "sampling.topK", label: "Top-k (0: off)" },
    { path: "sampling.topP", label: "Top-p", step: 0.01 },
    { path: "sampling.maxTokens", label: "Max new tokens" },
    { path: "sampling.seed", label: "Seed" },
  ],
};
