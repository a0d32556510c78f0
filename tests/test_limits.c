/* Limits: configs whose buffers overflow size_t or pass the caller's memory cap are refused
   before anything is allocated; an allocation that fails is an error, never a crash or a leak.
   GRPO_MALLOC and GRPO_FREE are a counting allocator here that can fail its Nth call: the whole
   life of a GRPO run (model, forward, backward, AdamW, generator, trainer, steps, saving and
   loading checkpoints and Hugging Face model directories) is run once for every N. */
#include <stddef.h>
#include <stdlib.h>
static long test_alloc_calls, test_alloc_fail_at = -1, test_alloc_live;
static size_t test_alloc_largest;
/* Requests over 1 GiB fail as a real machine's would (and as ASan would refuse to try). */
static void *test_malloc(size_t bytes) {
    long call = test_alloc_calls++;
    if (bytes > test_alloc_largest) test_alloc_largest = bytes;
    if (call == test_alloc_fail_at || bytes > ((size_t)1 << 30)) return NULL;
    void *p = malloc(bytes);
    if (p) test_alloc_live++;
    return p;
}
static void test_free(void *p) {
    if (!p) return;
    test_alloc_live--;
    free(p);
}
#define GRPO_MALLOC(bytes) test_malloc(bytes)
#define GRPO_FREE(pointer) test_free(pointer)
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include <sys/stat.h>
#include <unistd.h>

static char directory[256];

static grpo_config small(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 24; c.d_model = 16; c.n_layers = 2;
    c.n_heads = 2; c.n_kv_heads = 1; c.d_ff = 24; c.qkv_bias = 1; c.untied_head = 1;
    return c;
}

/* ---------------------------------------------------------------------------------------
   Sizes that overflow size_t, and sizes past the cap: refused with no allocation at all. */
static void test_overflowing_configs(void) {
    grpo_config c = small();
    c.n_layers = 1 << 24; c.d_model = 1 << 24; c.n_heads = 1 << 20; c.n_kv_heads = 1 << 20; c.d_ff = 1 << 24; /* 2^72 parameters */
    grpo_model model;
    long calls = test_alloc_calls;
    grpo_result r = grpo_model_create(&model, &c, 1);
    CHECK(r == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "overflows size_t"), "2^72 parameters: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls && model.params_memory == NULL, "nothing was allocated");
    /* 2^50 bytes fit in size_t but not in memory: the allocation fails and is an error */
    c = small();
    c.vocab_size = 1 << 24; c.d_model = 1 << 24; c.n_heads = 1 << 10; c.n_kv_heads = 1 << 10; c.d_ff = 16;
    r = grpo_model_create(&model, &c, 1);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "could not allocate"), "2^48 parameters: %s", grpo_last_error());
    CHECK(test_alloc_live == 0 && model.params_memory == NULL, "a failed create holds nothing");
    /* forward: B * T past 2^24 rows, and B * T past INT_MAX */
    c = small();
    grpo_model_create(&model, &c, 1);
    static int tokens[24];
    float logprobs[24];
    calls = test_alloc_calls;
    r = grpo_model_forward(&model, tokens, tokens, NULL, 1 << 20, 24, 1.0f, logprobs, NULL);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "B * T"), "2^20 x 24 rows: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls, "nothing was allocated");
    /* generator and trainer limits */
    grpo_generator generator;
    grpo_generator_config gc = {1 << 24, 1 << 24, 8, 0};
    r = grpo_generator_create(&generator, &model, &gc);
    CHECK(r != GRPO_SUCCESS && test_alloc_calls == calls, "a generator for 2^48 sequences: %s", grpo_last_error());
    grpo_model_destroy(&model);
}

static void test_memory_cap(void) {
    grpo_config c = small();
    c.d_model = 64; c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 128; /* about 100k parameters, 0.4 MB */
    grpo_model model;
    grpo_set_memory_limit(256 * 1024);
    CHECK(grpo_memory_limit() == 256 * 1024, "the cap reads back");
    long calls = test_alloc_calls;
    grpo_result r = grpo_model_create(&model, &c, 1);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "model: needs") && strstr(grpo_last_error(), "memory limit of 0.2 MiB"),
          "a model over the cap: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls && model.params_memory == NULL, "refused before anything is allocated");
    /* with room for the weights but not for a big batch's activations */
    grpo_set_memory_limit(4u << 20);
    CHECK(grpo_model_create(&model, &c, 1) == GRPO_SUCCESS, "a model under the cap: %s", grpo_last_error());
    static int tokens[64 * 24];
    static float logprobs[64 * 24];
    calls = test_alloc_calls;
    r = grpo_model_forward(&model, tokens, tokens, NULL, 64, 24, 1.0f, logprobs, NULL);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "forward: activations: needs"), "activations over the cap: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls, "refused before anything is allocated");
    CHECK(grpo_model_backward(&model, logprobs) == GRPO_ERROR_INVALID_STATE, "a failed forward leaves nothing for a backward");
    CHECK(grpo_model_forward(&model, tokens, tokens, NULL, 2, 24, 1.0f, logprobs, NULL) == GRPO_SUCCESS, "a small batch still runs: %s", grpo_last_error());
    /* a trainer counts its optimizer, reference model, rollback copy, buffers and generator */
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_FORMAT, 1.0f, NULL, NULL, NULL, 0, 0}};
    grpo_trainer_config tc;
    memset(&tc, 0, sizeof tc);
    tc.prompts_per_step = 4; tc.group_size = 8; tc.max_completion_tokens = 8; tc.mu = 2; tc.loss.beta = 0.1f;
    tc.rewards = rewards; tc.n_rewards = 1; tc.tokenizer = &tok;
    grpo_trainer trainer;
    grpo_set_memory_limit(2u << 20); /* weights 0.4 MB: moments 0.8, reference 0.4, rollback 1.2 */
    calls = test_alloc_calls;
    r = grpo_trainer_create(&trainer, &model, &tc);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "trainer"), "a trainer over the cap: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls, "refused before anything is allocated");
    /* the generator's own part pushes it over: still refused before anything is allocated */
    tc.mu = 1;
    grpo_set_memory_limit(1500u * 1024);
    r = grpo_trainer_create(&trainer, &model, &tc);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "generator: needs"), "the trainer's generator over the cap: %s", grpo_last_error());
    CHECK(test_alloc_calls == calls, "refused before anything is allocated");
    grpo_set_memory_limit(0);
    CHECK(grpo_trainer_create(&trainer, &model, &tc) == GRPO_SUCCESS, "no cap: %s", grpo_last_error());
    grpo_trainer_destroy(&trainer);
    /* a checkpoint whose config passes the cap is refused before its weights are allocated */
    char path[320];
    snprintf(path, sizeof path, "%s/big.ckpt", directory);
    CHECK(grpo_checkpoint_save(path, &model, NULL, NULL) == GRPO_SUCCESS, "save");
    grpo_model loaded;
    memset(&loaded, 0, sizeof loaded);
    grpo_set_memory_limit(100 * 1024);
    calls = test_alloc_calls;
    r = grpo_checkpoint_load(path, &loaded, NULL, NULL);
    CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && strstr(grpo_last_error(), "checkpoint load: needs") && test_alloc_calls == calls && loaded.params_memory == NULL,
          "a checkpoint over the cap: %s", grpo_last_error());
    grpo_set_memory_limit(0);
    CHECK(grpo_checkpoint_load(path, &loaded, NULL, NULL) == GRPO_SUCCESS, "no cap: %s", grpo_last_error());
    grpo_model_destroy(&loaded);
    grpo_model_destroy(&model);
    CHECK(test_alloc_live == 0, "%ld blocks still allocated", test_alloc_live);
}

/* ---------------------------------------------------------------------------------------
   The life of a small GRPO run; returns the first failure. Every object starts zeroed and is
   destroyed at the end whatever happened, as a careful caller does. */
static float first_byte(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return (float)(unsigned char)completion[0] / 255.0f;
}

static grpo_result life(const char *where) {
    char path[320], trainer_path[320];
    snprintf(path, sizeof path, "%s/%s.ckpt", directory, where);
    snprintf(trainer_path, sizeof trainer_path, "%s/%s-trainer.ckpt", directory, where);
    char hf_directory[320];
    snprintf(hf_directory, sizeof hf_directory, "%s/%s-hf", directory, where);
    grpo_config c = small();
    grpo_model model, loaded, policy, hf;
    grpo_adamw opt, loaded_opt;
    grpo_generator generator;
    grpo_trainer trainer, resumed;
    memset(&model, 0, sizeof model); memset(&loaded, 0, sizeof loaded); memset(&policy, 0, sizeof policy); memset(&hf, 0, sizeof hf);
    memset(&opt, 0, sizeof opt); memset(&loaded_opt, 0, sizeof loaded_opt);
    memset(&generator, 0, sizeof generator); memset(&trainer, 0, sizeof trainer); memset(&resumed, 0, sizeof resumed);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[2] = {{GRPO_REWARD_CALLBACK, 1.0f, "first", first_byte, NULL, 0, 0}, {GRPO_REWARD_FORMAT, 0.5f, NULL, NULL, NULL, 0, 0}};
    grpo_trainer_config tc;
    memset(&tc, 0, sizeof tc);
    tc.prompts_per_step = 2; tc.group_size = 3; tc.max_completion_tokens = 6; tc.mu = 2; tc.micro_batch_size = 4; tc.loss.beta = 0.05f;
    tc.rewards = rewards; tc.n_rewards = 2; tc.tokenizer = &tok; tc.seed = 1; tc.sampling.eos_id = -1;
    const char *stops[1] = {"</answer>"};
    tc.sampling.stop_strings = stops; tc.sampling.n_stop_strings = 1;
    grpo_example examples[2] = {{"q1", "1"}, {"q2", "2"}};
    int tokens[2 * 9] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1}, lengths[2] = {8, 6}, prompt_lengths[2] = {3, 2};
    float logprobs[2 * 8], dlogprobs[2 * 8];
    const grpo_completions *out;
    grpo_sampling_config sampling;
    memset(&sampling, 0, sizeof sampling);
    sampling.seed = 4;
    grpo_generator_config gc = {2, 2, 5, 0};
    grpo_metrics m;
    grpo_result r;
    if ((r = grpo_model_create(&model, &c, 1))) goto done;
    if ((r = grpo_model_forward(&model, tokens, tokens + 1, lengths, 2, 8, 1.0f, logprobs, NULL))) goto done;
    grpo_sft_loss(logprobs, NULL, 2, 8, dlogprobs);
    if ((r = grpo_model_backward(&model, dlogprobs))) goto done;
    if ((r = grpo_adamw_create(&opt, &model, NULL))) goto done;
    if ((r = grpo_adamw_step(&opt, &model, NULL, NULL))) goto done;
    if ((r = grpo_generator_create(&generator, &model, &gc))) goto done;
    if ((r = grpo_generate(&generator, &model, tokens, prompt_lengths, 2, 9, 2, &sampling, &out))) goto done;
    if ((r = grpo_checkpoint_save(path, &model, &opt, NULL))) goto done;
    if ((r = grpo_checkpoint_load(path, &loaded, &loaded_opt, NULL))) goto done;
    if ((r = grpo_checkpoint_load(path, &loaded, NULL, NULL))) goto done; /* into an existing model */
    if ((r = grpo_hf_model_save(hf_directory, &model, NULL))) goto done;
    if ((r = grpo_hf_model_load(&hf, hf_directory, NULL, NULL))) goto done;
    if ((r = grpo_model_create(&policy, &c, 2))) goto done;
    if ((r = grpo_trainer_create(&trainer, &policy, &tc))) goto done;
    trainer.data = grpo_data_order_create(1, 2);
    if ((r = grpo_trainer_step(&trainer, examples, 2, &m))) goto done;
    if ((r = grpo_trainer_save(&trainer, trainer_path))) goto done;
    if ((r = grpo_trainer_create(&resumed, &model, &tc))) goto done;
    if ((r = grpo_trainer_load(&resumed, trainer_path))) goto done;
    r = grpo_trainer_step(&resumed, examples, 2, &m);
done:
    grpo_trainer_destroy(&resumed);
    grpo_trainer_destroy(&trainer);
    grpo_generator_destroy(&generator);
    grpo_adamw_destroy(&loaded_opt);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&policy);
    grpo_model_destroy(&hf);
    grpo_model_destroy(&loaded);
    grpo_model_destroy(&model);
    return r;
}

static void test_allocation_failure_at_every_call(void) {
    test_alloc_fail_at = -1;
    long start = test_alloc_calls;
    grpo_result r = life("clean");
    long total = test_alloc_calls - start;
    CHECK(r == GRPO_SUCCESS, "the run without failures: %s", grpo_last_error());
    CHECK(test_alloc_live == 0, "no leak: %ld blocks", test_alloc_live);
    printf("    a run makes %ld allocations; each is made to fail in turn\n", total);
    int errors = 0, succeeded = 0;
    for (long n = 0; n < total; n++) {
        test_alloc_fail_at = test_alloc_calls + n;
        grpo__error_message[0] = '\0';
        r = life("failing");
        test_alloc_fail_at = -1;
        if (r == GRPO_SUCCESS) { succeeded++; continue; } /* a best-effort allocation (syncing the directory) */
        errors++;
        CHECK(r == GRPO_ERROR_OUT_OF_MEMORY && grpo_last_error()[0] != '\0', "allocation %ld failing: %s (%s)", n, grpo_result_string(r), grpo_last_error());
        CHECK(test_alloc_live == 0, "allocation %ld failing: %ld blocks leaked", n, test_alloc_live);
        test_alloc_live = 0;
    }
    printf("    %d failures reported as errors, %d absorbed by best-effort code\n", errors, succeeded);
    CHECK(errors >= total - 4, "nearly every failed allocation must surface as an error (%d of %ld)", errors, total);
}

int main(void) {
#ifdef _OPENMP
    /* Hundreds of tiny runs: with two threads on a busy machine each parallel region can wait
       for a descheduled thread (measured 5 to 124 s instead of 1 s). Threads change nothing here. */
    omp_set_num_threads(1);
#endif
    snprintf(directory, sizeof directory, "/tmp/grpo-test-limits-%d", (int)getpid());
    mkdir(directory, 0700);
    TEST(test_overflowing_configs);
    TEST(test_memory_cap);
    TEST(test_allocation_failure_at_every_call);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    if (system(command) != 0) printf("  (could not remove %s)\n", directory);
    return test_finish("test_limits");
}
