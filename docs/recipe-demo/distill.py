"""Self-data distillation with vLLM: the unpruned model rewrites every response of the dataset.

The prompt, the sampling settings, the consistency filter and the fallback to the original
response are Prunelab's (sdft.py, settings from recipe.json). Prompts are token ids, built as
Prunelab builds them: through the chat template without a second BOS, or as plain text with the
tokenizer's BOS; plain prompts stop at the template's stop strings. The model is split over the
GPUs of one node by tensor parallelism (recipe.json: distill.llm.tensor_parallel_size).

Writes the self-distilled dataset (Alpaca JSONL: instruction, input, output) and, next to it,
every example with its rewrite and the filter's verdict (.details.jsonl).
"""

import argparse
import json
import time

from sdft import distilled_example, render_prompt
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams
from vllm.inputs import TokensPrompt


def read_alpaca(path, count):
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip() == "":
                continue
            value = json.loads(line)
            for field in ("instruction", "output"):
                if not isinstance(value.get(field), str):
                    raise ValueError('%s:%d: "%s" must be a string' % (path, number, field))
            records.append({"instruction": value["instruction"], "input": value.get("input", ""), "output": value["output"]})
    return records[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="recipe.json")
    parser.add_argument("--out", default="data/self-distilled.jsonl")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        recipe = json.load(f)
    distill = recipe["distill"]
    template, rules = distill["template"], distill["rules"]
    base = recipe["model"]["base"]
    records = read_alpaca(distill["data"], distill["count"])
    tokenizer = AutoTokenizer.from_pretrained(base)
    sampling = dict(distill["sampling"])
    if tokenizer.chat_template is not None:

        def chat(messages):
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

        # The chat template writes its own BOS.
        prompts = [tokenizer.encode(render_prompt(template, r, chat), add_special_tokens=False) for r in records]
    else:
        bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
        prompts = [bos + tokenizer.encode(render_prompt(template, r), add_special_tokens=False) for r in records]
        sampling["stop"] = template["plainStopStrings"]
    llm = LLM(model=base, **distill["llm"])
    started = time.time()
    outputs = llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], SamplingParams(**sampling))
    examples = [distilled_example(i, r, o.outputs[0].text, template, rules) for i, (r, o) in enumerate(zip(records, outputs))]
    kept = sum(1 for e in examples if e["kept"])
    with open(args.out, "w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps({"instruction": e["instruction"], "input": e["input"], "output": e["output"]}, ensure_ascii=False) + "\n")
    with open(args.out.replace(".jsonl", ".details.jsonl"), "w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(
        "%d examples: %d rewrites kept, %d replaced by the original response (%.0f s)"
        % (len(examples), kept, len(examples) - kept, time.time() - started)
    )


if __name__ == "__main__":
    main()
