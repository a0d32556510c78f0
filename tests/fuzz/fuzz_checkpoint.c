/* libFuzzer target for the checkpoint readers: grpo_checkpoint_load (into a new model, with
   and without optimizer state, into an existing model) and grpo_trainer_load.

   Input: one mode byte, then the file. Mode bit 0: rewrite the file's last 4 bytes with the
   CRC-32 of the rest, so that mutations get past the CRC and reach the checks behind it (sizes,
   flags, NaN, negative v). Bits 1-2 pick the reader. The memory cap is 64 MiB, as a program
   reading untrusted checkpoints should set one.

   Invariants (a violation traps):
   - the result is success or BAD_CHECKPOINT / IO / OUT_OF_MEMORY, with a message;
   - a refused load changes nothing: a new model stays empty, an existing model, optimizer or
     trainer keeps every byte of its weights, moments, reference model, counters and data order;
   - a load that succeeds gives a valid config, finite weights and moments, v >= 0, and saving
     it and loading the result gives back the same weights.
   Seeds: tests/fuzz/corpus/checkpoint/ (a version 1 file and version 2 files with and without
   optimizer state, reference model and data order, for TINY_CONFIG), made by
   tests/fuzz/make_checkpoint_seeds.c. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* The config of the seeds, of the existing model and of the trainer's policy. */
static grpo_config tiny_config(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 8; c.context_length = 6; c.d_model = 4; c.n_layers = 1; c.n_heads = 2; c.n_kv_heads = 1;
    c.d_ff = 4; c.qkv_bias = 1; c.untied_head = 1;
    return c;
}

static char path[64], resaved[64];
static grpo_model existing, policy;
static grpo_adamw existing_opt;
static grpo_trainer trainer;
static grpo_tokenizer tokenizer;
static grpo_reward rewards[1] = {{GRPO_REWARD_FORMAT, 1.0f, NULL, NULL, NULL, 0, 0}};

/* Everything a load may change, to compare after a refused one. */
typedef struct {
    float *weights, *moments, *reference;
    uint64_t optimizer_step, step, seed;
    grpo_data_order data;
} fz_state;

static void fz_take(fz_state *s, const grpo_model *model, const grpo_adamw *opt, const grpo_trainer *t) {
    size_t P = model->num_parameters;
    s->weights = (float *)malloc(P * 4);
    s->moments = (float *)malloc(2 * P * 4);
    s->reference = (float *)malloc(P * 4);
    memcpy(s->weights, model->params_memory, P * 4);
    memcpy(s->moments, opt->m, 2 * P * 4);
    memcpy(s->reference, t ? t->reference.params_memory : model->params_memory, P * 4);
    s->optimizer_step = opt->step;
    s->step = t ? t->step : 0;
    s->seed = t ? t->config.seed : 0;
    memset(&s->data, 0, sizeof s->data);
    if (t) s->data = t->data;
}

static int fz_same(const fz_state *s, const grpo_model *model, const grpo_adamw *opt, const grpo_trainer *t) {
    size_t P = model->num_parameters;
    return memcmp(s->weights, model->params_memory, P * 4) == 0 && memcmp(s->moments, opt->m, 2 * P * 4) == 0 &&
           memcmp(s->reference, t ? t->reference.params_memory : model->params_memory, P * 4) == 0 &&
           s->optimizer_step == opt->step && s->step == (t ? t->step : 0) && s->seed == (t ? t->config.seed : 0) &&
           (!t || memcmp(&s->data, &t->data, sizeof s->data) == 0);
}

static void fz_free(fz_state *s) { free(s->weights); free(s->moments); free(s->reference); }

static void fz_setup(void) {
    static int ready = 0;
    if (ready) return;
    ready = 1;
    snprintf(path, sizeof path, "/tmp/fuzz-checkpoint-%d.ckpt", (int)getpid());
    snprintf(resaved, sizeof resaved, "/tmp/fuzz-checkpoint-%d-resaved.ckpt", (int)getpid());
    grpo_set_memory_limit((size_t)64 << 20);
    grpo_config c = tiny_config();
    REQUIRE(grpo_model_create(&existing, &c, 1) == GRPO_SUCCESS && grpo_adamw_create(&existing_opt, &existing, NULL) == GRPO_SUCCESS);
    REQUIRE(grpo_model_create(&policy, &c, 2) == GRPO_SUCCESS);
    tokenizer = grpo_byte_tokenizer();
    tokenizer.vocab_size = 8; /* only its interface is used here */
    grpo_trainer_config tc;
    memset(&tc, 0, sizeof tc);
    tc.prompts_per_step = 1; tc.group_size = 2; tc.max_completion_tokens = 2; tc.mu = 2; tc.loss.beta = 0.1f;
    tc.rewards = rewards; tc.n_rewards = 1; tc.tokenizer = &tokenizer;
    REQUIRE(grpo_trainer_create(&trainer, &policy, &tc) == GRPO_SUCCESS);
    trainer.data = grpo_data_order_create(0, 0);
}

/* A loaded model: valid, finite; saved and loaded again it has the same weights. */
static void fz_check_loaded(const grpo_model *model, const grpo_adamw *opt) {
    REQUIRE(grpo_config_validate(&model->config) == GRPO_SUCCESS);
    for (size_t i = 0; i < model->num_parameters; i++) REQUIRE(isfinite(model->params_memory[i]));
    if (opt) {
        REQUIRE(opt->num_parameters == model->num_parameters);
        for (size_t i = 0; i < model->num_parameters; i++) REQUIRE(isfinite(opt->m[i]) && isfinite(opt->v[i]) && opt->v[i] >= 0.0f);
    }
    REQUIRE(grpo_checkpoint_save(resaved, model, opt, NULL) == GRPO_SUCCESS);
    grpo_model again;
    memset(&again, 0, sizeof again);
    REQUIRE(grpo_checkpoint_load(resaved, &again, NULL, NULL) == GRPO_SUCCESS);
    REQUIRE(again.num_parameters == model->num_parameters && memcmp(again.params_memory, model->params_memory, model->num_parameters * 4) == 0);
    grpo_model_destroy(&again);
}

static void fz_check_refusal(grpo_result r) {
    REQUIRE(r == GRPO_ERROR_BAD_CHECKPOINT || r == GRPO_ERROR_IO || r == GRPO_ERROR_OUT_OF_MEMORY);
    REQUIRE(grpo_last_error()[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_setup();
    if (size == 0) return 0;
    int mode = data[0];
    size_t n = size - 1;
    uint8_t *file = (uint8_t *)malloc(n ? n : 1);
    if (n) memcpy(file, data + 1, n);
    if ((mode & 1) && n >= 4) {
        uint32_t crc = grpo__crc32(0, file, n - 4);
        memcpy(file + n - 4, &crc, 4);
    }
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(file, 1, n, f) == n || n == 0);
    fclose(f);
    free(file);
    grpo__error_message[0] = '\0';

    int reader = (mode >> 1) & 3;
    if (reader <= 1) {
        /* into a new model, with (0) or without (1) optimizer state */
        grpo_model model;
        grpo_adamw opt;
        grpo_checkpoint_state state;
        memset(&model, 0, sizeof model);
        memset(&opt, 0, sizeof opt);
        memset(&state, 0, sizeof state);
        grpo_result r = grpo_checkpoint_load(path, &model, reader == 0 ? &opt : NULL, &state);
        if (r == GRPO_SUCCESS) {
            fz_check_loaded(&model, reader == 0 ? &opt : NULL);
            REQUIRE(state.data.size != 0 || state.data.position == 0);
        } else {
            fz_check_refusal(r);
            static const grpo_model empty_model;
            static const grpo_adamw empty_opt;
            REQUIRE(memcmp(&model, &empty_model, sizeof model) == 0 && memcmp(&opt, &empty_opt, sizeof opt) == 0);
        }
        grpo_model_destroy(&model);
        grpo_adamw_destroy(&opt);
    } else if (reader == 2) {
        /* into an existing model and optimizer */
        fz_state before;
        fz_take(&before, &existing, &existing_opt, NULL);
        grpo_result r = grpo_checkpoint_load(path, &existing, &existing_opt, NULL);
        if (r == GRPO_SUCCESS) fz_check_loaded(&existing, &existing_opt);
        else {
            fz_check_refusal(r);
            REQUIRE(fz_same(&before, &existing, &existing_opt, NULL));
        }
        fz_free(&before);
    } else {
        /* into a trainer (beta > 0: the file must hold a reference model) */
        fz_state before;
        fz_take(&before, &policy, &trainer.optimizer, &trainer);
        grpo_result r = grpo_trainer_load(&trainer, path);
        if (r == GRPO_SUCCESS) {
            fz_check_loaded(&policy, &trainer.optimizer);
            for (size_t i = 0; i < policy.num_parameters; i++) REQUIRE(isfinite(trainer.reference.params_memory[i]));
            trainer.data = grpo_data_order_create(0, 0); /* the next input may carry any dataset size */
        } else {
            fz_check_refusal(r);
            REQUIRE(fz_same(&before, &policy, &trainer.optimizer, &trainer));
        }
        fz_free(&before);
    }
    return 0;
}
