#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_hf_model (see tests/fuzz/fuzz_hf_model.c for the input layout):
tiny Qwen2 (Q/K/V biases, untied head, F32 and BF16) and Llama (tied head, F16) model directories,
single-file and sharded. Plain Python: the safetensors format is 8 bytes of header length, a
JSON header and the raw little-endian data.
    python3 tests/fuzz/make_hf_model_seeds.py tests/fuzz/corpus/hf_model"""
import json
import os
import random
import struct
import sys

random.seed(7)
V, C, L, H, KVH, F = 16, 8, 1, 2, 1, 8
D = C // H


def tensors(qwen2):
    names = [("model.embed_tokens.weight", [V, C])]
    for l in range(L):
        p = f"model.layers.{l}."
        names += [(p + "input_layernorm.weight", [C]), (p + "self_attn.q_proj.weight", [H * D, C]),
                  (p + "self_attn.k_proj.weight", [KVH * D, C]), (p + "self_attn.v_proj.weight", [KVH * D, C])]
        if qwen2:
            names += [(p + "self_attn.q_proj.bias", [H * D]), (p + "self_attn.k_proj.bias", [KVH * D]),
                      (p + "self_attn.v_proj.bias", [KVH * D])]
        names += [(p + "self_attn.o_proj.weight", [C, H * D]), (p + "post_attention_layernorm.weight", [C]),
                  (p + "mlp.gate_proj.weight", [F, C]), (p + "mlp.up_proj.weight", [F, C]), (p + "mlp.down_proj.weight", [C, F])]
    names.append(("model.norm.weight", [C]))
    if qwen2:
        names.append(("lm_head.weight", [V, C]))
    return names


def encode(values, dtype):
    if dtype == "F32":
        return b"".join(struct.pack("<f", v) for v in values)
    if dtype == "F16":
        return b"".join(struct.pack("<e", v) for v in values)
    # BF16: the high half of the float32
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in values)


def safetensors(items, dtype):
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, shape in items:
        count = 1
        for s in shape:
            count *= s
        values = [1.0] * count if name.endswith("norm.weight") else [random.gauss(0.0, 0.02) for _ in range(count)]
        blob = encode(values, dtype)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def config(qwen2, dtype):
    c = {"architectures": ["Qwen2ForCausalLM" if qwen2 else "LlamaForCausalLM"], "model_type": "qwen2" if qwen2 else "llama",
         "hidden_size": C, "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H,
         "num_key_value_heads": KVH, "vocab_size": V, "max_position_embeddings": 32, "rms_norm_eps": 1e-6,
         "rope_theta": 1000000.0 if qwen2 else 10000.0, "hidden_act": "silu", "tie_word_embeddings": not qwen2,
         "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype], "bos_token_id": 1, "eos_token_id": 2}
    return json.dumps(c, indent=2).encode()


def u16(b):
    assert len(b) < 65536
    return struct.pack("<H", len(b)) + b


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for qwen2, dtype, mode in [(True, "F32", 0), (True, "BF16", 2), (False, "F16", 2)]:
        name = f"{'qwen2' if qwen2 else 'llama'}_{dtype.lower()}_single{'_context16' if mode & 2 else ''}"
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([mode]) + u16(config(qwen2, dtype)) + safetensors(tensors(qwen2), dtype))
    # sharded: the first half of the tensors in shard 1, the rest in shard 2
    items = tensors(True)
    half = len(items) // 2
    shards = [safetensors(items[:half], "F32"), safetensors(items[half:], "F32")]
    files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    index = {"metadata": {"total_size": sum(len(s) for s in shards)},
             "weight_map": {n: files[0 if i < half else 1] for i, (n, _) in enumerate(items)}}
    with open(os.path.join(out, "qwen2_f32_sharded_context16"), "wb") as f:
        f.write(bytes([3]) + u16(config(True, "F32")) + u16(json.dumps(index).encode()) + u16(shards[0]) + shards[1])
    print("seeds written to", out)


if __name__ == "__main__":
    main()
