#!/usr/bin/python3
"""PyTorch side of the benchmark suite (bench/bench_suite.c runs it and compares): the grpo.h
architecture (bench/torch_model.py) on one config with one thread setting, in this process:

    /usr/bin/python3 bench/torch_bench.py --config A|B --threads N [--repeats 3] [--json]

Run it with Debian's /usr/bin/python3 (python3-torch 1.13), not the pyenv python3 on PATH.

WORKLOAD (the same as grpo.h's side, bench/bench_suite.c)
  train     one step on 16 x 128 tokens: full causal forward, log-probs of the targets,
            loss = mean negative log-likelihood, backward, clip_grad_norm_(1.0), AdamW
            (lr 1e-4, weight decay 0.01 on matrices only, as grpo_adamw)
  forward   the same forward under torch.no_grad(): the reference model's cost in GRPO
  decode    16 sequences (4 prompts x 4), 64-token prompts, 64 new tokens, KV cache, each
            prompt prefilled once: the measure of bench/torch_generate.py (best of --repeats)
  grpo      a whole GRPO step written plainly in torch, as grpo_trainer_step does it:
            2 prompts of 64 byte tokens (BOS + 63 bytes) x G = 8 completions of 64 tokens
            (temperature 1, no EOS, KV-cached generation of all 16 rows, each prompt
            prefilled once and its keys and values shared by its 8 rows), rewards (the format
            reward, a regular expression on the decoded bytes), group advantages
            (r - mean) / (std + 1e-4), the reference model's log-probs (no grad), the policy's
            forward + backward of the clipped loss (eps 0.2) with beta = 0.04 times the k3 KL,
            DAPO aggregation (sum over completion tokens / their count), clip_grad_norm_(1.0),
            AdamW; timed phase by phase.
  Each measure: one warm-up, then the best (lowest time) of --repeats.

OUTPUT --json: one JSON line: {"config", "threads", "torch_version", "blas", "omp_wait_policy",
  "train_seconds", "train_tokens_per_second", "train_gflops", "forward_seconds",
  "forward_tokens_per_second", "forward_gflops", "decode_tokens_per_second",
  "grpo_seconds", "grpo_generation", "grpo_rewards", "grpo_reference", "grpo_policy",
  "grpo_optimizer", "peak_rss_mib", "baseline_rss_mib", "other_cpu_seconds"}.
  peak_rss_mib is the process's peak (getrusage), baseline_rss_mib the same right after
  importing torch, before any model exists. other_cpu_seconds: CPU seconds other processes
  used while this one measured (> 1 or so: a disturbed measurement).
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model as tm  # noqa: E402

BATCH, SEQ = 16, 128
GRPO_PROMPTS, GRPO_G, GRPO_PROMPT_TOKENS, GRPO_NEW_TOKENS = 2, 8, 64, 64
BETA, EPSILON, LEARNING_RATE, WEIGHT_DECAY, MAX_GRAD_NORM = 0.04, 0.2, 1e-4, 0.01, 1.0
BOS = 256
FORMAT = re.compile(rb"<think>.*?</think>\s*<answer>.*?</answer>", re.S)


def system_busy_seconds():
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def best_of(repeats, fn):
    fn()                                          # warm-up
    return min(fn() for _ in range(repeats))


def make_optimizer(torch, model):
    """AdamW with weight decay on matrices only (grpo_adamw's rule), and the step with clipping."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                              {"params": rest, "weight_decay": 0.0}], lr=LEARNING_RATE)


def main():
    ap = argparse.ArgumentParser(description="PyTorch side of bench/bench_suite.c: train step, no-grad forward, "
                                             "KV-cached decode and a whole GRPO step of the grpo.h architecture.")
    ap.add_argument("--config", choices=sorted(tm.CONFIGS), required=True)
    ap.add_argument("--threads", type=int, required=True, help="torch/OpenMP/OpenBLAS threads")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats after one warm-up (default 3)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--skip-decode", action="store_true", help="leave out the decode measure")
    ap.add_argument("--json", action="store_true", help="print exactly one JSON line")
    args = ap.parse_args()
    if args.repeats < 1 or args.threads < 1:
        ap.error("--repeats and --threads must be >= 1")

    try:
        torch = tm.set_threads(args.threads)
    except ImportError:
        raise SystemExit("torch_bench: %s has no torch; use Debian's /usr/bin/python3 (apt-get install python3-torch)" % sys.executable)
    import torch.nn.functional as Fn
    baseline_rss = tm.peak_rss_mib()
    busy0, own0 = system_busy_seconds(), time.process_time()
    torch.manual_seed(args.seed)
    cfg = tm.CONFIGS[args.config]
    V = cfg["vocab_size"]
    result = {"config": args.config, "threads": args.threads, "torch_version": torch.__version__,
              "blas": tm.blas_name(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset")}

    # ---- train step and no-grad forward, 16 x 128 tokens
    model = tm.build_model(args.config, GRPO_PROMPTS * GRPO_G)
    optimizer = make_optimizer(torch, model)
    tokens = torch.randint(0, V, (BATCH, SEQ))
    targets = torch.randint(0, V, (BATCH, SEQ))

    def train():
        t0 = time.perf_counter()
        loss = -tm.token_logprobs(model.logits(tokens), targets).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        optimizer.step()
        return time.perf_counter() - t0

    def forward():
        t0 = time.perf_counter()
        with torch.no_grad():
            lp = tm.token_logprobs(model.logits(tokens), targets)
        assert bool(torch.isfinite(lp).all())
        return time.perf_counter() - t0

    flops = tm.forward_flops(args.config, BATCH * SEQ, SEQ)
    t = best_of(args.repeats, train)
    result.update(train_seconds=t, train_tokens_per_second=BATCH * SEQ / t, train_gflops=3 * flops / t / 1e9)
    t = best_of(args.repeats, forward)
    result.update(forward_seconds=t, forward_tokens_per_second=BATCH * SEQ / t, forward_gflops=flops / t / 1e9)

    # ---- a whole GRPO step
    reference = tm.build_model(args.config, GRPO_PROMPTS * GRPO_G)
    reference.load_state_dict(model.state_dict())
    for p in reference.parameters():
        p.requires_grad_(False)
    S = GRPO_PROMPTS * GRPO_G
    text = b"Question: what is 12 + 30? Think, then answer in the tags below."[:GRPO_PROMPT_TOKENS - 1]
    prompt = torch.tensor([BOS] + list(text), dtype=torch.long)
    prompts = prompt.repeat(GRPO_PROMPTS, 1)                       # (2, 64)

    def grpo_step():
        times = {}
        t0 = time.perf_counter()
        rows = prompts.repeat_interleave(GRPO_G, dim=0)            # (16, 64)
        completion = torch.zeros(S, GRPO_NEW_TOKENS, dtype=torch.long)
        with torch.no_grad():
            logits = model.prefill_shared(prompts, GRPO_G)             # each prompt once, shared by its G rows
            for j in range(GRPO_NEW_TOKENS):
                token = torch.multinomial(Fn.softmax(logits, dim=-1), 1)
                completion[:, j:j + 1] = token
                if j + 1 < GRPO_NEW_TOKENS:
                    logits = model(token, GRPO_PROMPT_TOKENS + j)
        t1 = time.perf_counter()
        times["generation"] = t1 - t0
        rewards = []
        for s in range(S):
            data = bytes(int(x) for x in completion[s].tolist() if x < 256)
            rewards.append(1.0 if FORMAT.fullmatch(data.strip()) else 0.0)
        r = torch.tensor(rewards).view(GRPO_PROMPTS, GRPO_G)
        advantages = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(S)
        sequence = torch.cat([rows, completion], dim=1)             # (16, 128)
        inputs, goals = sequence[:, :-1], sequence[:, 1:]
        mask = torch.zeros(S, SEQ - 1)
        mask[:, GRPO_PROMPT_TOKENS - 1:] = 1.0                      # positions predicting completion tokens
        t2 = time.perf_counter()
        times["rewards"] = t2 - t1
        with torch.no_grad():
            ref_lp = tm.token_logprobs(reference.logits(inputs), goals)
        t3 = time.perf_counter()
        times["reference"] = t3 - t2
        lp = tm.token_logprobs(model.logits(inputs), goals)
        old = lp.detach()
        ratio = torch.exp(lp - old)
        a = advantages[:, None]
        pg = -torch.min(ratio * a, torch.clamp(ratio, 1 - EPSILON, 1 + EPSILON) * a)
        d = ref_lp - lp
        per_token = pg + BETA * (torch.exp(d) - d - 1)
        loss = (per_token * mask).sum() / mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t4 = time.perf_counter()
        times["policy"] = t4 - t3
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        optimizer.step()
        t5 = time.perf_counter()
        times["optimizer"] = t5 - t4
        times["total"] = t5 - t0
        return times

    grpo_step()                                                     # warm-up
    best = min((grpo_step() for _ in range(args.repeats)), key=lambda x: x["total"])
    result.update(grpo_seconds=best["total"], **{"grpo_" + k: v for k, v in best.items() if k != "total"})
    del reference, optimizer

    # ---- KV-cached decode: bench/torch_generate.py's measure, 16 sequences
    if not args.skip_decode:
        import torch_generate
        d = torch_generate.measure(args.config, 16, args.threads, args.repeats, args.seed)
        result.update(decode_tokens_per_second=d["tokens_per_second"], decode_only_tokens_per_second=d["decode_tokens_per_second"])

    result.update(peak_rss_mib=tm.peak_rss_mib(), baseline_rss_mib=baseline_rss,
                  other_cpu_seconds=system_busy_seconds() - busy0 - (time.process_time() - own0))
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        for k, v in result.items():
            print("%-32s %s" % (k, "%.4g" % v if isinstance(v, float) else v))


if __name__ == "__main__":
    main()
