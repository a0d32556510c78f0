/* bench_suite: grpo.h against PyTorch on the same architecture, and against the machine's limits,
   in one run (issue 6). `make bench` runs it after bench_generate.

   For configs A and B of ../shared/MACHINE.md (vocab 512, context 128) at 16 x 128 tokens, with
   1 and 2 threads, each side in its own fresh process (OpenMP and OpenBLAS read their thread
   counts at start-up; each process's peak memory is its own):
     train     forward + backward + AdamW (clipping on) of the mean NLL of 16 x 128 target tokens
     forward   the no-grad forward (the reference model's cost in GRPO)
     decode    KV-cached generation, 16 sequences (4 prompts x 4), 64-token prompts, 64 new
               tokens, temperature 1, no EOS (as bench_generate)
     grpo      one whole GRPO step: 2 prompts of 64 tokens x G = 8 completions of 64 tokens,
               the format reward, group advantages, the reference forward (beta 0.04), the
               policy forward + backward (clipped loss, k3 KL, DAPO aggregation), AdamW, by phase
   The PyTorch side is bench/torch_bench.py (the model: bench/torch_model.py). Every measure is
   the best of --repeats after a warm-up. GFLOP/s count 2 per multiply-add of the matmuls plus the
   causal attention (backward = 2 x forward); they are compared with the fp32 FMA peak and with
   cblas_sgemm's rate on the same matmul shapes, both measured here with the same threads.

   Rounds: the speed of a shared machine drifts from minute to minute by more than some of the
   differences measured, so the last thread setting (the one the tables report) runs --rounds
   times (default 3), grpo.h and PyTorch alternately; each side's figure is its best round for
   that measure, and the throughput table also gives every round's own ratio and in how many
   rounds the target was met. Other thread settings run once (they serve the scaling table).

   Run from the repository root:  build/bench_suite [--repeats N] [--rounds N] [--threads 1,2]
                                                    [--config A|B] [--no-torch] [--python PATH]
   (--child is the per-process measurement the driver starts.) */
#define _POSIX_C_SOURCE 200809L
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "bench/bench_common.h"

typedef struct { const char *name; int n_layers, n_heads, d_model; } suite_config;
static const suite_config configs[2] = {{"A", 4, 4, 256}, {"B", 6, 8, 512}};
enum { BATCH = 16, SEQ = 128, VOCAB = 512, CONTEXT = 128, GRPO_PROMPTS = 2, GRPO_G = 8, PROMPT_TOKENS = 64, NEW_TOKENS = 64 };
static const char grpo_prompt_text[] = "Question: what is 12 + 30? Think, then answer in the tags below.";

/* ---------------------------------------------------------------------------------------
   A byte tokenizer over the 512-token vocabulary: ids 0..255 are bytes, 256 BOS, 257 EOS, the
   rest decode to nothing (a random model samples them; the rewards see the bytes). */
static grpo_result suite_encode(const grpo_tokenizer *t, const char *text, size_t len, int *ids, int capacity, int *n_ids) {
    (void)t;
    if (n_ids) *n_ids = (int)len;
    if ((size_t)capacity < len) return GRPO_ERROR_INVALID_ARGUMENT;
    for (size_t i = 0; i < len; i++) ids[i] = (unsigned char)text[i];
    return GRPO_SUCCESS;
}
static grpo_result suite_decode(const grpo_tokenizer *t, const int *ids, int n, char *text, size_t capacity, size_t *n_bytes) {
    (void)t;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= VOCAB) return GRPO_ERROR_INVALID_ARGUMENT;
        if (ids[i] < 256) { if (at + 1 < capacity) text[at] = (char)ids[i]; at++; }
    }
    if (n_bytes) *n_bytes = at;
    if (at + 1 > capacity) return GRPO_ERROR_INVALID_ARGUMENT;
    text[at] = '\0';
    return GRPO_SUCCESS;
}

static grpo_config model_config(const suite_config *b) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = VOCAB; c.context_length = CONTEXT; c.d_model = b->d_model; c.n_layers = b->n_layers; c.n_heads = b->n_heads;
    return c;
}

/* FLOPs of one forward over `tokens` tokens in rows of T: matmuls and causal attention (the same
   formula as bench/torch_model.py's forward_flops). */
static double forward_flops(const grpo_model *m, double tokens, int T) {
    const grpo_config *c = &m->config;
    double C = c->d_model, QD = (double)c->n_heads * m->head_size, KD = (double)c->n_kv_heads * m->head_size, F = c->d_ff;
    double matmul = 2.0 * tokens * (c->n_layers * (C * QD + 2.0 * C * KD + QD * C + 3.0 * C * F) + C * c->vocab_size);
    double attention = 4.0 * c->n_layers * QD * (tokens / T) * (T * (T + 1.0) / 2.0);
    return matmul + attention;
}

/* cblas_sgemm's (grpo__sgemm's) rate on the matmul shapes of one forward (N = 16 x 128 rows)
   and of one training step (those, plus each matmul's two backward products), best of 3. */
static void sgemm_rates(const grpo_model *m, double *forward_gflops, double *train_gflops) {
    const grpo_config *c = &m->config;
    int N = BATCH * SEQ, C = c->d_model, QD = c->n_heads * m->head_size, KD = c->n_kv_heads * m->head_size, F = c->d_ff, V = c->vocab_size;
    int shapes[8][2] = {{C, QD}, {C, KD}, {C, KD}, {QD, C}, {C, F}, {C, F}, {F, C}, {C, V}}; /* IC, OC */
    size_t widest = (size_t)(F > V ? F : V) > (size_t)QD ? (size_t)(F > V ? F : V) : (size_t)QD;
    float *x = (float *)calloc((size_t)N * widest, sizeof(float)), *y = (float *)calloc((size_t)N * widest, sizeof(float));
    float *w = (float *)calloc(widest * widest, sizeof(float)), *dw = (float *)calloc(widest * widest, sizeof(float));
    double fwd_best = 1e30, bwd_best = 1e30, fwd_flops = 0.0, bwd_flops = 0.0;
    for (int r = 0; r < 3; r++) {
        double t0 = bench_now();
        for (int l = 0; l <= c->n_layers; l++)
            for (int s = (l == c->n_layers ? 7 : 0); s < (l == c->n_layers ? 8 : 7); s++)
                grpo__sgemm(0, 1, N, shapes[s][1], shapes[s][0], 1.0f, x, shapes[s][0], w, shapes[s][0], 0.0f, y, shapes[s][1]);
        double t1 = bench_now();
        for (int l = 0; l <= c->n_layers; l++)
            for (int s = (l == c->n_layers ? 7 : 0); s < (l == c->n_layers ? 8 : 7); s++) {
                int IC = shapes[s][0], OC = shapes[s][1];
                grpo__sgemm(0, 0, N, IC, OC, 1.0f, y, OC, w, IC, 1.0f, x, IC);
                grpo__sgemm(1, 0, OC, IC, N, 1.0f, y, OC, x, IC, 1.0f, dw, IC);
            }
        double t2 = bench_now();
        if (t1 - t0 < fwd_best) fwd_best = t1 - t0;
        if (t2 - t1 < bwd_best) bwd_best = t2 - t1;
    }
    for (int l = 0; l <= c->n_layers; l++)
        for (int s = (l == c->n_layers ? 7 : 0); s < (l == c->n_layers ? 8 : 7); s++) {
            fwd_flops += 2.0 * N * shapes[s][0] * shapes[s][1];
            bwd_flops += 4.0 * N * shapes[s][0] * shapes[s][1];
        }
    *forward_gflops = fwd_flops / fwd_best / 1e9;
    *train_gflops = (fwd_flops + bwd_flops) / (fwd_best + bwd_best) / 1e9;
    free(x); free(y); free(w); free(dw);
}

#define CHECK_OK(call) do { if ((call) != GRPO_SUCCESS) { fprintf(stderr, "bench_suite: %s: %s\n", #call, grpo_last_error()); exit(1); } } while (0)

/* One config with this process's threads: prints one JSON line. */
static int run_child(const suite_config *b, int repeats) {
    double busy0 = bench_system_busy_seconds(), own0 = bench_process_seconds();
    grpo_config config = model_config(b);
    grpo_model model, reference;
    CHECK_OK(grpo_model_create(&model, &config, 1));
    CHECK_OK(grpo_model_create_reference(&reference, &model));
    grpo_adamw optimizer;
    grpo_adamw_config ac;
    memset(&ac, 0, sizeof ac);
    ac.learning_rate = 1e-4f; ac.weight_decay = 0.01f;
    CHECK_OK(grpo_adamw_create(&optimizer, &model, &ac));
    int N = BATCH * SEQ;
    int *tokens = (int *)malloc(sizeof(int) * N), *targets = (int *)malloc(sizeof(int) * N);
    float *logprobs = (float *)malloc(sizeof(float) * N), *dlogprobs = (float *)malloc(sizeof(float) * N);
    grpo_rng rng = grpo_rng_seed(3);
    for (int i = 0; i < N; i++) { tokens[i] = (int)(grpo_rng_next(&rng) % VOCAB); targets[i] = (int)(grpo_rng_next(&rng) % VOCAB); }

    /* train: forward, mean NLL, backward, AdamW */
    double train = 1e30, forward = 1e30;
    for (int r = 0; r <= repeats; r++) {
        double t0 = bench_now();
        CHECK_OK(grpo_model_forward(&model, tokens, targets, NULL, BATCH, SEQ, 1.0f, logprobs, NULL));
        grpo_sft_loss(logprobs, NULL, BATCH, SEQ, dlogprobs);
        grpo_model_zero_grad(&model);
        CHECK_OK(grpo_model_backward(&model, dlogprobs));
        CHECK_OK(grpo_adamw_step(&optimizer, &model, NULL, NULL));
        double t = bench_now() - t0;
        if (r > 0 && t < train) train = t;
    }
    for (int r = 0; r <= repeats; r++) {
        double t0 = bench_now();
        CHECK_OK(grpo_model_forward(&reference, tokens, targets, NULL, BATCH, SEQ, 1.0f, logprobs, NULL));
        double t = bench_now() - t0;
        if (r > 0 && t < forward) forward = t;
    }
    double flops = forward_flops(&model, N, SEQ);
    grpo_model_destroy(&reference); /* the GRPO trainer makes its own */

    /* decode: 4 prompts x 4 completions */
    grpo_generator generator;
    grpo_generator_config gc = {4, 4, NEW_TOKENS, 0};
    CHECK_OK(grpo_generator_create(&generator, &model, &gc));
    int prompts[4 * PROMPT_TOKENS], lengths[4];
    for (int i = 0; i < 4 * PROMPT_TOKENS; i++) prompts[i] = (int)(grpo_rng_next(&rng) % VOCAB);
    for (int i = 0; i < 4; i++) lengths[i] = PROMPT_TOKENS;
    grpo_sampling_config sampling;
    memset(&sampling, 0, sizeof sampling);
    sampling.eos_id = -1;
    const grpo_completions *out;
    double decode = 1e30;
    for (int r = 0; r <= repeats; r++) {
        sampling.seed = (uint64_t)r;
        double t0 = bench_now();
        CHECK_OK(grpo_generate(&generator, &model, prompts, lengths, 4, PROMPT_TOKENS, 4, &sampling, &out));
        double t = bench_now() - t0;
        if (r > 0 && t < decode) decode = t;
    }
    grpo_generator_destroy(&generator);

    /* a whole GRPO step */
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    tokenizer.vocab_size = VOCAB;
    tokenizer.encode = suite_encode;
    tokenizer.decode = suite_decode;
    grpo_reward reward;
    memset(&reward, 0, sizeof reward);
    reward.kind = GRPO_REWARD_FORMAT;
    grpo_trainer_config tc;
    memset(&tc, 0, sizeof tc);
    tc.prompts_per_step = GRPO_PROMPTS; tc.group_size = GRPO_G; tc.max_completion_tokens = NEW_TOKENS;
    tc.loss.beta = 0.04f;
    tc.sampling.eos_id = -1;
    tc.optimizer = ac;
    tc.rewards = &reward; tc.n_rewards = 1;
    tc.tokenizer = &tokenizer;
    tc.seed = 7;
    grpo_trainer trainer;
    CHECK_OK(grpo_trainer_create(&trainer, &model, &tc));
    char prompt[PROMPT_TOKENS];
    memcpy(prompt, grpo_prompt_text, PROMPT_TOKENS - 1); /* BOS + 63 bytes = 64 tokens */
    prompt[PROMPT_TOKENS - 1] = '\0';
    grpo_example examples[GRPO_PROMPTS];
    for (int i = 0; i < GRPO_PROMPTS; i++) { examples[i].prompt = prompt; examples[i].gold = "42"; }
    grpo_metrics best, m;
    memset(&best, 0, sizeof best);
    best.seconds_total = 1e30;
    for (int r = 0; r <= repeats; r++) {
        CHECK_OK(grpo_trainer_step(&trainer, examples, GRPO_PROMPTS, &m));
        if (r > 0 && m.seconds_total < best.seconds_total) best = m;
    }
    if (best.completions_mean_length != NEW_TOKENS) { fprintf(stderr, "bench_suite: completions of %g tokens, expected %d\n", best.completions_mean_length, NEW_TOKENS); return 1; }
    grpo_trainer_destroy(&trainer);
    double other = bench_system_busy_seconds() - busy0 - (bench_process_seconds() - own0);

    /* the machine's limits with these threads */
    double peak = bench_peak_gflops(), sgemm_forward, sgemm_train;
    sgemm_rates(&model, &sgemm_forward, &sgemm_train);

    printf("{\"config\": \"%s\", \"threads\": %d, \"train_seconds\": %.6f, \"train_tokens_per_second\": %.2f, \"train_gflops\": %.3f, "
           "\"forward_seconds\": %.6f, \"forward_tokens_per_second\": %.2f, \"forward_gflops\": %.3f, \"decode_tokens_per_second\": %.2f, "
           "\"grpo_seconds\": %.6f, \"grpo_generation\": %.6f, \"grpo_rewards\": %.6f, \"grpo_reference\": %.6f, \"grpo_policy\": %.6f, "
           "\"grpo_optimizer\": %.6f, \"peak_gflops\": %.3f, \"sgemm_forward_gflops\": %.3f, \"sgemm_train_gflops\": %.3f, "
           "\"peak_rss_mib\": %.1f, \"other_cpu_seconds\": %.2f, \"parameters\": %zu}\n",
           b->name, bench_threads(), train, N / train, 3.0 * flops / train / 1e9, forward, N / forward, flops / forward / 1e9,
           4.0 * 4 * NEW_TOKENS / decode, best.seconds_total, best.seconds_generation, best.seconds_rewards, best.seconds_reference,
           best.seconds_policy, best.seconds_optimizer, peak, sgemm_forward, sgemm_train, bench_peak_rss_mib(), other, model.num_parameters);
    free(tokens); free(targets); free(logprobs); free(dlogprobs);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
    return 0;
}

/* ---------------------------------------------------------------------------------------
   The driver: children per (threads, config, side), then the tables. */
typedef struct { char line[4096]; int ok; } child_result;

static void run_command(const char *command, child_result *result) {
    result->ok = 0;
    result->line[0] = '\0';
    FILE *pipe = popen(command, "r");
    if (!pipe) return;
    char line[4096];
    while (fgets(line, sizeof line, pipe))
        if (line[0] == '{') { snprintf(result->line, sizeof result->line, "%s", line); result->ok = 1; }
    if (pclose(pipe) != 0) result->ok = 0;
}

static double get(const child_result *r, const char *key) { return r->ok ? bench_json_number(r->line, key) : NAN; }

/* Every child's result: [round][thread setting][config]. */
enum { MAX_ROUNDS = 8 };
static child_result ours_runs[MAX_ROUNDS][2][2], theirs_runs[MAX_ROUNDS][2][2];

/* The round of setting t, config c whose `key` is best (lowest for seconds, else highest);
   round 0's result (perhaps failed) when none has it. */
static const child_result *best_run(child_result runs[][2][2], int rounds, int t, int c, const char *key) {
    int lower = strstr(key, "seconds") != NULL, best = 0;
    for (int r = 1; r < rounds; r++) {
        double x = get(&runs[r][t][c], key), y = get(&runs[best][t][c], key);
        if (!isnan(x) && (isnan(y) || (lower ? x < y : x > y))) best = r;
    }
    return &runs[best][t][c];
}

static void cell(char *out, size_t size, double value, const char *format) {
    if (isnan(value)) snprintf(out, size, "-");
    else snprintf(out, size, format, value);
}

int main(int argc, char **argv) {
    bench_openblas_at_its_best(argv);
    const char *python = "/usr/bin/python3", *only_config = NULL, *child_config = NULL;
    int repeats = 3, rounds = 3, torch = 1, thread_list[2] = {1, 2}, n_threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s [--repeats N] [--rounds N] [--threads 1,2] [--config A|B] [--no-torch] [--python PATH]\n"
                   "grpo.h against PyTorch (bench/torch_bench.py) on configs A and B at 16 x 128 tokens: train step,\n"
                   "no-grad forward, KV-cached decode, a whole GRPO step by phase; GFLOP/s against the measured fp32\n"
                   "peak and cblas_sgemm; 1- and 2-thread scaling; peak memory. Run from the repository root.\n"
                   "  --repeats N  timed runs of each measure in a process, the best kept (default 3, after a warm-up)\n"
                   "  --rounds N   rounds of the last thread setting, grpo.h and PyTorch alternately (default 3, at most %d)\n",
                   argv[0], (int)MAX_ROUNDS);
            return 0;
        } else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--config") && i + 1 < argc) only_config = argv[++i];
        else if (!strcmp(argv[i], "--child") && i + 1 < argc) child_config = argv[++i];
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            n_threads = sscanf(argv[++i], "%d,%d", &thread_list[0], &thread_list[1]);
            if (n_threads < 1 || thread_list[0] < 1 || (n_threads == 2 && thread_list[1] < 1)) { fprintf(stderr, "--threads: expected e.g. 2 or 1,2\n"); return 2; }
        } else { fprintf(stderr, "unknown argument '%s' (try --help)\n", argv[i]); return 2; }
    }
    if (repeats < 1) repeats = 1;
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;
    if (child_config) {
        for (int c = 0; c < 2; c++) if (!strcmp(child_config, configs[c].name)) return run_child(&configs[c], repeats);
        fprintf(stderr, "--child: unknown config %s\n", child_config);
        return 2;
    }

    /* setup */
    char cpu[256] = "unknown", date[64];
    FILE *info = fopen("/proc/cpuinfo", "r");
    if (info) {
        char line[512];
        while (fgets(line, sizeof line, info))
            if (!strncmp(line, "model name", 10)) { char *at = strchr(line, ':'); if (at) { snprintf(cpu, sizeof cpu, "%s", at + 2); cpu[strcspn(cpu, "\n")] = '\0'; } break; }
        fclose(info);
    }
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("# grpo.h benchmark suite, %s\n\n", date);
    printf("setup: %s, %ld CPUs; %s; OMP_WAIT_POLICY=%s; compiled with %s; PyTorch: %s (threads as listed, each\n"
           "side in a fresh process per setting); best of %d after a warm-up; %d round(s) of the last thread setting, the\n"
           "sides alternately, each figure its side's best round; 16 x 128 tokens, vocab 512, context 128\n\n",
           cpu, sysconf(_SC_NPROCESSORS_ONLN), bench_blas_name(), wait ? wait : "unset", GRPO_BENCH_CFLAGS, torch ? python : "not run", repeats, rounds);
    fflush(stdout);

    int main_t = n_threads - 1; /* the tables use the last (largest) setting */
    int rounds_of[2] = {1, 1};
    rounds_of[main_t] = rounds;
    for (int t = 0; t < n_threads; t++)
        for (int round = 0; round < rounds_of[t]; round++)
            for (int c = 0; c < 2; c++) {
                child_result *mine = &ours_runs[round][t][c], *other = &theirs_runs[round][t][c];
                mine->ok = other->ok = 0;
                if (only_config && strcmp(only_config, configs[c].name)) continue;
                char command[1024];
                snprintf(command, sizeof command, "OMP_NUM_THREADS=%d %s --child %s --repeats %d", thread_list[t], argv[0], configs[c].name, repeats);
                fprintf(stderr, "  grpo.h  config %s, %d thread(s), round %d of %d...\n", configs[c].name, thread_list[t], round + 1, rounds_of[t]);
                run_command(command, mine);
                if (!mine->ok) fprintf(stderr, "  grpo.h child failed: %s\n", command);
                if (torch) {
                    snprintf(command, sizeof command, "%s bench/torch_bench.py --config %s --threads %d --repeats %d --json",
                             python, configs[c].name, thread_list[t], repeats);
                    fprintf(stderr, "  PyTorch config %s, %d thread(s), round %d of %d...\n", configs[c].name, thread_list[t], round + 1, rounds_of[t]);
                    run_command(command, other);
                    if (!other->ok) fprintf(stderr, "  PyTorch failed: %s\n", command);
                }
            }
/* each side's best round, setting t, config c, for measure `key` */
#define OURS(t, c, key) best_run(ours_runs, rounds_of[t], t, c, key)
#define THEIRS(t, c, key) best_run(theirs_runs, rounds_of[t], t, c, key)
    char torch_version[64] = "?", torch_blas[256] = "?";
    for (int c = 0; c < 2; c++)
        if (theirs_runs[0][main_t][c].ok) {
            bench_json_string(theirs_runs[0][main_t][c].line, "torch_version", torch_version, sizeof torch_version);
            bench_json_string(theirs_runs[0][main_t][c].line, "blas", torch_blas, sizeof torch_blas);
        }
    if (torch) printf("PyTorch %s, BLAS: %s\n", torch_version, torch_blas);
    for (int t = 0; t < n_threads; t++) {
        double peak = NAN;
        double low = NAN;
        for (int round = 0; round < rounds_of[t]; round++)
            for (int c = 0; c < 2; c++)
                if (ours_runs[round][t][c].ok) {
                    double x = get(&ours_runs[round][t][c], "peak_gflops");
                    if (isnan(peak) || x > peak) peak = x;
                    if (isnan(low) || x < low) low = x;
                }
        if (low < peak - 0.5) printf("measured fp32 FMA peak, %d thread(s): %.0f to %.0f GFLOP/s\n", thread_list[t], low, peak);
        else printf("measured fp32 FMA peak, %d thread(s): %.0f GFLOP/s\n", thread_list[t], peak);
    }

    char a[64], b[64], r[64];
    printf("\n## Throughput, %d thread(s) (ratio = grpo.h / PyTorch; for the GRPO step, PyTorch's seconds / grpo.h's)\n\n", thread_list[main_t]);
    printf("| config | measure | grpo.h | PyTorch | ratio | target | ratio in each round | target met in |\n|---|---|---|---|---|---|---|---|\n");
    static const char *keys[4] = {"train_tokens_per_second", "forward_tokens_per_second", "decode_tokens_per_second", "grpo_seconds"};
    static const char *names[4] = {"train step (fwd+bwd+AdamW), tokens/s", "no-grad forward, tokens/s", "KV-cached decode, B x G = 16, new tokens/s", "whole GRPO step (16 x 128), seconds"};
    static const char *targets[2][4] = {{">= 1.25x", "-", ">= 3x", ">= 2x"}, {">= 1.1x", "-", ">= 3x", ">= 2x"}};
    static const double target_ratio[2][4] = {{1.25, 0.0, 3.0, 2.0}, {1.1, 0.0, 3.0, 2.0}};
    for (int c = 0; c < 2; c++) {
        if (!ours_runs[0][main_t][c].ok && !theirs_runs[0][main_t][c].ok) continue;
        for (int k = 0; k < 4; k++) {
            double x = get(OURS(main_t, c, keys[k]), keys[k]), y = get(THEIRS(main_t, c, keys[k]), keys[k]);
            cell(a, sizeof a, x, k == 3 ? "%.3f" : "%.0f");
            cell(b, sizeof b, y, k == 3 ? "%.3f" : "%.0f");
            cell(r, sizeof r, k == 3 ? y / x : x / y, "%.3fx");
            char each[MAX_ROUNDS * 12 + 8] = "", met[32] = "-";
            size_t at = 0;
            int count = 0, judged = 0;
            for (int round = 0; round < rounds_of[main_t]; round++) {
                double xr = get(&ours_runs[round][main_t][c], keys[k]), yr = get(&theirs_runs[round][main_t][c], keys[k]);
                double ratio = k == 3 ? yr / xr : xr / yr;
                char one[32];
                cell(one, sizeof one, ratio, "%.3fx");
                at += (size_t)snprintf(each + at, sizeof each - at, "%s%s", round ? " / " : "", one);
                if (!isnan(ratio) && target_ratio[c][k] > 0.0) { judged++; count += ratio >= target_ratio[c][k]; }
            }
            if (judged) snprintf(met, sizeof met, "%d of %d", count, judged);
            printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", configs[c].name, names[k], a, b, r, targets[c][k], each, met);
        }
    }

    printf("\n## Efficiency, %d thread(s): achieved GFLOP/s, and as a share of the measured fp32 peak and of\n"
           "## cblas_sgemm's rate on the same matmul shapes\n\n", thread_list[main_t]);
    printf("| config | measure | grpo.h GFLOP/s | of peak | of sgemm | grpo.h of peak, each round | PyTorch GFLOP/s | of peak | of sgemm |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < 2; c++) {
        if (!ours_runs[0][main_t][c].ok) continue;
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "forward_gflops" : "train_gflops";
            /* each side's best round for this measure, against the highest peak and sgemm rate
               measured in any round (a disturbed measurement only comes out low) */
            const char *sgemm_key = k ? "sgemm_forward_gflops" : "sgemm_train_gflops";
            double peak = get(OURS(main_t, c, "peak_gflops"), "peak_gflops"), sgemm = get(OURS(main_t, c, sgemm_key), sgemm_key);
            double x = get(OURS(main_t, c, key), key), y = get(THEIRS(main_t, c, key), key);
            char xp[32], xs[32], yp[32], ys[32], each[MAX_ROUNDS * 8 + 8] = "";
            cell(a, sizeof a, x, "%.1f"); cell(xp, sizeof xp, 100.0 * x / peak, "%.0f %%"); cell(xs, sizeof xs, 100.0 * x / sgemm, "%.0f %%");
            cell(b, sizeof b, y, "%.1f"); cell(yp, sizeof yp, 100.0 * y / peak, "%.0f %%"); cell(ys, sizeof ys, 100.0 * y / sgemm, "%.0f %%");
            size_t at = 0;
            for (int round = 0; round < rounds_of[main_t]; round++) {
                char one[32];
                cell(one, sizeof one, 100.0 * get(&ours_runs[round][main_t][c], key) / peak, "%.0f %%");
                at += (size_t)snprintf(each + at, sizeof each - at, "%s%s", round ? " / " : "", one);
            }
            printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", configs[c].name, k ? "no-grad forward" : "train step", a, xp, xs, each, b, yp, ys);
        }
        printf("| %s | (best peak; sgemm at train / forward shapes) | %.0f | | %.0f / %.0f | | | | |\n", configs[c].name,
               get(OURS(main_t, c, "peak_gflops"), "peak_gflops"), get(OURS(main_t, c, "sgemm_train_gflops"), "sgemm_train_gflops"),
               get(OURS(main_t, c, "sgemm_forward_gflops"), "sgemm_forward_gflops"));
    }

    printf("\n## The GRPO step by phase, %d thread(s), seconds (each side's fastest round)\n\n", thread_list[main_t]);
    printf("| config | side | generation | rewards | reference fwd | policy fwd+bwd | optimizer | other | total |\n|---|---|---|---|---|---|---|---|---|\n");
    static const char *phases[5] = {"grpo_generation", "grpo_rewards", "grpo_reference", "grpo_policy", "grpo_optimizer"};
    for (int c = 0; c < 2; c++)
        for (int side = 0; side < 2; side++) {
            const child_result *x = side ? THEIRS(main_t, c, "grpo_seconds") : OURS(main_t, c, "grpo_seconds");
            if (!x->ok) continue;
            double total = get(x, "grpo_seconds"), rest = total;
            printf("| %s | %s |", configs[c].name, side ? "PyTorch" : "grpo.h");
            for (int p = 0; p < 5; p++) { double v = get(x, phases[p]); rest -= v; printf(" %.3f |", v); }
            printf(" %.3f | %.3f |\n", rest, total);
        }

    if (n_threads == 2) {
        printf("\n## Thread scaling, %d -> %d threads (speed-up = rate with %d / rate with %d)\n\n", thread_list[0], thread_list[1], thread_list[1], thread_list[0]);
        printf("| config | measure | grpo.h %d | grpo.h %d | speed-up | PyTorch %d | PyTorch %d | speed-up |\n|---|---|---|---|---|---|---|---|\n",
               thread_list[0], thread_list[1], thread_list[0], thread_list[1]);
        for (int c = 0; c < 2; c++) {
            if (!ours_runs[0][1][c].ok && !theirs_runs[0][1][c].ok) continue;
            for (int k = 0; k < 4; k++) {
                double x1 = get(OURS(0, c, keys[k]), keys[k]), x2 = get(OURS(1, c, keys[k]), keys[k]);
                double y1 = get(THEIRS(0, c, keys[k]), keys[k]), y2 = get(THEIRS(1, c, keys[k]), keys[k]);
                const char *format = k == 3 ? "%.3f" : "%.0f";
                char c1[32], c2[32], c3[32], c4[32], s1[32], s2[32];
                cell(c1, sizeof c1, x1, format); cell(c2, sizeof c2, x2, format); cell(s1, sizeof s1, k == 3 ? x1 / x2 : x2 / x1, "%.2fx");
                cell(c3, sizeof c3, y1, format); cell(c4, sizeof c4, y2, format); cell(s2, sizeof s2, k == 3 ? y1 / y2 : y2 / y1, "%.2fx");
                printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", configs[c].name, names[k], c1, c2, s1, c3, c4, s2);
            }
        }
    }

    printf("\n## Peak memory (resident, MiB, of each side's process, %d thread(s), the largest over the rounds)\n\n", thread_list[main_t]);
    printf("| config | grpo.h | PyTorch | PyTorch after `import torch`, before any model |\n|---|---|---|---|\n");
    for (int c = 0; c < 2; c++) {
        if (!ours_runs[0][main_t][c].ok && !theirs_runs[0][main_t][c].ok) continue;
        /* best_run picks the highest of a measure not in seconds: here the largest */
        cell(a, sizeof a, get(OURS(main_t, c, "peak_rss_mib"), "peak_rss_mib"), "%.0f");
        cell(b, sizeof b, get(THEIRS(main_t, c, "peak_rss_mib"), "peak_rss_mib"), "%.0f");
        cell(r, sizeof r, get(THEIRS(main_t, c, "baseline_rss_mib"), "baseline_rss_mib"), "%.0f");
        printf("| %s | %s | %s | %s |\n", configs[c].name, a, b, r);
    }
    printf("\nCPU seconds other processes used during each measurement (> 1: disturbed, rerun on a quiet machine):");
    for (int t = 0; t < n_threads; t++)
        for (int round = 0; round < rounds_of[t]; round++)
            for (int c = 0; c < 2; c++) {
                const child_result *x = &ours_runs[round][t][c], *y = &theirs_runs[round][t][c];
                if (x->ok) printf(" grpo.h %s/%d#%d: %.1f;", configs[c].name, thread_list[t], round + 1, get(x, "other_cpu_seconds"));
                if (y->ok) printf(" PyTorch %s/%d#%d: %.1f;", configs[c].name, thread_list[t], round + 1, get(y, "other_cpu_seconds"));
            }
    printf("\n");
    return 0;
}
