#!/usr/bin/env bash
# A seconds-long run of the R1 pipeline's three commands on a tiny byte-level model: build/sft
# (--new-model, a held-out split, eval loss), build/evaluate (the table and its JSON line),
# build/rejection_sample (SFT data out) and build/sft again on what it kept. Checks that each
# runs, refuses bad input with a message naming file:line, and writes well-formed output.
# usage: tests/pipeline_smoke.sh BUILD_DIR [PYTHON]
build=${1:-build}; python=${2:-/usr/bin/python3}
out="$build/pipeline-smoke"
passed=0; failed=0
check() { # check "what" command...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "  ok   $what"
    else failed=$((failed + 1)); echo "  FAIL $what"; fi
}
rm -rf "$out"; mkdir -p "$out"

for program in sft evaluate rejection_sample; do
    check "$program --help" "$build/$program" --help
    check "$program refuses an unknown option" bash -c "! '$build/$program' --no-such-option x"
    check "$program says what is required" bash -c "'$build/$program' 2>&1 | grep -q required"
done

# the task: the sum of three digits, worked as in examples/r1_zero.c
data="$out/digits.jsonl"
for q in "1+2+3" "4+1+2" "2+5+1" "3+3+1" "6+2+1" "1+1+7" "5+2+2" "2+2+2"; do
    IFS=+ read -r a b c <<<"$q"
    s1=$((a + b)); s2=$((s1 + c))
    printf '{"prompt": "User: %s. Assistant:", "completion": "<think>\\n%02d+%d=%02d\\n</think>\\n<answer>%d</answer>", "answer": "%d"}\n' \
        "$q" "$s1" "$c" "$s2" "$s2" "$s2" >>"$data"
done

# SFT from random weights, 2 of 8 examples held out
"$build/sft" --new-model --d-model 32 --layers 2 --context 96 --data "$data" --eval-fraction 0.25 --epochs 60 --batch 3 --lr 1e-2 \
    --log-every 10 --out "$out/sft.ckpt" >"$out/sft.jsonl" 2>"$out/sft.log"; status=$?
tail -n 3 "$out/sft.log" | sed 's/^/    | /'
check "sft --new-model exits 0" test "$status" -eq 0
check "sft writes the checkpoint" test -s "$out/sft.ckpt"
check "sft logs JSON lines with loss and eval_loss" bash -c "grep -q '\"loss\":' '$out/sft.jsonl' && grep -q '\"eval_loss\": [0-9]' '$out/sft.jsonl'"
if "$python" -c 'import json' 2>/dev/null; then
    check "every sft log line is JSON, the loss falls" "$python" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 6 and lines[-1]["step"] == 120, len(lines)
assert lines[-1]["loss"] < 0.5 * lines[0]["loss"], (lines[0]["loss"], lines[-1]["loss"])
assert all(l["eval_loss"] is None or l["eval_loss"] > 0 for l in lines)' "$out/sft.jsonl"
fi

# evaluation: the table and the JSON line
table=$("$build/evaluate" --model "$out/sft.ckpt" --data "$data" --k 4 --greedy --max-tokens 48 --json 2>&1); status=$?
printf '%s\n' "$table" | tail -n 4 | sed 's/^/    | /'
check "evaluate exits 0" test "$status" -eq 0
check "evaluate prints pass@1, cons@4, pass@4 and greedy" bash -c "grep -q 'pass@1' <<<\"\$0\" && grep -q 'cons@4' <<<\"\$0\" && grep -q 'pass@4' <<<\"\$0\" && grep -q greedy <<<\"\$0\"" "$table"
if "$python" -c 'import json' 2>/dev/null; then
    check "evaluate's JSON line" "$python" -c '
import json, sys
r = json.loads([l for l in sys.argv[1].splitlines() if l.startswith("{")][-1])
assert r["problems"] == 8 and r["k"] == 4
for key in ("pass@1", "cons@4", "pass@4", "greedy", "format"): assert 0 <= r[key] <= 1, key
assert r["pass@4"] >= r["pass@1"]' "$table"
fi

# rejection sampling, then SFT on what it kept
"$build/rejection_sample" --model "$out/sft.ckpt" --data "$data" --k 4 --max-tokens 48 --temperature 0.6 --out "$out/kept.jsonl" >"$out/rs.log" 2>&1; status=$?
tail -n 2 "$out/rs.log" | sed 's/^/    | /'
check "rejection_sample exits 0" test "$status" -eq 0
kept=$(grep -c '' "$out/kept.jsonl" 2>/dev/null || echo 0)
check "rejection_sample kept some completions ($kept)" test "$kept" -gt 0
if "$python" -c 'import json' 2>/dev/null; then
    check "its output is SFT data: prompt, completion, answer; right, well-formed, distinct" "$python" -c '
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(set(r) == {"prompt", "completion", "answer"} for r in rows)
for r in rows:
    m = re.fullmatch(r"<think>.*</think>\s*<answer>(.*)</answer>", r["completion"], re.S)
    assert m and m.group(1).strip() == r["answer"], r
assert len({(r["prompt"], r["completion"]) for r in rows}) == len(rows)' "$out/kept.jsonl"
fi
check "sft trains on the kept completions" "$build/sft" --model "$out/sft.ckpt" --data "$out/kept.jsonl" --epochs 1 --batch 4 --out "$out/sft2.ckpt"
check "and the result loads" "$build/evaluate" --model "$out/sft2.ckpt" --data "$data" --k 1 --max-tokens 48

# bad input: a message naming the file and line
printf '{"prompt": "a", "answer": "1"}\n{"prompt": 5}\n' >"$out/bad.jsonl"
check "evaluate names a malformed line" bash -c "'$build/evaluate' --model '$out/sft.ckpt' --data '$out/bad.jsonl' 2>&1 | grep -q 'bad.jsonl:2: field \"prompt\"'"
check "sft names a line without a completion" bash -c "'$build/sft' --model '$out/sft.ckpt' --data '$out/bad.jsonl' --out '$out/x.ckpt' 2>&1 | grep -q 'bad.jsonl:1: field \"completion\" is missing'"
check "a missing checkpoint is an error" bash -c "! '$build/evaluate' --model '$out/none.ckpt' --data '$data'"
echo "pipeline_smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
