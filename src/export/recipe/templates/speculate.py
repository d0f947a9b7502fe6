"""Speculative decoding with vLLM, the pruned model drafting for the original, reporting the
acceptance statistics in the JSON shape of `prunelab speculate --json`:

    {"text", "acceptanceRate", "meanAcceptedLength", "targetForwards", "draftTokens",
     "acceptedTokens", "seconds"}

acceptanceRate = accepted draft tokens / draft tokens; meanAcceptedLength = tokens per target
forward (kept drafts + the target's own token) = (accepted + rounds) / rounds; targetForwards = rounds
of verification. The counts are vLLM's speculative-decoding counters, read after the run. The
prompt is encoded as `prunelab speculate` encodes it: the raw text with the tokenizer's BOS.
"""

import argparse
import json
import time

from transformers import AutoTokenizer
from vllm import LLM, SamplingParams
from vllm.inputs import TokensPrompt


def counter(metrics, name):
    """The value of vLLM's counter `name` (its Prometheus name may end in _total)."""
    for metric in metrics:
        if metric.name in (name, name + "_total"):
            return metric.value
    raise KeyError("vLLM reported no %s metric; is speculative decoding on and disable_log_stats false?" % name)


def speculation_report(text, rounds, drafted, accepted, seconds):
    """The statistics as src/spec/speculative-decoding.ts defines them, in its JSON's key order."""
    return {
        "text": text,
        "acceptanceRate": accepted / drafted if drafted > 0 else 0,
        "meanAcceptedLength": (accepted + rounds) / rounds if rounds > 0 else 0,
        "targetForwards": rounds,
        "draftTokens": drafted,
        "acceptedTokens": accepted,
        "seconds": seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="recipe.json")
    parser.add_argument("--target", required=True)
    parser.add_argument("--draft", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        speculate = json.load(f)["speculate"]
    tokenizer = AutoTokenizer.from_pretrained(args.target)
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    prompt = bos + tokenizer.encode(args.prompt, add_special_tokens=False)
    speculative_config = dict(speculate["speculative_config"], model=args.draft)
    llm = LLM(model=args.target, speculative_config=speculative_config, **speculate["llm"])
    started = time.time()
    output = llm.generate([TokensPrompt(prompt_token_ids=prompt)], SamplingParams(**speculate["sampling"]))[0]
    seconds = time.time() - started
    metrics = llm.get_metrics()
    rounds = counter(metrics, "vllm:spec_decode_num_drafts")
    drafted = counter(metrics, "vllm:spec_decode_num_draft_tokens")
    accepted = counter(metrics, "vllm:spec_decode_num_accepted_tokens")
    report = speculation_report(output.outputs[0].text, rounds, drafted, accepted, seconds)
    with open(args.json, "w", encoding="utf-8") as f:
        f.write(json.dumps(report, indent=2) + "\n")
    print(
        "acceptance rate %.3f (%d of %d drafts), %.2f tokens per target forward, %d target forwards, %.2f s"
        % (report["acceptanceRate"], accepted, drafted, report["meanAcceptedLength"], rounds, seconds)
    )


if __name__ == "__main__":
    main()
