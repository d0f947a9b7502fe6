/**
 * A loaded (or pruned, or adapter-folded) model as the files other tools load as they are: a
 * Hugging Face folder in one dtype, or one GGUF file for llama.cpp with the complete `general.*`,
 * `llama.*` and `tokenizer.*` metadata. The CLI (`convert`, `fold`) and the workbench's Export step
 * both call these.
 */
import { type GgufTensorType, modelWeightsToGguf } from "../model/gguf";
import { type HostDtype, type ModelWeights, storedDtype } from "../model/host-tensor";
import { hfFolderFiles, type TokenizerJsonFiles } from "../prune/hf-folder-export";
import { ggufVocabMetadata } from "./gguf-vocab";

export const hfDtypes = ["f32", "f16", "bf16"] as const satisfies readonly HostDtype[];
export const ggufDtypes = ["f32", "f16", "bf16", "q8_0"] as const;
export type GgufDtype = (typeof ggufDtypes)[number];

export interface ExportableModel extends TokenizerJsonFiles {
  weights: ModelWeights;
}

/** A Hugging Face folder (file name → bytes) whose tensors are all `dtype`, with config.json's torch_dtype saying so. */
export function hfModelFiles(model: ExportableModel, dtype: HostDtype): Map<string, Uint8Array> {
  return hfFolderFiles(model.weights, model, dtype);
}

const ggufTensorType: Record<GgufDtype, GgufTensorType> = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0" };
/** llama.cpp's llama_ftype: what `general.file_type` says most tensors are. */
const ggufFileType: Record<GgufDtype, number> = { f32: 0, f16: 1, q8_0: 7, bf16: 32 };
/** GGML_QNT_VERSION, which llama.cpp's converter writes into every file. */
const GGML_QUANTIZATION_VERSION = 2;

/**
 * One GGUF file that llama.cpp loads unchanged. `name` becomes general.name. With q8_0, tensors
 * whose rows are not whole 32-value blocks are written F16, and 1-D tensors F32 (as llama.cpp's
 * own converter does).
 */
export function ggufModelFile(model: ExportableModel, dtype: GgufDtype, name: string): Uint8Array {
  if (!model.tokenizerJson) throw new Error(`ggufModelFile: "${name}" has no tokenizer; llama.cpp needs the vocabulary in the file`);
  const vocab = ggufVocabMetadata({
    tokenizerJson: model.tokenizerJson,
    tokenizerConfig: model.tokenizerConfig,
    vocabSize: model.weights.config.vocabSize,
    file: `${name} tokenizer.json`,
  });
  return modelWeightsToGguf(model.weights, ggufTensorType[dtype], [
    { key: "general.name", type: "string", value: name },
    { key: "general.file_type", type: "u32", value: ggufFileType[dtype] },
    { key: "general.quantization_version", type: "u32", value: GGML_QUANTIZATION_VERSION },
    ...vocab,
  ]);
}

export type ModelExportFormat = "hf" | "gguf";

/** What the workbench's Export step and `prunelab convert` ask for. */
export interface ModelExportRequest {
  format: ModelExportFormat;
  /** Default: the dtype the weights share, else f32. */
  dtype?: GgufDtype;
}

/**
 * The model's files in the format asked for: a Hugging Face folder's files, or one `<name>.gguf`
 * (name made safe for a file name). q8_0 exists only for GGUF.
 */
export function modelExportFiles(model: ExportableModel, request: ModelExportRequest, name: string): Map<string, Uint8Array> {
  const dtype = request.dtype ?? storedDtype(model.weights);
  if (request.format === "gguf") return new Map([[`${fileSafe(name)}-${dtype}.gguf`, ggufModelFile(model, dtype, name)]]);
  if (dtype === "q8_0") throw new Error("q8_0 is a GGUF type: a Hugging Face folder is f32, f16 or bf16");
  return hfModelFiles(model, dtype);
}

function fileSafe(name: string): string {
  return name.replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "") || "model";
}
