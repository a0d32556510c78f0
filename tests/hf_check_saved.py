#!/usr/bin/env python3
"""Loads every model that tests/test_hf.c saved with grpo_hf_model_save (build/hf/saved/<name>/)
into transformers, runs it on the tokens grpo.h ran, and compares with grpo.h's logits
(grpo_logits.bin). Ends with "hf_check_saved: N passed, M failed".

    /usr/bin/python3 tests/hf_check_saved.py build/hf
"""
import os
import struct
import sys

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
import numpy as np
import torch
from transformers import AutoConfig, AutoModelForCausalLM

TOLERANCE = 2e-5  # relative error, infinity norm, as tests/test_hf.c uses against transformers


def main():
    root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "build/hf", "saved")
    torch.set_num_threads(1)
    passed = failed = 0
    names = sorted(os.listdir(root)) if os.path.isdir(root) else []
    for name in names:
        directory = os.path.join(root, name)
        try:
            config = AutoConfig.from_pretrained(directory)
            model = AutoModelForCausalLM.from_pretrained(directory, torch_dtype=torch.float32)
            model.eval()
            with open(os.path.join(directory, "grpo_logits.bin"), "rb") as f:
                B, T, V = struct.unpack("<3i", f.read(12))
                tokens = np.frombuffer(f.read(B * T * 4), dtype=np.int32).reshape(B, T)
                ours = np.frombuffer(f.read(B * T * V * 4), dtype=np.float32).reshape(B, T, V)
            with torch.no_grad():
                theirs = model(torch.from_numpy(tokens.astype(np.int64))).logits.numpy()
            error = float(np.abs(theirs - ours).max() / np.abs(ours).max())
            ok = error < TOLERANCE and type(model).__name__ == config.architectures[0]
            print(f"  {name:22s} reloaded by transformers as {type(model).__name__}: relative error {error:.2e}")
        except Exception as exception:  # a file transformers cannot load is a failure, not a crash
            ok = False
            print(f"  {name}: transformers could not load it: {exception}")
        passed += ok
        failed += not ok
    # the model examples/hf_r1_zero trained and saved, with the tokenizer files it copied beside it
    trained = os.path.join(os.path.dirname(root), "r1_out")
    if os.path.isdir(trained):
        try:
            from transformers import AutoTokenizer
            model = AutoModelForCausalLM.from_pretrained(trained, torch_dtype=torch.float32)
            tokenizer = AutoTokenizer.from_pretrained(trained)
            ids = tokenizer("<think> 2 + 2 </think> <answer>4</answer>", return_tensors="pt").input_ids
            with torch.no_grad():
                ok = bool(torch.isfinite(model(ids).logits).all()) and tokenizer.eos_token == "<|endoftext|>"
            print(f"  r1_out                 the model hf_r1_zero trained loads in transformers with its tokenizer: {ok}")
        except Exception as exception:
            ok = False
            print(f"  r1_out: transformers could not load it: {exception}")
        passed += ok
        failed += not ok
    if not names:
        print(f"  no saved models under {root}")
        failed += 1
    print(f"hf_check_saved: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
