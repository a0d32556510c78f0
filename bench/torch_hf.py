#!/usr/bin/env python3
"""The PyTorch side of bench/bench_hf.c: the same Hugging Face model directory in transformers (fp32),
the same work: a no-grad forward of B x T tokens, and sampling G completions of N new tokens from one
prompt with the KV cache (model.generate). Prints one JSON line of results.

    /usr/bin/python3 bench/torch_hf.py --model DIR --batch 1 --tokens 128 --group 8 --prompt 64 --new 32 --threads 2

    /usr/bin/python3 bench/torch_hf.py --make-qwen2.5-0.5b DIR
writes a randomly initialised model with Qwen2.5-0.5B's config.json (hand-copied from the
published one: 24 layers, d_model 896, 14 heads, 2 KV heads, d_ff 4864, vocab 151936, tied) in
bfloat16, for measuring without downloading the real weights (speed does not depend on them).
"""
import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
import torch
from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM
import transformers.generation.utils as generation_utils

# generate() asks whether the model is FSDP-managed, which imports torch.distributed.fsdp, and that
# does not import on Debian's torch 1.13 with Python 3.11 (a dataclass error); nothing here is FSDP.
generation_utils.is_fsdp_managed_module = lambda module: False

QWEN25_05B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
    "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
    "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
    "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 32768, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "use_cache": True,
    "use_sliding_window": False, "vocab_size": 151936}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--make-qwen2.5-0.5b", dest="make", metavar="DIR")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--prompt", type=int, default=64)
    parser.add_argument("--new", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.make:
        config = Qwen2Config(**{k: v for k, v in QWEN25_05B.items() if k not in ("architectures", "model_type", "torch_dtype")})
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
        model.save_pretrained(args.make, safe_serialization=True)
        print(json.dumps({"made": args.make, "parameters": sum(p.numel() for p in model.parameters())}))
        return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32)
    model.eval()
    load = time.perf_counter() - start
    V = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, V, (args.batch, args.tokens), generator=g)
    forward = []
    with torch.no_grad():
        for _ in range(args.repeats):
            start = time.perf_counter()
            model(tokens)
            forward.append(time.perf_counter() - start)
    prompt = torch.randint(0, V, (1, args.prompt), generator=g)
    generate = []
    with torch.no_grad():
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = model.generate(prompt, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, num_return_sequences=args.group,
                                 max_new_tokens=args.new, min_new_tokens=args.new, use_cache=True, pad_token_id=0)
            generate.append(time.perf_counter() - start)
            assert out.shape == (args.group, args.prompt + args.new)
    print(json.dumps({"load_seconds": load, "forward_tokens_per_second": args.batch * args.tokens / min(forward),
                      "generate_new_tokens_per_second": args.group * args.new / min(generate),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
