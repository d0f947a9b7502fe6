"""Angular distance of every run of n consecutive blocks, as Prunelab's Analyze step computes it.

    d(l, n) = mean over the selected tokens of arccos(cos(h_l, h_{l+n})) / pi

h_l is the input of block l (h_0 the embedding output) and h_L the last block's output *before*
the final norm (transformers' last hidden state has the norm applied, so h_L is taken from the
norm's input). The selected tokens are each sample's last one ("last", as PruneMe) or all of them
("all"); the mean is over per-token distances, not the distance of a mean cosine. Samples are
tokenized as Prunelab's encodeCalibration does: the chat template, or the text with BOS.

Runs data-parallel under `accelerate launch` (each process takes a share of the samples; the
sums are gathered on the main process). Writes layer_distances.csv in PruneMe's columns
(block_start = l, block_end = l + n, the blocks dropped being block_start ... block_end - 1),
and with --block-size N prints the best start for N blocks and writes prune/slice.yaml for it.
To compare with the workbench's layer_distances.csv on a small model, run it with --dtype float32.
"""

import argparse
import json
import math

import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from transformers import AutoModelForCausalLM, AutoTokenizer


def read_calibration(path):
    """Records as src/prune/calibration.ts reads JSONL: {"text"} or {"instruction", "input", "output"}."""
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip() == "":
                continue
            value = json.loads(line)
            if "text" in value:
                records.append({"prompt": value["text"]})
            elif "instruction" in value:
                prompt = value["instruction"]
                if value.get("input"):
                    prompt = prompt + "\n\n" + value["input"]
                record = {"prompt": prompt}
                if value.get("output"):
                    record["response"] = value["output"]
                records.append(record)
            else:
                raise ValueError('%s:%d has neither "text" nor "instruction"' % (path, number))
    return records


def encode(tokenizer, record, chat_template):
    if chat_template:
        messages = [{"role": "user", "content": record["prompt"]}]
        if "response" in record:
            messages.append({"role": "assistant", "content": record["response"]})
        return tokenizer.apply_chat_template(messages, tokenize=True)
    text = record["prompt"] if "response" not in record else record["prompt"] + "\n\n" + record["response"]
    ids = tokenizer.encode(text, add_special_tokens=False)
    return ([tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []) + ids


def pair_sums(model, batch, tokens, layers):
    """Summed per-token angular distances and token counts for every (l, n) over one batch."""
    length = max(len(s) for s in batch)
    # Right padding: causal attention keeps real tokens from seeing the padding after them.
    ids = torch.tensor([s + [0] * (length - len(s)) for s in batch], device=model.device)
    mask = torch.tensor([[1] * len(s) + [0] * (length - len(s)) for s in batch], device=model.device)
    captured = {}
    hook = model.model.norm.register_forward_pre_hook(lambda _m, args: captured.__setitem__("h_L", args[0]))
    try:
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False)
    finally:
        hook.remove()
    states = list(out.hidden_states[:layers]) + [captured["h_L"]]
    if tokens == "last":
        rows = mask.sum(dim=1) - 1
        pick = lambda h: h[torch.arange(len(batch), device=h.device), rows]  # noqa: E731
    else:
        pick = lambda h: h[mask.bool()]  # noqa: E731
    picked = [pick(h).float() for h in states]
    sums = {}
    for n in range(1, layers + 1):
        for l in range(0, layers - n + 1):
            a, b = picked[l], picked[l + n]
            norms = a.norm(dim=-1) * b.norm(dim=-1)
            # A zero row has cosine 0, as Prunelab's kernel defines it.
            cos = torch.where(norms > 0, (a * b).sum(dim=-1) / norms.clamp_min(1e-30), torch.zeros_like(norms))
            distance = torch.arccos(cos.clamp(-1.0, 1.0)) / math.pi
            sums[(l, n)] = float(distance.double().sum())
    return sums, int(picked[0].shape[0])


def slice_yaml(model, layers, start, count):
    ranges = [r for r in ([0, start], [start + count, layers]) if r[1] > r[0]]
    lines = ["slices:"]
    for first, end in ranges:
        lines += ["  - sources:", "      - model: %s" % json.dumps(model), "        layer_range: [%d, %d]" % (first, end)]
    return "\n".join(lines + ["merge_method: passthrough", "dtype: bfloat16", ""])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="recipe.json")
    parser.add_argument("--out", default="layer_distances.csv")
    parser.add_argument("--block-size", type=int, default=0)
    # Prunelab measures in f32; bf16 hidden states move the distances in their third digit.
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        recipe = json.load(f)
    calibration = recipe["calibration"]
    state = PartialState()
    tokenizer = AutoTokenizer.from_pretrained(recipe["model"]["base"])
    model = AutoModelForCausalLM.from_pretrained(recipe["model"]["base"], torch_dtype=getattr(torch, args.dtype))
    model.to(state.device).eval()
    layers = model.config.num_hidden_layers
    seq_len = min(calibration["maxTokens"], model.config.max_position_embeddings)
    samples = []
    for record in read_calibration(calibration["file"]):
        if len(samples) >= calibration["samples"]:
            break
        ids = encode(tokenizer, record, calibration["chatTemplate"])
        if ids:
            samples.append(ids[:seq_len])
    totals, count = {}, 0
    with state.split_between_processes(samples) as mine:
        for start in range(0, len(mine), calibration["batchSize"]):
            sums, rows = pair_sums(model, mine[start : start + calibration["batchSize"]], calibration["tokens"], layers)
            count += rows
            for key, value in sums.items():
                totals[key] = totals.get(key, 0.0) + value
    gathered = gather_object([(totals, count)])
    if not state.is_main_process:
        return
    rows = sum(c for _, c in gathered)
    distance = {key: sum(t.get(key, 0.0) for t, _ in gathered) / rows for key in gathered[0][0]}
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("block_start,block_end,average_distance\n")
        for n in range(1, layers + 1):
            for l in range(0, layers - n + 1):
                f.write("%d,%d,%r\n" % (l, l + n, distance[(l, n)]))
    print("wrote %s (%d samples, %d tokens)" % (args.out, len(samples), rows))
    if args.block_size:
        n = args.block_size
        best = min(range(0, layers - n + 1), key=lambda l: (distance[(l, n)], l))
        print("best %d-block run: blocks %d-%d (d = %.4f)" % (n, best, best + n - 1, distance[(best, n)]))
        with open("prune/slice.yaml", "w", encoding="utf-8") as f:
            f.write(slice_yaml(recipe["model"]["base"], layers, best, n))
        print("wrote prune/slice.yaml")


if __name__ == "__main__":
    main()
