/**
 * Which model a recipe names and what shape it has, when it is the experiment's own: a Hub model
 * by its id, the demo model or a local folder by the path the README tells the user to copy it
 * to. The workbench knows a model by its card, which carries every dimension of the config but
 * whether the embeddings are tied; that one is read back from the card's parameter count.
 */
import type { Experiment } from "../../experiment/experiment";
import type { LlamaConfig } from "../../model/config";
import { accountModel } from "../../prune/accounting";
import type { ModelCard } from "../../worker/protocol";

/** Where the demo model's Hugging Face folder is in a Prunelab checkout. */
export const demoModelFolder = "public/models/demo";

export function experimentModelRef(model: Experiment["model"]): { model: string; modelNote?: string } {
  if (model.source === "hub") return { model: model.repo };
  const what =
    model.source === "demo"
      ? `Prunelab's bundled demo model: copy its folder here first (\`cp -r <prunelab>/${demoModelFolder} models/original\`).`
      : `the experiment's local model "${model.localName}": copy its Hugging Face folder to \`models/original\` first.`;
  return { model: "models/original", modelNote: `The model is ${what}` };
}

/** The config of the full model behind a card that shows `card.layers` blocks of its `fullLayers`. */
export function configFromCard(card: ModelCard, fullLayers: number): LlamaConfig {
  const config = (tieWordEmbeddings: boolean): LlamaConfig => ({
    hiddenSize: card.hiddenSize,
    intermediateSize: card.intermediateSize,
    numHiddenLayers: card.layers,
    numAttentionHeads: card.heads,
    numKeyValueHeads: card.kvHeads,
    headDim: card.headDim,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeInterleaved: false,
    tieWordEmbeddings,
    vocabSize: card.vocabSize,
    maxPositionEmbeddings: card.contextLength,
  });
  // Norm epsilon and RoPE do not enter the accounting; tied embeddings do (one matrix fewer).
  const tied = accountModel(config(true)).parameters === card.parameters;
  return { ...config(tied), numHiddenLayers: fullLayers };
}
