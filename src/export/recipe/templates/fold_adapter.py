"""Folds a PEFT LoRA adapter into its base model and saves a plain transformers folder, for
lm-evaluation-harness, vLLM and mergekit (as Prunelab folds an adapter before evaluating it)."""

import argparse

from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--adapter", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    model = AutoModelForCausalLM.from_pretrained(args.base, torch_dtype="bfloat16")
    folded = PeftModel.from_pretrained(model, args.adapter).merge_and_unload()
    folded.save_pretrained(args.out)
    AutoTokenizer.from_pretrained(args.base).save_pretrained(args.out)
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
