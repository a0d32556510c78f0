/* Around GRPO (grpo.h section 15): grpo_sft_step (the loss on completion tokens only, against a
   hand computation; evaluation mode; learning; errors), grpo_evaluate / grpo_pass_at_1 (pass@1
   and the format rate on cases whose answers are known, batching independence, R1's default
   sampling, errors), grpo_pass_at_k against enumeration and the closed form, answer extraction
   and the majority vote, cons@k / pass@k / greedy accuracy on scripted completions, rejection
   sampling (threshold, duplicates, caps, callback rewards, errors), and grpo_sft_train (gradient
   accumulation equals one big batch, every example once per epoch in a fresh order, eval loss,
   errors and refusals). Datasets are tested in tests/test_dataset.c. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

static int same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static grpo_config tiny(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 64; c.d_model = 32; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 64;
    return c;
}

/* ---------------------------------------------------------------------------------------
   pass@1 */
static void test_pass_at_1(void) {
    int counts[3] = {4, 0, 2};
    CHECK(fabs(grpo_pass_at_1(counts, 3, 4) - 0.5) < 1e-12, "(4/4 + 0/4 + 2/4) / 3 = 0.5, got %g", grpo_pass_at_1(counts, 3, 4));
    int one[1] = {1};
    CHECK(grpo_pass_at_1(one, 1, 1) == 1.0, "a single correct greedy sample");
    CHECK(fabs(grpo_pass_at_1(one, 1, 3) - 1.0 / 3.0) < 1e-12, "1 of 3");
    int bad[2] = {1, 5};
    CHECK(isnan(grpo_pass_at_1(bad, 2, 4)), "a count above k is an error (NaN)");
    bad[1] = -1;
    CHECK(isnan(grpo_pass_at_1(bad, 2, 4)), "a negative count is an error (NaN)");
    CHECK(isnan(grpo_pass_at_1(counts, 0, 4)) && isnan(grpo_pass_at_1(counts, 3, 0)) && isnan(grpo_pass_at_1(NULL, 3, 4)),
          "no problems, k = 0 or NULL give NaN");
}

/* ---------------------------------------------------------------------------------------
   grpo_sft_step */

/* The loss of an SFT batch by hand: each row is BOS, prompt, completion, EOS; the mean of
   -log p over the completion tokens and the EOS only. */
static double hand_sft_loss(grpo_model *model, const grpo_sft_example *examples, int B, int *tokens_out) {
    int T = model->config.context_length, rows[4][64], targets[4][64], lengths[4], starts[4];
    memset(rows, 0, sizeof rows);
    memset(targets, 0, sizeof targets);
    for (int b = 0; b < B; b++) {
        int n = 0;
        rows[b][n++] = GRPO_BYTE_BOS;
        for (const char *c = examples[b].prompt; *c; c++) rows[b][n++] = (unsigned char)*c;
        starts[b] = n; /* the first completion token */
        for (const char *c = examples[b].completion; *c; c++) rows[b][n++] = (unsigned char)*c;
        rows[b][n++] = GRPO_BYTE_EOS;
        lengths[b] = n - 1;
        for (int t = 0; t + 1 < n; t++) targets[b][t] = rows[b][t + 1];
    }
    static float logprobs[4 * 64];
    grpo_model_forward(model, &rows[0][0], &targets[0][0], lengths, B, T, 1.0f, logprobs, NULL);
    double sum = 0.0;
    int count = 0;
    for (int b = 0; b < B; b++)
        for (int t = starts[b] - 1; t < lengths[b]; t++) { sum -= logprobs[b * T + t]; count++; }
    *tokens_out = count;
    return sum / count;
}

static const grpo_sft_example sft_batch[3] = {
    {"What is 2+3?", "<think>2+3=5</think><answer>5</answer>"},
    {"Hi", "<answer>ok</answer>"},
    {"", "empty prompt"}};

static void test_sft_loss_is_on_completion_tokens(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 1);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    float *before = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    grpo_sft_metrics m;
    memset(&m, 0, sizeof m);
    CHECK(grpo_sft_step(&model, NULL, &tok, sft_batch, 3, &m) == GRPO_SUCCESS, "evaluation step: %s", grpo_last_error());
    int tokens = 0;
    double expected = hand_sft_loss(&model, sft_batch, 3, &tokens);
    CHECK(fabs(m.loss - expected) <= 1e-5 * expected, "loss %.7f, by hand %.7f", m.loss, expected);
    CHECK(m.tokens == tokens && tokens == 38 + 1 + 19 + 1 + 12 + 1, "completion tokens + EOS: %d (by hand %d)", m.tokens, tokens);
    CHECK(m.sequences == 3 && m.grad_norm == 0.0f && m.learning_rate == 0.0f, "evaluation only: no update metrics");
    CHECK(memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0, "optimizer NULL leaves the weights alone");
    /* changing the prompt changes the context, never the count of loss tokens */
    grpo_sft_example longer[1] = {{"a much longer prompt than before", "<answer>ok</answer>"}};
    CHECK(grpo_sft_step(&model, NULL, &tok, longer, 1, &m) == GRPO_SUCCESS && m.tokens == 20, "prompt tokens carry no loss (%d tokens)", m.tokens);
    free(before);
    grpo_model_destroy(&model);
}

/* A few steps on one batch memorise it, and greedy generation from the prompt (encoded as the
   trainer and grpo_evaluate encode it) gives the completion back: SFT, generation and
   evaluation agree on how prompts are tokenized. */
static void test_sft_learns_and_generation_agrees(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 2);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    ac.learning_rate = 1e-2f;
    grpo_adamw_create(&optimizer, &model, &ac);
    grpo_sft_example batch[2] = {{"Q: 3+4", "<think>3+4=7</think><answer>7</answer>"}, {"Q: 1+1", "<think>1+1=2</think><answer>2</answer>"}};
    grpo_sft_metrics first, m;
    grpo_result r = GRPO_SUCCESS;
    for (int step = 0; step < 150 && !r; step++) r = grpo_sft_step(&model, &optimizer, &tok, batch, 2, step == 0 ? &first : &m);
    CHECK(r == GRPO_SUCCESS, "steps: %s", grpo_last_error());
    CHECK(optimizer.step == 150 && first.grad_norm > 0.0f && first.learning_rate > 0.0f, "one AdamW update per step");
    CHECK(m.loss < 0.02 && first.loss > 4.0, "memorised: loss %.3f -> %.4f", first.loss, m.loss);
    grpo_example problems[2] = {{"Q: 3+4", "7"}, {"Q: 1+1", "3"}};
    grpo_eval_config ec = {0};
    ec.samples_per_problem = 1, ec.sampling.greedy = 1, ec.tokenizer = &tok, ec.max_completion_tokens = 40;
    int counts[2] = {-1, -1};
    grpo_eval_result er;
    CHECK(grpo_evaluate(&model, &ec, problems, 2, counts, &er) == GRPO_SUCCESS, "evaluate: %s", grpo_last_error());
    CHECK(counts[0] == 1 && counts[1] == 0, "the accuracy reward judges: right gold 1, wrong gold 0 (got %d, %d)", counts[0], counts[1]);
    CHECK(er.pass_at_1 == 0.5 && er.format_rate == 1.0 && er.truncated_ratio == 0.0, "pass@1 %g, format %g, truncated %g", er.pass_at_1, er.format_rate, er.truncated_ratio);
    CHECK(er.mean_length == 39.0, "the completion and its EOS: 39 tokens, got %g", er.mean_length);
    /* the memorised model through rejection sampling: the default rewards keep the one right,
       well-formed completion per prompt; its samples are all that text, kept once */
    grpo_rejection_config rc = {0};
    rc.samples_per_prompt = 4, rc.max_completion_tokens = 40, rc.tokenizer = &tok;
    rc.sampling.temperature = 0.6f, rc.sampling.top_p = 0.95f, rc.sampling.seed = 3;
    grpo_dataset out;
    memset(&out, 0, sizeof out);
    grpo_rejection_result rr;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 2, &out, &rr) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(rr.passed == 4 && rr.kept == 1 && rr.prompts_with_any == 1, "passed %d, kept %d (duplicates removed)", rr.passed, rr.kept);
    CHECK(out.count == 1 && same_text(out.records[0].completion, batch[0].completion) && same_text(out.records[0].prompt, "Q: 3+4") &&
          same_text(out.records[0].answer, "7"), "the memorised completion");
    grpo_dataset_destroy(&out);
    /* and R1's evaluation figures on it: problem 0 always right, problem 1 never */
    ec.samples_per_problem = 4, ec.sampling.greedy = 0, ec.greedy_run = 1;
    CHECK(grpo_evaluate(&model, &ec, problems, 2, counts, &er) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(er.pass_at_1 == 0.5 && er.cons_at_k == 0.5 && er.pass_at_k == 0.5 && er.greedy_accuracy == 0.5 && er.format_rate == 1.0,
          "pass@1 %g cons %g pass@k %g greedy %g format %g", er.pass_at_1, er.cons_at_k, er.pass_at_k, er.greedy_accuracy, er.format_rate);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
}

static void test_sft_errors(void) {
    grpo_config config = tiny();
    grpo_model model, reference;
    grpo_model_create(&model, &config, 3);
    grpo_model_create_reference(&reference, &model);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    grpo_adamw_create(&optimizer, &model, &ac);
    grpo_sft_metrics m;
    char long_text[80];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    grpo_sft_example too_long[2] = {{"fine", "fine"}, {"a prompt", long_text}};
    grpo_result r = grpo_sft_step(&model, &optimizer, &tok, too_long, 2, &m);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "example 1") && strstr(grpo_last_error(), "context_length"),
          "a sequence longer than the context: %s", grpo_last_error());
    /* exactly at the limit is fine: BOS + 30 + 33 + EOS = 65 tokens give 64 inputs */
    char prompt30[31], completion33[34];
    memset(prompt30, 'p', 30); prompt30[30] = '\0';
    memset(completion33, 'c', 33); completion33[33] = '\0';
    grpo_sft_example exact[1] = {{prompt30, completion33}};
    CHECK(grpo_sft_step(&model, NULL, &tok, exact, 1, &m) == GRPO_SUCCESS && m.tokens == 34, "a sequence that exactly fits: %s", grpo_last_error());
    grpo_sft_example over[1] = {{prompt30, "ccccccccccccccccccccccccccccccccccc"}};
    CHECK(grpo_sft_step(&model, NULL, &tok, over, 1, &m) == GRPO_ERROR_INVALID_ARGUMENT, "one token more is refused");
    CHECK(grpo_sft_step(&reference, &optimizer, &tok, sft_batch, 3, &m) == GRPO_ERROR_INVALID_STATE && strstr(grpo_last_error(), "frozen"),
          "a frozen model cannot be trained: %s", grpo_last_error());
    CHECK(grpo_sft_step(&reference, NULL, &tok, sft_batch, 3, &m) == GRPO_SUCCESS, "but it can be evaluated");
    CHECK(grpo_sft_step(&model, &optimizer, &tok, sft_batch, 0, &m) == GRPO_ERROR_INVALID_ARGUMENT, "no examples");
    CHECK(grpo_sft_step(&model, &optimizer, NULL, sft_batch, 3, &m) == GRPO_ERROR_INVALID_ARGUMENT, "no tokenizer");
    /* a NaN weight: refused, nothing changes */
    model.params.final_norm[1] = NAN;
    float *before = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    r = grpo_sft_step(&model, &optimizer, &tok, sft_batch, 3, &m);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "refused"), "a NaN loss is refused: %s", grpo_last_error());
    CHECK(memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0 && optimizer.step == 0, "weights and optimizer unchanged");
    free(before);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&reference);
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   grpo_evaluate with judges whose verdicts are known: problem i ("p<i>") has exactly i % (k+1)
   correct samples, and its samples are well-formed when i is a multiple of 3. */
typedef struct { int calls[16]; } judge_state;

static int problem_index(const char *prompt) { return atoi(prompt + 1); }

static float known_correct(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)completion; (void)gold;
    judge_state *s = (judge_state *)user;
    int i = problem_index(prompt), k = 4;
    return s->calls[i]++ < i % (k + 1) ? 1.0f : 0.0f;
}

static float known_format(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)completion; (void)gold; (void)user;
    return problem_index(prompt) % 3 == 0 ? 1.0f : 0.0f;
}

typedef struct { int seen, correct, formatted, order_ok; } completion_log;

static void log_completion(void *user, int problem, int sample, const char *completion, int correct, int formatted) {
    completion_log *log = (completion_log *)user;
    if (problem * 4 + sample != log->seen) log->order_ok = 0;
    if (!completion) log->order_ok = 0;
    log->seen++;
    log->correct += correct;
    log->formatted += formatted;
}

static void test_evaluate_counts(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 4);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    const char *prompts[10] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"};
    grpo_example problems[10];
    for (int i = 0; i < 10; i++) problems[i].prompt = prompts[i], problems[i].gold = "";
    judge_state state;
    memset(&state, 0, sizeof state);
    grpo_reward correct = {GRPO_REWARD_CALLBACK, 1.0f, "known", known_correct, &state, 0, 0};
    grpo_reward format = {GRPO_REWARD_CALLBACK, 1.0f, "known_format", known_format, NULL, 0, 0};
    completion_log log = {0, 0, 0, 1};
    grpo_eval_config ec = {0};
    ec.samples_per_problem = 4, ec.problems_per_batch = 3, ec.max_completion_tokens = 8, ec.tokenizer = &tok;
    ec.correct = &correct, ec.format = &format, ec.on_completion = log_completion, ec.user = &log;
    ec.sampling.eos_id = -1; /* every completion runs to the limit: 8 tokens, truncated */
    int counts[10];
    grpo_eval_result er;
    CHECK(grpo_evaluate(&model, &ec, problems, 10, counts, &er) == GRPO_SUCCESS, "evaluate: %s", grpo_last_error());
    double expected = 0.0;
    for (int i = 0; i < 10; i++) {
        CHECK(counts[i] == i % 5, "problem %d: %d correct, expected %d", i, counts[i], i % 5);
        expected += (i % 5) / 4.0 / 10.0;
    }
    CHECK(fabs(er.pass_at_1 - expected) < 1e-12 && fabs(er.pass_at_1 - grpo_pass_at_1(counts, 10, 4)) < 1e-12, "pass@1 %g, expected %g", er.pass_at_1, expected);
    CHECK(fabs(er.format_rate - 0.4) < 1e-12, "format rate: problems 0, 3, 6, 9, got %g", er.format_rate);
    CHECK(er.mean_length == 8.0 && er.truncated_ratio == 1.0, "length %g, truncated %g", er.mean_length, er.truncated_ratio);
    CHECK(er.n_problems == 10 && er.samples_per_problem == 4, "sizes");
    CHECK(log.seen == 40 && log.order_ok && log.correct == 20 && log.formatted == 16, "on_completion: %d calls in order %d, %d correct, %d formatted",
          log.seen, log.order_ok, log.correct, log.formatted);
    grpo_model_destroy(&model);
}

/* Sampling: the same seed gives the same completions whatever the batching, and a zero
   temperature / top_p means R1's 0.6 / 0.95. */
typedef struct { unsigned long hash[40]; } text_hashes;
static void hash_completion(void *user, int problem, int sample, const char *completion, int correct, int formatted) {
    (void)correct; (void)formatted;
    unsigned long h = 5381;
    for (const char *c = completion; *c; c++) h = h * 33 + (unsigned char)*c;
    ((text_hashes *)user)->hash[problem * 4 + sample] = h;
}

static void test_evaluate_sampling(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 5);
    grpo_rng rng = grpo_rng_seed(6);
    for (size_t i = 0; i < model.num_parameters; i++) model.params_memory[i] += 0.3f * grpo_rng_normal(&rng); /* a peaked, uneven distribution */
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_example problems[10];
    const char *prompts[10] = {"a", "bb", "ccc", "d", "ee", "f", "gg", "h", "i", "jj"};
    for (int i = 0; i < 10; i++) problems[i].prompt = prompts[i], problems[i].gold = "x";
    text_hashes a, b, c, d;
    grpo_eval_config ec = {0};
    ec.samples_per_problem = 4, ec.max_completion_tokens = 12, ec.tokenizer = &tok, ec.on_completion = hash_completion;
    ec.sampling.seed = 9;
    grpo_eval_result ra, rb, rc, rd;
    ec.user = &a, ec.problems_per_batch = 1;
    CHECK(grpo_evaluate(&model, &ec, problems, 10, NULL, &ra) == GRPO_SUCCESS, "%s", grpo_last_error());
    ec.user = &b, ec.problems_per_batch = 4;
    CHECK(grpo_evaluate(&model, &ec, problems, 10, NULL, &rb) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(memcmp(&a, &b, sizeof a) == 0 && ra.mean_length == rb.mean_length, "batches of 1 and 4 give the same samples");
    ec.user = &c, ec.sampling.temperature = 0.6f, ec.sampling.top_p = 0.95f;
    CHECK(grpo_evaluate(&model, &ec, problems, 10, NULL, &rc) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(memcmp(&a, &c, sizeof a) == 0, "zero temperature and top_p mean 0.6 and 0.95");
    ec.user = &d, ec.sampling.temperature = 1.0f, ec.sampling.top_p = 1.0f;
    CHECK(grpo_evaluate(&model, &ec, problems, 10, NULL, &rd) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(memcmp(&a, &d, sizeof a) != 0, "and another setting gives other samples");
    grpo_model_destroy(&model);
}

static void test_evaluate_errors(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 7);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_example problems[2] = {{"short", "1"}, {"a prompt that is much too long for a context of sixty-four tokens", "1"}};
    grpo_eval_config ec = {0};
    ec.tokenizer = &tok;
    grpo_eval_result er;
    grpo_result r = grpo_evaluate(&model, &ec, problems, 2, NULL, &er);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "problem 1") && strstr(grpo_last_error(), "context_length"),
          "a prompt too long: %s", grpo_last_error());
    CHECK(grpo_evaluate(&model, &ec, problems, 0, NULL, &er) == GRPO_ERROR_INVALID_ARGUMENT, "no problems");
    ec.tokenizer = NULL;
    CHECK(grpo_evaluate(&model, &ec, problems, 1, NULL, &er) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "tokenizer"), "no tokenizer");
    ec.tokenizer = &tok;
    ec.samples_per_problem = -1;
    CHECK(grpo_evaluate(&model, &ec, problems, 1, NULL, &er) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "samples_per_problem"), "k < 0");
    ec.samples_per_problem = 2;
    ec.sampling.top_p = 1.5f;
    CHECK(grpo_evaluate(&model, &ec, problems, 1, NULL, &er) != GRPO_SUCCESS && strstr(grpo_last_error(), "top_p"), "bad sampling: %s", grpo_last_error());
    ec.sampling.top_p = 0.0f;
    grpo_reward no_function = {GRPO_REWARD_CALLBACK, 1.0f, NULL, NULL, NULL, 0, 0};
    ec.correct = &no_function;
    CHECK(grpo_evaluate(&model, &ec, problems, 1, NULL, &er) == GRPO_ERROR_INVALID_CONFIG, "a callback judge without a function");
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   pass@k against brute-force enumeration and the closed form */

/* The share of the C(n, k) k-subsets of n samples (the first c correct) that hold a correct one. */
static double brute_pass_at_k(int n, int c, int k) {
    long subsets = 0, hits = 0;
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != k) continue;
        subsets++;
        hits += (mask & ((1u << c) - 1)) != 0;
    }
    return (double)hits / (double)subsets;
}

static void test_pass_at_k(void) {
    int cases = 0, bad = 0;
    for (int n = 1; n <= 10; n++)
        for (int c = 0; c <= n; c++)
            for (int k = 1; k <= n; k++) {
                double got = grpo_pass_at_k(&c, 1, n, k), expected = brute_pass_at_k(n, c, k);
                cases++;
                if (!(fabs(got - expected) < 1e-12)) { if (bad++ < 3) CHECK(0, "n %d, c %d, k %d: %.15f, by enumeration %.15f", n, c, k, got, expected); }
            }
    CHECK(bad == 0 && cases == 440, "%d of %d cases differ from enumeration", bad, cases);
    /* large n: against 1 - C(n-c, k)/C(n, k) through log-gamma (no product to share errors with) */
    int n = 1000, ks[3] = {1, 10, 100}, cs[3] = {1, 3, 500};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            int k = ks[a], c = cs[b];
            double closed = 1.0 - exp(lgamma(n - c + 1.0) - lgamma(n - c - k + 1.0) - lgamma(n + 1.0) + lgamma(n - k + 1.0));
            double got = grpo_pass_at_k(&c, 1, n, k);
            CHECK(fabs(got - closed) < 1e-9, "n 1000, c %d, k %d: %.12f, closed form %.12f", c, k, got, closed);
        }
    /* k = 1 is pass@1, k = n is "any correct" */
    int counts[5] = {0, 1, 4, 8, 3};
    CHECK(fabs(grpo_pass_at_k(counts, 5, 8, 1) - grpo_pass_at_1(counts, 5, 8)) < 1e-12, "pass@1 two ways: %g, %g", grpo_pass_at_k(counts, 5, 8, 1), grpo_pass_at_1(counts, 5, 8));
    CHECK(fabs(grpo_pass_at_k(counts, 5, 8, 8) - 0.8) < 1e-12, "pass@8 of 8 = share with any correct: %g", grpo_pass_at_k(counts, 5, 8, 8));
    double previous = 0.0;
    int monotone = 1;
    for (int k = 1; k <= 8; k++) { double p = grpo_pass_at_k(counts, 5, 8, k); monotone &= p >= previous - 1e-15; previous = p; }
    CHECK(monotone, "pass@k grows with k");
    int bad_counts[2] = {1, 9};
    CHECK(isnan(grpo_pass_at_k(bad_counts, 2, 8, 2)) && isnan(grpo_pass_at_k(counts, 5, 8, 9)) && isnan(grpo_pass_at_k(counts, 5, 8, 0)) &&
          isnan(grpo_pass_at_k(counts, 0, 8, 1)) && isnan(grpo_pass_at_k(NULL, 5, 8, 1)), "a count above n, k > n, k = 0, no problems, NULL: NaN");
}

/* ---------------------------------------------------------------------------------------
   answers and the majority vote */
static void test_answers_and_majority(void) {
    size_t s, e;
    const char *text = "<think>maybe <answer>1</answer>?</think> <answer> 42 </answer>";
    CHECK(grpo_extract_answer(text, strlen(text), &s, &e) == 1 && e - s == 2 && memcmp(text + s, "42", 2) == 0, "the last answer, trimmed");
    CHECK(grpo_extract_answer("<answer>unclosed", 16, &s, &e) == 0 && grpo_extract_answer("no tags", 7, &s, &e) == 0, "no answer");
    CHECK(grpo_answers_equal("1,000", 5, "1000", 4) && grpo_answers_equal("0.5", 3, "1/2", 3) && grpo_answers_equal(" x ", 3, "x", 1) &&
          !grpo_answers_equal("x", 1, "X", 1) && !grpo_answers_equal("2", 1, "3", 1), "the accuracy reward's equality");
    const char *a1[3] = {"5", "5", "3"};
    const char *a2[3] = {"3", "5", "5"};
    const char *a3[4] = {"a", "b", "b", "a"};         /* a tie: the class that appeared first */
    const char *a4[4] = {NULL, "7", NULL, NULL};
    const char *a5[3] = {NULL, NULL, NULL};
    const char *a6[4] = {"999", "1,000", "1000.0", "999"}; /* 1,000 and 1000.0 are one class: 2 votes, 999 too: tie, 999 first */
    const char *a7[5] = {"2", "1,000", "1000.0", "999", "1000"};
    const char *a8[3] = {"b", "a", "a"};
    CHECK(grpo_majority_answer(a1, 3) == 0 && grpo_majority_answer(a2, 3) == 1, "plain majorities: %d, %d", grpo_majority_answer(a1, 3), grpo_majority_answer(a2, 3));
    CHECK(grpo_majority_answer(a3, 4) == 0, "a tie goes to the earlier class: %d", grpo_majority_answer(a3, 4));
    CHECK(grpo_majority_answer(a4, 4) == 1 && grpo_majority_answer(a5, 3) == -1 && grpo_majority_answer(a5, 0) == -1 && grpo_majority_answer(NULL, 2) == -1,
          "samples without an answer do not vote");
    CHECK(grpo_majority_answer(a6, 4) == 0 && grpo_majority_answer(a7, 5) == 1, "numbers compare as numbers: %d, %d", grpo_majority_answer(a6, 4), grpo_majority_answer(a7, 5));
    CHECK(grpo_majority_answer(a8, 3) == 1, "the winner is its class's first answer");
    /* more than the stack scratch holds */
    const char *many[300];
    for (int i = 0; i < 300; i++) many[i] = i % 3 == 2 ? "x" : i % 3 == 1 ? "y" : "z";
    many[299] = "y"; /* y: 101 votes, z 100, x 99 */
    CHECK(grpo_majority_answer(many, 300) == 1, "300 answers: %d", grpo_majority_answer(many, 300));
}

/* ---------------------------------------------------------------------------------------
   A tokenizer whose decode hands out scripted completions in order: the model samples as usual,
   and the texts the evaluation and rejection sampling judge are known exactly. */
typedef struct { const char *const *texts; int n, next; } script;

static grpo_result scripted_encode(const grpo_tokenizer *tok, const char *text, size_t len, int *ids, int capacity, int *n_ids) {
    (void)tok;
    grpo_tokenizer bytes = grpo_byte_tokenizer();
    return bytes.encode(&bytes, text, len, ids, capacity, n_ids);
}
static grpo_result scripted_decode(const grpo_tokenizer *tok, const int *ids, int n, char *text, size_t capacity, size_t *n_bytes) {
    (void)ids; (void)n;
    script *s = (script *)tok->state;
    const char *t = s->texts[s->next % s->n];
    *n_bytes = strlen(t);
    if (capacity < *n_bytes + 1) return GRPO_ERROR_INVALID_ARGUMENT;
    memcpy(text, t, *n_bytes + 1);
    s->next++;
    return GRPO_SUCCESS;
}
static grpo_tokenizer scripted_tokenizer(script *s) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    tok.encode = scripted_encode, tok.decode = scripted_decode, tok.state = s;
    return tok;
}

static void test_evaluate_cons_and_pass_at_k(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 11);
    static const char *texts[15] = {
        /* problem 0, gold 5: two right; majority "5" (right) */
        "<think>a</think><answer>5</answer>", "<think>b</think> <answer> 5 </answer>", "<answer>3</answer>", "no answer at all",
        /* problem 1, gold 3: "3" and "4" tie at 2; "3" came first: right */
        "<answer>3</answer>", "<answer>4</answer>", "<think>c</think><answer>4</answer>", "<answer>3.0</answer>",
        /* problem 2, gold 1: one right, majority "2" wrong */
        "<answer>1</answer>", "<answer>2</answer>", "<answer>2</answer>", "<think>d</think><answer>2</answer>",
        /* the greedy run: right, wrong, right */
        "<answer>5</answer>", "<answer>0</answer>", "<answer>1</answer>"};
    script s = {texts, 15, 0};
    grpo_tokenizer tok = scripted_tokenizer(&s);
    grpo_example problems[3] = {{"p0", "5"}, {"p1", "3"}, {"p2", "1"}};
    grpo_eval_config ec = {0};
    ec.samples_per_problem = 4, ec.problems_per_batch = 2, ec.max_completion_tokens = 4, ec.tokenizer = &tok;
    ec.pass_k = 2, ec.greedy_run = 1;
    int counts[3];
    grpo_eval_result er;
    CHECK(grpo_evaluate(&model, &ec, problems, 3, counts, &er) == GRPO_SUCCESS, "evaluate: %s", grpo_last_error());
    CHECK(s.next == 15, "12 sampled and 3 greedy completions decoded, got %d", s.next);
    CHECK(counts[0] == 2 && counts[1] == 2 && counts[2] == 1, "counts %d %d %d", counts[0], counts[1], counts[2]);
    CHECK(fabs(er.pass_at_1 - 5.0 / 12.0) < 1e-12, "pass@1 %g", er.pass_at_1);
    CHECK(fabs(er.cons_at_k - 2.0 / 3.0) < 1e-12, "cons@4: problems 0 and 1, got %g", er.cons_at_k);
    double expected = (5.0 / 6.0 + 5.0 / 6.0 + 0.5) / 3.0; /* 1 - C(2,2)/C(4,2) twice, 1 - C(3,2)/C(4,2) */
    CHECK(er.pass_k == 2 && fabs(er.pass_at_k - expected) < 1e-12, "pass@2 %g, expected %g", er.pass_at_k, expected);
    CHECK(fabs(er.greedy_accuracy - 2.0 / 3.0) < 1e-12, "greedy accuracy %g", er.greedy_accuracy);
    CHECK(fabs(er.format_rate - 4.0 / 12.0) < 1e-12, "format rate %g (the greedy run is not mixed in)", er.format_rate);
    /* defaults: pass_k = k, no greedy run */
    s.next = 0;
    ec.pass_k = 0, ec.greedy_run = 0;
    CHECK(grpo_evaluate(&model, &ec, problems, 3, counts, &er) == GRPO_SUCCESS && s.next == 12, "%s", grpo_last_error());
    CHECK(er.pass_k == 4 && fabs(er.pass_at_k - 1.0) < 1e-12 && isnan(er.greedy_accuracy), "pass@4 = 1 (every problem has a right sample), no greedy: %g %g", er.pass_at_k, er.greedy_accuracy);
    ec.pass_k = 5;
    CHECK(grpo_evaluate(&model, &ec, problems, 3, counts, &er) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "pass_k"), "pass_k > k: %s", grpo_last_error());
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   rejection sampling */
static float gold_length_reward(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return (float)strlen(completion);
}

static void test_rejection_sampling(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 12);
    static const char *texts[12] = {
        /* p0, gold 5: right and well-formed twice (one a duplicate), a distinct one, right but not well-formed */
        "<think>a</think><answer>5</answer>", "<think>a</think><answer>5</answer>", "<think>b</think> <answer>5</answer>", "<answer>5</answer>",
        /* p1, gold 3: none right */
        "<think>x</think><answer>4</answer>", "<answer>2</answer>", "nothing", "<think></think><answer>1</answer>",
        /* p2, gold 7: one right and well-formed, one right but invalid UTF-8 */
        "<think>\xff</think><answer>7</answer>", "<answer>0</answer>", "<think>y</think><answer>7</answer>", "<answer>9</answer>"};
    script s = {texts, 12, 0};
    grpo_tokenizer tok = scripted_tokenizer(&s);
    grpo_example problems[3] = {{"p0", "5"}, {"p1", "3"}, {"p2", "7"}};
    grpo_rejection_config rc = {0};
    rc.samples_per_prompt = 4, rc.max_completion_tokens = 4, rc.tokenizer = &tok, rc.prompts_per_batch = 2;
    grpo_dataset out;
    memset(&out, 0, sizeof out);
    grpo_dataset_append(&out, "already there", "c", "a");
    grpo_rejection_result rr;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(rr.prompts == 3 && rr.sampled == 12, "sampled %d of %d prompts", rr.sampled, rr.prompts);
    CHECK(rr.passed == 5, "passed: p0's three well-formed right ones and p2's two, one not UTF-8 (%d)", rr.passed);
    CHECK(rr.kept == 3 && rr.prompts_with_any == 2 && out.count == 4, "kept %d (duplicate and invalid UTF-8 dropped), %d prompts, %d records", rr.kept, rr.prompts_with_any, out.count);
    if (out.count == 4) {
        CHECK(same_text(out.records[0].prompt, "already there"), "appended after what was there");
        CHECK(same_text(out.records[1].prompt, "p0") && same_text(out.records[1].completion, texts[0]) && same_text(out.records[1].answer, "5"), "record 1");
        CHECK(same_text(out.records[2].prompt, "p0") && same_text(out.records[2].completion, texts[2]), "record 2");
        CHECK(same_text(out.records[3].prompt, "p2") && same_text(out.records[3].completion, texts[10]) && same_text(out.records[3].answer, "7"), "record 3");
    }
    grpo_dataset_destroy(&out);
    /* at most one per prompt */
    s.next = 0;
    rc.max_per_prompt = 1;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_SUCCESS && rr.kept == 2 && out.count == 2 && rr.passed == 5, "max_per_prompt 1: kept %d", rr.kept);
    CHECK(out.count == 2 && same_text(out.records[0].completion, texts[0]) && same_text(out.records[1].completion, texts[10]), "the first passing one of each");
    grpo_dataset_destroy(&out);
    /* a lower threshold: accuracy or format is enough */
    s.next = 0;
    rc.max_per_prompt = 0, rc.threshold = 1.0f;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(rr.passed == 8 && rr.kept == 6, "threshold 1: passed %d, kept %d", rr.passed, rr.kept);
    grpo_dataset_destroy(&out);
    /* a callback reward has no known best: the threshold must be given */
    grpo_reward length = {GRPO_REWARD_CALLBACK, 1.0f, "length", gold_length_reward, NULL, 0, 0};
    rc.rewards = &length, rc.n_rewards = 1, rc.threshold = 0.0f;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "threshold"), "%s", grpo_last_error());
    s.next = 0;
    rc.threshold = 30.0f; /* completions of 30 bytes or more */
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_SUCCESS && rr.passed == 7 && rr.kept == 5, "by length: passed %d, kept %d", rr.passed, rr.kept);
    grpo_dataset_destroy(&out);
    /* errors leave the output as it was */
    grpo_dataset_append(&out, "x", "y", "z");
    rc.samples_per_prompt = -1;
    CHECK(grpo_rejection_sample(&model, &rc, problems, 3, &out, &rr) == GRPO_ERROR_INVALID_CONFIG && out.count == 1, "k < 0");
    rc.samples_per_prompt = 4;
    grpo_example too_long[1] = {{"a prompt much too long for a context of sixty-four tokens, with four more to come", "1"}};
    CHECK(grpo_rejection_sample(&model, &rc, too_long, 1, &out, &rr) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "rejection sampling: problem 0") && out.count == 1,
          "a prompt too long: %s", grpo_last_error());
    grpo_dataset_destroy(&out);
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   grpo_sft_train */
static grpo_dataset sft_dataset(int n) {
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    for (int i = 0; i < n; i++) {
        char prompt[32], completion[64];
        snprintf(prompt, sizeof prompt, "q%02d %d+%d", i, i % 7, i % 5);
        /* completions of different lengths, so micro-batches differ in their token counts */
        int at = snprintf(completion, sizeof completion, "c%02d ", i);
        for (int j = 0; j < i % 9; j++) completion[at++] = (char)('a' + j);
        snprintf(completion + at, sizeof completion - (size_t)at, "<answer>%d</answer>", i % 7 + i % 5);
        grpo_dataset_append(&d, prompt, completion, NULL);
    }
    return d;
}

/* k micro-batches of b give the update one batch of k*b gives: the same gradients (to float
   rounding) and the same loss; and the same as grpo_sft_step on those examples. */
static void test_sft_accumulation_is_exact(void) {
    grpo_config config = tiny();
    grpo_dataset data = sft_dataset(8);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_model models[3];
    grpo_adamw optimizers[3];
    grpo_adamw_config ac = {0};
    ac.learning_rate = 1e-3f, ac.max_grad_norm = -1.0f;
    grpo_sft_log logs[3];
    for (int m = 0; m < 3; m++) {
        grpo_model_create(&models[m], &config, 21);
        grpo_rng rng = grpo_rng_seed(21); /* uneven weights: token losses that differ from one another */
        for (size_t i = 0; i < models[m].num_parameters; i++) models[m].params_memory[i] += 0.3f * grpo_rng_normal(&rng);
        grpo_adamw_create(&optimizers[m], &models[m], &ac);
    }
    grpo_sft_config one = {0}, split = {0};
    one.batch_size = 8, one.seed = 5;
    split.batch_size = 2, split.accumulation_steps = 4, split.seed = 5;
    CHECK(grpo_sft_train(&models[0], &optimizers[0], &tok, &data, NULL, &one, &logs[0]) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(grpo_sft_train(&models[1], &optimizers[1], &tok, &data, NULL, &split, &logs[1]) == GRPO_SUCCESS, "%s", grpo_last_error());
    grpo_sft_example examples[8];
    grpo_dataset_sft_examples(&data, examples);
    grpo_sft_metrics metrics;
    CHECK(grpo_sft_step(&models[2], &optimizers[2], &tok, examples, 8, &metrics) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(optimizers[0].step == 1 && optimizers[1].step == 1 && logs[0].step == 1 && logs[1].step == 1, "one update each");
    CHECK(logs[0].tokens == logs[1].tokens && logs[0].tokens == metrics.tokens, "the same tokens: %d, %d, %d", logs[0].tokens, logs[1].tokens, metrics.tokens);
    CHECK(fabs(logs[0].train_loss - logs[1].train_loss) < 1e-6 * logs[0].train_loss && fabs(logs[0].train_loss - metrics.loss) < 1e-6 * metrics.loss,
          "losses %.9f, %.9f, %.9f", logs[0].train_loss, logs[1].train_loss, metrics.loss);
    size_t P = models[0].num_parameters;
    double e01 = test_relative_error(models[1].grads_memory, models[0].grads_memory, P);
    double e02 = test_relative_error(models[2].grads_memory, models[0].grads_memory, P);
    CHECK(e01 < 1e-5 && e02 < 1e-5, "gradients: accumulated vs one batch %.2e, vs grpo_sft_step %.2e", e01, e02);
    CHECK(fabs(logs[0].grad_norm - logs[1].grad_norm) < 1e-5f * logs[0].grad_norm, "grad norms %g, %g", logs[0].grad_norm, logs[1].grad_norm);
    double weights = 0.0;
    for (size_t i = 0; i < P; i++) weights = fmax(weights, fabs(models[1].params_memory[i] - models[0].params_memory[i]));
    CHECK(weights < 0.05 * ac.learning_rate, "weights after the update differ by %.2e (lr %.0e)", weights, ac.learning_rate);
    /* per-micro-batch means would differ: check that they do here, so that the test can fail */
    double mean_of_means = 0.0;
    for (int m = 0; m < 4; m++) {
        grpo_sft_metrics part;
        grpo_sft_step(&models[2], NULL, &tok, examples + 2 * m, 2, &part);
        mean_of_means += part.loss / 4.0;
    }
    grpo_sft_metrics whole;
    grpo_sft_step(&models[2], NULL, &tok, examples, 8, &whole);
    CHECK(fabs(mean_of_means - whole.loss) > 1e-3, "the micro-batches' token counts differ enough to matter (%.5f vs %.5f)", mean_of_means, whole.loss);
    for (int m = 0; m < 3; m++) { grpo_adamw_destroy(&optimizers[m]); grpo_model_destroy(&models[m]); }
    grpo_dataset_destroy(&data);
}

/* Every example once per epoch, a fresh order each epoch: seen through the tokenizer, which
   encodes each completion once per epoch (and once more before training, to check lengths). */
typedef struct { int order[64], n; } encode_log;
static encode_log encodes;
static grpo_result logging_encode(const grpo_tokenizer *tok, const char *text, size_t len, int *ids, int capacity, int *n_ids) {
    (void)tok;
    if (len >= 3 && text[0] == 'c' && encodes.n < 64) encodes.order[encodes.n++] = (text[1] - '0') * 10 + (text[2] - '0');
    grpo_tokenizer bytes = grpo_byte_tokenizer();
    return bytes.encode(&bytes, text, len, ids, capacity, n_ids);
}

typedef struct { int calls, steps[32], epochs[32], evaluated[32]; double eval_losses[32]; } sft_logs;
static void record_log(void *user, const grpo_sft_log *log) {
    sft_logs *l = (sft_logs *)user;
    if (l->calls < 32) {
        l->steps[l->calls] = log->step, l->epochs[l->calls] = log->epoch;
        l->evaluated[l->calls] = !isnan(log->eval_loss), l->eval_losses[l->calls] = log->eval_loss;
    }
    l->calls++;
}

static void test_sft_epochs_and_shuffling(void) {
    grpo_config config = tiny();
    grpo_dataset data = sft_dataset(10);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    tok.encode = logging_encode;
    grpo_model model;
    grpo_model_create(&model, &config, 22);
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    grpo_adamw_create(&optimizer, &model, &ac);
    sft_logs logs;
    memset(&logs, 0, sizeof logs);
    memset(&encodes, 0, sizeof encodes);
    grpo_sft_config sc = {0};
    sc.batch_size = 3, sc.epochs = 3, sc.seed = 9, sc.on_log = record_log, sc.user = &logs;
    CHECK(grpo_sft_total_steps(10, &sc) == 12, "4 updates (3, 3, 3, 1) per epoch: %d", grpo_sft_total_steps(10, &sc));
    grpo_sft_log final;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, &final) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(optimizer.step == 12 && final.step == 12 && final.epoch == 3 && logs.calls == 12, "12 updates, 12 logs: %d, %d", (int)optimizer.step, logs.calls);
    CHECK(logs.epochs[3] == 1 && logs.epochs[4] == 2 && logs.epochs[11] == 3, "epochs are 1-based and change every 4 updates");
    CHECK(encodes.n == 40, "each completion encoded once before training and once per epoch: %d", encodes.n);
    int each_once = 1, differ = 0;
    for (int epoch = 0; epoch < 4; epoch++) {
        int seen[10] = {0};
        for (int i = 0; i < 10; i++) seen[encodes.order[epoch * 10 + i] % 10]++;
        for (int i = 0; i < 10; i++) each_once &= seen[i] == 1;
    }
    for (int i = 0; i < 10; i++) differ += encodes.order[10 + i] != encodes.order[20 + i];
    int first_in_order = 1;
    for (int i = 0; i < 10; i++) first_in_order &= encodes.order[i] == i;
    CHECK(each_once, "every example exactly once per epoch");
    CHECK(first_in_order && differ > 0, "the length check goes in order; epochs 1 and 2 in different orders (%d positions differ)", differ);
    /* the same seed, the same order; log_every */
    int first_epoch[10];
    memcpy(first_epoch, encodes.order + 10, sizeof first_epoch);
    memset(&encodes, 0, sizeof encodes);
    memset(&logs, 0, sizeof logs);
    sc.epochs = 1, sc.log_every = 3;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, &final) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(memcmp(first_epoch, encodes.order + 10, sizeof first_epoch) == 0, "the same seed gives the same first epoch");
    CHECK(logs.calls == 2 && logs.steps[0] == 3 && logs.steps[1] == 4, "log_every 3 over 4 updates: steps 3 and 4 (the last), got %d calls", logs.calls);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
    grpo_dataset_destroy(&data);
}

static void test_sft_eval_loss(void) {
    grpo_config config = tiny();
    grpo_dataset data = sft_dataset(6), eval = sft_dataset(5);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_model model;
    grpo_model_create(&model, &config, 23);
    /* the eval loss is the token-weighted mean over the whole set, whatever the batching */
    grpo_sft_example examples[5];
    grpo_dataset_sft_examples(&eval, examples);
    grpo_sft_metrics whole;
    grpo_sft_step(&model, NULL, &tok, examples, 5, &whole);
    double loss2, loss16;
    int tokens;
    CHECK(grpo_sft_eval_loss(&model, &tok, &eval, 2, &loss2, &tokens) == GRPO_SUCCESS && grpo_sft_eval_loss(&model, &tok, &eval, 0, &loss16, NULL) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(fabs(loss2 - whole.loss) < 1e-6 * whole.loss && fabs(loss16 - whole.loss) < 1e-6 * whole.loss && tokens == whole.tokens,
          "eval loss in batches of 2: %.8f, of 16: %.8f, one batch: %.8f (%d tokens)", loss2, loss16, whole.loss, tokens);
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    ac.learning_rate = 1e-2f;
    grpo_adamw_create(&optimizer, &model, &ac);
    sft_logs logs;
    memset(&logs, 0, sizeof logs);
    grpo_sft_config sc = {0};
    int epochs = getenv("GRPO_TEST_QUICK") ? 10 : 20; /* instrumented builds: fewer */
    sc.batch_size = 3, sc.epochs = epochs, sc.on_log = record_log, sc.user = &logs, sc.log_every = 1000;
    grpo_sft_log final;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, &eval, &sc, &final) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(logs.calls == epochs, "evaluated (and logged) at the end of each of %d epochs: %d", epochs, logs.calls);
    int all_evaluated = 1;
    for (int i = 0; i < epochs && i < logs.calls; i++) all_evaluated &= logs.evaluated[i] && logs.steps[i] == 2 * (i + 1);
    CHECK(all_evaluated, "each log has an eval loss, at steps 2, 4, ...");
    /* the eval set overlaps the training set (the first 5 of its 6): the eval loss falls */
    CHECK(logs.eval_losses[epochs - 1] < 0.6 * logs.eval_losses[0], "eval loss %.3f -> %.3f", logs.eval_losses[0], logs.eval_losses[epochs - 1]);
    double after;
    grpo_sft_eval_loss(&model, &tok, &eval, 4, &after, NULL);
    CHECK(fabs(final.eval_loss - after) < 1e-6 * after, "the final log's eval loss is the model's: %.6f, %.6f", final.eval_loss, after);
    /* eval_every 3 over 8 updates: 3, 6 and the end */
    memset(&logs, 0, sizeof logs);
    sc.epochs = 4, sc.eval_every = 3;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, &eval, &sc, &final) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(logs.calls == 3 && logs.steps[0] == 3 && logs.steps[1] == 6 && logs.steps[2] == 8 && logs.evaluated[2], "eval_every 3: %d logs", logs.calls);
    memset(&logs, 0, sizeof logs);
    sc.eval_every = -1;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, &eval, &sc, &final) == GRPO_SUCCESS && logs.calls == 1 && logs.steps[0] == 8, "eval_every -1: only the end");
    memset(&logs, 0, sizeof logs);
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, &final) == GRPO_SUCCESS && isnan(final.eval_loss) && logs.calls == 1, "no eval set: NaN");
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
    grpo_dataset_destroy(&data);
    grpo_dataset_destroy(&eval);
}

static void test_sft_train_errors(void) {
    grpo_config config = tiny();
    grpo_dataset data = sft_dataset(4);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_model model;
    grpo_model_create(&model, &config, 24);
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    grpo_adamw_create(&optimizer, &model, &ac);
    float *before = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    char long_completion[80];
    memset(long_completion, 'x', sizeof long_completion - 1);
    long_completion[sizeof long_completion - 1] = '\0';
    grpo_dataset_append(&data, "p", long_completion, NULL);
    grpo_sft_config sc = {0};
    sc.batch_size = 2;
    grpo_result r = grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, NULL);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "example 4 does not fit"), "a record too long is found before training: %s", grpo_last_error());
    CHECK(optimizer.step == 0 && memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0, "no update was made");
    grpo_dataset_destroy(&data);
    data = sft_dataset(4);
    grpo_dataset_append(&data, "no completion", NULL, "1");
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, NULL) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "record 4 has no completion"), "%s", grpo_last_error());
    grpo_dataset_destroy(&data);
    data = sft_dataset(4);
    grpo_sft_config bad = sc;
    bad.accumulation_steps = -1;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &bad, NULL) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "accumulation_steps"), "accumulation_steps");
    bad = sc, bad.eval_every = -2;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &bad, NULL) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "eval_every"), "eval_every");
    bad = sc, bad.batch_size = 5000;
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &bad, NULL) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "batch_size"), "batch_size");
    grpo_dataset empty;
    memset(&empty, 0, sizeof empty);
    CHECK(grpo_sft_train(&model, &optimizer, &tok, &empty, NULL, &sc, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "an empty training set");
    CHECK(grpo_sft_train(&model, NULL, &tok, &data, NULL, &sc, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "no optimizer");
    /* a NaN weight: the first update is refused, nothing changes */
    model.params.final_norm[0] = NAN;
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    r = grpo_sft_train(&model, &optimizer, &tok, &data, NULL, &sc, NULL);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "update 1 refused"), "%s", grpo_last_error());
    CHECK(optimizer.step == 0 && memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0, "weights and optimizer unchanged");
    free(before);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
    grpo_dataset_destroy(&data);
}

int main(void) {
    TEST(test_pass_at_1);
    TEST(test_sft_loss_is_on_completion_tokens);
    TEST(test_sft_learns_and_generation_agrees);
    TEST(test_sft_errors);
    TEST(test_evaluate_counts);
    TEST(test_evaluate_sampling);
    TEST(test_evaluate_errors);
    TEST(test_pass_at_k);
    TEST(test_answers_and_majority);
    TEST(test_evaluate_cons_and_pass_at_k);
    TEST(test_rejection_sampling);
    TEST(test_sft_accumulation_is_exact);
    TEST(test_sft_epochs_and_shuffling);
    TEST(test_sft_eval_loss);
    TEST(test_sft_train_errors);
    return test_finish("test_pipeline");
}
