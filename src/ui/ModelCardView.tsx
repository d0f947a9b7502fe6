/** The loaded model at a glance: architecture, parameters, bytes, layers. */

import type { ModelCard } from "../engine/requests";
import { formatBytes } from "../gpu/errors";
import { formatCount } from "./quantities";

export function ModelCardView({ card }: { card: ModelCard }) {
  const rows: [string, string][] = [
    ["Architecture", card.architecture],
    ["Format", card.format],
    ["Parameters", formatCount(card.parameters)],
    ["Weights", `${formatBytes(card.weightBytes)} (${card.dtypes.join(", ")})`],
    ["Layers", String(card.layers)],
    ["Hidden size", `${card.hiddenSize} (MLP ${card.intermediateSize})`],
    ["Attention heads", `${card.heads} query, ${card.kvHeads} key/value, ${card.headDim} dims each`],
    ["Vocabulary", card.vocabSize.toLocaleString()],
    ["Context", `${card.contextLength.toLocaleString()} tokens`],
    ["Chat template", card.hasChatTemplate ? "yes" : "no (plain completion)"],
  ];
  return (
    <article className="card" aria-labelledby="model-card-title" data-testid="model-card">
      <h3 id="model-card-title">{card.name}</h3>
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </article>
  );
}
