"""LoRA fine-tuning of the pruned model with TRL's SFTTrainer, as Prunelab's Train step does it.

One record becomes the user's turn (instruction, a blank line and the input when there is one)
and the assistant's answer, rendered by the model's chat template; without a chat template, the
plain layout "### Instruction:\\n...\\n\\n### Response:\\n" then the answer and EOS. Only the
answer counts in the loss (prompt-completion data with completion_only_loss). Every setting is
in the YAML file: `lora` are PEFT LoraConfig's arguments, `sft` SFTConfig's. Launch with
`accelerate launch --config_file accelerate/fsdp.yaml train.py --config train/sft.yaml`.
"""

import argparse
import json

import yaml
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer


def instruction_message(instruction, input_text):
    return instruction + "\n\n" + input_text if input_text else instruction


def training_rows(path, tokenizer):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() == "":
                continue
            record = json.loads(line)
            message = instruction_message(record["instruction"], record.get("input", ""))
            if tokenizer.chat_template is not None:
                rows.append(
                    {
                        "prompt": [{"role": "user", "content": message}],
                        "completion": [{"role": "assistant", "content": record["output"]}],
                    }
                )
            else:
                rows.append(
                    {
                        "prompt": "### Instruction:\n%s\n\n### Response:\n" % message,
                        "completion": record["output"] + (tokenizer.eos_token or ""),
                    }
                )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    tokenizer = AutoTokenizer.from_pretrained(config["model"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = Dataset.from_list(training_rows(config["data"], tokenizer))
    # The arguments come first: under FSDP's RAM-efficient loading and ZeRO-3's init they decide how
    # from_pretrained places the weights.
    args = SFTConfig(**config["sft"])
    model = AutoModelForCausalLM.from_pretrained(config["model"], torch_dtype="bfloat16")
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=LoraConfig(**config["lora"]),
    )
    trainer.train()
    if trainer.is_fsdp_enabled:
        # A sharded state dict would be written as FSDP shards; PEFT's adapter files need the full one.
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(args.output_dir)


if __name__ == "__main__":
    main()
