#!/usr/bin/python3
"""PyTorch side of the decode-throughput benchmark (bench/bench_generate.c runs it and compares).

The grpo.h architecture written plainly in PyTorch, the way a user would write it: nn.Module,
nn.Linear, a hand-written KV cache, torch.inference_mode(); no torch.compile, no custom kernels.

    /usr/bin/python3 bench/torch_generate.py --config A|B --sequences 16|64 [--threads N]
                                             [--repeats 3] [--json]
    /usr/bin/python3 bench/torch_generate.py --all          (8 runs and a table, for a human)

Run it with Debian's /usr/bin/python3 (python3-torch 1.13), not the pyenv python3 on PATH.

THE MODEL (bench/torch_model.py, shared with bench/torch_bench.py; grpo.h defaults: n_kv_heads = n_heads, no qkv bias, tied head, rope_theta 10000,
norm_eps 1e-5, d_ff = ceil(8*C/3 / 32) * 32)
    x = embedding[tokens]                                           embedding (V, C)
    per layer:
        n = rmsnorm(x)                      rmsnorm(x) = x * rsqrt(mean(x^2) + 1e-5) * w
        q, k, v = wq n, wk n, wv n          H heads of D = C/H
        q, k rotated by RoPE, Hugging Face "rotate_half" layout: pairs (i, i + D/2),
            inv_freq_i = 10000^(-2i/D), angle = position * inv_freq_i
        k, v written in place into the KV cache (S, H, max_len, D) at their positions
        x = x + wo softmax(q k^T / sqrt(D), causal) v
        x = x + w_down (silu(w_gate rmsnorm(x)) * w_up rmsnorm(x))
    logits = embedding rmsnorm(x)                                    tied head
Weights as grpo_model_create draws them: normal(0, 0.02), except wo and w_down at
0.02 / sqrt(2 * n_layers) (GPT-2's residual scaling); norm weights 1. (The values do not change
the speed; they only keep the sampled distribution like the C side's.)

CONFIGS   A: 4 layers, 4 heads, d_model 256, vocab 512, d_ff 704   (3.3 M parameters)
          B: 6 layers, 8 heads, d_model 512, vocab 512, d_ff 1376  (19.2 M parameters)
          context 128 for both.

WORKLOAD  S sequences = S/G distinct prompts of 64 random token ids, each repeated G times
          (G = 4 for S = 16, G = 8 for S = 64), as in a GRPO rollout. Like grpo.h, PyTorch
          prefills each distinct prompt once and copies its keys and values into the cache rows
          of its G sequences (prefill_shared); with --prefill-every-row it prefills all S rows
          instead, G times the prefill work (what a user who repeats the prompts, as TRL does,
          gets; the comparisons before 2026-11-25 11:00 UTC were made against that). The
          prefill's last-position logits give new token 1 (sampled independently in each of
          the G rows); then 63 decode steps, each one
          batched forward of S rows of 1 token, give tokens 2..64. Every step samples
          multinomial(softmax(logits / T)), T = 1.0, no top-k/top-p, and gathers the sampled
          token's log_softmax(logits / T) (GRPO's lp_old). No EOS: all S sequences make 64 tokens.
          Positions used: 0..126 of the context of 128.

MEASURES  tokens_per_second        = S * 64 / (prefill + decode loop)
          decode_tokens_per_second = S * 63 / decode loop
          One warm-up (the prefill and 7 decode steps), then the best (highest tokens_per_second)
          of --repeats (default 3); every reported number comes from that one best repeat.

CHECK     After the timed runs, the last run's sampling-time log-probs are compared with those of
          a full causal forward over prompt + completion without the cache; a difference of 1e-3
          or more ends the script with an error (so a broken cache cannot make a fast baseline).

FLOPs (2 per multiply-add; embeddings lookups, norms, RoPE, softmax and sampling not counted)
    per layer matmul parameters  P_l = 4*C*C (wq, wk, wv, wo) + 3*C*F (w_gate, w_up, w_down)
    one token whose attention reads n keys (itself included):
        flops(n) = n_layers * (2*P_l + 4*C*n)  +  2*C*V
                   (2*P_l: the projections; 2*C*n for q k^T and 2*C*n for att v over H heads
                   of D, H*D = C; 2*C*V: the tied lm_head)
    decode  = S * sum_{j=1..63} flops(64 + j)            (step j feeds position 63+j)
    prefill = R * (64 * n_layers * 2*P_l + n_layers * 4*C * sum_{t=1..64} t + 2*C*V)
              (R = S/G prefilled rows, or S with --prefill-every-row; causal half of the
              attention only, lm_head on the last position only)
    GFLOP/s = those FLOPs / the measured seconds.

THREADS   torch.set_num_threads must be set explicitly (this torch starts at 1 thread here).
          --threads N sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to N before
          torch is imported, then torch.set_num_threads(N). Without --threads the script runs
          itself once per setting (1 and 2, each a fresh process, since the OpenMP and OpenBLAS
          thread counts are read when the libraries load) and reports the best one: that is the
          number bench_generate.c compares against. torch's matmuls go to sgemm_ in libblas.so.3,
          which Debian's alternatives point at OpenBLAS; the "blas" field reports
          openblas_get_config(). With the OpenMP build of OpenBLAS (USE_OPENMP in that string),
          OpenBLAS follows omp_get_max_threads() of the caller, i.e. torch.set_num_threads: a
          "1 torch thread, 2 OpenBLAS threads" mix cannot exist there, so 1 and 2 are the
          settings. OMP_WAIT_POLICY is left as found and reported (passive made decode 1.8x
          slower on config A). With 2 threads, any other busy process on the 2 cores makes
          OpenMP's barriers wait for a descheduled thread: 10-25x slower (see other_cpu_seconds).

OUTPUT    --json: exactly one JSON line on stdout:
          {"config", "sequences", "group_size", "prompt_tokens", "new_tokens", "threads",
           "tokens_per_second", "decode_tokens_per_second", "prefill_seconds", "decode_seconds",
           "torch_version", "blas", then extra fields: "decode_gflops", "prefill_gflops",
           "omp_wait_policy", "repeats", "parameters", "other_cpu_seconds" (CPU seconds other
           processes used during the reported repeat: the machine is shared, > 0.5 or so means
           a disturbed measurement), "prefill_rows" (S/G, or S with --prefill-every-row), and without --threads "threads_tried" (tokens_per_second
           of each setting)}.
          Otherwise a few lines for a human.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_model import CONFIGS, CONTEXT, d_ff_of, token_logprobs  # noqa: E402  (the model itself: bench/torch_model.py)

PROMPT_TOKENS = 64
NEW_TOKENS = 64
GROUP_SIZE = {16: 4, 64: 8}
TEMPERATURE = 1.0
THREAD_SETTINGS = (1, 2)
WARMUP_NEW_TOKENS = 8  # the warm-up: a full prefill and 7 decode steps (keeps a default run < 60 s)

def flop_counts(cfg, S, prompts):
    """(prefill FLOPs, decode FLOPs) of one generation, per the formula in the docstring."""
    L, C, V = cfg["n_layers"], cfg["d_model"], cfg["vocab_size"]
    F = d_ff_of(C)
    P_l = 4 * C * C + 3 * C * F

    def flops(n):
        return L * (2 * P_l + 4 * C * n) + 2 * C * V

    decode = S * sum(flops(PROMPT_TOKENS + j) for j in range(1, NEW_TOKENS))
    causal = PROMPT_TOKENS * (PROMPT_TOKENS + 1) // 2
    prefill = prompts * (PROMPT_TOKENS * L * 2 * P_l + L * 4 * C * causal + 2 * C * V)
    return prefill, decode


# ------------------------------------------------------------------------------------------
# The model, and one measurement in this process with `threads` threads. torch is imported
# inside these functions, after measure has set the thread environment variables.

def system_busy_seconds():
    """CPU seconds all processes of the machine have run (Linux /proc/stat; nan elsewhere)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")    # all but idle and iowait
    except (OSError, ValueError):
        return float("nan")


def build_model(config_name, max_batch):
    """The model (bench/torch_model.py, weights drawn from torch's current RNG) and the sampler.
    Import torch only after the thread environment is set (see measure)."""
    import torch
    import torch.nn.functional as Fn
    from torch_model import build_model as build

    def sample(logits):
        scaled = logits / TEMPERATURE
        token = torch.multinomial(Fn.softmax(scaled, dim=-1), 1)      # (S, 1)
        logprob = Fn.log_softmax(scaled, dim=-1).gather(-1, token)
        return token, logprob

    return build(config_name, max_batch).eval(), sample


def measure(config_name, S, threads, repeats, seed, prefill_every_row=False):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import ctypes
    try:
        import torch
    except ImportError:
        raise SystemExit("torch_generate: %s has no torch; run it with Debian's /usr/bin/python3 "
                         "(apt-get install python3-torch)" % sys.executable)

    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    cfg = CONFIGS[config_name]
    V, G = cfg["vocab_size"], GROUP_SIZE[S]
    model, sample = build_model(config_name, S)
    prompts = torch.randint(0, V, (S // G, PROMPT_TOKENS))
    if prefill_every_row:
        prompts = prompts.repeat_interleave(G, dim=0)
    out_tokens = torch.zeros(S, NEW_TOKENS, dtype=torch.long)
    out_logprobs = torch.zeros(S, NEW_TOKENS)

    def generate(new_tokens=NEW_TOKENS):
        busy0, own0 = system_busy_seconds(), time.process_time()
        t0 = time.perf_counter()
        logits = model(prompts, 0) if prefill_every_row else model.prefill_shared(prompts, G)
        token, logprob = sample(logits)
        out_tokens[:, 0:1] = token
        out_logprobs[:, 0:1] = logprob
        t1 = time.perf_counter()
        for j in range(1, new_tokens):
            token, logprob = sample(model(token, PROMPT_TOKENS + j - 1))
            out_tokens[:, j:j + 1] = token
            out_logprobs[:, j:j + 1] = logprob
        t2 = time.perf_counter()
        other = system_busy_seconds() - busy0 - (time.process_time() - own0)
        return t1 - t0, t2 - t1, other

    with torch.inference_mode():
        generate(WARMUP_NEW_TOKENS)                                    # warm-up
        runs = [generate() for _ in range(repeats)]
        assert bool(torch.isfinite(out_logprobs).all()) and bool((out_logprobs <= 0).all())
        # the baseline must do the real work: the last run's sampling-time log-probs against a
        # full causal forward over prompt + completion, without the cache
        rows = prompts if prefill_every_row else prompts.repeat_interleave(G, dim=0)
        full = torch.cat([rows, out_tokens], dim=1)
        check = token_logprobs(model.logits(full[:, :-1]), full[:, 1:])[:, PROMPT_TOKENS - 1:]
        error = float((check - out_logprobs).abs().max())
        if not error < 1e-3:
            raise SystemExit("torch_generate: the KV-cached log-probs differ from a full forward's by %g" % error)
    prefill_s, decode_s, other_s = min(runs, key=lambda r: r[0] + r[1])

    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        blas = lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        blas = "unknown (torch BLAS_INFO=%s)" % ("generic" if "BLAS_INFO=generic" in torch.__config__.show() else "?")

    prefill_flops, decode_flops = flop_counts(cfg, S, S if prefill_every_row else S // G)
    return {
        "config": config_name,
        "sequences": S,
        "group_size": G,
        "prompt_tokens": PROMPT_TOKENS,
        "new_tokens": NEW_TOKENS,
        "threads": threads,
        "tokens_per_second": S * NEW_TOKENS / (prefill_s + decode_s),
        "decode_tokens_per_second": S * (NEW_TOKENS - 1) / decode_s,
        "prefill_seconds": prefill_s,
        "decode_seconds": decode_s,
        "torch_version": torch.__version__,
        "blas": blas,
        "decode_gflops": decode_flops / decode_s / 1e9,
        "prefill_gflops": prefill_flops / prefill_s / 1e9,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "repeats": repeats,
        "parameters": sum(p.numel() for p in model.parameters()),
        "other_cpu_seconds": other_s,
        "prefill_rows": S if prefill_every_row else S // G,
    }


# ------------------------------------------------------------------------------------------
# Runs in fresh processes (one per thread setting) and the output.

def run_child(config_name, S, threads, repeats, seed, prefill_every_row):
    cmd = [sys.executable, os.path.abspath(__file__), "--config", config_name, "--sequences", str(S),
           "--threads", str(threads), "--repeats", str(repeats), "--seed", str(seed), "--json"]
    if prefill_every_row:
        cmd.append("--prefill-every-row")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit("torch_generate: %s failed (exit code %d)" % (" ".join(cmd), proc.returncode))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of_settings(config_name, S, repeats, seed, prefill_every_row):
    results = [run_child(config_name, S, t, repeats, seed, prefill_every_row) for t in THREAD_SETTINGS]
    best = dict(max(results, key=lambda r: r["tokens_per_second"]))
    best["threads_tried"] = {str(r["threads"]): round(r["tokens_per_second"], 1) for r in results}
    return best


def describe(r):
    lines = [
        "torch_generate: config %s (%d parameters), %d sequences (%d prompts x G %d), %d prompt + %d new tokens"
        % (r["config"], r["parameters"], r["sequences"], r["sequences"] // r["group_size"], r["group_size"],
           r["prompt_tokens"], r["new_tokens"]),
        "  torch %s, %d thread(s), BLAS: %s, OMP_WAIT_POLICY %s, best of %d"
        % (r["torch_version"], r["threads"], r["blas"], r["omp_wait_policy"], r["repeats"]),
        "  %.0f new tokens/s (prefill %.3f s + decode %.3f s); decode only %.0f tokens/s, %.1f GFLOP/s; prefill %.1f GFLOP/s"
        % (r["tokens_per_second"], r["prefill_seconds"], r["decode_seconds"], r["decode_tokens_per_second"],
           r["decode_gflops"], r["prefill_gflops"]),
        "  other processes used %.2f CPU seconds meanwhile%s"
        % (r["other_cpu_seconds"], " (a disturbed measurement)" if r["other_cpu_seconds"] > 0.5 else ""),
    ]
    if "threads_tried" in r:
        lines.append("  threads tried (new tokens/s): %s; best: %d"
                     % (", ".join("%s: %.0f" % kv for kv in r["threads_tried"].items()), r["threads"]))
    return "\n".join(lines)


def run_all(repeats, seed, prefill_every_row):
    rows = []
    for config_name in CONFIGS:
        for S in GROUP_SIZE:
            for t in THREAD_SETTINGS:
                r = run_child(config_name, S, t, repeats, seed, prefill_every_row)
                rows.append(r)
                print("  %s S=%-2d threads=%d: %.0f tok/s" % (config_name, S, t, r["tokens_per_second"]),
                      file=sys.stderr, flush=True)
    first = rows[0]
    print("torch %s, BLAS: %s, OMP_WAIT_POLICY %s, best of %d, %d prompt + %d new tokens"
          % (first["torch_version"], first["blas"], first["omp_wait_policy"], repeats, PROMPT_TOKENS, NEW_TOKENS))
    print("config  S   G  threads  new tok/s  decode tok/s  prefill s  decode s  decode GFLOP/s  prefill GFLOP/s  other CPU s  best")
    for r in rows:
        peers = [p for p in rows if p["config"] == r["config"] and p["sequences"] == r["sequences"]]
        best = max(peers, key=lambda p: p["tokens_per_second"]) is r
        print("%-6s %3d %3d %8d %10.0f %13.0f %10.3f %9.3f %15.1f %16.1f %12.2f  %s"
              % (r["config"], r["sequences"], r["group_size"], r["threads"], r["tokens_per_second"],
                 r["decode_tokens_per_second"], r["prefill_seconds"], r["decode_seconds"], r["decode_gflops"],
                 r["prefill_gflops"], r["other_cpu_seconds"], "*" if best else ""))


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch KV-cached generation throughput of the grpo.h architecture "
                    "(the baseline bench/bench_generate.c compares against).",
        epilog="Without --threads, runs itself with 1 and 2 threads (fresh processes) and reports the best. "
               "Use Debian's /usr/bin/python3 (python3-torch).")
    ap.add_argument("--config", choices=sorted(CONFIGS), help="A: 4 layers, d 256; B: 6 layers, d 512")
    ap.add_argument("--sequences", type=int, choices=sorted(GROUP_SIZE),
                    help="S = prompts x G (G = 4 for 16, 8 for 64)")
    ap.add_argument("--threads", type=int, help="torch/OpenMP/OpenBLAS threads; default: try 1 and 2, keep the best")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats after one warm-up; the best is kept (default 3)")
    ap.add_argument("--seed", type=int, default=1234, help="torch.manual_seed (default 1234)")
    ap.add_argument("--json", action="store_true", help="print exactly one JSON line on stdout")
    ap.add_argument("--prefill-every-row", action="store_true",
                    help="prefill all S rows (each prompt G times) instead of each distinct prompt once")
    ap.add_argument("--all", action="store_true", help="run configs A, B x sequences 16, 64 x threads 1, 2; print a table")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be >= 1")

    if args.all:
        run_all(args.repeats, args.seed, args.prefill_every_row)
        return
    if args.config is None or args.sequences is None:
        ap.error("--config and --sequences are required (or --all)")
    if args.threads is not None:
        result = measure(args.config, args.sequences, args.threads, args.repeats, args.seed, args.prefill_every_row)
    else:
        result = best_of_settings(args.config, args.sequences, args.repeats, args.seed, args.prefill_every_row)
    print(json.dumps(result) if args.json else describe(result), flush=True)


if __name__ == "__main__":
    main()
