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
  /**
   * Tokens each training window predicts at most (the window holds one more). Windows hold whole
   * documents only (packingOf), so an SDFT prompt and its answer are never split.
   */
  sequenceLength: number;
  /**
   * Continued pretraining: the run starts from the f16 weights of the demo model committed at
   * `commit` (read from git, so the start is reproducible from the repository alone) instead of
   * `initSeed`'s random weights. That model's own card names the command that made it.
   */
  initFrom?: { commit: string; path: string };
  train: TrainConfig;
  /** Benchmark items per task for the card's scores. */
  evalItems: number;
  /** The reproduction check stored beside the card: these tasks, this many items each. */
  quickCheck: { tasks: string[]; items: number };
  /**
   * The teacher check of the card: the first `examples` records of each fine-tuning dataset
   * rewritten as SDD does (seed 0, at most `maxTokens` per rewrite), pass rate and NLLs reported.
   */
  teacherCheck: { examples: number; maxTokens: number };
}

/**
 * The committed model: 12 blocks so that pruning 1–4 of them is a real choice, and narrow enough
 * (hidden 64) that it trains on a 2-core machine through lavapipe. It is the earlier demo model
 * (commit 301ed0e: 2200 steps of 128-token windows, 4.5 M tokens, about 300 biographies of each
 * person) trained on, because that model knew the world but could not be the SDFT teacher: every
 * math rewrite chat, and the longer general ones, were cut by its 128-token windows (positions past
 * 128 were never trained), and rewrites were 4 % of its documents. This stage trains it on
 * 256-token windows of whole documents with rewrite chats a sixth of the documents (about a third
 * of the tokens), on a fresh corpus seed. The budget is what a 2-core machine shared with other
 * jobs finished in under an hour (50–80 tokens/s, against about 1100 on the idle machine); a
 * fresh model of any shape would have needed the original's 4.5 M tokens again.
 *
 * The learning rate is from scripts/sweep-demo-recipe.ts (16 steps of batch 8 each, measured on
 * held-aside text; nats per token): the start scored teacher general 0.424, math 0.667, world
 * 0.485; lr 1e-3 gave 0.512 / 0.431 / 0.528 (the math rewrite learned, the general rewrite and the
 * world's facts disturbed); lr 3e-4 gave 0.431 / 0.460 / 0.491 (math nearly as well, the rest kept).
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
  initFrom: { commit: "301ed0e4cef9513807758b1f95dcff718c1c5931", path: "public/models/demo/model.safetensors" },
  corpusSeed: 2,
  corpusMix: { biography: 40, encounter: 12, routine: 4, chat: 10, rewrite: 22, "math-chat": 10 },
  sequenceLength: 256,
  train: {
    mode: "full",
    steps: 64,
    batchSize: 8,
    gradientAccumulation: 1,
    maxLength: 257,
    lr: 3e-4,
    warmupSteps: 8,
    minLrRatio: 0.1,
    weightDecay: 0.05,
    maxGradNorm: 1,
    seed: 1,
    checkpointEvery: 8,
    padId: 0,
  },
  evalItems: 200,
  quickCheck: { tasks: ["town-facts", "daily-routines"], items: 20 },
  // Model-voice answers run to about 45 tokens; an SDFT request to about 190 of the 256 positions.
  teacherCheck: { examples: 100, maxTokens: 64 },
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
  sequenceLength: 64,
  train: { ...demoModelRecipe.train, steps: 3, batchSize: 2, maxLength: 65, warmupSteps: 1, checkpointEvery: 2 },
  evalItems: 1,
  quickCheck: { tasks: ["town-facts", "daily-routines"], items: 1 },
  teacherCheck: { examples: 1, maxTokens: 4 },
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

export interface PackedData {
  examples: TrainExample[];
  /** Documents longer than a window, left out. */
  skippedDocuments: number;
  /** Tokens in all windows (padding excluded). */
  tokens: number;
}

/** Windows a packing keeps open at once: enough that short documents fill the gaps long ones leave. */
const openWindows = 8;

/**
 * Whole documents packed into windows of at most sequenceLength + 1 tokens, as many windows as the
 * run consumes (one epoch, no window seen twice). No document is ever split across windows: the
 * teacher must see an SDFT request and the answer it is trained to give in one context, which a
 * token stream cut at fixed offsets does not guarantee (with 128-token windows every math rewrite
 * was cut). Several documents share a window (each starts with its own BOS) because one document
 * per window would spend about three quarters of every step on padding: documents average about 60
 * tokens, and the training loop pads a batch to its longest row. Each document goes into the open
 * window it fills best; a document no open window can take closes the fullest one. Documents longer
 * than a window are skipped and counted. Each document carries its own BOS and end tokens.
 */
export function packedTrainingData(world: World, encode: (text: string) => number[], recipe: DemoModelRecipe): PackedData {
  const windows = recipe.train.steps * recipe.train.batchSize * recipe.train.gradientAccumulation;
  const length = recipe.sequenceLength + 1;
  const closed: number[][] = [];
  const open: number[][] = [];
  let skippedDocuments = 0;
  let skippedInARow = 0;
  for (const document of pretrainingDocuments(world, { seed: recipe.corpusSeed, mix: recipe.corpusMix })) {
    const ids = encode(document.text);
    if (ids.length > length) {
      skippedDocuments++;
      // The corpus is endless: windows no document fits would be waited for forever.
      if (++skippedInARow > 1000) throw new Error(`packedTrainingData: 1000 documents in a row are longer than ${length} tokens`);
      continue;
    }
    skippedInARow = 0;
    let best = -1;
    for (let w = 0; w < open.length; w++) {
      const fits = open[w].length + ids.length <= length;
      if (fits && (best < 0 || open[w].length > open[best].length)) best = w;
    }
    if (best < 0) {
      if (open.length === openWindows) {
        const fullest = open.reduce((f, w, i) => (w.length > open[f].length ? i : f), 0);
        closed.push(...open.splice(fullest, 1));
        if (closed.length === windows) break;
      }
      open.push([]);
      best = open.length - 1;
    }
    for (const id of ids) open[best].push(id);
  }
  const examples = closed.map((tokens) => ({ tokens, lossMask: new Array<number>(tokens.length).fill(1) }));
  return { examples, skippedDocuments, tokens: closed.reduce((s, w) => s + w.length, 0) };
}
