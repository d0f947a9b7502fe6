/**
 * The trained tensors of a run by name, each with its gradient: every weight under its Hugging Face
 * name (full mode) or every adapter matrix under its PEFT key (LoRA mode). The names are what
 * checkpoints, exports and `foldLora` use; the order is fixed, so runs replay exactly.
 */
import type { Gpu } from "../gpu/context";
import type { Tensor } from "../gpu/tensor";
import type { HostTensor } from "../model/host-tensor";
import type { LlamaGpu, LlamaLayerWeight } from "../model/llama-gpu";
import type { Gradients } from "./llama-backward";
import { type LoraModule, loraModulePaths, peftKey } from "./llama-lora";

export interface TrainedParameter {
  name: string;
  param: Tensor;
  grad: Tensor;
}

const layerPaths: Record<LlamaLayerWeight, string> = {
  inputNorm: "input_layernorm",
  postNorm: "post_attention_layernorm",
  ...loraModulePaths,
};

export function trainedParameters(model: LlamaGpu, gradients: Gradients): TrainedParameter[] {
  if (gradients.mode === "lora") {
    const { lora, grads } = gradients;
    return lora.layers.flatMap((adapters, l) =>
      (Object.keys(adapters) as LoraModule[]).flatMap((m) => {
        const adapter = adapters[m];
        const g = grads.layers[l][m];
        if (!adapter || !g) throw new Error(`trainedParameters: layer ${l} ${m} has an adapter but no gradient`);
        return [
          { name: peftKey(l, m, "A"), param: adapter.a, grad: g.da },
          { name: peftKey(l, m, "B"), param: adapter.b, grad: g.db },
        ];
      }),
    );
  }
  const g = gradients.grads;
  const out: TrainedParameter[] = [{ name: "model.embed_tokens.weight", param: model.embed.chunks[0], grad: g.embed }];
  model.layers.forEach((layer, l) => {
    for (const key of Object.keys(layerPaths) as LlamaLayerWeight[]) {
      out.push({ name: `model.layers.${l}.${layerPaths[key]}.weight`, param: layer[key], grad: g.layers[l][key] });
    }
  });
  out.push({ name: "model.norm.weight", param: model.norm, grad: g.norm });
  if (g.lmHead !== g.embed) out.push({ name: "lm_head.weight", param: model.lmHead.chunks[0], grad: g.lmHead });
  return out;
}

/** Copies of the tensors, by name, as f32 host tensors. */
export async function readTensors(gpu: Gpu, named: readonly { name: string; tensor: Tensor }[]): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = {};
  for (const { name, tensor } of named) out[name] = { dtype: "f32", shape: [...tensor.shape], data: await gpu.readF32(tensor) };
  return out;
}

/** Overwrites each tensor with the host tensor of its name; every name must be present with the same shape. */
export function writeTensors(
  gpu: Gpu,
  named: readonly { name: string; tensor: Tensor }[],
  values: Record<string, HostTensor>,
  what: string,
): void {
  for (const { name, tensor } of named) {
    const v = values[name];
    if (v?.dtype !== "f32" || v.shape.join() !== tensor.shape.join()) {
      throw new Error(
        `${what}: ${name} must be f32 [${tensor.shape.join(", ")}], got ${v ? `${v.dtype} [${v.shape.join(", ")}]` : "nothing"}`,
      );
    }
    const data = v.data as Float32Array;
    gpu.write(tensor, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
}
