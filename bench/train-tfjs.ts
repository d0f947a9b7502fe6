/**
 * The same LoRA training step written with tfjs autodiff (tfjs-core + tfjs-backend-webgpu): the
 * Llama forward as tf ops over the frozen weights, the adapters as variables, `variableGrads` for
 * the backward and tfjs's Adam for the update. The baseline the WebGPU trainer is measured against.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as TfCore from "@tensorflow/tfjs-core";
import { type HostTensor, type ModelWeights, toFloat32 } from "../src/model/host-tensor";
import { ropeInverseFrequencies } from "../src/ops/rope";
import { type LoraConfig, type LoraModule, loraModulePaths, peftKey } from "../src/train/llama-lora";
import type { TrainBatch } from "../src/train/llama-train-forward";

type Tf = typeof TfCore;

/** Logits are made 16 MiB of rows at a time: a [1024, 49152] f32 tensor would exceed a 128 MiB binding. */
const logitsChunkBytes = 16 * 2 ** 20;

/**
 * tfjs-core's gradient definitions ship only as unbundled ESM with extensionless imports, which Node
 * cannot load, and its Node bundle leaves them out; esbuild (already here through tsx) bundles them.
 * They register into tfjs's global gradient registry, which every copy of tfjs-core shares.
 */
export async function registerTfjsGradients(): Promise<void> {
  const { build } = await import("esbuild");
  const core = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/package.json"));
  const bundled = await build({
    entryPoints: [join(core, "dist/register_all_gradients.js")],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
  });
  await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);
}

export interface TfjsLoraStep {
  /** One forward + backward + Adam update; resolves to the loss once the GPU has finished. */
  step(): Promise<number>;
  dispose(): void;
}

export function tfjsLoraStep(
  tf: Tf,
  weights: ModelWeights,
  adapters: Record<string, HostTensor>,
  lora: LoraConfig,
  batch: TrainBatch,
  lr: number,
): TfjsLoraStep {
  const c = weights.config;
  if (c.ropeInterleaved) throw new Error("tfjsLoraStep: only the Hugging Face rotate_half RoPE layout is written here");
  const frozen: TfCore.Tensor[] = [];
  const w = (name: string) => {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(`tfjsLoraStep: ${name} is missing`);
    const tensor = tf.tensor(toFloat32(t), t.shape);
    frozen.push(tensor);
    return tensor;
  };
  const embed = w("model.embed_tokens.weight");
  const head = c.tieWordEmbeddings ? embed : w("lm_head.weight");
  const norm = w("model.norm.weight");
  const moduleNames = Object.keys(loraModulePaths) as LoraModule[];
  const layers = Array.from({ length: c.numHiddenLayers }, (_, l) => {
    const p = `model.layers.${l}`;
    const proj = Object.fromEntries(moduleNames.map((m) => [m, w(`${p}.${loraModulePaths[m]}.weight`)])) as Record<
      LoraModule,
      TfCore.Tensor
    >;
    return { ...proj, inputNorm: w(`${p}.input_layernorm.weight`), postNorm: w(`${p}.post_attention_layernorm.weight`) };
  });
  const variables: Record<string, TfCore.Variable> = {};
  for (const [key, t] of Object.entries(adapters)) variables[key] = tf.variable(tf.tensor(t.data as Float32Array, t.shape), true, key);

  const b = batch.inputs.length;
  const t = batch.inputs[0].length;
  const n = b * t;
  const { hiddenSize: d, headDim: hd, numAttentionHeads: hq, numKeyValueHeads: hkv, vocabSize: vocab } = c;
  const ids = tf.tensor1d(Int32Array.from(batch.inputs.flat()), "int32");
  // Index of each target in the flattened logits of its row chunk.
  const rowsPerChunk = Math.max(1, Math.min(n, Math.floor(logitsChunkBytes / (vocab * 4))));
  const targets = batch.targets.flat();
  const picks = tf.tensor1d(
    Int32Array.from(targets, (id, i) => (i % rowsPerChunk) * vocab + id),
    "int32",
  );
  const maskValues = batch.lossMask.flat();
  const count = maskValues.reduce((a, v) => a + v, 0);
  const mask = tf.tensor1d(Float32Array.from(maskValues));
  const invFreq = ropeInverseFrequencies({ headDim: hd, theta: c.ropeTheta, interleaved: false, scaling: c.ropeScaling });
  const angles = Float32Array.from({ length: t * hd }, (_, k) => Math.floor(k / hd) * invFreq[(k % hd) % (hd / 2)]);
  const cos = tf.tensor(angles.map(Math.cos), [1, t, 1, hd]);
  const sin = tf.tensor(angles.map(Math.sin), [1, t, 1, hd]);
  const causal = tf.tensor2d(
    Float32Array.from({ length: t * t }, (_, k) => (k % t > Math.floor(k / t) ? -1e9 : 0)),
    [t, t],
  );
  const kvHeadOfQueryHead = tf.tensor1d(
    Int32Array.from({ length: hq }, (_, h) => Math.floor(h / (hq / hkv))),
    "int32",
  );
  const constants = [ids, picks, mask, cos, sin, causal, kvHeadOfQueryHead];
  const scale = lora.alpha / lora.rank;

  type T = TfCore.Tensor;
  const rms = (x: T, weight: T) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), c.rmsNormEps))), weight);
  const linear = (x: T, l: number, m: LoraModule) => {
    const y = tf.matMul(x, layers[l][m], false, true);
    const a = variables[peftKey(l, m, "A")];
    const bm = variables[peftKey(l, m, "B")];
    if (!a || !bm) return y;
    return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, a, false, true), bm, false, true), scale));
  };
  const rotate = (x: T) => {
    const [x1, x2] = tf.split(x, 2, 3);
    return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], 3), sin));
  };
  /** [n, heads·hd] → [b, hq, t, hd], kv heads repeated for their query-head group. */
  const headsFirst = (x: T, heads: number) => {
    const y = tf.transpose(tf.reshape(x, [b, t, heads, hd]), [0, 2, 1, 3]);
    if (heads === hq) return y;
    return tf.gather(y, kvHeadOfQueryHead, 1);
  };
  const rotated = (h: T, l: number, m: LoraModule, heads: number) =>
    headsFirst(tf.reshape(rotate(tf.reshape(linear(h, l, m), [b, t, heads, hd])), [n, heads * hd]), heads);
  const loss = (): TfCore.Scalar => {
    let x: T = tf.gather(embed, ids);
    for (let l = 0; l < c.numHiddenLayers; l++) {
      const h = rms(x, layers[l].inputNorm);
      const q = rotated(h, l, "q", hq);
      const k = rotated(h, l, "k", hkv);
      const v = headsFirst(linear(h, l, "v"), hkv);
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), causal);
      const attn = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [n, hq * hd]);
      x = tf.add(x, linear(attn, l, "o"));
      const h2 = rms(x, layers[l].postNorm);
      const gate = linear(h2, l, "gate");
      x = tf.add(x, linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), linear(h2, l, "up")), l, "down"));
    }
    const hf = rms(x, norm);
    let total: T = tf.scalar(0);
    for (let r0 = 0; r0 < n; r0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, n - r0);
      const logits = tf.matMul(tf.slice(hf, [r0, 0], [rows, d]), head, false, true);
      const picked = tf.gather(tf.reshape(logits, [rows * vocab]), tf.slice(picks, [r0], [rows]));
      const nll = tf.sub(tf.logSumExp(logits, 1), picked);
      total = tf.add(total, tf.sum(tf.mul(nll, tf.slice(mask, [r0], [rows]))));
    }
    return tf.div(total, count) as TfCore.Scalar;
  };
  const optimizer = tf.train.adam(lr);
  return {
    async step() {
      const { value, grads } = tf.variableGrads(loss, Object.values(variables));
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      const out = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    },
    dispose() {
      tf.dispose([...frozen, ...Object.values(variables), ...constants]);
      optimizer.dispose();
    },
  };
}
