"""
The native reference of `npm run bench`: the same Llama steps in PyTorch on the CPU (OpenBLAS, all
cores), timed in the same run as ours. Reads one JSON job from stdin, prints one JSON result.

  {"task": "train", "shape": {...}, "batch": 8, "seq": 128, "mode": "lora"|"full",
   "modules": ["q", "v"], "rank": 8, "steps": 2}              -> {"tokens_per_s": ...}
  {"task": "decode", "shape": {...}, "prompt": 64, "tokens": 16} -> {"tokens_per_s": ...}

Weights are random (speed does not depend on the values); f32 throughout, since PyTorch's CPU f16
matmul is an emulation no user would run. Needs Debian's python3-torch (run with /usr/bin/python3).
"""

import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(0)
job = json.load(sys.stdin)
s = job["shape"]
d, ff, layers = s["hiddenSize"], s["intermediateSize"], s["numHiddenLayers"]
hq, hkv, vocab = s["numAttentionHeads"], s["numKeyValueHeads"], s["vocabSize"]
hd = d // hq
theta = s.get("ropeTheta", 10000.0)
eps = 1e-5


def linear(out_f, in_f):
    return (torch.rand(out_f, in_f) * 2 - 1) * math.sqrt(3 / in_f)


shapes = {"q": (hq * hd, d), "k": (hkv * hd, d), "v": (hkv * hd, d), "o": (d, hq * hd), "gate": (ff, d), "up": (ff, d), "down": (d, ff)}
blocks = [{m: linear(*shapes[m]) for m in shapes} | {"n1": torch.ones(d), "n2": torch.ones(d)} for _ in range(layers)]
embed = torch.rand(vocab, d) * 2 - 1
norm = torch.ones(d)
inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, pos):
    ang = pos[:, None].float() * inv_freq[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * cos[:, None, :] + torch.cat([-x2, x1], -1) * sin[:, None, :]


def forward(ids, pos, proj, cache=None):
    """ids [b, t]; pos [t]; proj(l, m, x) applies a projection; cache: per-layer (k, v) lists or None."""
    b, t = ids.shape
    x = embed[ids]
    for l, blk in enumerate(blocks):
        h = rms(x, blk["n1"])
        q = rotate(proj(l, "q", h).view(b, t, hq, hd), pos).transpose(1, 2)
        k = rotate(proj(l, "k", h).view(b, t, hkv, hd), pos).transpose(1, 2)
        v = proj(l, "v", h).view(b, t, hkv, hd).transpose(1, 2)
        if cache is not None:
            if cache[l]:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            cache[l] = (k, v)
        k = k.repeat_interleave(hq // hkv, 1)
        v = v.repeat_interleave(hq // hkv, 1)
        # Written out: Debian's torch 1.13 predates scaled_dot_product_attention.
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if t > 1:
            scores = scores.masked_fill(torch.arange(k.shape[2])[None, :] > pos[:, None], float("-inf"))
        a = scores.softmax(-1) @ v
        x = x + proj(l, "o", a.transpose(1, 2).reshape(b, t, hq * hd))
        h2 = rms(x, blk["n2"])
        x = x + proj(l, "down", F.silu(proj(l, "gate", h2)) * proj(l, "up", h2))
    return rms(x, norm) @ embed.T


def train():
    b, t, steps = job["batch"], job["seq"], job["steps"]
    ids = torch.randint(0, vocab, (b, t + 1))
    pos = torch.arange(t)
    if job["mode"] == "full":
        params = [w.requires_grad_() for blk in blocks for w in blk.values()] + [embed.requires_grad_(), norm.requires_grad_()]

        def proj(l, m, x):
            return x @ blocks[l][m].T

    else:
        r = job["rank"]
        adapters = {(l, m): ((torch.randn(r, shapes[m][1]) * 0.01).requires_grad_(), torch.zeros(shapes[m][0], r, requires_grad=True)) for l in range(layers) for m in job["modules"]}
        params = [p for ab in adapters.values() for p in ab]

        def proj(l, m, x):
            y = x @ blocks[l][m].T
            ab = adapters.get((l, m))
            return y if ab is None else y + (x @ ab[0].T) @ ab[1].T * 2.0

    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    times = []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        logits = forward(ids[:, :-1], pos, proj)
        loss = F.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    return {"tokens_per_s": b * t / min(times[1:])}


@torch.no_grad()
def decode():
    prompt, n = job["prompt"], job["tokens"]
    ids = torch.randint(0, vocab, (1, prompt + n))

    def proj(l, m, x):
        return x @ blocks[l][m].T

    best = 0.0
    for _ in range(2):  # the first pass warms the allocator and thread pool
        cache = [None] * layers
        forward(ids[:, :prompt], torch.arange(prompt), proj, cache)
        t0 = time.perf_counter()
        for i in range(n):
            logits = forward(ids[:, prompt + i : prompt + i + 1], torch.tensor([prompt + i]), proj, cache)
            logits[0, -1].argmax().item()
        best = max(best, n / (time.perf_counter() - t0))
    return {"tokens_per_s": best}


print(json.dumps(train() if job["task"] == "train" else decode()))
