#!/bin/sh
# Runs one test program under valgrind memcheck: any invalid read or write, use of
# uninitialised memory, or leak (definite, indirect or possible) makes the exit status 99, which
# tests/run.sh counts as a failure even when the program's own checks passed. Heavy tests look
# at GRPO_TEST_QUICK and repeat less of the same work (valgrind runs them 10-50x slower).
#   tests/valgrind.sh build/valgrind/test_checkpoint
GRPO_TEST_QUICK=1 exec valgrind -q --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    "$@"
