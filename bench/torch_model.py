"""grpo.h's architecture written plainly in PyTorch, shared by the benchmarks' PyTorch side
(bench/torch_generate.py: KV-cached decoding; bench/torch_bench.py: training, the no-grad
forward and a whole GRPO step). The way a user would write it: nn.Module, nn.Linear, explicit
attention with a causal mask (torch 1.13 has no scaled_dot_product_attention), a hand-written
KV cache; no torch.compile, no custom kernels.

THE MODEL (grpo.h defaults: n_kv_heads = n_heads, no qkv bias, tied head, rope_theta 10000,
norm_eps 1e-5, d_ff = ceil(8*C/3 / 32) * 32)
    x = embedding[tokens]                                           embedding (V, C)
    per layer:
        n = rmsnorm(x)                      rmsnorm(x) = x * rsqrt(mean(x^2) + 1e-5) * w
        q, k, v = wq n, wk n, wv n          H heads of D = C/H
        q, k rotated by RoPE, Hugging Face "rotate_half" layout: pairs (i, i + D/2),
            inv_freq_i = 10000^(-2i/D), angle = position * inv_freq_i
        x = x + wo softmax(q k^T / sqrt(D), causal) v
        x = x + w_down (silu(w_gate rmsnorm(x)) * w_up rmsnorm(x))
    logits = embedding rmsnorm(x)                                    tied head
Weights as grpo_model_create draws them: normal(0, 0.02), except wo and w_down at
0.02 / sqrt(2 * n_layers) (GPT-2's residual scaling); norm weights 1.

CONFIGS   A: 4 layers, 4 heads, d_model 256, vocab 512, d_ff 704   (3.3 M parameters)
          B: 6 layers, 8 heads, d_model 512, vocab 512, d_ff 1376  (19.2 M parameters)
          context 128 for both.

Import torch only after set_threads: OpenMP and OpenBLAS read their thread counts when the
libraries load.
"""
import math
import os

CONFIGS = {
    "A": dict(n_layers=4, n_heads=4, d_model=256, vocab_size=512),
    "B": dict(n_layers=6, n_heads=8, d_model=512, vocab_size=512),
}
CONTEXT = 128
NORM_EPS = 1e-5
ROPE_THETA = 10000.0


def d_ff_of(C):
    return ((8 * C // 3) + 31) // 32 * 32  # grpo.h's default: ceil(8*C/3 / 32) * 32


def set_threads(threads):
    """OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = threads, then (importing torch)
    torch.set_num_threads(threads). Call before anything imports torch."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch
    torch.set_num_threads(threads)
    return torch


def blas_name():
    """openblas_get_config() of the libopenblas torch's sgemm_ resolves to, if any."""
    import ctypes
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        return "unknown"


def peak_rss_mib():
    """Peak resident set size of this process so far (getrusage; Linux reports KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_model(config_name, max_batch, max_len=CONTEXT):
    """The model (weights drawn from torch's current RNG) and the sampler. The model has
    forward(tokens, start_pos) -> logits of the last position, through the KV cache (prefill
    and decode), and logits(tokens) -> (B, T, V), the full causal forward without the cache
    (training, reference log-probs)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as Fn

    cfg = CONFIGS[config_name]
    L, H, C, V = cfg["n_layers"], cfg["n_heads"], cfg["d_model"], cfg["vocab_size"]
    D, F = C // H, d_ff_of(C)

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=NORM_EPS):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.wq = nn.Linear(C, C, bias=False)
            self.wk = nn.Linear(C, C, bias=False)
            self.wv = nn.Linear(C, C, bias=False)
            self.wo = nn.Linear(C, C, bias=False)
            self.register_buffer("cache_k", torch.zeros(max_batch, H, max_len, D), persistent=False)
            self.register_buffer("cache_v", torch.zeros(max_batch, H, max_len, D), persistent=False)

        def forward(self, x, start_pos, cos, sin, mask, use_cache):
            B, T, _ = x.shape
            q = self.wq(x).view(B, T, H, D).transpose(1, 2)          # (B, H, T, D)
            k = self.wk(x).view(B, T, H, D).transpose(1, 2)
            v = self.wv(x).view(B, T, H, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if use_cache:
                self.cache_k[:B, :, start_pos:start_pos + T] = k      # in place
                self.cache_v[:B, :, start_pos:start_pos + T] = v
                k = self.cache_k[:B, :, :start_pos + T]               # (B, H, n, D)
                v = self.cache_v[:B, :, :start_pos + T]
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D)
            if mask is not None:
                scores = scores + mask
            scores = Fn.softmax(scores, dim=-1)
            out = torch.matmul(scores, v)                              # (B, H, T, D)
            return self.wo(out.transpose(1, 2).reshape(B, T, C))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.w_gate = nn.Linear(C, F, bias=False)
            self.w_up = nn.Linear(C, F, bias=False)
            self.w_down = nn.Linear(F, C, bias=False)

        def forward(self, x):
            return self.w_down(Fn.silu(self.w_gate(x)) * self.w_up(x))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_norm = RMSNorm(C)
            self.attn = Attention()
            self.mlp_norm = RMSNorm(C)
            self.mlp = MLP()

        def forward(self, x, start_pos, cos, sin, mask, use_cache):
            x = x + self.attn(self.attn_norm(x), start_pos, cos, sin, mask, use_cache)
            return x + self.mlp(self.mlp_norm(x))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(V, C)
            self.layers = nn.ModuleList([Block() for _ in range(L)])
            self.final_norm = RMSNorm(C)
            inv_freq = ROPE_THETA ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
            angle = torch.arange(max_len, dtype=torch.float64)[:, None] * inv_freq[None, :]
            angle = torch.cat((angle, angle), dim=-1)                  # (max_len, D)
            self.register_buffer("rope_cos", angle.cos().float(), persistent=False)
            self.register_buffer("rope_sin", angle.sin().float(), persistent=False)
            with torch.no_grad():                                      # grpo_model_create's scales
                for name, p in self.named_parameters():
                    if name.endswith("norm.weight"):
                        continue
                    std = 0.02 / math.sqrt(2 * L) if name.endswith(("wo.weight", "w_down.weight")) else 0.02
                    p.normal_(0.0, std)

        def _run(self, tokens, start_pos, use_cache):
            B, T = tokens.shape
            x = self.embedding(tokens)
            cos = self.rope_cos[start_pos:start_pos + T]
            sin = self.rope_sin[start_pos:start_pos + T]
            mask = None
            if T > 1:
                mask = torch.full((T, start_pos + T), float("-inf")).triu(start_pos + 1)
            for layer in self.layers:
                x = layer(x, start_pos, cos, sin, mask, use_cache)
            return x

        def forward(self, tokens, start_pos):
            """tokens (B, T) at positions start_pos..start_pos+T-1, through the KV cache ->
            logits (B, V) of the last position."""
            x = self._run(tokens, start_pos, True)
            x = self.final_norm(x[:, -1, :])
            return Fn.linear(x, self.embedding.weight)                # tied head

        def prefill_shared(self, prompts, G):
            """Prefill prompts (P, T) once, copy each one's cache rows (positions [0, T)) into the
            rows of its G sequences (prompt p to rows p G .. p G + G - 1), as grpo.h shares a
            prompt's keys and values: -> the last position's logits, (P G, V), row p G + g that
            of prompt p."""
            P, T = prompts.shape
            logits = self(prompts, 0)
            for layer in self.layers:
                for cache in (layer.attn.cache_k, layer.attn.cache_v):
                    cache[:P * G, :, :T] = cache[:P, :, :T].repeat_interleave(G, dim=0)
            return logits.repeat_interleave(G, dim=0)

        def logits(self, tokens):
            """The full causal forward of tokens (B, T) from position 0, no cache -> (B, T, V)."""
            x = self.final_norm(self._run(tokens, 0, False))
            return Fn.linear(x, self.embedding.weight)

    return Transformer()


def token_logprobs(logits, targets, temperature=1.0):
    """log softmax(logits / temperature)[targets]: (B, T, V), (B, T) -> (B, T)."""
    import torch
    return torch.log_softmax(logits / temperature, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def forward_flops(config_name, tokens, T):
    """FLOPs of one forward over `tokens` tokens in rows of T (2 per multiply-add): the matmuls
    (projections, MLP, tied head) and the causal attention (q k^T and att v over t + 1 keys at
    position t). The backward costs twice the forward."""
    cfg = CONFIGS[config_name]
    L, C, V = cfg["n_layers"], cfg["d_model"], cfg["vocab_size"]
    F = d_ff_of(C)
    matmul = 2.0 * tokens * (L * (4 * C * C + 3 * C * F) + C * V)
    attention = 4.0 * L * C * (tokens / T) * (T * (T + 1) / 2)
    return matmul + attention
