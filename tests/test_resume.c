/* Exact resume: a GRPO run stopped after step k and resumed from its trainer checkpoint gives
   bit-identical weights, AdamW state, reference weights, step counters, data order and metrics
   at every later step to a run that never stopped. Also the data order (a seeded shuffle whose
   state is three numbers) and the errors of grpo_trainer_load. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include <sys/stat.h>
#include <unistd.h>

static char directory[256];

/* ---------------------------------------------------------------------------------------
   The data order */
static void test_data_order_is_a_permutation_per_epoch(void) {
    const uint64_t sizes[] = {1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint64_t n = sizes[k];
        grpo_data_order order = grpo_data_order_create(42, n);
        unsigned char *seen = (unsigned char *)calloc(n, 1);
        int permutation = 1, same_as_first = 1;
        uint64_t *first = (uint64_t *)malloc(n * sizeof(uint64_t));
        for (int epoch = 0; epoch < 3; epoch++) {
            memset(seen, 0, n);
            for (uint64_t i = 0; i < n; i++) {
                uint64_t index = grpo_data_order_index(&order, i);
                if (index >= n || seen[index]) permutation = 0;
                else seen[index] = 1;
                if (epoch == 0) first[i] = index;
                else if (first[i] != index) same_as_first = 0;
            }
            grpo_data_order_advance(&order, n);
        }
        CHECK(permutation, "size %llu: every epoch visits each example exactly once", (unsigned long long)n);
        if (n >= 5) CHECK(!same_as_first, "size %llu: epochs are shuffled differently", (unsigned long long)n);
        free(first);
        free(seen);
    }
    /* the same seed gives the same order; another seed another; `ahead` is the position's offset */
    grpo_data_order a = grpo_data_order_create(7, 50), b = grpo_data_order_create(7, 50), c = grpo_data_order_create(8, 50);
    int same = 1, differs = 0;
    for (uint64_t i = 0; i < 120; i++) {
        same &= grpo_data_order_index(&a, i) == grpo_data_order_index(&b, i);
        differs |= grpo_data_order_index(&a, i) != grpo_data_order_index(&c, i);
    }
    CHECK(same && differs, "seeded");
    uint64_t ahead = grpo_data_order_index(&a, 13);
    grpo_data_order_advance(&a, 13);
    CHECK(grpo_data_order_index(&a, 0) == ahead && a.position == 13, "advance moves the position");
    /* uniform: over 4000 epochs of 10 examples, each example comes first about 400 times
       (chi-square with 9 degrees of freedom; 40 is far beyond its 1e-5 quantile of 37.3) */
    int counts[10] = {0};
    grpo_data_order u = grpo_data_order_create(1, 10);
    for (int epoch = 0; epoch < 4000; epoch++) { counts[grpo_data_order_index(&u, 0)]++; grpo_data_order_advance(&u, 10); }
    double chi = 0.0;
    for (int i = 0; i < 10; i++) chi += (counts[i] - 400.0) * (counts[i] - 400.0) / 400.0;
    CHECK(chi < 40.0, "first positions are uniform (chi-square %.1f)", chi);
    /* batches wrap into the next epoch */
    grpo_example dataset[3] = {{"a", "1"}, {"b", "2"}, {"c", "3"}}, batch[5];
    grpo_data_order o = grpo_data_order_create(3, 3);
    CHECK(grpo_data_order_batch(&o, dataset, batch, 5) == GRPO_SUCCESS, "batch");
    int ok = 1;
    for (int i = 0; i < 5; i++) ok &= batch[i].prompt == dataset[grpo_data_order_index(&o, (uint64_t)i)].prompt;
    CHECK(ok, "batch[i] is the i-th example ahead");
    grpo_data_order empty = grpo_data_order_create(3, 0);
    CHECK(grpo_data_order_batch(&empty, dataset, batch, 1) == GRPO_ERROR_INVALID_ARGUMENT, "an order over no examples is an error");
}

/* ---------------------------------------------------------------------------------------
   A small GRPO run with everything that carries state between steps: a reference model
   (beta > 0), mu = 2 passes, dynamic sampling (a variable number of examples per step, so the
   data position matters), a cosine learning-rate schedule and a shuffled dataset of 10 prompts
   of which 3 are used per step. */
static float has_seven(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return strchr(completion, '7') ? 1.0f : (float)(strlen(completion) % 3) * 0.1f;
}

static const grpo_example dataset[10] = {{"one:", "1"}, {"two:", "2"}, {"three:", "3"}, {"four:", "4"}, {"five:", "5"},
                                         {"six:", "6"}, {"seven:", "7"}, {"eight:", "8"}, {"nine:", "9"}, {"ten:", "10"}};
static grpo_tokenizer tokenizer;
static grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "seven", has_seven, NULL, 0, 0}};

static grpo_config run_model_config(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 32; c.d_model = 32; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 48; c.qkv_bias = 1;
    return c;
}

static grpo_trainer_config run_config(void) {
    grpo_trainer_config c;
    memset(&c, 0, sizeof c);
    c.prompts_per_step = 2; c.group_size = 4; c.max_completion_tokens = 10; c.mu = 2;
    c.dynamic_sampling = 1; c.max_sampling_rounds = 2;
    c.loss.beta = 0.04f;
    c.optimizer.learning_rate = 1e-2f; c.optimizer.schedule = GRPO_SCHEDULE_COSINE; c.optimizer.warmup_steps = 2; c.optimizer.total_steps = 10;
    c.rewards = rewards; c.n_rewards = 1; c.tokenizer = &tokenizer; c.seed = 5;
    c.sampling.eos_id = -1;
    return c;
}

#define RUN_STEPS 6

/* What must be identical after each step. */
typedef struct {
    float *weights, *moments, *reference;
    uint64_t optimizer_step, trainer_step;
    grpo_data_order data;
    grpo_metrics metrics;
} snapshot;

static void take(snapshot *s, const grpo_trainer *t, const grpo_metrics *m) {
    size_t P = t->policy->num_parameters;
    s->weights = (float *)malloc(P * sizeof(float));
    s->moments = (float *)malloc(2 * P * sizeof(float));
    s->reference = (float *)malloc(P * sizeof(float));
    memcpy(s->weights, t->policy->params_memory, P * sizeof(float));
    memcpy(s->moments, t->optimizer.m, 2 * P * sizeof(float));
    memcpy(s->reference, t->reference.params_memory, P * sizeof(float));
    s->optimizer_step = t->optimizer.step;
    s->trainer_step = t->step;
    s->data = t->data;
    s->metrics = *m;
}

static void release(snapshot *s) { free(s->weights); free(s->moments); free(s->reference); }

/* Bitwise equality of every metric but the timings (NaN equals NaN bit for bit). */
static int same_metrics(const grpo_metrics *a, const grpo_metrics *b) {
    const double *x[] = {&a->reward, &a->reward_std, &a->frac_reward_zero_std, &a->completions_mean_length, &a->completions_min_length,
                         &a->completions_max_length, &a->completions_clipped_ratio, &a->kl, &a->entropy, &a->clip_ratio_low_mean,
                         &a->clip_ratio_high_mean, &a->clip_ratio_region_mean, &a->grad_norm, &a->learning_rate, &a->loss, &a->reward_means[0]};
    const double *y[] = {&b->reward, &b->reward_std, &b->frac_reward_zero_std, &b->completions_mean_length, &b->completions_min_length,
                         &b->completions_max_length, &b->completions_clipped_ratio, &b->kl, &b->entropy, &b->clip_ratio_low_mean,
                         &b->clip_ratio_high_mean, &b->clip_ratio_region_mean, &b->grad_norm, &b->learning_rate, &b->loss, &b->reward_means[0]};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        if (memcmp(x[i], y[i], sizeof(double)) != 0) return 0;
    return a->step == b->step && a->examples_used == b->examples_used && a->sampling_rounds == b->sampling_rounds;
}

/* One step through the data order, as a caller does it. */
static grpo_result data_step(grpo_trainer *t, grpo_metrics *m) {
    grpo_example batch[4];
    int n = t->config.prompts_per_step * t->config.max_sampling_rounds;
    grpo_data_order_batch(&t->data, dataset, batch, n);
    grpo_result r = grpo_trainer_step(t, batch, n, m);
    if (r == GRPO_SUCCESS) grpo_data_order_advance(&t->data, (uint64_t)m->examples_used);
    return r;
}

static void test_exact_resume(void) {
    tokenizer = grpo_byte_tokenizer();
    grpo_config mc = run_model_config();
    grpo_trainer_config tc = run_config();
    /* the run that never stops */
    snapshot expected[RUN_STEPS];
    grpo_model model;
    grpo_trainer trainer;
    grpo_model_create(&model, &mc, 1);
    CHECK(grpo_trainer_create(&trainer, &model, &tc) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    trainer.data = grpo_data_order_create(99, 10);
    int examples_used = 0, rounds = 0;
    for (int step = 0; step < RUN_STEPS; step++) {
        grpo_metrics m;
        grpo_result r = data_step(&trainer, &m);
        CHECK(r == GRPO_SUCCESS, "step %d: %s", step, grpo_last_error());
        take(&expected[step], &trainer, &m);
        examples_used += m.examples_used;
        rounds += m.sampling_rounds;
    }
    printf("    %d steps used %d examples in %d sampling rounds (dynamic sampling varies the data position)\n", RUN_STEPS, examples_used, rounds);
    CHECK(examples_used > 2 * RUN_STEPS, "dynamic sampling must draw extra examples for the data order to matter");
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);

    /* stopped after step k, resumed into fresh objects: a model of another seed, a new trainer
       and a new data order that only knows the dataset's size */
    for (int k = 1; k < RUN_STEPS; k += 2) {
        char path[320];
        snprintf(path, sizeof path, "%s/resume-%d.ckpt", directory, k);
        grpo_model_create(&model, &mc, 1);
        grpo_trainer_create(&trainer, &model, &tc);
        trainer.data = grpo_data_order_create(99, 10);
        grpo_metrics m;
        for (int step = 0; step < k; step++) data_step(&trainer, &m);
        CHECK(grpo_trainer_save(&trainer, path) == GRPO_SUCCESS, "save: %s", grpo_last_error());
        grpo_trainer_destroy(&trainer);
        grpo_model_destroy(&model);

        grpo_model_create(&model, &mc, 12345);
        grpo_trainer_config other_seed = tc;
        other_seed.seed = 777; /* the file's seed of the sampling streams wins */
        grpo_trainer_create(&trainer, &model, &other_seed);
        trainer.data = grpo_data_order_create(0, 10);
        grpo_result r = grpo_trainer_load(&trainer, path);
        CHECK(r == GRPO_SUCCESS, "resume after step %d: %s", k, grpo_last_error());
        if (r) { grpo_trainer_destroy(&trainer); grpo_model_destroy(&model); continue; }
        size_t P = model.num_parameters;
        for (int step = k; step < RUN_STEPS; step++) {
            r = data_step(&trainer, &m);
            CHECK(r == GRPO_SUCCESS, "resumed step %d: %s", step, grpo_last_error());
            const snapshot *e = &expected[step];
            CHECK(memcmp(model.params_memory, e->weights, P * sizeof(float)) == 0, "stopped at %d: weights differ after step %d", k, step);
            CHECK(memcmp(trainer.optimizer.m, e->moments, 2 * P * sizeof(float)) == 0 && trainer.optimizer.step == e->optimizer_step,
                  "stopped at %d: AdamW state differs after step %d", k, step);
            CHECK(memcmp(trainer.reference.params_memory, e->reference, P * sizeof(float)) == 0, "stopped at %d: reference differs after step %d", k, step);
            CHECK(trainer.step == e->trainer_step && memcmp(&trainer.data, &e->data, sizeof e->data) == 0, "stopped at %d: step counter or data order differs after step %d", k, step);
            CHECK(same_metrics(&m, &e->metrics), "stopped at %d: metrics differ after step %d (reward %.17g vs %.17g, loss %.17g vs %.17g)",
                  k, step, m.reward, e->metrics.reward, m.loss, e->metrics.loss);
        }
        grpo_trainer_destroy(&trainer);
        grpo_model_destroy(&model);
    }
    /* and the control: without the load, the run differs (the test can fail) */
    grpo_model_create(&model, &mc, 1);
    grpo_trainer_create(&trainer, &model, &tc);
    trainer.data = grpo_data_order_create(99, 10);
    grpo_metrics m;
    data_step(&trainer, &m);
    trainer.data.position++; /* one example off */
    data_step(&trainer, &m);
    CHECK(memcmp(model.params_memory, expected[1].weights, model.num_parameters * sizeof(float)) != 0, "a different data position gives different weights");
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
    for (int step = 0; step < RUN_STEPS; step++) release(&expected[step]);
}

/* ---------------------------------------------------------------------------------------
   What grpo_trainer_load refuses, and that a refusal changes nothing. */
static void test_trainer_load_errors(void) {
    tokenizer = grpo_byte_tokenizer();
    grpo_config mc = run_model_config();
    grpo_trainer_config tc = run_config();
    grpo_model model;
    grpo_trainer trainer;
    grpo_model_create(&model, &mc, 1);
    grpo_trainer_create(&trainer, &model, &tc);
    trainer.data = grpo_data_order_create(99, 10);
    grpo_metrics m;
    data_step(&trainer, &m);
    char good[320], weights_only[320];
    snprintf(good, sizeof good, "%s/good.ckpt", directory);
    snprintf(weights_only, sizeof weights_only, "%s/weights-only.ckpt", directory);
    CHECK(grpo_trainer_save(&trainer, good) == GRPO_SUCCESS, "save");
    CHECK(grpo_checkpoint_save(weights_only, &model, &trainer.optimizer, NULL) == GRPO_SUCCESS, "save without a reference");

    /* a trainer checkpoint loads as a plain checkpoint too (the reference is checked and skipped) */
    grpo_model plain;
    memset(&plain, 0, sizeof plain);
    grpo_checkpoint_state state;
    CHECK(grpo_checkpoint_load(good, &plain, NULL, &state) == GRPO_SUCCESS && memcmp(plain.params_memory, model.params_memory, model.num_parameters * 4) == 0,
          "grpo_checkpoint_load reads a trainer checkpoint: %s", grpo_last_error());
    CHECK(state.step == 1 && state.rng_state == 5 && state.data.size == 10, "step, seed and data order of a trainer checkpoint");
    grpo_model_destroy(&plain);

    /* refusals: nothing changes */
    size_t P = model.num_parameters;
    grpo_model fresh_model;
    grpo_trainer fresh;
    grpo_model_create(&fresh_model, &mc, 2);
    grpo_trainer_create(&fresh, &fresh_model, &tc);
    float *weights = (float *)malloc(P * sizeof(float)), *reference = (float *)malloc(P * sizeof(float));
    memcpy(weights, fresh_model.params_memory, P * sizeof(float));
    memcpy(reference, fresh.reference.params_memory, P * sizeof(float));
    grpo_result r = grpo_trainer_load(&fresh, weights_only);
    CHECK(r == GRPO_ERROR_BAD_CHECKPOINT && strstr(grpo_last_error(), "no reference model"), "beta > 0 needs a reference: %s", grpo_last_error());
    fresh.data = grpo_data_order_create(99, 11);
    r = grpo_trainer_load(&fresh, good);
    CHECK(r == GRPO_ERROR_BAD_CHECKPOINT && strstr(grpo_last_error(), "dataset of 10 examples") && strstr(grpo_last_error(), "11"), "another dataset size: %s", grpo_last_error());
    CHECK(memcmp(weights, fresh_model.params_memory, P * sizeof(float)) == 0 && memcmp(reference, fresh.reference.params_memory, P * sizeof(float)) == 0 &&
          fresh.step == 0 && fresh.optimizer.step == 0 && fresh.data.size == 11 && fresh.data.position == 0, "a refused load changes nothing");
    grpo_trainer_destroy(&fresh);
    grpo_model_destroy(&fresh_model);
    /* another model config */
    grpo_config other = mc;
    other.n_layers = 3;
    grpo_model_create(&fresh_model, &other, 2);
    grpo_trainer_create(&fresh, &fresh_model, &tc);
    CHECK(grpo_trainer_load(&fresh, good) == GRPO_ERROR_BAD_CHECKPOINT && strstr(grpo_last_error(), "does not match"), "another model config: %s", grpo_last_error());
    grpo_trainer_destroy(&fresh);
    grpo_model_destroy(&fresh_model);
    /* beta = 0: a reference in the file is skipped; a trainer that was never created is an error */
    grpo_trainer_config no_kl = tc;
    no_kl.loss.beta = 0.0f;
    grpo_model_create(&fresh_model, &mc, 2);
    grpo_trainer_create(&fresh, &fresh_model, &no_kl);
    CHECK(grpo_trainer_load(&fresh, good) == GRPO_SUCCESS && memcmp(fresh_model.params_memory, model.params_memory, P * 4) == 0 && fresh.step == 1,
          "beta = 0 loads a checkpoint with a reference: %s", grpo_last_error());
    grpo_trainer_destroy(&fresh);
    CHECK(grpo_trainer_load(&fresh, good) == GRPO_ERROR_INVALID_ARGUMENT, "a destroyed trainer");
    CHECK(grpo_trainer_save(&fresh, good) == GRPO_ERROR_INVALID_ARGUMENT, "saving a destroyed trainer");
    grpo_model_destroy(&fresh_model);
    free(weights);
    free(reference);
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

int main(void) {
    snprintf(directory, sizeof directory, "/tmp/grpo-test-resume-%d", (int)getpid());
    mkdir(directory, 0700);
    TEST(test_data_order_is_a_permutation_per_epoch);
    TEST(test_exact_resume);
    TEST(test_trainer_load_errors);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    if (system(command) != 0) printf("  (could not remove %s)\n", directory);
    return test_finish("test_resume");
}
