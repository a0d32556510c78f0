#!/usr/bin/python3
"""PyTorch reference for grpo.h's advantages and GRPO loss (SPEC.md sections 3 to 5).

An independent implementation written from SPEC.md and from the conventions of TRL's
GRPOTrainer and verl's compute_policy_loss (it is not a transliteration of grpo.h's loops):
the loss is built from torch tensor operations and its gradient comes from torch autograd.
tests/test_loss.c reads the file this script writes and checks grpo_advantages and grpo_loss
against it.

    /usr/bin/python3 tests/loss_reference.py --out tests/data/loss_reference.bin
    /usr/bin/python3 tests/loss_reference.py --check tests/data/loss_reference.bin --out FILE

Run it with Debian's /usr/bin/python3 (python3-torch 1.13). The inputs are drawn in float32
(what grpo.h receives) from numpy.random.RandomState(SEED) (numpy, so that the data does not
depend on the torch version); all reference arithmetic is float64 on those float32 values
(the config's epsilon_low/high, dual_clip and beta are also rounded to float32 first, as the C
struct holds them); the outputs are rounded to float32 for the file.

ADVANTAGES (SPEC section 3). For each group, the valid rewards are the non-NaN ones.
    mean_g = mean of the valid rewards; std_g = torch.std(valid, unbiased=not population_std)
    (0 when fewer than two valid rewards: torch.std of one value is NaN, and grpo.h documents
    std 0 there); batch std = torch.std over every valid reward of the batch.
    scale group: (r - mean_g) / (std_g + 1e-4); batch: (r - mean_g) / (batch std + 1e-4);
    none: r - mean_g. A NaN reward gets advantage 0.
    zero-std count: the groups whose valid rewards are all equal (at most one distinct value;
    a group with one or no valid reward carries no signal and is counted).

LOSS (SPEC section 4), per token, with lp the policy log-probs (the variable of autograd):
    ratio = exp(lp - lp_old)
    pg    = max(-ratio * A, -clamp(ratio, 1 - eps_low, 1 + eps_high) * A)     (TRL, verl)
    pg    = where(A < 0, min(pg, c * |A|), pg)   when dual_clip c > 1          (verl clip_ratio_c)
    delta = lp_ref - lp
    kl    = k3: exp(delta) - delta - 1 | k1: -delta | k2: delta^2 / 2
            | k3-importance: ratio * k3 with ratio differentiable (TRL use_bias_correction_kl)
    l     = pg + beta * kl      (no KL term at all when beta = 0, as TRL)
  Aggregation (SPEC section 5) of one micro-batch, with the step's grpo_loss_scale
  (total_sequences S, total_tokens K, n_micro_batches M, max_completion_tokens L), the
  micro-batch's share of the step's loss (summing the shares of a step's micro-batches gives
  the step's loss; this is TRL's per-micro-batch loss divided by the gradient-accumulation
  steps for grpo/bnpo/dr_grpo, and its num_items_in_batch normaliser for dapo):
    grpo    (1/S) sum_i (sum_t mask l) / max(|o_i|, 1)        (TRL: .clamp(min=1))
    bnpo    (sum mask l) / max(sum of this micro-batch's mask, 1) / M
    dapo    (sum mask l) / K
    dr_grpo (sum mask l) / (S * L)
  dlogprobs = d loss / d lp from loss.backward(). The script also checks autograd against the
  closed-form derivatives of SPEC section 4 (d pg = -ratio A on the unclipped branch, else 0;
  d k3 = 1 - exp(delta); d k1 = 1; d k2 = -delta) and refuses to write a file where they
  disagree, or where a token is not in the regime its case names.
  Stats (sums over masked tokens, as grpo_loss_stats): tokens = sum mask; kl = sum mask * kl
  (0 when beta = 0 and no ref log-probs are passed; NaN = "not checked" when beta = 0 and
  ref log-probs are passed anyway); low_clipped = sum mask [ratio < 1 - eps_low and A < 0];
  high_clipped = sum mask [ratio > 1 + eps_high and A > 0] (TRL's is_low/high_clipped).

LOSS CASES: every loss_type (4) x regime (6) x KL estimator (4) x beta {0, 0.04} with
  eps_low = eps_high = 0.2, then every loss_type x regime with eps_low 0.2, eps_high 0.28,
  k3 and beta 0.04 (24): 216 cases. Each is one micro-batch of N = 4 sequences x T = 6
  positions with prefix masks of lengths a permutation of {6, l1, 0, l2} (l1, l2 random in
  1..5; one all-zero row), and grpo_loss_scale {S = 8, K = micro-batch tokens + 11, M = 2,
  L = 8} (all different from the micro-batch's own counts; L > T so that T cannot stand in
  for max_completion_tokens). Construction: lp = -U(0.05, 3) (a log-prob, <= 0); a ratio
  rho is drawn for the regime, and lp_old = lp - log(rho) (rounded to float32; the script
  checks that the rounded values still land in the regime); lp_ref = lp + U(-1, 1);
  |A| = U(0.1, 2) with the sign the regime needs. Padding positions hold garbage that must
  be ignored: lp = 0, lp_old = -U(0, 20), lp_ref = -U(0, 20).
    regime        rho                                   A        dual_clip  what happens
    inside        U(1 - eps_low + .03, 1 + eps_high - .03) mixed 3         unclipped; c idle
    clip_low_neg  U(0.3, 1 - eps_low - .03)             < 0      0         clipped, grad 0, low count
    clip_low_pos  U(0.3, 1 - eps_low - .03)             > 0      0         unclipped (min side)
    clip_high_pos U(1 + eps_high + .03, 2)              > 0      0         clipped, grad 0, high count
    clip_high_neg U(1 + eps_high + .03, 2.5)            < 0      3         unclipped; c idle (rho < c)
    dual_clip     U(4, 8)                               < 0      3         pg = c|A|, grad 0
  In the eps 0.2/0.28 cases the first token of each row is moved where the two epsilons
  disagree: inside rows with A > 0 get rho in (1.21, 1.25) (clipped if eps_low were used
  above), low rows get rho in (0.73, 0.77) (not clipped if eps_high were used below).
  beta = 0 cases pass ref_logprobs = NULL with k3 and the ref log-probs with k1/k2/k3-imp.

MULTI-MICRO-BATCH CASES: a batch of N = 8 rows (one per regime, one more inside, and one
  all-zero row), eps 0.2/0.28, dual_clip 3, beta 0.04, k3 or k3-importance, split into rows
  0..3 and 4..7. For each loss_type: the full batch in one call (scale {8, K, 1, 8}, K = all
  tokens) and the two micro-batches (scale {8, K, 2, 8} each): the loss sum and the two
  dlogprobs. In the "equal_tokens" split both halves hold 14 tokens and every loss_type's
  micro-batch sum equals the full-batch loss; in "unequal_tokens" (21 vs 6) bnpo's does not
  (bnpo normalises per micro-batch by definition), the flag says so.

ADVANTAGE CASES: see advantage_cases(); NaN rewards, all-equal groups, all-NaN and single-valid
  groups, G = 1, G = 2, G = 8 binary rewards, each with scale group/batch/none and sample /
  population std.

FILE FORMAT (little-endian; int = int32, float = float32, no padding; names NUL-padded)
    magic "GRPOLREF" (8 bytes), version (uint32) = 1
    n_adv (int), then per advantage case:
        name (48 bytes), n_groups, group_size, scale (0 group, 1 batch, 2 none),
        population_std (ints); rewards (n_groups*G floats, NaN allowed);
        advantages (n_groups*G floats); zero_std_groups (int)
    n_loss (int), then per loss case:
        name (64 bytes), loss_type (grpo.h's enum: 0 dapo, 1 grpo, 2 bnpo, 3 dr_grpo),
        kl_estimator (0 k3, 1 k1, 2 k2, 3 k3-importance) (ints);
        epsilon_low, epsilon_high, dual_clip, beta (floats);
        total_sequences, total_tokens, n_micro_batches, max_completion_tokens, N, T,
        has_ref (1: pass ref_logprobs, 0: pass NULL) (ints);
        logprobs, old_logprobs, ref_logprobs, mask (N*T floats each); advantages (N floats);
        loss, loss_magnitude (floats); dlogprobs (N*T floats); stats tokens, kl, kl_magnitude,
        low_clipped, high_clipped (floats; kl NaN = not checked). loss_magnitude is the same
        aggregation of |l| and kl_magnitude = sum mask |kl|: the scales of the rounding of
        the sums (the loss of the inside regime is a sum of terms of both signs), used by the
        C test's tolerances.
    n_multi (int), then per multi case:
        name (64 bytes), kl_estimator (int); epsilon_low, epsilon_high, dual_clip, beta
        (floats); N, T, split (rows of the first micro-batch), max_completion_tokens (ints);
        logprobs, old_logprobs, ref_logprobs, mask (N*T floats each); advantages (N floats);
        then for loss_type 0..3: full_loss (float), full_dlogprobs (N*T floats),
        micro_loss_sum (float), micro_dlogprobs (N*T floats, both micro-batches' in row
        order), sum_equals_full (int)
    nothing follows.

--check COMMITTED regenerates everything, writes --out, and compares with COMMITTED: inputs
(names, configs, rewards, log-probs, masks, advantages given to the loss, ints) must be
bit-identical and every output array within relative error 1e-6 (infinity norm, as
tests/test.h; NaN must match NaN). One line per case and array kind, then
"loss_regenerate: N passed, M failed"; exit code 1 on any failure (a missing or malformed
committed file is a failure).
"""
import argparse
import math
import struct
import sys

import numpy as np
import torch

MAGIC = b"GRPOLREF"
VERSION = 1
SEED = 20250
TOLERANCE = 1e-6
EPS_STD = 1e-4

LOSS_TYPES = {"dapo": 0, "grpo": 1, "bnpo": 2, "dr_grpo": 3}   # grpo.h's grpo_loss_type values
KL_ESTIMATORS = {"k3": 0, "k1": 1, "k2": 2, "k3imp": 3}       # grpo.h's grpo_kl_estimator values
SCALES = {"group": 0, "batch": 1, "none": 2}                   # grpo.h's grpo_scale_rewards values
REGIMES = ["inside", "clip_low_neg", "clip_low_pos", "clip_high_pos", "clip_high_neg", "dual_clip"]
DUAL_CLIP = {"inside": 3.0, "clip_low_neg": 0.0, "clip_low_pos": 0.0, "clip_high_pos": 0.0,
             "clip_high_neg": 3.0, "dual_clip": 3.0}
N_MICRO, T_MICRO = 4, 6
SCALE_SEQUENCES, SCALE_EXTRA_TOKENS, SCALE_MICRO_BATCHES, SCALE_L_MAX = 8, 11, 2, 8
ADV_NAME_BYTES, LOSS_NAME_BYTES = 48, 64

f32 = lambda x: float(np.float32(x))


# ------------------------------------------------------------------------------------------
# Advantages.

def reference_advantages(rewards, n_groups, G, scale, population):
    r = torch.tensor(np.asarray(rewards, dtype=np.float32).astype(np.float64))
    valid = ~torch.isnan(r)
    unbiased = not population

    def std_of(v):
        if v.numel() < 2:
            return torch.zeros((), dtype=torch.float64)
        return torch.std(v, unbiased=unbiased)

    batch_std = std_of(r[valid])
    adv = torch.zeros_like(r)
    zero_std = 0
    for g in range(n_groups):
        rg = r[g * G:(g + 1) * G]
        vg = valid[g * G:(g + 1) * G]
        vals = rg[vg]
        if torch.unique(vals).numel() <= 1:
            zero_std += 1
        if vals.numel() == 0:
            continue
        mean = vals.mean()
        centred = rg - mean
        if scale == "group":
            a = centred / (std_of(vals) + EPS_STD)
        elif scale == "batch":
            a = centred / (batch_std + EPS_STD)
        else:
            a = centred
        adv[g * G:(g + 1) * G] = torch.where(vg, a, torch.zeros_like(a))
    return adv.numpy().astype(np.float32), zero_std


def advantage_cases(rng):
    nan = float("nan")
    base = dict(
        mixed=(4, [1, 0, 0, 1,
                   0.5, 0.5, 0.5, 0.5,          # all equal: zero std
                   1, nan, 0, 0.25,             # a NaN left out
                   nan, nan, nan, nan,          # no valid reward
                   nan, 2, nan, nan,            # one valid reward
                   0.1, 0.2, 0.3, 0.4,
                   -1.5, 3.25, 0.0, 7.0]),
        g1=(1, [1.0, 0.0, nan, 0.3, -2.0]),
        g2=(2, [1, 0, 1, 1, nan, 1, 0.3, 0.7, -1, 2, nan, nan]),
        binary_g8=(8, rng.randint(0, 2, size=6 * 8).astype(np.float64).tolist()),
        random_g5=(5, rng.normal(0.0, 2.0, size=5 * 5).tolist()),
    )
    # binary_g8: make one group all ones, one all zeros, one with two NaNs
    b = base["binary_g8"][1]
    b[0:8] = [1.0] * 8
    b[8:16] = [0.0] * 8
    b[16] = nan
    b[21] = nan
    r5 = base["random_g5"][1]
    r5[7] = nan
    r5[15:20] = [0.75] * 5
    cases = []
    for key, (G, rewards) in base.items():
        rewards = np.asarray(rewards, dtype=np.float32)
        n_groups = rewards.size // G
        for scale in ["group", "batch", "none"]:
            for population in [0, 1]:
                adv, zero = reference_advantages(rewards, n_groups, G, scale, population)
                name = f"adv/{key}/G{G}/{scale}/{'population' if population else 'sample'}"
                cases.append(dict(name=name, n_groups=n_groups, G=G, scale=SCALES[scale], population=population,
                                  rewards=rewards, advantages=adv, zero_std=zero))
    return cases


# ------------------------------------------------------------------------------------------
# The loss, from SPEC sections 4 and 5 with torch autograd.

def per_token_loss(lp, old, ref, A, cfg):
    """lp (N, T) requires grad; A (N, 1). Returns (l, pg, kl, ratio)."""
    ratio = torch.exp(lp - old)
    pg1 = -ratio * A
    pg2 = -torch.clamp(ratio, 1.0 - cfg["eps_low"], 1.0 + cfg["eps_high"]) * A
    pg = torch.maximum(pg1, pg2)
    c = cfg["dual_clip"]
    if c > 1.0:
        pg = torch.where(A < 0, torch.minimum(pg, c * A.abs()), pg)
    if cfg["beta"] != 0.0:
        delta = ref - lp
        k3 = torch.exp(delta) - delta - 1.0
        kl = {"k3": k3, "k1": -delta, "k2": 0.5 * delta ** 2, "k3imp": ratio * k3}[cfg["kl"]]
        return pg + cfg["beta"] * kl, pg, kl, ratio
    return pg, pg, torch.zeros_like(pg), ratio


def aggregate(l, mask, loss_type, scale):
    S, K, M, L = scale
    masked = l * mask
    if loss_type == "grpo":
        return (masked.sum(-1) / mask.sum(-1).clamp(min=1.0)).sum() / S
    if loss_type == "bnpo":
        return masked.sum() / mask.sum().clamp(min=1.0) / M
    if loss_type == "dapo":
        return masked.sum() / K
    if loss_type == "dr_grpo":
        return masked.sum() / (S * L)
    raise ValueError(loss_type)


def closed_form_gradient(lp, old, ref, A, mask, cfg, loss_type, scale):
    """SPEC section 4's derivatives, for the self-check of autograd (numpy, float64)."""
    S, K, M, L = scale
    ratio = np.exp(lp - old)
    lo, hi = 1.0 - cfg["eps_low"], 1.0 + cfg["eps_high"]
    unclipped = -ratio * A >= -np.clip(ratio, lo, hi) * A
    dpg = np.where(unclipped, -ratio * A, 0.0)
    if cfg["dual_clip"] > 1.0:
        pg = np.maximum(-ratio * A, -np.clip(ratio, lo, hi) * A)
        dpg = np.where((A < 0) & (pg > cfg["dual_clip"] * np.abs(A)), 0.0, dpg)
    dkl = np.zeros_like(lp)
    if cfg["beta"] != 0.0:
        d = ref - lp
        k3 = np.exp(d) - d - 1.0
        dkl = {"k3": 1.0 - np.exp(d), "k1": np.ones_like(d), "k2": -d,
               "k3imp": ratio * k3 + ratio * (1.0 - np.exp(d))}[cfg["kl"]]
    dl = dpg + cfg["beta"] * dkl
    lengths = mask.sum(-1, keepdims=True)
    if loss_type == "grpo":
        w = np.where(lengths > 0, 1.0 / np.maximum(lengths, 1.0) / S, 0.0) * np.ones_like(lp)
    elif loss_type == "bnpo":
        w = np.full_like(lp, 1.0 / max(mask.sum(), 1.0) / M)
    elif loss_type == "dapo":
        w = np.full_like(lp, 1.0 / K)
    else:
        w = np.full_like(lp, 1.0 / (S * L))
    return w * mask * dl


def reference_loss(lp32, old32, ref32, A32, mask32, cfg, loss_type, scale, has_ref):
    """Returns loss (float), dlogprobs (N, T) float64, stats dict."""
    to = lambda a: torch.tensor(np.asarray(a, dtype=np.float32).astype(np.float64))
    lp = to(lp32).requires_grad_(True)
    old, ref, mask = to(old32), to(ref32), to(mask32)
    A = to(A32)[:, None]
    l, pg, kl, ratio = per_token_loss(lp, old, ref, A, cfg)
    loss = aggregate(l, mask, loss_type, scale)
    loss.backward()
    grad = lp.grad.detach().numpy().copy()
    cf = closed_form_gradient(lp.detach().numpy(), old.numpy(), ref.numpy(), A.numpy(), mask.numpy(), cfg, loss_type, scale)
    err = np.abs(grad - cf).max() / max(np.abs(cf).max(), 1e-300)
    if err > 1e-12:
        raise RuntimeError(f"autograd and SPEC's closed-form gradient disagree (rel err {err:.3e})")
    m = mask.numpy() > 0
    r = ratio.detach().numpy()
    Ab = np.broadcast_to(A.numpy(), r.shape)
    if cfg["beta"] != 0.0:
        kl_sum = float((kl.detach() * mask).sum())
    else:
        kl_sum = float("nan") if has_ref else 0.0
    # the scales of the sums' rounding, for the C test's tolerances: sum of |w mask l| and of |mask kl|
    magnitude = float(aggregate(l.detach().abs(), mask, loss_type, scale))
    kl_magnitude = float((kl.detach().abs() * mask).sum()) if cfg["beta"] != 0.0 else 0.0
    stats = dict(tokens=float(mask.sum()), kl=kl_sum, kl_magnitude=kl_magnitude, magnitude=magnitude,
                 low=float((m & (r < 1.0 - cfg["eps_low"]) & (Ab < 0)).sum()),
                 high=float((m & (r > 1.0 + cfg["eps_high"]) & (Ab > 0)).sum()))
    return float(loss), grad, stats


def regime_ok(regime, rho, A, cfg):
    lo, hi = 1.0 - cfg["eps_low"], 1.0 + cfg["eps_high"]
    margin = 0.01
    if regime == "inside":
        return lo + margin < rho < hi - margin
    if regime == "clip_low_neg":
        return rho < lo - margin and A < 0
    if regime == "clip_low_pos":
        return rho < lo - margin and A > 0
    if regime == "clip_high_pos":
        return rho > hi + margin and A > 0
    if regime == "clip_high_neg":
        return rho > hi + margin and A < 0 and (cfg["dual_clip"] == 0 or -rho * A < cfg["dual_clip"] * -A * (1 - margin))
    if regime == "dual_clip":
        return A < 0 and cfg["dual_clip"] > 1 and -rho * A > cfg["dual_clip"] * -A * (1 + margin)
    raise ValueError(regime)


def draw_row(rng, regime, length, T, cfg, asym, sign=None):
    """One row: lp, old, ref (T float32 each) and A (float32) in the regime."""
    lo, hi = 1.0 - cfg["eps_low"], 1.0 + cfg["eps_high"]
    ranges = {"inside": (lo + 0.03, hi - 0.03), "clip_low_neg": (0.3, lo - 0.03), "clip_low_pos": (0.3, lo - 0.03),
              "clip_high_pos": (hi + 0.03, 2.0), "clip_high_neg": (hi + 0.03, 2.5), "dual_clip": (4.0, 8.0)}
    if sign is None:
        sign = {"clip_low_neg": -1, "clip_low_pos": 1, "clip_high_pos": 1, "clip_high_neg": -1, "dual_clip": -1}.get(regime)
        if sign is None:
            sign = 1 if rng.uniform() < 0.5 else -1
    A = np.float32(sign * rng.uniform(0.1, 2.0))
    rho = rng.uniform(*ranges[regime], size=T)
    if asym and length > 0:
        if regime == "inside" and A > 0:
            rho[0] = rng.uniform(1.21, 1.25)
        elif regime in ("clip_low_neg", "clip_low_pos"):
            rho[0] = rng.uniform(0.73, 0.77)
    lp = (-rng.uniform(0.05, 3.0, size=T)).astype(np.float32)
    old = (lp.astype(np.float64) - np.log(rho)).astype(np.float32)
    ref = (lp.astype(np.float64) + rng.uniform(-1.0, 1.0, size=T)).astype(np.float32)
    pad = np.arange(T) >= length
    lp[pad] = 0.0
    old[pad] = (-rng.uniform(0.0, 20.0, size=int(pad.sum()))).astype(np.float32)
    ref[pad] = (-rng.uniform(0.0, 20.0, size=int(pad.sum()))).astype(np.float32)
    for t in range(length):
        actual = math.exp(float(lp[t]) - float(old[t]))
        if not regime_ok(regime, actual, float(A), cfg):
            raise RuntimeError(f"row in regime {regime}: rho {actual} A {A} is not in the regime")
    return lp, old, ref, A


def make_config(kl, eps_low, eps_high, dual_clip, beta):
    return dict(kl=kl, eps_low=f32(eps_low), eps_high=f32(eps_high), dual_clip=f32(dual_clip), beta=f32(beta))


def loss_cases(rng):
    cases = []
    combos = []
    for loss_type in LOSS_TYPES:
        for regime in REGIMES:
            for kl in KL_ESTIMATORS:
                for beta in [0.0, 0.04]:
                    combos.append((loss_type, regime, kl, beta, 0.2, 0.2))
    for loss_type in LOSS_TYPES:
        for regime in REGIMES:
            combos.append((loss_type, regime, "k3", 0.04, 0.2, 0.28))
    N, T = N_MICRO, T_MICRO
    for loss_type, regime, kl, beta, eps_low, eps_high in combos:
        asym = eps_high != eps_low
        cfg = make_config(kl, eps_low, eps_high, DUAL_CLIP[regime], beta)
        lengths = rng.permutation([T, rng.randint(1, T), 0, rng.randint(1, T)])
        signs = [None] * N
        if regime == "inside":  # both signs among the rows with tokens
            live = [i for i in range(N) if lengths[i] > 0]
            signs = [1 if rng.uniform() < 0.5 else -1 for _ in range(N)]
            signs[live[0]], signs[live[1]] = 1, -1
        rows = [draw_row(rng, regime, int(lengths[i]), T, cfg, asym, signs[i]) for i in range(N)]
        lp = np.stack([r[0] for r in rows])
        old = np.stack([r[1] for r in rows])
        ref = np.stack([r[2] for r in rows])
        A = np.array([r[3] for r in rows], dtype=np.float32)
        mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float32)
        tokens = int(mask.sum())
        scale = (SCALE_SEQUENCES, tokens + SCALE_EXTRA_TOKENS, SCALE_MICRO_BATCHES, SCALE_L_MAX)
        has_ref = 0 if (beta == 0.0 and kl == "k3") else 1
        loss, grad, stats = reference_loss(lp, old, ref, A, mask, cfg, loss_type, scale, has_ref)
        name = f"{loss_type}/{regime}/{kl}/beta{beta:g}" + (f"/eps{eps_low:g}-{eps_high:g}" if asym else "")
        cases.append(dict(name=name, loss_type=LOSS_TYPES[loss_type], kl=KL_ESTIMATORS[kl], cfg=cfg, scale=scale,
                          N=N, T=T, has_ref=has_ref, lp=lp, old=old, ref=ref, mask=mask, A=A,
                          loss=loss, grad=grad, stats=stats))
    return cases


def multi_cases(rng):
    T = T_MICRO
    out = []
    specs = [("multi/equal_tokens/k3", "k3", [6, 3, 0, 5, 4, 4, 2, 4]),
             ("multi/unequal_tokens/k3imp", "k3imp", [6, 6, 5, 4, 2, 0, 3, 1])]
    regimes = ["inside", "clip_low_neg", "clip_high_pos", "dual_clip", "clip_low_pos", "clip_high_neg", "inside", "inside"]
    for name, kl, lengths in specs:
        cfg = make_config(kl, 0.2, 0.28, 3.0, 0.04)
        N = len(lengths)
        rows = [draw_row(rng, regimes[i], lengths[i], T, cfg, True) for i in range(N)]
        lp = np.stack([r[0] for r in rows])
        old = np.stack([r[1] for r in rows])
        ref = np.stack([r[2] for r in rows])
        A = np.array([r[3] for r in rows], dtype=np.float32)
        mask = (np.arange(T)[None, :] < np.array(lengths)[:, None]).astype(np.float32)
        K = int(mask.sum())
        split = 4
        per_type = []
        for loss_type in LOSS_TYPES:
            full, gfull, _ = reference_loss(lp, old, ref, A, mask, cfg, loss_type, (N, K, 1, SCALE_L_MAX), 1)
            parts = [reference_loss(lp[s], old[s], ref[s], A[s], mask[s], cfg, loss_type, (N, K, 2, SCALE_L_MAX), 1)
                     for s in (slice(0, split), slice(split, N))]
            micro = parts[0][0] + parts[1][0]
            gmicro = np.concatenate([parts[0][1], parts[1][1]])
            equal = abs(micro - full) <= 1e-12 * abs(full) and np.abs(gmicro - gfull).max() <= 1e-12 * np.abs(gfull).max()
            per_type.append(dict(full=full, gfull=gfull, micro=micro, gmicro=gmicro, equal=int(equal)))
        out.append(dict(name=name, kl=KL_ESTIMATORS[kl], cfg=cfg, N=N, T=T, split=split, L=SCALE_L_MAX,
                        lp=lp, old=old, ref=ref, mask=mask, A=A, per_type=per_type))
    # the point of the two splits
    assert all(t["equal"] for t in out[0]["per_type"]), "equal_tokens: some loss_type's micro-batch sum differs"
    assert [t["equal"] for t in out[1]["per_type"]] == [1, 1, 0, 1], "unequal_tokens: only bnpo should differ"
    return out


def compute():
    rng = np.random.RandomState(SEED)
    return dict(adv=advantage_cases(rng), loss=loss_cases(rng), multi=multi_cases(rng))


# ------------------------------------------------------------------------------------------
# The file. Each field is recorded as (name, kind, bytes) so that --check can compare
# field by field: kind "input" must be bit-identical, "output" within TOLERANCE.

le_i = lambda a: np.ascontiguousarray(np.asarray(a), dtype="<i4").tobytes()
le_f = lambda a: np.ascontiguousarray(np.asarray(a), dtype="<f4").tobytes()


def name_bytes(name, size):
    b = name.encode()
    if len(b) >= size:
        raise ValueError(f"name '{name}' is too long")
    return b + b"\0" * (size - len(b))


def fields(d):
    """The file as a list of (label, kind, dtype, bytes)."""
    out = [("magic", "input", None, MAGIC), ("version", "input", None, struct.pack("<I", VERSION))]
    out.append(("n_adv", "input", None, le_i([len(d["adv"])])))
    for c in d["adv"]:
        n = c["name"]
        out.append((f"{n} header", "input", None, name_bytes(n, ADV_NAME_BYTES) +
                    le_i([c["n_groups"], c["G"], c["scale"], c["population"]]) + le_f(c["rewards"])))
        out.append((f"{n} advantages", "output", "<f4", le_f(c["advantages"])))
        out.append((f"{n} zero_std", "input", None, le_i([c["zero_std"]])))
    out.append(("n_loss", "input", None, le_i([len(d["loss"])])))
    for c in d["loss"]:
        n, cfg = c["name"], c["cfg"]
        out.append((f"{n} inputs", "input", None, name_bytes(n, LOSS_NAME_BYTES) + le_i([c["loss_type"], c["kl"]]) +
                    le_f([cfg["eps_low"], cfg["eps_high"], cfg["dual_clip"], cfg["beta"]]) +
                    le_i(list(c["scale"]) + [c["N"], c["T"], c["has_ref"]]) +
                    le_f(c["lp"]) + le_f(c["old"]) + le_f(c["ref"]) + le_f(c["mask"]) + le_f(c["A"])))
        out.append((f"{n} loss", "output", "<f4", le_f([c["loss"], c["stats"]["magnitude"]])))
        out.append((f"{n} dlogprobs", "output", "<f4", le_f(c["grad"])))
        s = c["stats"]
        out.append((f"{n} stats", "output", "<f4", le_f([s["tokens"], s["kl"], s["kl_magnitude"], s["low"], s["high"]])))
    out.append(("n_multi", "input", None, le_i([len(d["multi"])])))
    for c in d["multi"]:
        n, cfg = c["name"], c["cfg"]
        out.append((f"{n} inputs", "input", None, name_bytes(n, LOSS_NAME_BYTES) + le_i([c["kl"]]) +
                    le_f([cfg["eps_low"], cfg["eps_high"], cfg["dual_clip"], cfg["beta"]]) +
                    le_i([c["N"], c["T"], c["split"], c["L"]]) +
                    le_f(c["lp"]) + le_f(c["old"]) + le_f(c["ref"]) + le_f(c["mask"]) + le_f(c["A"])))
        for lt, t in zip(LOSS_TYPES, c["per_type"]):
            out.append((f"{n} {lt} full", "output", "<f4", le_f([t["full"]]) + le_f(t["gfull"])))
            out.append((f"{n} {lt} micro", "output", "<f4", le_f([t["micro"]]) + le_f(t["gmicro"])))
            out.append((f"{n} {lt} sum_equals_full", "input", None, le_i([t["equal"]])))
    return out


class Malformed(Exception):
    pass


def parse(blob):
    """Splits a file into the same (label, kind, dtype, bytes) list as fields(); raises Malformed."""
    at = 0
    out = []

    def take(size, what):
        nonlocal at
        if size < 0 or at + size > len(blob):
            raise Malformed(f"truncated in '{what}' (needs bytes {at} to {at + size}, the file has {len(blob)})")
        b = blob[at:at + size]
        at += size
        return b

    def ints(b):
        return np.frombuffer(b, dtype="<i4").tolist()

    if take(8, "magic") != MAGIC:
        raise Malformed('the magic is not "GRPOLREF"')
    out.append(("magic", "input", None, MAGIC))
    v = take(4, "version")
    if struct.unpack("<I", v)[0] != VERSION:
        raise Malformed(f"version {struct.unpack('<I', v)[0]}, expected {VERSION}")
    out.append(("version", "input", None, v))
    b = take(4, "n_adv")
    n_adv = ints(b)[0]
    if not 0 <= n_adv <= 100000:
        raise Malformed(f"implausible n_adv {n_adv}")
    out.append(("n_adv", "input", None, b))
    for _ in range(n_adv):
        nm = take(ADV_NAME_BYTES, "advantage case name")
        name = nm.split(b"\0")[0].decode(errors="replace")
        hb = take(16, f"{name} header")
        n_groups, G, _, _ = ints(hb)
        if not (0 < n_groups <= 100000 and 0 < G <= 100000):
            raise Malformed(f"{name}: implausible n_groups {n_groups}, G {G}")
        rw = take(4 * n_groups * G, f"{name} rewards")
        out.append((f"{name} header", "input", None, nm + hb + rw))
        out.append((f"{name} advantages", "output", "<f4", take(4 * n_groups * G, f"{name} advantages")))
        out.append((f"{name} zero_std", "input", None, take(4, f"{name} zero_std")))
    b = take(4, "n_loss")
    n_loss = ints(b)[0]
    if not 0 <= n_loss <= 100000:
        raise Malformed(f"implausible n_loss {n_loss}")
    out.append(("n_loss", "input", None, b))
    for _ in range(n_loss):
        nm = take(LOSS_NAME_BYTES, "loss case name")
        name = nm.split(b"\0")[0].decode(errors="replace")
        hb = take(8 + 16 + 28, f"{name} config")
        hv = ints(hb[24:])
        N, T = hv[4], hv[5]
        if not (0 < N <= 100000 and 0 < T <= 100000):
            raise Malformed(f"{name}: implausible N {N}, T {T}")
        arrays = take(4 * (4 * N * T + N), f"{name} inputs")
        out.append((f"{name} inputs", "input", None, nm + hb + arrays))
        out.append((f"{name} loss", "output", "<f4", take(8, f"{name} loss")))
        out.append((f"{name} dlogprobs", "output", "<f4", take(4 * N * T, f"{name} dlogprobs")))
        out.append((f"{name} stats", "output", "<f4", take(20, f"{name} stats")))
    b = take(4, "n_multi")
    n_multi = ints(b)[0]
    if not 0 <= n_multi <= 1000:
        raise Malformed(f"implausible n_multi {n_multi}")
    out.append(("n_multi", "input", None, b))
    for _ in range(n_multi):
        nm = take(LOSS_NAME_BYTES, "multi case name")
        name = nm.split(b"\0")[0].decode(errors="replace")
        hb = take(4 + 16 + 16, f"{name} config")
        N, T, split, _ = ints(hb[20:])
        if not (0 < N <= 100000 and 0 < T <= 100000 and 0 <= split <= N):
            raise Malformed(f"{name}: implausible N {N}, T {T}, split {split}")
        arrays = take(4 * (4 * N * T + N), f"{name} inputs")
        out.append((f"{name} inputs", "input", None, nm + hb + arrays))
        for lt in LOSS_TYPES:
            out.append((f"{name} {lt} full", "output", "<f4", take(4 * (1 + N * T), f"{name} {lt} full")))
            out.append((f"{name} {lt} micro", "output", "<f4", take(4 * (1 + N * T), f"{name} {lt} micro")))
            out.append((f"{name} {lt} sum_equals_full", "input", None, take(4, f"{name} {lt} sum_equals_full")))
    if at != len(blob):
        raise Malformed(f"{len(blob) - at} trailing bytes after the last field")
    return out


def relative_error(a, b):
    """max|a - b| / max|b| (infinity norm, as tests/test.h); NaN must sit where NaN sits."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    keep = ~np.isnan(b)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return 0.0
    d = float(np.abs(a - b).max())
    scale = float(np.abs(b).max())
    return d / scale if scale > 0 else d


def check(committed_path, blob):
    passed = failed = 0
    try:
        with open(committed_path, "rb") as f:
            committed = parse(f.read())
    except (OSError, Malformed) as e:
        print(f"  FAIL committed reference '{committed_path}': {e}")
        print("loss_regenerate: 0 passed, 1 failed")
        return 1
    regenerated = parse(blob)
    if [n for n, _, _, _ in committed] != [n for n, _, _, _ in regenerated]:
        print(f"  FAIL committed reference '{committed_path}': its layout (case names) differs from the regenerated one")
        print("loss_regenerate: 0 passed, 1 failed")
        return 1
    worst = 0.0
    for (name, kind, dtype, old), (_, _, _, new) in zip(committed, regenerated):
        if len(old) != len(new):
            print(f"  FAIL {name}: {len(old)} bytes committed, {len(new)} regenerated")
            failed += 1
        elif kind == "input":
            if old == new:
                print(f"  ok   {name} (bit-identical)")
                passed += 1
            else:
                print(f"  FAIL {name}: not bit-identical")
                failed += 1
        else:
            err = relative_error(np.frombuffer(new, dtype=dtype), np.frombuffer(old, dtype=dtype))
            worst = max(worst, err)
            if err <= TOLERANCE:
                print(f"  ok   {name} (rel err {err:.2e})")
                passed += 1
            else:
                print(f"  FAIL {name}: rel err {err:.3e} > {TOLERANCE:g}")
                failed += 1
    print(f"  max rel err over the outputs: {worst:.3e}")
    print(f"loss_regenerate: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="write the reference file here")
    parser.add_argument("--check", metavar="COMMITTED", help="compare the regenerated data with this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        d = compute()
    except (RuntimeError, AssertionError) as e:
        print(f"  FAIL building the reference: {e}")
        if args.check is not None:
            print("loss_regenerate: 0 passed, 1 failed")
        return 1
    blob = b"".join(f[3] for f in fields(d))
    if [f[3] for f in parse(blob)] != [f[3] for f in fields(d)]:  # the writer and the reader agree
        print("  FAIL the parser does not read back what the writer wrote")
        return 1
    with open(args.out, "wb") as f:
        f.write(blob)
    if args.check is None:
        print(f"wrote {args.out}: {len(blob)} bytes; {len(d['adv'])} advantage cases, {len(d['loss'])} loss cases, "
              f"{len(d['multi'])} multi-micro-batch cases")
        return 0
    return check(args.check, blob)


if __name__ == "__main__":
    sys.exit(main())
