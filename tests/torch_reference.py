#!/usr/bin/python3
"""PyTorch reference for grpo.h: forward, backward and 10 AdamW steps on identical weights.

An independent implementation of the model written from the math with torch autograd (it is
not a transliteration of grpo.h's loops). tests/test_torch.c reads the file this script writes
and checks grpo.h against it.

    /usr/bin/python3 tests/torch_reference.py --out tests/data/torch_reference.bin
    /usr/bin/python3 tests/torch_reference.py --check tests/data/torch_reference.bin --out FILE

Run it with Debian's /usr/bin/python3 (python3-torch 1.13). Everything is float32 (torch's
default) with torch.set_num_threads(1).

THE MODEL (Llama / Qwen2 style; weights stored (out, in) like nn.Linear: y = x W^T + b)
    x = embedding[tokens]
    per layer l:
        n = rmsnorm(x, attn_norm[l])              rmsnorm(x, w) = x / sqrt(mean(x^2) + eps) * w
        q = n wq^T + bq,  k = n wk^T + bk,  v = n wv^T + bv     split into H / KVH heads of size D
        q, k rotated by RoPE, "rotate_half" layout of Hugging Face: pairs (i, i + D/2),
            inv_freq_i = theta^(-2i/D), angle = position * inv_freq_i, positions 0..T-1 in
            every row; cos/sin computed in float64 and rounded to float32
        k, v repeated with repeat_interleave(H / KVH) so that query head h reads kv head h // (H/KVH)
        att = softmax(q k^T / sqrt(D) with a causal mask),  o = att v
        x = x + o wo^T
        n = rmsnorm(x, mlp_norm[l])
        x = x + (silu(n w_gate^T) * (n w_up^T)) w_down^T
    logits = rmsnorm(x, final_norm) lm_head^T                      (untied head)
    logprob[b,t] = log_softmax(logits / temperature)[targets[b,t]], entropy of that distribution;
    positions t >= lengths[b] are padding: logprob = entropy = 0 and no gradient.
    loss = LOSS_SCALE * sum_{valid} w[b,t] * (-logprob[b,t]) / (number of valid positions)

CONFIG  vocab 67, context 16, d_model 32, 2 layers, 4 heads, 2 kv heads (GQA), d_ff 48,
        rope_theta 500, norm_eps 1e-5, qkv_bias 1, untied_head 1.
DATA    numpy.random.RandomState(1234) (numpy, not torch, so the data does not depend on the
        torch version), drawn in this order: every parameter tensor in grpo.h's tensor-table
        order, each in one call in its stacked shape (C order): matrices normal(0, 0.15), biases
        normal(0, 0.1), norm weights 1 + normal(0, 0.1); then tokens randint(0, V, (B, T)),
        targets randint(0, V, (B, T)), loss weights uniform(0.5, 1.5, (B, T)).
        B = 3, T = 12, lengths [12, 7, 10], temperature 0.7 (padding positions hold valid tokens).
TRAINING  10 steps, each: forward, loss, backward, clip_grad_norm_(max_norm 1.0) (the norm before
        clipping is recorded), AdamW(lr 1e-2, betas (0.9, 0.999), eps 1e-8) with weight_decay 0.1
        on the matrices (token_embedding, wq, wk, wv, wo, w_gate, w_up, w_down, lm_head) and 0 on
        norms and biases. Update s (0-based) uses lr * (s+1)/3 for s < 3, else
        lr * 0.5 * (1 + cos(pi * (s-3) / (10-3))) (group['lr'] is set before each step).
        LOSS_SCALE (stored in the file) multiplies the loss everywhere (also the first loss and
        gradients), to make clipping active in some steps and inactive in others. It is 1.0:
        no scaling is needed, the gradient norm falls from 5.24 to 0.46 over the 10 steps, so
        clipping acts in updates 0-5 and not in 6-9. main() refuses to write a file where the
        norms do not straddle max_grad_norm.

FILE FORMAT (little-endian; every int is int32, every float float32, no padding)
    offset  field
         0  magic "GRPOTREF" (8 bytes)
         8  version (uint32) = 1
        12  config in grpo_config field order: vocab_size, context_length, d_model, n_layers,
            n_heads, n_kv_heads, d_ff (int32), rope_theta, norm_eps (float32), qkv_bias,
            untied_head (int32)                                            -- 44 bytes
        56  B, T (int32)
        64  lengths (B int32), tokens (B*T int32), targets (B*T int32)
         .  temperature (float32), loss weights w (B*T float32)
         .  loss_scale (float32), n_steps (int32) = 10
         .  initial parameters: 15 float32 tensors in grpo.h's tensor-table order
            token_embedding (V,C), attn_norm (L,C), wq (L,H*D,C), bq (L,H*D), wk (L,KVH*D,C),
            bk (L,KVH*D), wv (L,KVH*D,C), bv (L,KVH*D), wo (L,C,H*D), mlp_norm (L,C),
            w_gate (L,F,C), w_up (L,F,C), w_down (L,C,F), final_norm (C), lm_head (V,C)
            -- each C-contiguous, layers stacked first; sizes follow from the config
         .  logits (B*T, V) raw, before the temperature, every row (padding rows included)
         .  logprobs (B*T), entropy (B*T), loss (1)
         .  gradients of the loss: 15 tensors, same order and shapes as the parameters
         .  losses before each of the n_steps updates (n_steps), gradient norms before
            clipping (n_steps)
         .  parameters after n_steps updates: 15 tensors as above
       end  nothing follows: the size is exactly what the header implies

--check COMMITTED regenerates everything, writes --out, and compares with COMMITTED: the inputs
and initial weights must be bit-identical, each torch output array within relative error 1e-5
(infinity norm: max|a - b| / max|b|, as in tests/test.h). One line per array, then
"torch_regenerate: N passed, M failed"; exit code 1 on any failure (a missing or malformed
committed file is a failure).
"""
import argparse
import math
import struct
import sys

import numpy as np
import torch

MAGIC = b"GRPOTREF"
VERSION = 1
CONFIG = dict(vocab_size=67, context_length=16, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2,
              d_ff=48, rope_theta=500.0, norm_eps=1e-5, qkv_bias=1, untied_head=1)
CONFIG_INT_FIELDS_1 = ["vocab_size", "context_length", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff"]
CONFIG_FLOAT_FIELDS = ["rope_theta", "norm_eps"]
CONFIG_INT_FIELDS_2 = ["qkv_bias", "untied_head"]
B, T = 3, 12
LENGTHS = [12, 7, 10]
TEMPERATURE = 0.7
SEED = 1234
N_STEPS = 10
LR, BETAS, EPS, WEIGHT_DECAY = 1e-2, (0.9, 0.999), 1e-8, 0.1
WARMUP, TOTAL = 3, 10
MAX_GRAD_NORM = 1.0
LOSS_SCALE = 1.0
TOLERANCE = 1e-5

TENSOR_NAMES = ["token_embedding", "attn_norm", "wq", "bq", "wk", "bk", "wv", "bv", "wo",
                "mlp_norm", "w_gate", "w_up", "w_down", "final_norm", "lm_head"]
MATRICES = {"token_embedding", "wq", "wk", "wv", "wo", "w_gate", "w_up", "w_down", "lm_head"}
NORMS = {"attn_norm", "mlp_norm", "final_norm"}
BIASES = {"bq", "bk", "bv"}


def tensor_shapes(c):
    V, C, L, F = c["vocab_size"], c["d_model"], c["n_layers"], c["d_ff"]
    D = C // c["n_heads"]
    QD, KD = c["n_heads"] * D, c["n_kv_heads"] * D
    return {
        "token_embedding": (V, C), "attn_norm": (L, C), "wq": (L, QD, C), "bq": (L, QD),
        "wk": (L, KD, C), "bk": (L, KD), "wv": (L, KD, C), "bv": (L, KD), "wo": (L, C, QD),
        "mlp_norm": (L, C), "w_gate": (L, F, C), "w_up": (L, F, C), "w_down": (L, C, F),
        "final_norm": (C,), "lm_head": (V, C),
    }


def make_data():
    """Weights and inputs from numpy's RandomState, in the order the docstring states."""
    rng = np.random.RandomState(SEED)
    shapes = tensor_shapes(CONFIG)
    params = {}
    for name in TENSOR_NAMES:
        shape = shapes[name]
        if name in MATRICES:
            w = rng.normal(0.0, 0.15, size=shape)
        elif name in BIASES:
            w = rng.normal(0.0, 0.1, size=shape)
        else:
            w = 1.0 + rng.normal(0.0, 0.1, size=shape)
        params[name] = w.astype(np.float32)
    V = CONFIG["vocab_size"]
    tokens = rng.randint(0, V, size=(B, T)).astype(np.int32)
    targets = rng.randint(0, V, size=(B, T)).astype(np.int32)
    weights = rng.uniform(0.5, 1.5, size=(B, T)).astype(np.float32)
    return params, tokens, targets, weights


# ------------------------------------------------------------------------------------------
# The model, from the math.

def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(T_, D, theta):
    inv_freq = theta ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)      # (D/2)
    angle = torch.arange(T_, dtype=torch.float64)[:, None] * inv_freq[None, :]  # (T, D/2)
    angle = torch.cat((angle, angle), dim=-1)                                   # (T, D)
    return angle.cos().float(), angle.sin().float()  # rounded to float32 like grpo.h's tables


def forward(p, c, tokens, targets, lengths, temperature):
    """Returns logits (B, T, V), logprobs (B, T), entropy (B, T); padding positions are 0."""
    Bn, Tn = tokens.shape
    C, H, KVH, L = c["d_model"], c["n_heads"], c["n_kv_heads"], c["n_layers"]
    D = C // H
    eps = c["norm_eps"]
    cos, sin = rope_cos_sin(Tn, D, c["rope_theta"])        # (T, D), broadcast over (B, heads, T, D)
    cos, sin = cos.to(p["wq"].dtype), sin.to(p["wq"].dtype)
    causal = torch.ones(Tn, Tn, dtype=torch.bool).tril()

    x = p["token_embedding"][tokens]                          # (B, T, C)
    for l in range(L):
        n = rmsnorm(x, p["attn_norm"][l], eps)
        q = torch.nn.functional.linear(n, p["wq"][l], p["bq"][l])
        k = torch.nn.functional.linear(n, p["wk"][l], p["bk"][l])
        v = torch.nn.functional.linear(n, p["wv"][l], p["bv"][l])
        q = q.view(Bn, Tn, H, D).transpose(1, 2)              # (B, H, T, D)
        k = k.view(Bn, Tn, KVH, D).transpose(1, 2)            # (B, KVH, T, D)
        v = v.view(Bn, Tn, KVH, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KVH, dim=1)              # (B, H, T, D)
        v = v.repeat_interleave(H // KVH, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(D)
        scores = scores.masked_fill(~causal, float("-inf"))
        o = torch.softmax(scores, dim=-1) @ v                 # (B, H, T, D)
        o = o.transpose(1, 2).reshape(Bn, Tn, H * D)
        x = x + torch.nn.functional.linear(o, p["wo"][l])
        n = rmsnorm(x, p["mlp_norm"][l], eps)
        hidden = torch.nn.functional.silu(torch.nn.functional.linear(n, p["w_gate"][l])) * \
            torch.nn.functional.linear(n, p["w_up"][l])
        x = x + torch.nn.functional.linear(hidden, p["w_down"][l])
    logits = torch.nn.functional.linear(rmsnorm(x, p["final_norm"], eps), p["lm_head"])
    logp = torch.log_softmax(logits / temperature, dim=-1)
    valid = torch.arange(Tn)[None, :] < lengths[:, None]     # (B, T)
    logprobs = logp.gather(-1, targets.long()[..., None]).squeeze(-1)
    entropy = -(logp.exp() * logp).sum(dim=-1)
    zero = torch.zeros((), dtype=logits.dtype)
    return logits, torch.where(valid, logprobs, zero), torch.where(valid, entropy, zero), valid


def loss_of(logprobs, weights, valid, loss_scale):
    count = valid.sum()
    return loss_scale * (torch.where(valid, weights * -logprobs, torch.zeros((), dtype=logprobs.dtype))).sum() / count


def lr_at(step):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    return LR * 0.5 * (1.0 + math.cos(math.pi * (step - WARMUP) / (TOTAL - WARMUP)))


def compute(loss_scale, dtype=torch.float32):
    """Everything the file holds, as numpy float32 arrays (dtype float64 is for the finite-difference cross-check)."""
    params_np, tokens_np, targets_np, weights_np = make_data()
    tokens = torch.from_numpy(tokens_np.astype(np.int64))
    targets = torch.from_numpy(targets_np.astype(np.int64))
    lengths = torch.tensor(LENGTHS, dtype=torch.int64)
    weights = torch.from_numpy(weights_np).to(dtype)
    p = {name: torch.nn.Parameter(torch.from_numpy(params_np[name].copy()).to(dtype)) for name in TENSOR_NAMES}

    logits, logprobs, entropy, valid = forward(p, CONFIG, tokens, targets, lengths, TEMPERATURE)
    loss = loss_of(logprobs, weights, valid, loss_scale)
    loss.backward()
    out = {
        "logits": logits.detach().reshape(B * T, -1),
        "logprobs": logprobs.detach().reshape(-1),
        "entropy": entropy.detach().reshape(-1),
        "loss": loss.detach().reshape(1),
    }
    grads = {name: p[name].grad.detach().clone() for name in TENSOR_NAMES}
    for name in TENSOR_NAMES:
        p[name].grad = None

    optimizer = torch.optim.AdamW(
        [{"params": [p[n] for n in TENSOR_NAMES if n in MATRICES], "weight_decay": WEIGHT_DECAY},
         {"params": [p[n] for n in TENSOR_NAMES if n not in MATRICES], "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=EPS)
    losses, norms = [], []
    for step in range(N_STEPS):
        optimizer.zero_grad(set_to_none=False)
        _, lp, _, vd = forward(p, CONFIG, tokens, targets, lengths, TEMPERATURE)
        loss_s = loss_of(lp, weights, vd, loss_scale)
        loss_s.backward()
        norm = torch.nn.utils.clip_grad_norm_([p[n] for n in TENSOR_NAMES], MAX_GRAD_NORM)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        optimizer.step()
        losses.append(float(loss_s))
        norms.append(float(norm))
    out["losses"] = torch.tensor(losses, dtype=torch.float64)
    out["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    final = {name: p[name].detach().clone() for name in TENSOR_NAMES}

    f32 = lambda t: t.detach().cpu().numpy().astype(np.float32)
    return dict(params=params_np, tokens=tokens_np, targets=targets_np, weights=weights_np,
                loss_scale=loss_scale,
                logits=f32(out["logits"]), logprobs=f32(out["logprobs"]), entropy=f32(out["entropy"]),
                loss=f32(out["loss"]), grads={n: f32(g) for n, g in grads.items()},
                losses=f32(out["losses"]), grad_norms=f32(out["grad_norms"]),
                final={n: f32(w) for n, w in final.items()})


# ------------------------------------------------------------------------------------------
# The file.

def serialize(d):
    parts = [MAGIC, struct.pack("<I", VERSION)]
    parts.append(struct.pack("<7i", *[CONFIG[f] for f in CONFIG_INT_FIELDS_1]))
    parts.append(struct.pack("<2f", *[CONFIG[f] for f in CONFIG_FLOAT_FIELDS]))
    parts.append(struct.pack("<2i", *[CONFIG[f] for f in CONFIG_INT_FIELDS_2]))
    parts.append(struct.pack("<2i", B, T))
    le_i = lambda a: np.ascontiguousarray(a, dtype="<i4").tobytes()
    le_f = lambda a: np.ascontiguousarray(a, dtype="<f4").tobytes()
    parts += [le_i(LENGTHS), le_i(d["tokens"]), le_i(d["targets"])]
    parts += [struct.pack("<f", TEMPERATURE), le_f(d["weights"])]
    parts += [struct.pack("<f", d["loss_scale"]), struct.pack("<i", N_STEPS)]
    parts += [le_f(d["params"][n]) for n in TENSOR_NAMES]
    parts += [le_f(d["logits"]), le_f(d["logprobs"]), le_f(d["entropy"]), le_f(d["loss"])]
    parts += [le_f(d["grads"][n]) for n in TENSOR_NAMES]
    parts += [le_f(d["losses"]), le_f(d["grad_norms"])]
    parts += [le_f(d["final"][n]) for n in TENSOR_NAMES]
    return b"".join(parts)


class Malformed(Exception):
    pass


def parse(blob):
    """Reads a file back into named arrays (a list of (name, kind, array)); raises Malformed."""
    at = 0

    def take(count, dtype, what):
        nonlocal at
        size = count * np.dtype(dtype).itemsize
        if at + size > len(blob):
            raise Malformed(f"truncated in '{what}' (needs bytes {at} to {at + size}, the file has {len(blob)})")
        a = np.frombuffer(blob, dtype=dtype, count=count, offset=at).copy()
        at += size
        return a

    if len(blob) < 8 or blob[:8] != MAGIC:
        raise Malformed("the magic is not \"GRPOTREF\"")
    at = 8
    version = int(take(1, "<u4", "version")[0])
    if version != VERSION:
        raise Malformed(f"version {version}, expected {VERSION}")
    ints1 = take(7, "<i4", "config")
    floats = take(2, "<f4", "config")
    ints2 = take(2, "<i4", "config")
    config = dict(zip(CONFIG_INT_FIELDS_1, ints1.tolist()))
    config.update(zip(CONFIG_FLOAT_FIELDS, floats.tolist()))
    config.update(zip(CONFIG_INT_FIELDS_2, ints2.tolist()))
    if any(config[f] <= 0 for f in CONFIG_INT_FIELDS_1) or config["d_model"] % config["n_heads"] \
            or config["n_heads"] % config["n_kv_heads"] or config["d_model"] > 4096 or config["n_layers"] > 64 \
            or config["vocab_size"] > 1 << 20 or config["d_ff"] > 1 << 16:
        raise Malformed(f"implausible config {config}")
    if config["qkv_bias"] != 1 or config["untied_head"] != 1:
        raise Malformed("this format needs qkv_bias = 1 and untied_head = 1")
    Bf, Tf = take(2, "<i4", "B, T").tolist()
    if not (0 < Bf <= 1024 and 0 < Tf <= 4096):
        raise Malformed(f"implausible B = {Bf}, T = {Tf}")
    N = Bf * Tf
    arrays = [("config", "input", np.concatenate([ints1.view("<u4"), floats.view("<u4"), ints2.view("<u4")])),
              ("B, T", "input", np.array([Bf, Tf], dtype="<i4"))]
    arrays.append(("lengths", "input", take(Bf, "<i4", "lengths")))
    arrays.append(("tokens", "input", take(N, "<i4", "tokens")))
    arrays.append(("targets", "input", take(N, "<i4", "targets")))
    arrays.append(("temperature", "input", take(1, "<f4", "temperature")))
    arrays.append(("loss weights", "input", take(N, "<f4", "loss weights")))
    arrays.append(("loss_scale", "input", take(1, "<f4", "loss_scale")))
    n_steps = int(take(1, "<i4", "n_steps")[0])
    if not 0 < n_steps <= 1000:
        raise Malformed(f"implausible n_steps = {n_steps}")
    arrays.append(("n_steps", "input", np.array([n_steps], dtype="<i4")))
    shapes = tensor_shapes(config)
    count = lambda n: int(np.prod(shapes[n]))
    for n in TENSOR_NAMES:
        arrays.append((f"initial {n}", "input", take(count(n), "<f4", f"initial {n}")))
    V = config["vocab_size"]
    arrays.append(("logits", "output", take(N * V, "<f4", "logits")))
    arrays.append(("logprobs", "output", take(N, "<f4", "logprobs")))
    arrays.append(("entropy", "output", take(N, "<f4", "entropy")))
    arrays.append(("loss", "output", take(1, "<f4", "loss")))
    for n in TENSOR_NAMES:
        arrays.append((f"grad {n}", "output", take(count(n), "<f4", f"grad {n}")))
    arrays.append(("losses", "output", take(n_steps, "<f4", "losses")))
    arrays.append(("grad norms", "output", take(n_steps, "<f4", "grad norms")))
    for n in TENSOR_NAMES:
        arrays.append((f"final {n}", "output", take(count(n), "<f4", f"final {n}")))
    if at != len(blob):
        raise Malformed(f"{len(blob) - at} trailing bytes after the last field")
    return arrays


def relative_error(a, b):
    """max|a - b| / max|b| in the infinity norm, as tests/test.h (NaN counts as an error)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    diff = np.abs(a - b)
    if np.isnan(diff).any():
        return float("inf")
    d = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(b).max()) if b.size else 0.0
    return d / scale if scale > 0 else d


def check(committed_path, blob):
    passed = failed = 0
    try:
        with open(committed_path, "rb") as f:
            committed = parse(f.read())
    except (OSError, Malformed) as e:
        print(f"  FAIL committed reference '{committed_path}': {e}")
        print("torch_regenerate: 0 passed, 1 failed")
        return 1
    regenerated = parse(blob)
    if [n for n, _, _ in committed] != [n for n, _, _ in regenerated]:
        print(f"  FAIL committed reference '{committed_path}': its layout differs from the regenerated one")
        print("torch_regenerate: 0 passed, 1 failed")
        return 1
    for (name, kind, old), (_, _, new) in zip(committed, regenerated):
        if old.shape != new.shape:
            print(f"  FAIL {name}: {old.size} values committed, {new.size} regenerated")
            failed += 1
        elif kind == "input":
            if old.tobytes() == new.tobytes():
                print(f"  ok   {name} (bit-identical)")
                passed += 1
            else:
                print(f"  FAIL {name}: not bit-identical ({int((old.view('u1') != new.view('u1')).sum())} bytes differ)")
                failed += 1
        else:
            err = relative_error(new, old)
            if err <= TOLERANCE:
                print(f"  ok   {name} (rel err {err:.2e})")
                passed += 1
            else:
                print(f"  FAIL {name}: rel err {err:.3e} > {TOLERANCE:g}")
                failed += 1
    print(f"torch_regenerate: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="write the reference file here")
    parser.add_argument("--check", metavar="COMMITTED", help="compare the regenerated data with this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)  # nothing random is drawn from torch; set anyway

    d = compute(LOSS_SCALE)
    # clipping must be active in some steps and inactive in others, or the test misses half of it
    clipped = [float(n) > MAX_GRAD_NORM for n in d["grad_norms"]]
    if not any(clipped) or all(clipped):
        print(f"  FAIL gradient norms {d['grad_norms'].tolist()} do not straddle "
              f"max_grad_norm {MAX_GRAD_NORM}; change LOSS_SCALE")
        if args.check is not None:
            print("torch_regenerate: 0 passed, 1 failed")
        return 1
    blob = serialize(d)
    parse(blob)  # the writer and the reader agree
    with open(args.out, "wb") as f:
        f.write(blob)
    if args.check is None:
        print(f"wrote {args.out}: {len(blob)} bytes; loss {float(d['loss'][0]):.6f}; "
              f"grad norms {', '.join(f'{x:.4f}' for x in d['grad_norms'].tolist())}")
        return 0
    return check(args.check, blob)


if __name__ == "__main__":
    sys.exit(main())
