#!/usr/bin/env bash
# lm-evaluation-harness (vLLM backend) on the OpenLLM Leaderboard v1 tasks with the paper's shot counts, one model.
#   eval/run_lm_eval.sh MODEL_PATH RESULTS_DIR
set -euo pipefail
model=${1:?usage: eval/run_lm_eval.sh MODEL_PATH RESULTS_DIR}
out=${2:?usage: eval/run_lm_eval.sh MODEL_PATH RESULTS_DIR}
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks arc_challenge --num_fewshot 25 --batch_size auto --seed 1234 --output_path "$out/arc_challenge"
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks hellaswag --num_fewshot 10 --batch_size auto --seed 1234 --output_path "$out/hellaswag"
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks mmlu --num_fewshot 5 --batch_size auto --seed 1234 --output_path "$out/mmlu"
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks truthfulqa_mc2 --num_fewshot 0 --batch_size auto --seed 1234 --output_path "$out/truthfulqa_mc2"
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks winogrande --num_fewshot 5 --batch_size auto --seed 1234 --output_path "$out/winogrande"
lm_eval --model vllm --model_args "pretrained=$model,tensor_parallel_size=1,dtype=bfloat16,gpu_memory_utilization=0.8" --tasks gsm8k --num_fewshot 5 --batch_size auto --seed 1234 --output_path "$out/gsm8k"
