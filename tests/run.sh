#!/usr/bin/env bash
# Runs each test command given as an argument, adds up their "name: N passed, M failed" lines
# and ends with the suite's own line. A command that crashes or prints no count line counts as
# one failure. Lines starting with "skipped:" are passed through by the callers.
# Each command's wall time is printed after its output ("-- 12 s"), to see where CI time goes.
# The failing commands and their FAIL lines are listed again just before the last line, so that
# the tail of a long CI log says what failed.
passed=0; failed=0; suite_start=$(date +%s); failures=""
for command in "$@"; do
    echo "== $command"
    start=$(date +%s)
    output=$(eval "$command" 2>&1); status=$?
    printf '%s\n' "$output"
    echo "-- $(( $(date +%s) - start )) s"
    line=$(printf '%s\n' "$output" | grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    failed_before=$failed
    if [ -n "$line" ]; then
        p=$(printf '%s' "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
        f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "  FAIL $command exited with status $status"; failed=$((failed + 1)); fi
    else
        echo "  FAIL $command exited with status $status and printed no count line"; failed=$((failed + 1))
    fi
    if [ "$failed" -ne "$failed_before" ]; then
        failures="$failures== $command (exit status $status)
$(printf '%s\n' "$output" | grep -E '^ *FAIL|ERROR|error:|Sanitizer|Assertion' | head -n 20)
"
    fi
done
if [ -n "$failures" ]; then
    echo "failed commands, with their FAIL lines:"
    printf '%s' "$failures"
fi
echo "(the suite ran for $(( $(date +%s) - suite_start )) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
