/* bench_generate: KV-cached generation throughput of grpo.h against PyTorch, in one run.

   Workload (issue 3): prompts of 64 tokens, 64 new tokens each, B x G = 16 (4 x 4) and 64 (8 x 8)
   sequences, configs A and B of ../shared/MACHINE.md with vocab 512, temperature 1, no top-k /
   top-p, no EOS (every sequence generates all 64 tokens). PyTorch runs the same architecture
   with a hand-written KV cache (bench/torch_generate.py) in the same invocation, prefilling
   each distinct prompt once and sharing it across its G sequences as grpo.h does; the ratio of
   new tokens per second (prefill and decode) is the figure that matters, absolute times on a
   shared machine less so. The decode-only ratio beside it leaves the prefill out: PyTorch's
   decode loop timed inside its run, ours as the whole generation less a prefill (one
   grpo_model_forward over the prompts) timed just before it.
   Also printed: our decode GFLOP/s and the rate cblas_sgemm reaches on the same decode step's
   matmul shapes (what a decode loop built on cblas_sgemm could at best do; grpo.h's decode uses
   its own small-M kernel instead), and a roofline: the most new tokens/s this machine allows,
   from the fp32 FMA peak and the memory read bandwidth measured here with the same threads
   (three times at the start and again before each case; a disturbed measurement only comes out
   low, so the roofline uses the highest of each so far).
   Each decode step must do its FLOPs and read the KV cache it attends to and every weight --
   from memory when the weights exceed half the L3 (config B's 77 MB; the L3 is 32 MiB here,
   L3_MIB below), else from cache (config A's 13 MB); the prefill must do its FLOPs; the bound
   is the sum over steps of max(FLOPs / peak, bytes / bandwidth). The column "target needs"
   gives the target's tokens/s (target x PyTorch's) as a share of that roofline: over 100 %, no
   code can meet the target on this machine in fp32.
   Rounds: the speed of a shared machine drifts from minute to minute by more than some of the
   differences measured, so each case runs --rounds times (default 3), grpo.h and PyTorch
   alternately, each round the best of --repeats runs per side. The table gives each side's best
   over all rounds, their ratio, every round's own ratio, and in how many rounds the target was met. */
#define _POSIX_C_SOURCE 200809L
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "bench/bench_common.h"

static double now(void) { return bench_now(); }

typedef struct { const char *name; int n_layers, n_heads, d_model; } bench_config;
static const bench_config configs[2] = {{"A", 4, 4, 256}, {"B", 6, 8, 512}};
enum { PROMPT_TOKENS = 64, NEW_TOKENS = 64, VOCAB = 512, CONTEXT = 128 };

static grpo_config model_config(const bench_config *b) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = VOCAB; c.context_length = CONTEXT; c.d_model = b->d_model; c.n_layers = b->n_layers; c.n_heads = b->n_heads;
    return c;
}

/* FLOPs of one decoded token at context length t: 2 per multiply-add of every matmul, plus
   q.k and att.v over t positions in each head. */
static double matmul_flops_per_token(const grpo_model *m) {
    const grpo_config *c = &m->config;
    double C = c->d_model, QD = (double)c->n_heads * m->head_size, KD = (double)c->n_kv_heads * m->head_size, F = c->d_ff;
    return 2.0 * (c->n_layers * (C * QD + 2.0 * C * KD + QD * C + 3.0 * C * F) + C * c->vocab_size);
}
static double attention_flops(const grpo_model *m, double positions) {
    return 4.0 * m->config.n_layers * m->config.n_heads * m->head_size * positions;
}

/* The roofline: the least time a generation of `sequences` (prompts of PROMPT_TOKENS shared by
   groups of G) can take at peak GFLOP/s and bandwidth GB/s, as new tokens/s. */
enum { L3_MIB = 32 };
static double roofline_tokens_per_second(const grpo_model *m, int sequences, int G, double peak, double bandwidth) {
    const grpo_config *c = &m->config;
    double KD = (double)c->n_kv_heads * m->head_size, weights = 4.0 * (matmul_flops_per_token(m) / 2.0);
    if (weights < L3_MIB * 1048576.0 / 2.0) weights = 0.0; /* they stay in the L3 between steps */
    int prompts = sequences / G;
    double seconds = prompts * PROMPT_TOKENS * matmul_flops_per_token(m) / (peak * 1e9); /* prefill */
    for (int t = 0; t < NEW_TOKENS - 1; t++) {
        double positions = PROMPT_TOKENS + t + 1;
        double flops = sequences * (matmul_flops_per_token(m) + attention_flops(m, positions));
        double bytes = weights + 4.0 * c->n_layers * 2.0 * KD * ((double)sequences * (t + 1) + (double)prompts * PROMPT_TOKENS);
        double compute = flops / (peak * 1e9), memory = bytes / (bandwidth * 1e9);
        seconds += compute > memory ? compute : memory;
    }
    return (double)sequences * NEW_TOKENS / seconds;
}

typedef struct { double tokens_per_second, decode_tokens_per_second, prefill_seconds, gflops; } bench_result;

static int run_ours(const bench_config *b, int sequences, int repeats, bench_result *result) {
    int G = sequences == 16 ? 4 : 8, prompts = sequences / G;
    grpo_config config = model_config(b);
    grpo_model model;
    grpo_generator gen;
    if (grpo_model_create(&model, &config, 1) != GRPO_SUCCESS) { fprintf(stderr, "%s\n", grpo_last_error()); return 1; }
    grpo_generator_config gc = {prompts, G, NEW_TOKENS, 0};
    if (grpo_generator_create(&gen, &model, &gc) != GRPO_SUCCESS) { fprintf(stderr, "%s\n", grpo_last_error()); return 1; }
    int *tokens = (int *)malloc(sizeof(int) * prompts * PROMPT_TOKENS), lengths[8];
    grpo_rng rng = grpo_rng_seed(2);
    for (int i = 0; i < prompts * PROMPT_TOKENS; i++) tokens[i] = (int)(grpo_rng_next(&rng) % VOCAB);
    for (int i = 0; i < prompts; i++) lengths[i] = PROMPT_TOKENS;
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.eos_id = -1; sc.max_new_tokens = NEW_TOKENS;
    const grpo_completions *out;
    double best = 1e30, best_prefill = 0.0;
    for (int r = 0; r <= repeats; r++) { /* r = 0 warms up */
        sc.seed = (uint64_t)r;
        double t0 = now();
        float lp[8 * PROMPT_TOKENS];
        grpo_model_forward(&model, tokens, tokens, lengths, prompts, PROMPT_TOKENS, 1.0f, lp, NULL);
        double prefill = now() - t0;
        t0 = now();
        if (grpo_generate(&gen, &model, tokens, lengths, prompts, PROMPT_TOKENS, G, &sc, &out) != GRPO_SUCCESS) { fprintf(stderr, "%s\n", grpo_last_error()); return 1; }
        double total = now() - t0;
        if (r > 0 && total < best) { best = total; best_prefill = prefill; }
    }
    double new_tokens = (double)sequences * NEW_TOKENS;
    result->tokens_per_second = new_tokens / best;
    result->prefill_seconds = best_prefill;
    result->decode_tokens_per_second = (double)sequences * (NEW_TOKENS - 1) / (best - best_prefill);
    double flops = 0.0;
    for (int t = 0; t < NEW_TOKENS - 1; t++) flops += sequences * (matmul_flops_per_token(&model) + attention_flops(&model, PROMPT_TOKENS + t + 1));
    result->gflops = flops / (best - best_prefill) / 1e9;
    free(tokens);
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&model);
    return 0;
}

/* y (rows, out) = x (rows, in) W^T through grpo__sgemm (cblas_sgemm), not grpo__matmul_forward,
   which uses grpo.h's own matmul where the build has its vector kernel. */
static void sgemm_rows(float *y, const float *x, const float *w, int rows, int in, int out) {
    grpo__sgemm(0, 1, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
}

/* The matmuls of one decode step (M = sequences rows), through grpo__sgemm, best of several
   runs: the rate a decode loop built on this BLAS cannot beat. */
static double sgemm_decode_gflops(const bench_config *b, int sequences) {
    grpo_config config = model_config(b);
    grpo_model model;
    grpo_model_create(&model, &config, 1);
    int C = model.config.d_model, QD = model.config.n_heads * model.head_size, KD = model.config.n_kv_heads * model.head_size, F = model.config.d_ff;
    float *x = (float *)calloc((size_t)sequences * (F > VOCAB ? F : VOCAB) * 2, sizeof(float));
    float *y = (float *)calloc((size_t)sequences * (F > VOCAB ? F : VOCAB) * 2, sizeof(float));
    const grpo_parameters *p = &model.params;
    double best = 1e30;
    for (int r = 0; r < 20; r++) {
        double t0 = now();
        for (int l = 0; l < model.config.n_layers; l++) {
            sgemm_rows(y, x, p->wq + (size_t)l * QD * C, sequences, C, QD);
            sgemm_rows(y, x, p->wk + (size_t)l * KD * C, sequences, C, KD);
            sgemm_rows(y, x, p->wv + (size_t)l * KD * C, sequences, C, KD);
            sgemm_rows(y, x, p->wo + (size_t)l * C * QD, sequences, QD, C);
            sgemm_rows(y, x, p->w_gate + (size_t)l * F * C, sequences, C, F);
            sgemm_rows(y, x, p->w_up + (size_t)l * F * C, sequences, C, F);
            sgemm_rows(y, x, p->w_down + (size_t)l * C * F, sequences, F, C);
        }
        sgemm_rows(y, x, p->token_embedding, sequences, C, VOCAB);
        double t = now() - t0;
        if (t < best) best = t;
    }
    double flops = sequences * matmul_flops_per_token(&model);
    free(x);
    free(y);
    grpo_model_destroy(&model);
    return flops / best / 1e9;
}

/* Runs bench/torch_generate.py and reads its JSON line; 0 if PyTorch is not there. */
static double run_torch(const char *python, const char *config, int sequences, int repeats, double *decode_tps, int *threads) {
    char command[512];
    snprintf(command, sizeof command, "%s bench/torch_generate.py --config %s --sequences %d --repeats %d --json 2>/dev/null", python, config, sequences, repeats);
    FILE *pipe = popen(command, "r");
    if (!pipe) return 0.0;
    char line[4096] = {0};
    double tps = 0.0;
    while (fgets(line, sizeof line, pipe)) {
        char *at = strstr(line, "\"tokens_per_second\":");
        if (at) tps = atof(at + strlen("\"tokens_per_second\":"));
        at = strstr(line, "\"decode_tokens_per_second\":");
        if (at) *decode_tps = atof(at + strlen("\"decode_tokens_per_second\":"));
        at = strstr(line, "\"threads\":");
        if (at) *threads = atoi(at + strlen("\"threads\":"));
    }
    pclose(pipe);
    return tps;
}

/* Measures the machine's limits once more; keeps the highest and lowest of each. */
typedef struct { double peak, bandwidth, peak_low, bandwidth_low; int count; } machine_limits;
static void measure_limits(machine_limits *m) {
    double peak = bench_peak_gflops(), bandwidth = bench_read_bandwidth();
    if (m->count == 0 || peak > m->peak) m->peak = peak;
    if (m->count == 0 || peak < m->peak_low) m->peak_low = peak;
    if (m->count == 0 || bandwidth > m->bandwidth) m->bandwidth = bandwidth;
    if (m->count == 0 || bandwidth < m->bandwidth_low) m->bandwidth_low = bandwidth;
    m->count++;
}

int main(int argc, char **argv) {
    bench_openblas_at_its_best(argv);
    const char *only_config = NULL, *python = "/usr/bin/python3";
    int only_sequences = 0, repeats = 3, rounds = 3, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s [--config A|B] [--sequences 16|64] [--repeats N] [--rounds N] [--no-torch] [--python PATH]\n"
                   "Generation throughput (new tokens/s) of grpo.h against PyTorch with a hand-written KV cache,\n"
                   "64-token prompts, 64 new tokens, configs A and B (vocab 512). Run from the repository root.\n"
                   "  --repeats N  timed runs per side in a round, the best kept (default 3, after a warm-up)\n"
                   "  --rounds N   rounds per case, grpo.h and PyTorch alternately (default 3)\n", argv[0]);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) only_config = argv[++i];
        else if (!strcmp(argv[i], "--sequences") && i + 1 < argc) only_sequences = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else { fprintf(stderr, "unknown argument '%s' (try --help)\n", argv[i]); return 2; }
    }
    if (repeats < 1) repeats = 1;
    if (rounds < 1) rounds = 1;
    if (rounds > 16) rounds = 16;
    const char *wait = getenv("OMP_WAIT_POLICY"), *omp = getenv("OMP_NUM_THREADS");
    const char *blas = bench_blas_name();
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("setup: %s; OpenMP threads %d (OMP_NUM_THREADS=%s, OMP_WAIT_POLICY=%s); compiled with %s\n",
           blas, threads, omp ? omp : "unset", wait ? wait : "unset", GRPO_BENCH_CFLAGS);
    machine_limits limits = {0};
    for (int i = 0; i < 3; i++) measure_limits(&limits);
    printf("measured with %d thread(s), best of 3: fp32 FMA peak %.0f GFLOP/s, memory read bandwidth %.1f GB/s\n", threads, limits.peak, limits.bandwidth);
    printf("workload: %d-token prompts, %d new tokens, temperature 1, no EOS; each prompt prefilled once for its G sequences on both sides;\n"
           "%d round(s) per case, grpo.h then PyTorch, each the best of %d runs after a warm-up; each side's figure is its best over the rounds\n\n",
           PROMPT_TOKENS, NEW_TOKENS, rounds, repeats);
    printf("| config | B x G | grpo.h new tok/s | PyTorch new tok/s (threads) | ratio | target | ratio in each round | target met in | decode only: grpo.h / PyTorch tok/s | decode-only ratio | roofline new tok/s | grpo.h / roofline | target needs (of roofline) | grpo.h prefill ms | grpo.h decode GFLOP/s | sgemm at decode shapes | decode / sgemm |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int sequence_counts[2] = {16, 64};
    for (int c = 0; c < 2; c++) {
        if (only_config && strcmp(only_config, configs[c].name)) continue;
        for (int s = 0; s < 2; s++) {
            if (only_sequences && only_sequences != sequence_counts[s]) continue;
            double target = sequence_counts[s] == 16 ? 3.0 : 4.0;
            measure_limits(&limits);
            double peak = limits.peak, bandwidth = limits.bandwidth;
            bench_result ours = {0}, round_ours;
            double theirs = 0.0, torch_decode = 0.0, round_ratio[16];
            int torch_threads = 0, met = 0, torch_failed = 0;
            for (int round = 0; round < rounds; round++) {
                if (run_ours(&configs[c], sequence_counts[s], repeats, &round_ours)) return 1;
                if (round_ours.tokens_per_second > ours.tokens_per_second) ours = round_ours;
                round_ratio[round] = 0.0;
                if (!torch) continue;
                double round_decode = 0.0;
                int round_threads = 0;
                double round_theirs = run_torch(python, configs[c].name, sequence_counts[s], repeats, &round_decode, &round_threads);
                if (round_theirs <= 0.0) { torch_failed = 1; continue; }
                round_ratio[round] = round_ours.tokens_per_second / round_theirs;
                met += round_ratio[round] >= target;
                if (round_theirs > theirs) { theirs = round_theirs; torch_threads = round_threads; }
                if (round_decode > torch_decode) torch_decode = round_decode;
            }
            double sgemm = sgemm_decode_gflops(&configs[c], sequence_counts[s]);
            char torch_text[64] = "not run", ratio[32] = "-", decode_text[64], decode_ratio[32] = "-";
            char rounds_text[16 * 12 + 8] = "-", met_text[32] = "-", needs_text[32] = "-";
            grpo_config rc = model_config(&configs[c]);
            grpo_model shape;
            grpo_model_create(&shape, &rc, 1);
            double roof = roofline_tokens_per_second(&shape, sequence_counts[s], sequence_counts[s] == 16 ? 4 : 8, peak, bandwidth);
            grpo_model_destroy(&shape);
            snprintf(decode_text, sizeof decode_text, "%.0f / -", ours.decode_tokens_per_second);
            if (theirs > 0.0 && !torch_failed) {
                snprintf(torch_text, sizeof torch_text, "%.0f (%d)", theirs, torch_threads);
                snprintf(ratio, sizeof ratio, "%.2fx", ours.tokens_per_second / theirs);
                snprintf(decode_text, sizeof decode_text, "%.0f / %.0f", ours.decode_tokens_per_second, torch_decode);
                snprintf(decode_ratio, sizeof decode_ratio, "%.2fx", ours.decode_tokens_per_second / torch_decode);
                size_t at = 0;
                for (int round = 0; round < rounds; round++)
                    at += (size_t)snprintf(rounds_text + at, sizeof rounds_text - at, "%s%.2fx", round ? " / " : "", round_ratio[round]);
                snprintf(met_text, sizeof met_text, "%d of %d", met, rounds);
                snprintf(needs_text, sizeof needs_text, "%.0f %%", 100.0 * target * theirs / roof);
            } else if (torch) snprintf(torch_text, sizeof torch_text, "failed to run");
            printf("| %s | %d | %.0f | %s | %s | >= %.0fx | %s | %s | %s | %s | %.0f | %.0f %% | %s | %.1f | %.1f | %.1f | %.0f %% |\n", configs[c].name, sequence_counts[s],
                   ours.tokens_per_second, torch_text, ratio, target, rounds_text, met_text, decode_text, decode_ratio, roof,
                   100.0 * ours.tokens_per_second / roof, needs_text, 1e3 * ours.prefill_seconds, ours.gflops, sgemm, 100.0 * ours.gflops / sgemm);
            fflush(stdout);
        }
    }
    printf("\nmachine limits, measured %d times: fp32 FMA peak %.0f to %.0f GFLOP/s, read bandwidth %.1f to %.1f GB/s;\n"
           "each row's roofline uses the highest measured before it\n", limits.count, limits.peak_low, limits.peak, limits.bandwidth_low, limits.bandwidth);
    return 0;
}
