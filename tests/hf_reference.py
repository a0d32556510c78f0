#!/usr/bin/env python3
"""Builds the Hugging Face fixtures that tests/test_hf.c checks grpo.h against, with no download:

  models/<name>/        tiny random Llama and Qwen2 models saved by transformers (F32, F16, BF16,
                        sharded), with reference.bin: the input tokens and transformers' logits
  models/qwen2-r1/      a tiny Qwen2 with the Qwen2-style tokenizer, for the examples/hf_r1_zero smoke run
  tokenizers/<name>/    small byte-level BPE tokenizers trained by `tokenizers` (Qwen2-style:
                        NFC + Split(Qwen2 pattern) + ByteLevel; GPT-2-style: ByteLevel with the GPT-2
                        pattern, with and without add_prefix_space; merges as [a, b] and as "a b"),
                        and cases.jsonl: texts with the ids `tokenizers` gives them
  pretokenize.jsonl     texts with the pieces Split(pattern) cuts them into (byte offsets)
  nfc.jsonl             texts with their NFC by Python's unicodedata (Unicode 14, what grpo.h
                        follows) and by `tokenizers` (whose tables are older: they differ on marks
                        added since, which is counted and reported)
  classes.json          the code points Oniguruma (inside `tokenizers`) takes as \\p{L}, \\p{N}, \\s
  chat.jsonl            Qwen2's ChatML template rendered by transformers' apply_chat_template

    /usr/bin/python3 tests/hf_reference.py --out build/hf
Ends with "hf_reference: 1 passed, 0 failed".
"""
import argparse
import json
import os
import random
import shutil
import struct
import sys
import unicodedata

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
import torch
import transformers
import tokenizers
from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
QWEN2_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                  "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
                  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def randomize(model, generator):
    """Weights larger than transformers' init (so that every tensor matters), norms around 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=generator))


def write_reference(directory, tokens, logits):
    B, T = tokens.shape
    V = logits.shape[-1]
    with open(os.path.join(directory, "reference.bin"), "wb") as f:
        f.write(struct.pack("<3i", B, T, V))
        f.write(tokens.to(torch.int32).numpy().tobytes())
        f.write(logits.to(torch.float32).contiguous().numpy().tobytes())


def build_models(out):
    generator = torch.Generator().manual_seed(8)
    llama = LlamaForCausalLM(LlamaConfig(
        vocab_size=320, hidden_size=64, intermediate_size=176, num_hidden_layers=3, num_attention_heads=8,
        num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2))
    qwen2 = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=False, use_sliding_window=False))
    qwen2_tied = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=272, hidden_size=48, intermediate_size=128, num_hidden_layers=2, num_attention_heads=6,
        num_key_value_heads=1, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True))
    for m in (llama, qwen2, qwen2_tied):
        randomize(m, generator)
        m.eval()
    variants = [
        ("llama-f32", llama, torch.float32, None),
        ("llama-sharded-bf16", llama, torch.bfloat16, "40KB"),
        ("qwen2-f32", qwen2, torch.float32, None),
        ("qwen2-f16", qwen2, torch.float16, None),
        ("qwen2-bf16", qwen2, torch.bfloat16, None),
        ("qwen2-tied-sharded", qwen2_tied, torch.float32, "60KB"),
    ]
    for name, model, dtype, shard in variants:
        directory = os.path.join(out, "models", name)
        os.makedirs(directory, exist_ok=True)
        copy = type(model)(model.config)
        copy.load_state_dict(model.state_dict())
        copy = copy.to(dtype)
        kwargs = {"max_shard_size": shard} if shard else {}
        copy.save_pretrained(directory, safe_serialization=True, **kwargs)
        # the reference: the saved weights, upcast to float32, in float32 arithmetic
        reloaded = type(model).from_pretrained(directory, torch_dtype=torch.float32)
        reloaded.eval()
        V = model.config.vocab_size
        tokens = torch.randint(0, V, (3, 17), generator=generator)
        with torch.no_grad():
            logits = reloaded(tokens).logits
        write_reference(directory, tokens, logits)
        files = sorted(os.listdir(directory))
        if shard and "model.safetensors.index.json" not in files:
            sys.exit(f"hf_reference: {name} was meant to be sharded, files: {files}")


def build_r1_model(out):
    """A tiny Qwen2 with the Qwen2-style tokenizer beside it, for the examples/hf_r1_zero smoke run."""
    directory = os.path.join(out, "models", "qwen2-r1")
    os.makedirs(directory, exist_ok=True)
    tokenizer = tokenizers.Tokenizer.from_file(os.path.join(out, "tokenizers", "qwen2-list", "tokenizer.json"))
    model = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=tokenizer.get_vocab_size() + 7, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
        eos_token_id=tokenizer.token_to_id("<|endoftext|>")))
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save(os.path.join(directory, "tokenizer.json"))
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                   "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512}, f)


def corpus_texts(rng):
    """A varied corpus: several scripts, digits, contractions, emoji, white-space runs, specials."""
    fixed = [
        "Hello world! It's a test, isn't it? We'll see; they've gone, I'm here, you'd know.",
        "THE CAT'S HAT WASN'T THERE. She'S gone. 'Tis 'ſo' odd.",
        "Numbers: 1234567, 3.14159, -42, 1,000,000 and ٣٤٥ (Arabic-Indic), ४२ (Devanagari), ½ ⅔ Ⅻ ①.",
        "Ελληνικά γράμματα και Κυριλλица: Привет, мир! Ёжик в тумане.",
        "中文字符测试，包括标点。日本語のひらがなとカタカナ、漢字。한국어 문장입니다.",
        "العربية: مرحبا بالعالم. עברית: שלום עולם.",
        "हिन्दी पाठ, বাংলা লেখা, தமிழ் எழுத்து, ไทย ภาษา",
        "Emoji: 😀🎉👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨ and symbols ©®™ ∑∫√ ≤≥ → ← ↔ ♠♣♥♦",
        "Tabs\tand\t\ttabs, spaces   inside,   trailing   \nnew\nlines\n\n\nand\r\nCRLF\r\n \r\n  end  ",
        "   leading spaces and a final run      ",
        "Accents: café, naïve, résumé, Ångström, São Paulo, Łódź, Đorđe, straße",
        "Decomposed: cafe\u0301 nai\u0308ve A\u030angstro\u0308m e\u0301\u0323 \u1100\u1161\u11a8 Q\u0323\u0307",
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>easy</think> <answer>4</answer><|endoftext|>",
        "special tokens glued:<|endoftext|><|endoftext|>x<|im_end|>y <think>z</think>",
        "code: def f(x):\n    return x**2  # square\n\tif x != 0: print(f'{x!r}')",
        "punctuation!!! ??? ... --- ((()))) [[]] {{}} «quotes» „Anführung“ ‘single’ “double”",
        "\u00a0non-breaking\u00a0space, ideographic\u3000space, en\u2002space, line\u2028separator, nel\u0085",
        "Zero\u200bwidth\u200cjoiners\u200d and \ufeffBOM and soft\u00adhyphen",
        "Math: x² + y³ = z⁴; ∀ε>0 ∃δ>0; 10⁻⁶; 𝑥𝑦𝑧 𝔸𝔹ℂ; Roman Ⅰ Ⅱ Ⅲ",
        "Mixed1234abc5678def 00 007 3rd 21st 4th 100%",
        "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D 'x '' '",
        "",
        " ",
        "\n",
        "a",
        "The answer is 42. Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    ]
    alphabet = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") +
                list(" \t\n\r  ,.;:!?'\"-()[]{}<>/\\|@#$%^&*_+=~`") +
                list("éèêëàâäôöûüçñßøåæœÀÉÖÜÑ") + list("αβγδεζηθλμπσφψωΑΒΓΔΩ") + list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяЖЩЯ") +
                list("中文字符测试日本語ひらがなカタカナ한국어문장") + list("العربيةעברית") + list("हिन्दीবাংলাதமிழ்") +
                list("٣٤٥४२½⅔Ⅻ①²³") + ["😀", "🎉", "👍🏽", "🇫🇷", "❤️", "\u0301", "\u0308", "\u0323", "\u00a0", "\u3000", "\u2028", "\u0085",
                                       "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "'s", "'LL", "ſ"])
    generated = []
    for _ in range(400):
        n = rng.randint(1, 40)
        generated.append("".join(rng.choice(alphabet) for _ in range(n)))
    # random code points from all of Unicode (assigned or not, no surrogates), mixed with spaces
    for _ in range(200):
        chars = []
        for _ in range(rng.randint(1, 12)):
            c = rng.randint(0, 0x10FFFF)
            while 0xD800 <= c <= 0xDFFF:
                c = rng.randint(0, 0x10FFFF)
            chars.append(chr(c) if rng.random() < 0.7 else rng.choice([" ", "  ", "\n", "a", "1", "'s", "\u0301"]))
        generated.append("".join(chars))
    return fixed + generated


def training_texts(rng, texts):
    words = ["the", "cat", "sat", "on", "mat", "number", "answer", "think", "question", "hello", "world",
             "café", "naïve", "Привет", "мир", "中文", "测试", "日本語", "한국어", "مرحبا", "שלום", "हिन्दी", "123", "42"]
    lines = list(texts)
    for _ in range(3000):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + rng.choice([".", "!", "?", "\n", "  ", ""]))
    return lines


def build_tokenizers(out, rng, texts):
    lines = training_texts(rng, texts)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    made = {}
    for style in ("qwen2", "gpt2", "gpt2-prefix"):
        tok = tokenizers.Tokenizer(models.BPE())
        if style == "qwen2":
            tok.normalizer = normalizers.NFC()
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        else:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=(style == "gpt2-prefix"), use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, special_tokens=specials,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(lines, trainer)
        # added tokens beyond the specials: a normalized one and a non-normalized one, not special
        tok.add_tokens([tokenizers.AddedToken("<think>", normalized=True, special=False),
                        tokenizers.AddedToken("</think>", normalized=False, special=False),
                        tokenizers.AddedToken("e\u0301t\u00e9", normalized=True, special=False)])
        made[style] = tok
    for style, tok in made.items():
        for merges_form in ("list", "string"):
            name = f"{style}-{merges_form}"
            directory = os.path.join(out, "tokenizers", name)
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, "tokenizer.json")
            tok.save(path)
            data = json.load(open(path, encoding="utf-8"))
            merges = data["model"]["merges"]
            if merges_form == "string":
                data["model"]["merges"] = [m if isinstance(m, str) else f"{m[0]} {m[1]}" for m in merges]
            else:
                data["model"]["merges"] = [m.split(" ") if isinstance(m, str) else m for m in merges]
            with open(path, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
            reloaded = tokenizers.Tokenizer.from_file(path)  # the form we wrote must load in tokenizers too
            nfc = normalizers.NFC()
            with open(os.path.join(directory, "cases.jsonl"), "w", encoding="utf-8") as f:
                for text in texts:
                    ids = reloaded.encode(text, add_special_tokens=False).ids
                    decoded = reloaded.decode(ids, skip_special_tokens=True)
                    # tokenizers' NFC tables are older than Unicode 14 (see nfc.jsonl): flag the texts
                    # whose NFC differs between the two, where grpo.h follows Unicode 14
                    agrees = style != "qwen2" or nfc.normalize_str(text) == unicodedata.normalize("NFC", text)
                    f.write(json.dumps({"text": text, "ids": ids, "decoded": decoded, "nfc_agrees": agrees}, ensure_ascii=False) + "\n")
        print(f"hf_reference: tokenizer {style}: vocabulary {made[style].get_vocab_size()}, {len(texts)} cases")


def build_pretokenize(out, texts):
    with open(os.path.join(out, "pretokenize.jsonl"), "w", encoding="utf-8") as f:
        for text in texts:
            record = {"text": text}
            for name, pattern in (("qwen2", QWEN2_PATTERN), ("gpt2", GPT2_PATTERN)):
                split = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
                pieces = []
                for piece, (start, end) in split.pre_tokenize_str(text):
                    b0, b1 = len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))
                    pieces.append([b0, b1])
                record[name] = pieces
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def build_nfc(out, rng):
    nfc = normalizers.NFC()
    cases = []
    decomposable = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.decomposition(chr(c))
                    and not unicodedata.decomposition(chr(c)).startswith("<")]
    marks = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.combining(chr(c))]
    # every code point with a canonical decomposition, alone and in its decomposed form
    for c in decomposable:
        cases.append(chr(c))
        cases.append(unicodedata.normalize("NFD", chr(c)))
    # Hangul, and random base + marks sequences in random order
    cases += ["\u1100\u1161", "\u1100\u1161\u11a8", "\uac00\u11a8", "\u1100\u1161\u0301\u11a8", "\uac01"]
    bases = [ord(ch) for ch in "aeiouAEIOUnNcCsSzZgywAa\u0391\u03b1\u0415\u0435\u1100\u1161\u11a8\uac00\u0627\u05d0\u0915\u3046 1"]
    for _ in range(3000):
        cases.append("".join(chr(rng.choice(bases) if rng.random() < 0.4 else rng.choice(marks)) for _ in range(rng.randint(1, 7))))
    with open(os.path.join(out, "nfc.jsonl"), "w", encoding="utf-8") as f:
        disagreements = 0
        for text in cases:
            theirs, ours = nfc.normalize_str(text), unicodedata.normalize("NFC", text)
            disagreements += theirs != ours
            f.write(json.dumps({"text": text, "nfc": ours, "tokenizers": theirs}, ensure_ascii=False) + "\n")
    print(f"hf_reference: {len(cases)} NFC cases; tokenizers and Python's unicodedata disagree on {disagreements}")


def onig_class(pattern):
    """The code points Oniguruma matches with pattern (one character), as [first, last] ranges."""
    split = pre_tokenizers.Split(Regex(pattern), behavior="removed")
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    kept = bytearray(0x110000)
    for i in range(0, len(cps), 8192):
        chunk = cps[i:i + 8192]
        for _, (a, b) in split.pre_tokenize_str("".join(map(chr, chunk))):
            for j in range(a, b):
                kept[chunk[j]] = 1
    ranges = []
    for c in cps:
        if not kept[c]:
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return ranges


def build_chat(out):
    try:
        import jinja2  # noqa: F401
    except ImportError:
        print("hf_reference: jinja2 is missing: no chat template cases")
        return
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer(models.BPE()))
    cases = [("You are a helpful assistant.", "What is 2 + 3?"), (None, "Solve: 48 / 2 = ?"),
             ("A conversation between User and Assistant.", "multi\nline\nquestion <b>x</b>")]
    with open(os.path.join(out, "chat.jsonl"), "w", encoding="utf-8") as f:
        for system, user in cases:
            messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
            text = tok.apply_chat_template(messages, chat_template=QWEN2_TEMPLATE, tokenize=False, add_generation_prompt=True)
            f.write(json.dumps({"system": system if system else "You are a helpful assistant.", "user": user, "text": text}) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/hf")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = random.Random(8)
    os.makedirs(args.out, exist_ok=True)
    shutil.rmtree(os.path.join(args.out, "saved"), ignore_errors=True)  # test_hf saves there afresh
    print(f"hf_reference: transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, torch {torch.__version__}")
    build_models(args.out)
    texts = corpus_texts(rng)
    build_tokenizers(args.out, rng, texts)
    build_r1_model(args.out)
    build_pretokenize(args.out, texts)
    build_nfc(args.out, rng)
    classes = {"letters": onig_class(r"\p{L}"), "numbers": onig_class(r"\p{N}"), "spaces": onig_class(r"\s")}
    with open(os.path.join(args.out, "classes.json"), "w") as f:
        json.dump(classes, f)
    build_chat(args.out)
    print("hf_reference: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
