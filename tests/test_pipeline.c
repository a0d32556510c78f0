/* Around GRPO (grpo.h section 15): grpo_sft_step (the loss on completion tokens only, against a
   hand computation; evaluation mode; learning; errors) and grpo_evaluate / grpo_pass_at_1
   (pass@1 and the format rate on cases whose answers are known, batching independence, R1's
   default sampling, errors). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

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

int main(void) {
    TEST(test_pass_at_1);
    TEST(test_sft_loss_is_on_completion_tokens);
    TEST(test_sft_learns_and_generation_agrees);
    TEST(test_sft_errors);
    TEST(test_evaluate_counts);
    TEST(test_evaluate_sampling);
    TEST(test_evaluate_errors);
    return test_finish("test_pipeline");
}
