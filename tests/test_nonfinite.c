/* NaN and Inf never reach the weights. A NaN or Inf injected into the loss (through a weight of
   the policy or of the reference model), into one gradient element of each tensor, into a
   weight, or produced by the update itself (a huge learning rate, a gradient whose square
   overflows v) refuses the step; the error names the step and the first offending element; the
   weights, AdamW m and v, the AdamW step and the trainer's step stay bit-identical, with mu > 1
   too (a later pass that fails undoes the earlier passes' updates). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

static grpo_config small(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 32; c.d_model = 32; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 48; c.qkv_bias = 1; c.untied_head = 1;
    return c;
}

/* Everything a refused step must leave as it was. */
typedef struct {
    float *weights, *moments, *reference;
    size_t P;
    uint64_t optimizer_step, trainer_step;
} state;

static state save_state(const grpo_model *model, const grpo_adamw *opt, const grpo_model *reference, uint64_t trainer_step) {
    state s;
    s.P = model->num_parameters;
    s.weights = (float *)malloc(s.P * sizeof(float));
    s.moments = (float *)malloc(2 * s.P * sizeof(float));
    s.reference = reference && reference->params_memory ? (float *)malloc(s.P * sizeof(float)) : NULL;
    memcpy(s.weights, model->params_memory, s.P * sizeof(float));
    memcpy(s.moments, opt->m, 2 * s.P * sizeof(float));
    if (s.reference) memcpy(s.reference, reference->params_memory, s.P * sizeof(float));
    s.optimizer_step = opt->step;
    s.trainer_step = trainer_step;
    return s;
}

/* Bit for bit (memcmp: a NaN put there by the test compares equal to itself). */
static int unchanged(const state *s, const grpo_model *model, const grpo_adamw *opt, const grpo_model *reference, uint64_t trainer_step) {
    return memcmp(s->weights, model->params_memory, s->P * sizeof(float)) == 0 && memcmp(s->moments, opt->m, 2 * s->P * sizeof(float)) == 0 &&
           (!s->reference || memcmp(s->reference, reference->params_memory, s->P * sizeof(float)) == 0) &&
           s->optimizer_step == opt->step && s->trainer_step == trainer_step;
}

static void free_state(state *s) { free(s->weights); free(s->moments); free(s->reference); }

/* A model and optimizer after two SFT steps (non-trivial m, v and step), with fresh gradients. */
static void prepare(grpo_model *model, grpo_adamw *opt, const grpo_adamw_config *oc) {
    grpo_config config = small();
    grpo_model_create(model, &config, 4);
    grpo_adamw_create(opt, model, oc);
    int tokens[9] = {72, 101, 108, 108, 111, 32, 55, 33, 10};
    float lp[8], d[8];
    for (int s = 0; s < 3; s++) {
        grpo_model_forward(model, tokens, tokens + 1, NULL, 1, 8, 1.0f, lp, NULL);
        grpo_sft_loss(lp, NULL, 1, 8, d);
        grpo_model_zero_grad(model);
        grpo_model_backward(model, d);
        if (s < 2) grpo_adamw_step(opt, model, NULL, NULL);
    }
}

/* One NaN and one Inf in a chosen gradient element of every tensor: refused, named exactly. */
static void test_gradient_element_of_each_tensor(void) {
    grpo_model model;
    grpo_adamw opt;
    prepare(&model, &opt, NULL);
    grpo_rng rng = grpo_rng_seed(8);
    for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
        const grpo_tensor_info *info = &model.tensors[t];
        if (info->count == 0) continue;
        for (int kind = 0; kind < 2; kind++) {
            size_t i = (size_t)(grpo_rng_next(&rng) % info->count);
            char name[96];
            grpo__element_name(info, i, name, sizeof name);
            float *g = model.grads_memory + info->offset + i, kept = *g;
            *g = kind ? INFINITY : NAN;
            state before = save_state(&model, &opt, NULL, 0);
            float norm;
            grpo_result r = grpo_adamw_step(&opt, &model, &norm, NULL);
            char expected[160];
            snprintf(expected, sizeof expected, "adamw step 2 refused: the gradient of %s is %s", name, kind ? "inf" : "nan");
            CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), expected), "%s: %s", expected, grpo_last_error());
            CHECK(unchanged(&before, &model, &opt, NULL, 0), "%s: weights, m, v and step unchanged", name);
            free_state(&before);
            *g = kept;
        }
    }
    CHECK(grpo_adamw_step(&opt, &model, NULL, NULL) == GRPO_SUCCESS && opt.step == 3, "with the gradients restored the step goes through");
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* A weight that is already NaN or Inf (finite gradients) is refused by the update's check. */
static void test_weight(void) {
    grpo_model model;
    grpo_adamw opt;
    prepare(&model, &opt, NULL);
    size_t i = model.tensors[GRPO_TENSOR_W_DOWN].offset + 1 * 32 * 48 + 5 * 48 + 9; /* w_down[1][5][9] */
    const float values[2] = {NAN, -INFINITY};
    for (int k = 0; k < 2; k++) {
        float kept = model.params_memory[i];
        model.params_memory[i] = values[k];
        state before = save_state(&model, &opt, NULL, 0);
        grpo_result r = grpo_adamw_step(&opt, &model, NULL, NULL);
        CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "adamw step 2 refused: w_down[1][5][9] is already non-finite"), "%s", grpo_last_error());
        CHECK(unchanged(&before, &model, &opt, NULL, 0), "weights, m, v and step unchanged");
        free_state(&before);
        model.params_memory[i] = kept;
    }
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* Finite gradients and weights whose update is not finite: a learning rate of 1e38 pushes a
   weight of -3e38 past FLT_MAX; without clipping, a gradient of 3e22 overflows v. */
static void test_update_overflows(void) {
    grpo_model model;
    grpo_adamw opt;
    grpo_adamw_config oc;
    /* a learning rate of 1e38 whose update stays finite is not refused: the cheap bound of the
       check fails, and the exact check of that tensor finds every value finite */
    prepare(&model, &opt, NULL);
    opt.config.learning_rate = 1e38f;
    grpo_result r = grpo_adamw_step(&opt, &model, NULL, NULL);
    int finite = 1;
    for (size_t j = 0; j < model.num_parameters; j++) finite &= isfinite(model.params_memory[j]) != 0;
    CHECK(r == GRPO_SUCCESS && finite && opt.step == 3, "a huge but finite update goes through: %s", grpo_last_error());
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
    prepare(&model, &opt, NULL);
    opt.config.learning_rate = 1e38f;
    size_t i = model.tensors[GRPO_TENSOR_WV].offset + 17; /* wv[0][0][17] */
    model.params_memory[i] = -3e38f;
    model.grads_memory[i] = 1.0f; /* Adam's step is about lr * sign(g): -3e38 - 1e38 overflows */
    state before = save_state(&model, &opt, NULL, 0);
    r = grpo_adamw_step(&opt, &model, NULL, NULL);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "wv[0][0][17] would become non-finite") && strstr(grpo_last_error(), "-> -inf"),
          "a weight pushed past FLT_MAX: %s", grpo_last_error());
    CHECK(unchanged(&before, &model, &opt, NULL, 0), "weights, m, v and step unchanged");
    free_state(&before);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);

    memset(&oc, 0, sizeof oc);
    oc.max_grad_norm = -1.0f; /* no clipping */
    prepare(&model, &opt, &oc);
    i = model.tensors[GRPO_TENSOR_BK].offset + 3; /* bk[0][3] */
    model.grads_memory[i] = 3e22f; /* the norm, in double, is finite; (1 - beta2) g g in float is not */
    before = save_state(&model, &opt, NULL, 0);
    r = grpo_adamw_step(&opt, &model, NULL, NULL);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "bk[0][3] would become non-finite") && strstr(grpo_last_error(), "v 0") == NULL,
          "v overflows: %s", grpo_last_error());
    CHECK(unchanged(&before, &model, &opt, NULL, 0), "weights, m, v and step unchanged");
    free_state(&before);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* ---------------------------------------------------------------------------------------
   The trainer: the loss, the reference model, and a later pass of mu > 1. */
/* The first byte of the completion: eight random first bytes are almost never all equal, so
   every group has a learning signal. */
static float first_byte_reward(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return (float)(unsigned char)completion[0] / 255.0f;
}

static const grpo_example examples[2] = {{"a:", "1"}, {"b:", "2"}};

static grpo_trainer_config trainer_config(const grpo_tokenizer *tok, const grpo_reward *rewards) {
    grpo_trainer_config c;
    memset(&c, 0, sizeof c);
    c.prompts_per_step = 2; c.group_size = 4; c.max_completion_tokens = 8;
    c.rewards = rewards; c.n_rewards = 1; c.tokenizer = tok; c.seed = 3;
    c.loss.beta = 0.04f;
    c.sampling.eos_id = -1;
    return c;
}

static void test_trainer_loss(void) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "first byte", first_byte_reward, NULL, 0, 0}};
    grpo_trainer_config c = trainer_config(&tok, rewards);
    grpo_config config = small();
    grpo_model model;
    grpo_model_create(&model, &config, 6);
    grpo_trainer trainer;
    CHECK(grpo_trainer_create(&trainer, &model, &c) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    grpo_metrics m;
    CHECK(grpo_trainer_step(&trainer, examples, 2, &m) == GRPO_SUCCESS, "a good first step: %s", grpo_last_error());
    /* NaN in the policy's final norm: every log-prob is NaN, the loss too */
    float kept = model.params.final_norm[7];
    model.params.final_norm[7] = NAN;
    state before = save_state(&model, &trainer.optimizer, &trainer.reference, trainer.step);
    grpo_result r = grpo_trainer_step(&trainer, examples, 2, &m);
    const char *e = grpo_last_error();
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(e, "step 1 refused") && strstr(e, "the policy's log-prob") && strstr(e, "final_norm[7]"),
          "a NaN policy weight: %s", e);
    CHECK(unchanged(&before, &model, &trainer.optimizer, &trainer.reference, trainer.step), "weights, m, v, reference and steps unchanged");
    free_state(&before);
    model.params.final_norm[7] = kept;
    /* Inf in the reference model's embedding of the prompt's first byte */
    float *ref = trainer.reference.params.token_embedding + (size_t)'a' * 32 + 2;
    kept = *ref;
    *ref = INFINITY;
    before = save_state(&model, &trainer.optimizer, &trainer.reference, trainer.step);
    r = grpo_trainer_step(&trainer, examples, 2, &m);
    e = grpo_last_error();
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(e, "step 1 refused") && strstr(e, "the reference model's log-prob") && strstr(e, "token_embedding[97][2]"),
          "an Inf reference weight: %s", e);
    CHECK(unchanged(&before, &model, &trainer.optimizer, &trainer.reference, trainer.step), "weights, m, v, reference and steps unchanged");
    free_state(&before);
    *ref = kept;
    CHECK(grpo_trainer_step(&trainer, examples, 2, &m) == GRPO_SUCCESS && trainer.step == 2, "repaired, the run goes on: %s", grpo_last_error());
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

/* mu = 3 with a learning rate of 2e38 from the first step: pass 1's update is finite (Adam's
   first step moves each weight by about lr, to near +-2e38) and goes through; a later pass
   overflows (a second step the same way passes FLT_MAX, or the forward of such weights is NaN).
   The whole step is refused and pass 1's update is undone. */
static void test_later_pass_rolls_back(void) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "first byte", first_byte_reward, NULL, 0, 0}};
    grpo_trainer_config c = trainer_config(&tok, rewards);
    c.mu = 3;
    grpo_config config = small();
    grpo_model model;
    grpo_model_create(&model, &config, 6);
    grpo_trainer trainer;
    c.optimizer.learning_rate = 2e38f;
    CHECK(grpo_trainer_create(&trainer, &model, &c) == GRPO_SUCCESS && trainer.rollback != NULL, "create: %s", grpo_last_error());
    grpo_metrics m;
    state before = save_state(&model, &trainer.optimizer, &trainer.reference, trainer.step);
    grpo_result r = grpo_trainer_step(&trainer, examples, 2, &m);
    const char *e = grpo_last_error();
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(e, "step 0 refused (pass ") && !strstr(e, "(pass 1 of") && strstr(e, "of mu = 3)"), "a later pass fails: %s", e);
    CHECK(unchanged(&before, &model, &trainer.optimizer, &trainer.reference, trainer.step), "pass 1's update is undone: weights, m, v and steps as before the step");
    free_state(&before);
    trainer.optimizer.config.learning_rate = 3e-4f;
    CHECK(grpo_trainer_step(&trainer, examples, 2, &m) == GRPO_SUCCESS && trainer.optimizer.step == 3, "the run goes on: %s", grpo_last_error());
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

int main(void) {
    TEST(test_gradient_element_of_each_tensor);
    TEST(test_weight);
    TEST(test_update_overflows);
    TEST(test_trainer_loss);
    TEST(test_later_pass_rolls_back);
    return test_finish("test_nonfinite");
}
