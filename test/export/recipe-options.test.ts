/**
 * Every option name the recipe uses exists in the pinned version of the library that reads it.
 * The lists below are those versions' documented options (the parts the recipe can touch), written
 * from their documentation: transformers TrainingArguments and TRL SFTConfig, PEFT LoraConfig,
 * accelerate's config file and `accelerate launch`, vLLM's LLM / EngineArgs, SamplingParams and
 * SpeculativeConfig, lm-evaluation-harness's CLI and vLLM model arguments, mergekit's CLI and YAML,
 * Slurm's sbatch. The pins they were written for must be requirements.txt's, so bumping a pin
 * without revisiting its list fails here.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildRecipe, type RecipeFile } from "../../src/export/recipe/build-recipe";
import { knownModelConfig } from "../../src/export/recipe/known-models";
import { demoRecipe, demoRecipeInput } from "./recipe-harness";

const documented = {
  versions: {
    transformers: "4.57.1",
    peft: "0.17.1",
    trl: "0.24.0",
    accelerate: "1.11.0",
    datasets: "4.3.0",
    deepspeed: "0.18.1",
    vllm: "0.25.0",
    "lm-eval": "0.4.9.1",
    mergekit: "0.1.3",
    pyyaml: "6.0.3",
  },
  /** transformers.TrainingArguments plus trl.SFTConfig's own fields. */
  sftConfig: [
    "output_dir",
    "overwrite_output_dir",
    "do_train",
    "do_eval",
    "eval_strategy",
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "max_grad_norm",
    "num_train_epochs",
    "max_steps",
    "lr_scheduler_type",
    "lr_scheduler_kwargs",
    "warmup_ratio",
    "warmup_steps",
    "logging_dir",
    "logging_strategy",
    "logging_steps",
    "save_strategy",
    "save_steps",
    "save_total_limit",
    "seed",
    "data_seed",
    "bf16",
    "fp16",
    "tf32",
    "gradient_checkpointing",
    "gradient_checkpointing_kwargs",
    "report_to",
    "run_name",
    "optim",
    "dataloader_num_workers",
    "remove_unused_columns",
    "ddp_find_unused_parameters",
    "fsdp",
    "deepspeed",
    "push_to_hub",
    // SFTConfig
    "model_init_kwargs",
    "chat_template_path",
    "dataset_text_field",
    "dataset_kwargs",
    "dataset_num_proc",
    "eos_token",
    "pad_token",
    "max_length",
    "packing",
    "packing_strategy",
    "padding_free",
    "pad_to_multiple_of",
    "eval_packing",
    "completion_only_loss",
    "assistant_only_loss",
    "loss_type",
    "activation_offloading",
  ],
  lrSchedulers: [
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "reduce_lr_on_plateau",
    "cosine_with_min_lr",
    "warmup_stable_decay",
  ],
  saveStrategies: ["no", "steps", "epoch", "best"],
  loraConfig: [
    "r",
    "target_modules",
    "exclude_modules",
    "lora_alpha",
    "lora_dropout",
    "fan_in_fan_out",
    "bias",
    "use_rslora",
    "modules_to_save",
    "init_lora_weights",
    "layers_to_transform",
    "layers_pattern",
    "rank_pattern",
    "alpha_pattern",
    "megatron_config",
    "megatron_core",
    "trainable_token_indices",
    "loftq_config",
    "eva_config",
    "corda_config",
    "use_dora",
    "use_qalora",
    "qalora_group_size",
    "layer_replication",
    "runtime_config",
    "lora_bias",
    "target_parameters",
    "task_type",
    "inference_mode",
    "base_model_name_or_path",
    "revision",
  ],
  loraBias: ["none", "all", "lora_only"],
  llamaProjections: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  accelerateConfig: [
    "compute_environment",
    "debug",
    "distributed_type",
    "downcast_bf16",
    "enable_cpu_affinity",
    "fsdp_config",
    "deepspeed_config",
    "machine_rank",
    "main_process_ip",
    "main_process_port",
    "main_training_function",
    "mixed_precision",
    "num_machines",
    "num_processes",
    "rdzv_backend",
    "same_network",
    "tpu_env",
    "tpu_use_cluster",
    "tpu_use_sudo",
    "use_cpu",
    "gpu_ids",
    "dynamo_config",
    "megatron_lm_config",
    "ipex_config",
    "mpirun_config",
    "parallelism_config",
  ],
  fsdpConfig: [
    "fsdp_version",
    "fsdp_auto_wrap_policy",
    "fsdp_backward_prefetch",
    "fsdp_cpu_ram_efficient_loading",
    "fsdp_forward_prefetch",
    "fsdp_offload_params",
    "fsdp_sharding_strategy",
    "fsdp_reshard_after_forward",
    "fsdp_state_dict_type",
    "fsdp_sync_module_states",
    "fsdp_transformer_layer_cls_to_wrap",
    "fsdp_use_orig_params",
    "fsdp_min_num_params",
    "fsdp_activation_checkpointing",
  ],
  deepspeedConfig: [
    "deepspeed_config_file",
    "deepspeed_hostfile",
    "deepspeed_multinode_launcher",
    "gradient_accumulation_steps",
    "gradient_clipping",
    "offload_optimizer_device",
    "offload_param_device",
    "offload_optimizer_nvme_path",
    "offload_param_nvme_path",
    "zero3_init_flag",
    "zero3_save_16bit_model",
    "zero_stage",
    "deepspeed_moe_layer_cls_names",
  ],
  accelerateLaunch: [
    "--config_file",
    "--num_processes",
    "--num_machines",
    "--machine_rank",
    "--main_process_ip",
    "--main_process_port",
    "--mixed_precision",
    "--multi_gpu",
    "--use_fsdp",
    "--use_deepspeed",
    "--rdzv_backend",
    "--same_network",
    "--gpu_ids",
    "--num_cpu_threads_per_process",
    "--deepspeed_config_file",
    "--module",
    "--no_python",
    "--debug",
  ],
  /** vllm.LLM keyword arguments (EngineArgs). */
  vllmLlm: [
    "model",
    "tokenizer",
    "tokenizer_mode",
    "trust_remote_code",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "data_parallel_size",
    "dtype",
    "quantization",
    "revision",
    "seed",
    "max_model_len",
    "gpu_memory_utilization",
    "swap_space",
    "kv_cache_dtype",
    "max_num_seqs",
    "max_num_batched_tokens",
    "enforce_eager",
    "enable_prefix_caching",
    "distributed_executor_backend",
    "speculative_config",
    "disable_log_stats",
  ],
  samplingParams: [
    "n",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "seed",
    "stop",
    "stop_token_ids",
    "ignore_eos",
    "max_tokens",
    "min_tokens",
    "logprobs",
    "prompt_logprobs",
    "detokenize",
    "skip_special_tokens",
    "spaces_between_special_tokens",
    "include_stop_str_in_output",
    "logits_processors",
    "truncate_prompt_tokens",
    "output_kind",
    "structured_outputs",
    "bad_words",
    "allowed_token_ids",
    "extra_args",
  ],
  speculativeConfig: [
    "num_speculative_tokens",
    "model",
    "method",
    "draft_tensor_parallel_size",
    "quantization",
    "max_model_len",
    "revision",
    "code_revision",
    "disable_by_batch_size",
    "disable_padded_drafter_batch",
    "prompt_lookup_max",
    "prompt_lookup_min",
    "speculative_token_tree",
  ],
  speculativeMethods: [
    "ngram",
    "eagle",
    "eagle3",
    "medusa",
    "mlp_speculator",
    "draft_model",
    "deepseek_mtp",
    "ernie_mtp",
    "qwen3_next_mtp",
    "suffix",
  ],
  tokensPrompt: ["prompt_token_ids", "token_type_ids", "multi_modal_data", "mm_processor_kwargs", "cache_salt"],
  lmEvalCli: [
    "--model",
    "--model_args",
    "--tasks",
    "--num_fewshot",
    "--batch_size",
    "--max_batch_size",
    "--device",
    "--output_path",
    "--limit",
    "--samples",
    "--use_cache",
    "--cache_requests",
    "--check_integrity",
    "--write_out",
    "--log_samples",
    "--system_instruction",
    "--apply_chat_template",
    "--fewshot_as_multiturn",
    "--show_config",
    "--include_path",
    "--gen_kwargs",
    "--verbosity",
    "--wandb_args",
    "--hf_hub_log_args",
    "--predict_only",
    "--seed",
    "--trust_remote_code",
    "--confirm_run_unsafe_code",
    "--metadata",
  ],
  lmEvalModels: ["hf", "vllm", "sglang", "local-completions"],
  lmEvalVllmArgs: [
    "pretrained",
    "dtype",
    "revision",
    "trust_remote_code",
    "tokenizer",
    "tokenizer_mode",
    "tokenizer_revision",
    "tensor_parallel_size",
    "data_parallel_size",
    "quantization",
    "max_gen_toks",
    "swap_space",
    "batch_size",
    "max_batch_size",
    "max_length",
    "max_model_len",
    "seed",
    "gpu_memory_utilization",
    "device",
    "lora_local_path",
    "add_bos_token",
    "prefix_token_id",
    "enable_thinking",
  ],
  lmEvalTasks: ["arc_challenge", "hellaswag", "mmlu", "truthfulqa_mc2", "winogrande", "gsm8k"],
  mergekitCli: [
    "--copy-tokenizer",
    "--no-copy-tokenizer",
    "--cuda",
    "--lazy-unpickle",
    "--allow-crimes",
    "--out-shard-size",
    "--low-cpu-memory",
    "--trust-remote-code",
    "--write-model-card",
    "--safe-serialization",
    "--clone-tensors",
    "--random-seed",
    "--lora-merge-cache",
    "--device",
    "--multi-stream",
    "--read-to-gpu",
    "--verbose",
  ],
  mergekitYaml: [
    "slices",
    "models",
    "merge_method",
    "base_model",
    "parameters",
    "dtype",
    "out_dtype",
    "tokenizer_source",
    "tokenizer",
    "chat_template",
  ],
  mergekitSource: ["model", "layer_range", "parameters"],
  mergekitMethods: [
    "passthrough",
    "linear",
    "slerp",
    "nuslerp",
    "task_arithmetic",
    "ties",
    "dare_ties",
    "dare_linear",
    "breadcrumbs",
    "della",
    "model_stock",
    "karcher",
  ],
  sbatch: [
    "--job-name",
    "--nodes",
    "--ntasks-per-node",
    "--gpus-per-node",
    "--cpus-per-task",
    "--time",
    "--output",
    "--partition",
    "--account",
    "--mem",
  ],
  /** Keyword arguments of the library calls the scripts make. */
  calls: {
    SFTTrainer: [
      "model",
      "args",
      "data_collator",
      "train_dataset",
      "eval_dataset",
      "processing_class",
      "compute_loss_func",
      "compute_metrics",
      "callbacks",
      "optimizers",
      "optimizer_cls_and_kwargs",
      "preprocess_logits_for_metrics",
      "peft_config",
      "formatting_func",
    ],
    TokensPrompt: ["prompt_token_ids", "token_type_ids", "multi_modal_data", "mm_processor_kwargs", "cache_salt"],
    apply_chat_template: [
      "conversation",
      "tools",
      "documents",
      "chat_template",
      "add_generation_prompt",
      "continue_final_message",
      "tokenize",
      "padding",
      "truncation",
      "max_length",
      "return_tensors",
      "return_dict",
      "return_assistant_tokens_mask",
      "tokenizer_kwargs",
    ],
    from_pretrained: ["torch_dtype", "dtype", "device_map", "revision", "trust_remote_code", "attn_implementation"],
    encode: ["add_special_tokens", "padding", "truncation", "max_length", "return_tensors"],
    model: [
      "input_ids",
      "attention_mask",
      "position_ids",
      "past_key_values",
      "inputs_embeds",
      "labels",
      "use_cache",
      "output_attentions",
      "output_hidden_states",
      "return_dict",
    ],
    LLM: ["model", "speculative_config"],
  } as Record<string, string[]>,
};

/** Keyword names at the top level of each `name(...)` call in Python source. */
function callKeywords(source: string, name: string): string[] {
  const found: string[] = [];
  const call = new RegExp(`(?<![\\w])${name}\\(`, "g");
  for (const match of source.matchAll(call)) {
    let depth = 0;
    let args = "";
    for (let i = (match.index ?? 0) + match[0].length - 1; i < source.length; i++) {
      const c = source[i];
      if ("([{".includes(c)) depth++;
      if (")]}".includes(c)) depth--;
      if (depth === 0) break;
      if (depth === 1 || c === "(") args += depth === 1 ? c : "";
    }
    for (const kw of args.matchAll(/(?:^|[,(\s])(\w+)=(?!=)/g)) found.push(kw[1]);
  }
  return found;
}

/** `--flags` argparse declares in a script. */
const scriptFlags = (source: string) => [...source.matchAll(/add_argument\("(--[\w-]+)"/g)].map((m) => m[1]);

interface Check {
  where: string;
  name: string;
  allowed: readonly string[];
}

function recipeChecks(files: readonly RecipeFile[]): Check[] {
  const text = Object.fromEntries(files.map((f) => [f.path, f.text]));
  const checks: Check[] = [];
  const all = (where: string, names: Iterable<string>, allowed: readonly string[]) => {
    for (const name of names) checks.push({ where, name, allowed });
  };
  for (const run of ["sft", "sdd"]) {
    const config = parse(text[`train/${run}.yaml`]);
    all(`train/${run}.yaml sft`, Object.keys(config.sft), documented.sftConfig);
    all(`train/${run}.yaml lr_scheduler_type`, [config.sft.lr_scheduler_type], documented.lrSchedulers);
    all(`train/${run}.yaml save_strategy`, [config.sft.save_strategy], documented.saveStrategies);
    all(`train/${run}.yaml lora`, Object.keys(config.lora), documented.loraConfig);
    all(`train/${run}.yaml lora.bias`, [config.lora.bias], documented.loraBias);
    all(`train/${run}.yaml lora.target_modules`, config.lora.target_modules, documented.llamaProjections);
  }
  for (const path of ["accelerate/fsdp.yaml", "accelerate/deepspeed_zero3.yaml"]) {
    const config = parse(text[path]);
    all(path, Object.keys(config), documented.accelerateConfig);
    all(`${path} fsdp_config`, Object.keys(config.fsdp_config ?? {}), documented.fsdpConfig);
    all(`${path} deepspeed_config`, Object.keys(config.deepspeed_config ?? {}), documented.deepspeedConfig);
  }
  const recipe = JSON.parse(text["recipe.json"]);
  all("recipe.json distill.llm", Object.keys(recipe.distill.llm), documented.vllmLlm);
  all("recipe.json speculate.llm", Object.keys(recipe.speculate.llm), documented.vllmLlm);
  all("recipe.json distill.sampling", [...Object.keys(recipe.distill.sampling), "stop"], documented.samplingParams);
  all("recipe.json speculate.sampling", Object.keys(recipe.speculate.sampling), documented.samplingParams);
  all("recipe.json speculative_config", [...Object.keys(recipe.speculate.speculative_config), "model"], documented.speculativeConfig);
  all("recipe.json speculative_config.method", [recipe.speculate.speculative_config.method], documented.speculativeMethods);
  all(
    "recipe.json evaluate.tasks",
    recipe.evaluate.tasks.map((t: { task: string }) => t.task),
    documented.lmEvalTasks,
  );
  for (const path of ["prune/slice.yaml", "merge/slerp.yaml"]) {
    const config = parse(text[path]);
    all(path, Object.keys(config), documented.mergekitYaml);
    all(`${path} merge_method`, [config.merge_method], documented.mergekitMethods);
    for (const s of config.slices) for (const source of s.sources) all(`${path} sources`, Object.keys(source), documented.mergekitSource);
  }
  for (const [path, source] of Object.entries(text).filter(([p]) => p.endsWith(".py"))) {
    for (const [call, allowed] of Object.entries(documented.calls)) all(`${path} ${call}()`, callKeywords(source, call), allowed);
  }
  // Command lines in the README and scripts: each tool's flags, and a script's flags against its argparse.
  const commands = Object.entries(text)
    .filter(([p]) => p.endsWith(".md") || p.endsWith(".sh") || p.endsWith(".sbatch"))
    .flatMap(([path, t]) =>
      t
        .replace(/\\\n\s*/g, " ")
        .split("\n")
        .map((line) => ({ path, line: line.trim() })),
    );
  for (const { path, line } of commands) {
    const words = line.split(/\s+/);
    const script = words.findIndex((w) => w.endsWith(".py"));
    const flags = (from: number, to = words.length) => words.slice(from, to).filter((w) => /^--[\w-]+$/.test(w));
    if (line.startsWith("#SBATCH")) all(`${path} #SBATCH`, [words[1].split("=")[0]], documented.sbatch);
    if (line.startsWith("mergekit-yaml")) all(`${path} mergekit-yaml`, flags(1), documented.mergekitCli);
    if (line.startsWith("lm_eval")) {
      all(`${path} lm_eval`, flags(1), documented.lmEvalCli);
      all(`${path} lm_eval --model`, [words[words.indexOf("--model") + 1]], documented.lmEvalModels);
      const modelArgs = words[words.indexOf("--model_args") + 1].replace(/"/g, "");
      all(
        `${path} lm_eval --model_args`,
        modelArgs.split(",").map((kv) => kv.split("=")[0]),
        documented.lmEvalVllmArgs,
      );
      all(`${path} lm_eval --tasks`, [words[words.indexOf("--tasks") + 1]], documented.lmEvalTasks);
    }
    if (/^(srun bash -c ')?accelerate launch/.test(line)) all(`${path} accelerate launch`, flags(2, script), documented.accelerateLaunch);
    if (script >= 0 && (line.startsWith("python ") || line.includes("accelerate launch"))) {
      const name = words[script];
      if (!(name in text)) throw new Error(`${path}: runs ${name}, which the recipe does not hold`);
      all(`${path} ${name}`, flags(script + 1), scriptFlags(text[name]));
    }
  }
  return checks;
}

describe("the recipe's option names", () => {
  it("are the pinned versions' (requirements.txt pins what the lists were written for)", () => {
    const pins = Object.fromEntries(
      demoRecipe()
        .find((f) => f.path === "requirements.txt")
        ?.text.split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split("==")) ?? [],
    );
    expect(pins).toEqual(documented.versions);
  });

  for (const [name, files] of [
    ["the demo model on one GPU", () => demoRecipe()],
    [
      "Llama-3.1-8B on 2 × 8 GPUs",
      () =>
        buildRecipe({
          ...demoRecipeInput(),
          model: "meta-llama/Llama-3.1-8B-Instruct",
          config: knownModelConfig("meta-llama/Llama-3.1-8B-Instruct") ?? demoRecipeInput().config,
          gpusPerNode: 8,
          nodes: 2,
        }),
    ],
  ] as const) {
    it(`are documented ones in the recipe for ${name}`, () => {
      const checks = recipeChecks(files());
      const unknown = checks.filter((c) => !c.allowed.includes(c.name)).map((c) => `${c.where}: ${c.name}`);
      expect(unknown).toEqual([]);
      // Every kind of file took part: configs, scripts' calls, each tool's command line.
      for (const where of [
        "train/sft.yaml sft",
        "accelerate/fsdp.yaml",
        "recipe.json distill.llm",
        "distill.py TokensPrompt()",
        "lm_eval --model_args",
        "mergekit-yaml",
        "accelerate launch",
        "#SBATCH",
        "analyze_layers.py",
      ]) {
        expect(
          checks.some((c) => c.where.includes(where)),
          where,
        ).toBe(true);
      }
      expect(checks.length).toBeGreaterThan(150);
    });
  }

  it("catches an option that does not exist", () => {
    const files = demoRecipe().map((f) =>
      f.path === "train/sft.yaml" ? { ...f, text: f.text.replace("max_length:", "max_seq_length:") } : f,
    );
    expect(
      recipeChecks(files)
        .filter((c) => !c.allowed.includes(c.name))
        .map((c) => c.name),
    ).toEqual(["max_seq_length"]);
  });
});
