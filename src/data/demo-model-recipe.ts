/**
 * How the bundled demo model is made: its shape, its training hyperparameters, its initial weights
 * and its training data (the demo world's pretraining corpus, tokenized and packed into fixed-length
 * windows). `scripts/train-demo-model.ts` runs the recipe; everything is a pure function of the
 * recipe, so the same recipe gives the same model.
 */
import type { LlamaConfig } from "../model/config";
import type { HostTensor, ModelWeights } from "../model/host-tensor";
import { mulberry32 } from "../seeded-random";
import type { TrainConfig, TrainExample } from "../train/train-loop";
import { type CorpusKind, pretrainingDocuments } from "./pretraining-corpus";
import type { World } from "./world";

export interface DemoModelRecipe {
  shape: Pick<
    LlamaConfig,
    "hiddenSize" | "intermediateSize" | "numHiddenLayers" | "numAttentionHeads" | "numKeyValueHeads" | "maxPositionEmbeddings"
  >;
  /** Seeds the initial weights; the data order and everything else random in training use `train.seed`. */
  initSeed: number;
  /** Seeds the pretraining document stream. */
  corpusSeed: number;
  /** Changes to the corpus's default mix of document kinds (the tokenizer is fitted on the default mix). */
  corpusMix: Partial<Record<CorpusKind, number>>;
  /** Tokens each packed training window predicts (the window holds one more). */
  sequenceLength: number;
  train: TrainConfig;
  /** Benchmark items per task for the card's scores. */
  evalItems: number;
  /** The reproduction check stored beside the card: these tasks, this many items each. */
  quickCheck: { tasks: string[]; items: number };
}

/**
 * The committed model: 12 blocks so that pruning 1–4 of them is a real choice, and narrow enough
 * (hidden 64) that its 4.5 M training tokens fit in about two hours on a 2-core machine through
 * lavapipe, where a full-parameter step of this model ran at 650–1300 tokens/s (hidden 128: 180).
 * The mix is what the first two models taught: 0.9 M tokens with about 35 biographies of each
 * person left the facts about the townsfolk at chance, and 3.1 M tokens with 167 of each lifted them
 * only to 33 %, with who-was-it still at chance on under 3 % of the tokens. So biographies now take
 * a quarter of the tokens (about 300 of each person) and encounter sheets a sixth, paid for by the
 * task that model already solved (routines) and by the chats and rewrites, which the teacher needs
 * in form more than in number.
 */
export const demoModelRecipe: DemoModelRecipe = {
  shape: {
    hiddenSize: 64,
    intermediateSize: 176,
    numHiddenLayers: 12,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    maxPositionEmbeddings: 256,
  },
  initSeed: 1,
  corpusSeed: 1,
  corpusMix: { biography: 52, encounter: 14, routine: 6, chat: 8, rewrite: 5, "math-chat": 10 },
  sequenceLength: 128,
  train: {
    mode: "full",
    steps: 2200,
    batchSize: 16,
    gradientAccumulation: 1,
    maxLength: 129,
    lr: 3e-3,
    warmupSteps: 40,
    minLrRatio: 0.1,
    weightDecay: 0.05,
    maxGradNorm: 1,
    seed: 1,
    checkpointEvery: 50,
    padId: 0,
  },
  evalItems: 200,
  quickCheck: { tasks: ["town-facts", "daily-routines"], items: 20 },
};

/** A few steps of a two-block model: what CI runs to check that the script works end to end. */
export const smokeRecipe: DemoModelRecipe = {
  shape: {
    hiddenSize: 32,
    intermediateSize: 48,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    maxPositionEmbeddings: 256,
  },
  initSeed: 1,
  corpusSeed: 1,
  corpusMix: {},
  sequenceLength: 32,
  train: { ...demoModelRecipe.train, steps: 3, batchSize: 2, maxLength: 33, warmupSteps: 1, checkpointEvery: 2 },
  evalItems: 1,
  quickCheck: { tasks: ["town-facts", "daily-routines"], items: 1 },
};

export function demoModelConfig(recipe: DemoModelRecipe, tokens: { vocabSize: number; bos: number; eos: number }): LlamaConfig {
  const { shape } = recipe;
  return {
    ...shape,
    vocabSize: tokens.vocabSize,
    headDim: shape.hiddenSize / shape.numAttentionHeads,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeInterleaved: false,
    tieWordEmbeddings: true,
    bosTokenId: tokens.bos,
    eosTokenId: [tokens.eos],
  };
}

/**
 * GPT-2's initialisation: every matrix normal with std 0.02, the two projections that write into the
 * residual stream (o_proj, down_proj) scaled by 1/√(2·layers) so the stream's variance does not grow
 * with depth; norm weights 1.
 */
export function initialDemoWeights(config: LlamaConfig, seed: number): ModelWeights {
  const normal = standardNormal(seed);
  const tensors = new Map<string, HostTensor>();
  const matrix = (name: string, rows: number, cols: number, std: number) => {
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = std * normal();
    tensors.set(name, { dtype: "f32", shape: [rows, cols], data });
  };
  const ones = (name: string) =>
    tensors.set(name, { dtype: "f32", shape: [config.hiddenSize], data: new Float32Array(config.hiddenSize).fill(1) });
  const std = 0.02;
  const residualStd = std / Math.sqrt(2 * config.numHiddenLayers);
  const { hiddenSize: d, intermediateSize: ff, headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv } = config;
  matrix("model.embed_tokens.weight", config.vocabSize, d, std);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    ones(`${p}.input_layernorm.weight`);
    matrix(`${p}.self_attn.q_proj.weight`, hq * hd, d, std);
    matrix(`${p}.self_attn.k_proj.weight`, hkv * hd, d, std);
    matrix(`${p}.self_attn.v_proj.weight`, hkv * hd, d, std);
    matrix(`${p}.self_attn.o_proj.weight`, d, hq * hd, residualStd);
    ones(`${p}.post_attention_layernorm.weight`);
    matrix(`${p}.mlp.gate_proj.weight`, ff, d, std);
    matrix(`${p}.mlp.up_proj.weight`, ff, d, std);
    matrix(`${p}.mlp.down_proj.weight`, d, ff, residualStd);
  }
  ones("model.norm.weight");
  return { config, tensors };
}

/** Box–Muller over mulberry32. */
function standardNormal(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * The corpus as one token stream cut into windows of sequenceLength + 1 tokens (consecutive windows
 * share their boundary token, so every token is predicted once), as many as the run consumes: one
 * epoch, no window seen twice. Each document carries its own BOS and end tokens, so the text needs
 * no BOS added.
 */
export function packedTrainingData(world: World, encode: (text: string) => number[], recipe: DemoModelRecipe): TrainExample[] {
  const windows = recipe.train.steps * recipe.train.batchSize * recipe.train.gradientAccumulation;
  const length = recipe.sequenceLength + 1;
  const needed = windows * recipe.sequenceLength + 1;
  const stream: number[] = [];
  for (const document of pretrainingDocuments(world, { seed: recipe.corpusSeed, mix: recipe.corpusMix })) {
    for (const id of encode(document.text)) stream.push(id);
    if (stream.length >= needed) break;
  }
  const lossMask = new Array<number>(length).fill(1);
  return Array.from({ length: windows }, (_, i) => {
    const start = i * recipe.sequenceLength;
    return { tokens: stream.slice(start, start + length), lossMask };
  });
}
