#!/usr/bin/env bash
# make test's check of the GPU build: compiles kernels/ with nvcc and links build/gpu/test_gpu
# (`make gpu`, with the variables given as arguments). One check: "gpu_build: 1 passed, 0 failed".
# Run as a command of tests/run.sh, not as a recursive $(MAKE) in the test recipe, so that
# `make -n test` stays a dry run; the parent's jobserver is not inherited, hence -j2 of its own.
start=$(date +%s)
if env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j2 gpu "$@"; then
    echo "gpu build: compiled and linked in $(( $(date +%s) - start )) s ($*)"
    echo "gpu_build: 1 passed, 0 failed"
else
    echo "gpu_build: 0 passed, 1 failed"
    exit 1
fi
