# grpo.h -- build the examples and run the tests.
#   make            build the examples
#   make demo       the R1-Zero demo: SFT a tiny model, GRPO, evaluate, plot (minutes; SEED=1 by default)
#   make recipe     R1's whole recipe on the demo's task: cold start, GRPO, rejection sampling, SFT, GRPO
#   make distill    R1's distillation finding: a student distilled from a GRPO teacher vs GRPO on the student
#   make bench      benchmarks against PyTorch (bench/), a few minutes
#   make test       the whole test suite: optimised BLAS build, portable build, ASan+UBSan build,
#                   valgrind memcheck, fuzzing, and the PyTorch cross-check; ends with "N passed, M failed"
#   make GPU=1      also the GPU build: kernels/*.cu with nvcc into build/gpu/libgrpo_gpu.a, and
#                   build/gpu/test_gpu (see README, "GPU build")
# Variables: CC, CFLAGS, OPENBLAS_LIB, OPENBLAS_INCLUDE, PYTHON, THREADS, GPU, CUDA_HOME, NVCC, GPU_ARCH.

ifeq ($(origin CC),default)
  CC = gcc
endif
CFLAGS   ?= -O3 -march=native
WARNINGS  = -Wall -Wextra -Wshadow -Wno-unused-function
BASE      = -std=c11 -fopenmp $(WARNINGS) -I.
LDLIBS    = -lm

# The OpenMP build of OpenBLAS: the default pthread build fights our OpenMP loops for the cores
# (../shared/MACHINE.md). Found by file, not by $(which ...), so the probe really runs.
OPENBLAS_LIB     ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_INCLUDE ?= /usr/include/x86_64-linux-gnu/openblas-openmp
ifneq ($(wildcard $(OPENBLAS_LIB)/libopenblas.so),)
  BLAS_CFLAGS  = -DGRPO_USE_CBLAS -I$(OPENBLAS_INCLUDE)
  BLAS_LDLIBS  = -L$(OPENBLAS_LIB) -Wl,-rpath,$(OPENBLAS_LIB) -lopenblas
  BLAS_NAME    = OpenBLAS (OpenMP build, $(OPENBLAS_LIB))
else
  BLAS_NAME    = none
endif

# The Python with PyTorch: Debian's python3-torch lives under /usr/bin/python3.
PYTHON  ?= /usr/bin/python3
THREADS ?= 2
# -march=native: the vector kernels (the decode matmul, the training GEMM) run under the
# sanitizers; the valgrind build below has no vector kernels and covers the portable paths.
SANITIZE = -O1 -g -march=native -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

TESTS    = test_model test_checkpoint test_generate test_grpo test_torch test_loss test_rewards test_hf test_resume test_nonfinite test_limits test_pipeline test_dataset
EXAMPLES = quickstart hf_r1_zero r1_zero plot ask evaluate rejection_sample sft r1_recipe distill
HEADERS  = grpo.h tests/test.h

.PHONY: all test bench clean demo gpu recipe distill
all: $(addprefix build/,$(EXAMPLES))

# The GPU build (kernels/, issue 10): one .cu per op family, compiled by nvcc for sm_90 (H100,
# H200) and linked with the CUDA runtime and cuBLAS. Nothing here is built without GPU=1 (or
# `make gpu`), so CPU builds do not change; `make test` compiles and links it when nvcc is found,
# and runs build/gpu/test_gpu, which says "skipped: ..." for what needs a device.
CUDA_HOME  ?= /usr/local/cuda
NVCC       ?= $(firstword $(wildcard $(CUDA_HOME)/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
GPU_ARCH   ?= sm_90
NVCCFLAGS  ?= -O3 -arch=$(GPU_ARCH) -std=c++17 -Xcompiler -Wall,-Wextra,-Wshadow
GPU_KERNELS = gpu embedding rmsnorm rope attention swiglu logprob grpo_loss adamw sampling
GPU_OBJECTS = $(addprefix build/gpu/,$(addsuffix .o,$(GPU_KERNELS)))
GPU_LDLIBS  = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
build/gpu/%.o: kernels/%.cu kernels/gpu.h kernels/common.cuh grpo.h | build
	@mkdir -p build/gpu
	$(NVCC) $(NVCCFLAGS) -I. -c $< -o $@
build/gpu/libgrpo_gpu.a: $(GPU_OBJECTS)
	rm -f $@ && ar rcs $@ $^
build/gpu/test_gpu: tests/test_gpu.c build/gpu/libgrpo_gpu.a kernels/gpu.h $(HEADERS) | build
	$(CC) $(BASE) $(CFLAGS) $(BLAS_CFLAGS) $< build/gpu/libgrpo_gpu.a -o $@ $(BLAS_LDLIBS) $(GPU_LDLIBS) $(LDLIBS)
gpu: build/gpu/test_gpu
ifeq ($(GPU),1)
all: gpu
endif

# The R1-Zero demo (examples/r1_zero.c): nothing to download. Outputs go to DEMO_OUT. One thread
# by default: results depend on the thread count, so README's figures reproduce bit for bit, and
# on the shared 2-core machine one thread was faster than two (README); DEMO_THREADS=2 for two.
SEED         ?= 1
DEMO_OUT     ?= build/demo
DEMO_THREADS ?= 1
demo: build/r1_zero build/plot build/ask
	OMP_NUM_THREADS=$(DEMO_THREADS) build/r1_zero --seed $(SEED) --out $(DEMO_OUT)
	build/plot -o $(DEMO_OUT)/curves.svg --title "GRPO on the digit-sum task (seed $(SEED))" $(DEMO_OUT)/metrics.jsonl
	@echo "now ask it yourself:  build/ask \"4+8+1+9+3\""

# R1's recipe and the distillation comparison on the demo's task (examples/r1_recipe.c,
# examples/distill.c; minutes each). One thread by default, as the demo.
recipe: build/r1_recipe
	OMP_NUM_THREADS=$(DEMO_THREADS) build/r1_recipe --seed $(SEED) --out build/recipe
distill: build/distill
	OMP_NUM_THREADS=$(DEMO_THREADS) build/distill --seed $(SEED) --out build/distillation

build/%: examples/%.c $(wildcard examples/*.h) grpo.h | build
	$(CC) $(BASE) $(CFLAGS) $(BLAS_CFLAGS) $< -o $@ $(BLAS_LDLIBS) $(LDLIBS)
# the examples on the digit-sum task share it
build/r1_zero build/r1_recipe build/distill: examples/digit_sum.h

build/blas/%: tests/%.c $(HEADERS) | build
	@mkdir -p build/blas
	$(CC) $(BASE) $(CFLAGS) $(BLAS_CFLAGS) $< -o $@ $(BLAS_LDLIBS) $(LDLIBS)
build/portable/%: tests/%.c $(HEADERS) | build
	@mkdir -p build/portable
	$(CC) $(BASE) $(CFLAGS) $< -o $@ $(LDLIBS)
build/sanitize/%: tests/%.c $(HEADERS) | build
	@mkdir -p build/sanitize
	$(CC) $(BASE) $(SANITIZE) $< -o $@ $(LDLIBS)
# For valgrind memcheck: no OpenMP (libgomp's thread pool would show as "possibly lost") and no
# BLAS, -O1 -g. tests/valgrind.sh runs them (with GRPO_TEST_QUICK).
build/valgrind/%: tests/%.c $(HEADERS) | build
	@mkdir -p build/valgrind
	$(CC) -std=c11 $(WARNINGS) -Wno-unknown-pragmas -I. -O1 -g $< -o $@ $(LDLIBS)

build:
	@mkdir -p build

# Benchmarks against PyTorch (run outside CI; see bench/ and README.md): bench_generate is the
# decode table (issue 3), bench_suite the train / forward / decode / GRPO-step tables with
# efficiency, thread scaling and peak memory (issue 6); `make bench` runs both, a few minutes on
# 2 cores. bench_hf needs a model: build/bench_hf --model DIR (see README).
BENCHES = bench_generate bench_suite bench_hf
build/bench_%: bench/bench_%.c bench/bench_common.h grpo.h | build
	$(CC) $(BASE) $(CFLAGS) $(BLAS_CFLAGS) -DGRPO_BENCH_CFLAGS='"$(CC) $(CFLAGS) -fopenmp"' $< -o $@ $(BLAS_LDLIBS) $(LDLIBS)
bench: $(addprefix build/,$(BENCHES))
	OMP_NUM_THREADS=$(THREADS) build/bench_generate --python $(PYTHON)
	build/bench_suite --python $(PYTHON) --threads 1,$(THREADS)

HAVE_TORCH := $(shell $(PYTHON) -c "import torch" >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_TORCH),yes)
  TORCH_COMMANDS = "$(PYTHON) tests/torch_reference.py --check tests/data/torch_reference.bin --out build/torch_regenerated.bin" \
                   "build/blas/test_torch build/torch_regenerated.bin" \
                   "$(PYTHON) tests/loss_reference.py --check tests/data/loss_reference.bin --out build/loss_regenerated.bin" \
                   "build/blas/test_loss build/loss_regenerated.bin"
else
  TORCH_COMMANDS =
endif
# Hugging Face cross-checks (tests/hf_reference.py builds tiny Llama/Qwen2 models and BPE
# tokenizers with transformers/tokenizers; test_hf checks grpo.h against them and saves the models
# back; hf_check_saved.py reloads those in transformers). Packages: tests/requirements-hf.txt.
HAVE_HF := $(shell $(PYTHON) -c "import torch, transformers, tokenizers, safetensors, jinja2" >/dev/null 2>&1 && echo yes)
HAVE_PYTHON := $(shell $(PYTHON) -c "import unicodedata" >/dev/null 2>&1 && echo yes)
HF_TEST_BINARY = $(if $(filter none,$(BLAS_NAME)),build/portable/test_hf,build/blas/test_hf)
ifeq ($(HAVE_HF),yes)
  HF_COMMANDS = "$(PYTHON) tests/hf_reference.py --out build/hf" \
                "$(HF_TEST_BINARY) build/hf" \
                "build/hf_r1_zero --model build/hf/models/qwen2-r1 --data tests/data/gsm8k_sample.jsonl --steps 2 --prompts 2 --group 4 --max-tokens 12 --context 512 --lr 1e-3 --out build/hf/r1_out > build/hf/r1_metrics.jsonl && echo hf_r1_zero: 1 passed, 0 failed" \
                "$(PYTHON) tests/hf_check_saved.py build/hf"
else
  HF_COMMANDS =
endif
ifeq ($(HAVE_PYTHON),yes)
  UNICODE_COMMANDS = "$(PYTHON) tools/unicode_tables.py --check grpo.h"
else
  UNICODE_COMMANDS =
endif
ifneq ($(BLAS_NAME),none)
  BLAS_COMMANDS = $(addprefix build/blas/,$(TESTS))
  BLAS_BUILDS   = $(addprefix build/blas/,$(TESTS))
else
  BLAS_COMMANDS =
  BLAS_BUILDS   =
endif

# Fuzzing (tests/fuzz/): every saved crasher is replayed under ASan+UBSan with gcc (no libFuzzer
# needed), then, where clang's libFuzzer runtime is installed, each target fuzzes for FUZZ_SECONDS.
# Long runs: tests/fuzz/run.sh fuzz_rewards 600.
FUZZ_TARGETS = fuzz_rewards fuzz_json fuzz_bpe fuzz_jsonl fuzz_dataset fuzz_hf_model fuzz_checkpoint fuzz_config
FUZZ_SECONDS ?= 20
HAVE_LIBFUZZER := $(shell echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}' | \
                    clang -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1 && echo yes)
build/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h grpo.h | build
	@mkdir -p build/fuzz
	$(CC) -std=c11 $(SANITIZE) -Wall -Wextra -Wno-unused-function -Wno-unknown-pragmas -I. tests/fuzz/replay.c $< -o $@ $(LDLIBS)
REPLAY_COMMANDS = $(foreach t,$(FUZZ_TARGETS),"build/fuzz/replay_$(t) $(wildcard tests/fuzz/crashers/$(t:fuzz_%=%)-*) $(wildcard tests/fuzz/corpus/$(t:fuzz_%=%)/*)")
ifeq ($(HAVE_LIBFUZZER),yes)
  FUZZ_COMMANDS = $(foreach t,$(FUZZ_TARGETS),"tests/fuzz/run.sh $(t) $(FUZZ_SECONDS)")
else
  FUZZ_COMMANDS =
endif

ifneq ($(NVCC),)
  GPU_COMMANDS = "tests/gpu_build.sh NVCC=$(NVCC) CUDA_HOME=$(CUDA_HOME) GPU_ARCH=$(GPU_ARCH) CC=$(CC) CFLAGS='$(CFLAGS)'" "build/gpu/test_gpu"
else
  GPU_COMMANDS =
endif

# Instrumented builds (sanitizers, valgrind) run the same code paths with fewer repetitions
# (GRPO_TEST_QUICK: e.g. 12 GRPO steps instead of 60, 8 kills instead of 60); the optimised and
# portable builds run everything.
SANITIZE_COMMANDS = $(foreach t,$(TESTS),"GRPO_TEST_QUICK=1 build/sanitize/$(t)")
# valgrind memcheck over every test, error paths and leaks included (.ci/run installs valgrind).
HAVE_VALGRIND := $(shell command -v valgrind >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_VALGRIND),yes)
  VALGRIND_BUILDS   = $(addprefix build/valgrind/,$(TESTS))
  VALGRIND_COMMANDS = $(foreach t,$(TESTS),"tests/valgrind.sh build/valgrind/$(t)")
else
  VALGRIND_BUILDS   =
  VALGRIND_COMMANDS =
endif

# The benchmarks, briefly (one config, one repeat, two rounds): that they run and print their
# tables, and with PyTorch that both rounds were measured and counted (tests/bench_smoke.sh).
# Their figures on a shared CI machine mean nothing; `make bench` on a quiet machine gives the
# real ones.
BENCH_TORCH    = $(if $(filter yes,$(HAVE_TORCH)),--python $(PYTHON),--no-torch)
BENCH_SMOKE    = tests/bench_smoke.sh $(1) 2 $(if $(filter yes,$(HAVE_TORCH)),yes,no)
BENCH_COMMANDS = "$(call BENCH_SMOKE,bench_generate) build/bench_generate --config A --sequences 16 --repeats 1 --rounds 2 $(BENCH_TORCH)" \
                 "$(call BENCH_SMOKE,bench_suite) build/bench_suite --config A --threads 1 --repeats 1 --rounds 2 $(BENCH_TORCH)"

test: build/bench_generate build/bench_suite $(BLAS_BUILDS) $(addprefix build/portable/,$(TESTS)) $(addprefix build/sanitize/,$(TESTS)) all \
      $(addprefix build/fuzz/replay_,$(FUZZ_TARGETS)) $(VALGRIND_BUILDS)
	@echo "setup: BLAS: $(BLAS_NAME); OMP_NUM_THREADS=$(THREADS); CC=$(CC) $(CFLAGS)"
	@[ "$(BLAS_NAME)" != none ] || echo "skipped: the BLAS build (libopenblas-openmp-dev is not installed; .ci/run installs it)"
	@[ "$(HAVE_LIBFUZZER)" = yes ] || echo "skipped: fuzzing ($(FUZZ_TARGETS)) for $(FUZZ_SECONDS) s each (clang -fsanitize=fuzzer does not link: apt-get install clang libclang-rt-14-dev); saved crashers are still replayed"
	@[ "$(HAVE_VALGRIND)" = yes ] || echo "skipped: valgrind memcheck of every test (valgrind is not installed: apt-get install valgrind)"
	@[ "$(HAVE_TORCH)" = yes ] || echo "skipped: regenerating the PyTorch reference ($(PYTHON) cannot import torch; apt-get install python3-torch); the committed reference is still checked"
	@[ "$(HAVE_HF)" = yes ] || echo "skipped: the Hugging Face cross-checks against transformers and tokenizers ($(PYTHON) cannot import torch, transformers, tokenizers, safetensors and jinja2: $(PYTHON) -m pip install -r tests/requirements-hf.txt); test_hf's own checks still run"
	@[ "$(HAVE_PYTHON)" = yes ] || echo "skipped: checking grpo.h's Unicode tables against tools/unicode_tables.py (no $(PYTHON))"
	@[ -n "$(NVCC)" ] || echo "skipped: the GPU build (no nvcc: neither $(CUDA_HOME)/bin/nvcc nor nvcc on PATH; install the CUDA toolkit)"
	@OMP_NUM_THREADS=$(THREADS) ASAN_OPTIONS=detect_leaks=1 tests/run.sh \
		$(BLAS_COMMANDS) \
		$(addprefix build/portable/,$(TESTS)) \
		$(SANITIZE_COMMANDS) \
		$(TORCH_COMMANDS) \
		$(HF_COMMANDS) \
		$(UNICODE_COMMANDS) \
		$(REPLAY_COMMANDS) \
		$(FUZZ_COMMANDS) \
		$(VALGRIND_COMMANDS) \
		$(GPU_COMMANDS) \
		"build/quickstart build/quickstart.ckpt && echo quickstart: 1 passed, 0 failed" \
		"tests/demo_smoke.sh build $(PYTHON)" \
		"tests/pipeline_smoke.sh build $(PYTHON)" \
		"tests/recipe_smoke.sh build $(PYTHON)" \
		$(BENCH_COMMANDS)

clean:
	rm -rf build
