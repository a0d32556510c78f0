/* The GRPO step: the loss's gradient through the whole model against finite differences,
   advantages at the edges, a toy task whose reward must rise, gradient accumulation, mu > 1,
   dynamic sampling, NaN refusal, bad configs, metrics and the R1-Zero template.
   The loss against PyTorch autograd for every loss_type x clip regime x KL estimator is
   tests/test_loss.c. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

static grpo_config tiny(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 48; c.d_model = 32; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 64; c.qkv_bias = 1;
    return c;
}

/* ---------------------------------------------------------------------------------------
   d(GRPO loss)/d(parameters) by finite differences, through log-softmax and the network.
   lp_old is lp(theta0) shifted by -0.5, 0 or +0.5 per token, so rho sits at 0.61, 1 or 1.65:
   inside the trust region and clipped both ways, but never near a clip boundary (0.8, 1.2),
   where the loss has a kink that finite differences would straddle. */
typedef struct {
    grpo_model *model;
    int tokens[3 * 10], targets[3 * 10], lengths[3];
    float old_lp[30], ref_lp[30], advantages[3], mask[30], lp[30], dlp[30];
    grpo_loss_config config;
    grpo_loss_scale scale;
} loss_case;

static double case_loss(loss_case *k) {
    grpo_model_forward(k->model, k->tokens, k->targets, k->lengths, 3, 10, 0.9f, k->lp, NULL);
    return grpo_loss(&k->config, &k->scale, k->lp, k->old_lp, k->ref_lp, k->advantages, k->mask, 3, 10, k->dlp, NULL);
}

static void check_loss_gradient(grpo_loss_type type, grpo_kl_estimator estimator) {
    grpo_config config = tiny();
    grpo_model model, reference;
    grpo_model_create(&model, &config, 3);
    grpo_rng rng = grpo_rng_seed(4);
    for (size_t i = 0; i < model.num_parameters; i++) model.params_memory[i] += 0.2f * grpo_rng_normal(&rng);
    grpo_model_create_reference(&reference, &model);
    for (size_t i = 0; i < reference.num_parameters; i++) reference.params_memory[i] += 0.05f * grpo_rng_normal(&rng);
    static loss_case k;
    memset(&k, 0, sizeof k);
    k.model = &model;
    int lengths[3] = {10, 7, 9};
    memcpy(k.lengths, lengths, sizeof lengths);
    for (int i = 0; i < 30; i++) { k.tokens[i] = (int)(grpo_rng_next(&rng) % 200); k.targets[i] = (int)(grpo_rng_next(&rng) % 200); }
    for (int i = 0; i < 30; i++) k.mask[i] = (i % 10) >= 3 && (i % 10) < lengths[i / 10] ? 1.0f : 0.0f; /* a 3-token "prompt" */
    k.advantages[0] = 1.3f; k.advantages[1] = -0.7f; k.advantages[2] = -2.0f;
    grpo_model_forward(&reference, k.tokens, k.targets, k.lengths, 3, 10, 0.9f, k.ref_lp, NULL);
    grpo_model_forward(&model, k.tokens, k.targets, k.lengths, 3, 10, 0.9f, k.lp, NULL);
    for (int i = 0; i < 30; i++) k.old_lp[i] = k.lp[i] + 0.5f * (float)((i % 3) - 1);
    k.config.loss_type = type; k.config.kl_estimator = estimator; k.config.beta = 0.3f; k.config.dual_clip = 3.0f;
    k.scale.total_sequences = 6; k.scale.total_tokens = 40.0; k.scale.n_micro_batches = 2; k.scale.max_completion_tokens = 7;
    case_loss(&k);
    grpo_model_zero_grad(&model);
    grpo_model_backward(&model, k.dlp);
    size_t P = model.num_parameters;
    float *grads = (float *)malloc(P * sizeof(float)), *saved = (float *)malloc(P * sizeof(float));
    memcpy(grads, model.grads_memory, P * sizeof(float));
    memcpy(saved, model.params_memory, P * sizeof(float));
    double norm = 0.0;
    for (size_t i = 0; i < P; i++) norm += (double)grads[i] * grads[i];
    norm = sqrt(norm);
    /* along the gradient: dL/ds of L(theta + s g/|g|) must be |g| (relative error ~1e-3 from
       curvature and float rounding of the O(1) loss at s = 1e-3) */
    double s = 1e-3, values[2];
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < P; i++) model.params_memory[i] = saved[i] + (float)((side ? -s : s) * grads[i] / norm);
        values[side] = case_loss(&k);
    }
    double directional = (values[0] - values[1]) / (2.0 * s);
    CHECK(norm > 1e-3, "the gradient must not vanish (norm %g)", norm);
    CHECK(fabs(directional - norm) <= 1e-2 * norm, "loss_type %d, kl %d: directional derivative %.6g vs gradient norm %.6g", (int)type, (int)estimator, directional, norm);
    /* and a few single elements of the attention and MLP weights, with step 1e-2 */
    const size_t picks[4] = {model.tensors[GRPO_TENSOR_WQ].offset + 5, model.tensors[GRPO_TENSOR_BK].offset + 2,
                             model.tensors[GRPO_TENSOR_W_UP].offset + 77, model.tensors[GRPO_TENSOR_TOKEN_EMBEDDING].offset + (size_t)k.tokens[4] * 32 + 3};
    memcpy(model.params_memory, saved, P * sizeof(float));
    for (int j = 0; j < 4; j++) {
        size_t i = picks[j];
        float h = 1e-2f;
        model.params_memory[i] = saved[i] + h;
        double plus = case_loss(&k);
        model.params_memory[i] = saved[i] - h;
        double minus = case_loss(&k);
        model.params_memory[i] = saved[i];
        double numeric = (plus - minus) / (2.0 * h);
        CHECK(fabs(numeric - grads[i]) <= 2e-3 * norm + 2e-2 * fabs(grads[i]), "parameter %zu: analytic %.6g, numeric %.6g", i, (double)grads[i], numeric);
    }
    free(grads);
    free(saved);
    grpo_model_destroy(&reference);
    grpo_model_destroy(&model);
}

static void test_loss_gradient_through_model(void) {
    for (int type = GRPO_LOSS_DAPO; type <= GRPO_LOSS_DR_GRPO; type++) check_loss_gradient((grpo_loss_type)type, GRPO_KL_K3);
    for (int kl = GRPO_KL_K1; kl <= GRPO_KL_K3_IMPORTANCE; kl++) check_loss_gradient(GRPO_LOSS_GRPO, (grpo_kl_estimator)kl);
}

/* ---------------------------------------------------------------------------------------
   Advantages at the edges */
static void test_advantages_edges(void) {
    float r[8], a[8];
    /* all equal: no signal */
    for (int i = 0; i < 4; i++) r[i] = 0.5f;
    CHECK(grpo_advantages(r, 1, 4, GRPO_SCALE_GROUP, 0, a) == 1 && a[0] == 0.0f && a[3] == 0.0f, "an all-equal group has zero advantages");
    /* G = 2 with rewards 0, 1: sample std is 1/sqrt(2) */
    r[0] = 0.0f; r[1] = 1.0f;
    CHECK(grpo_advantages(r, 1, 2, GRPO_SCALE_GROUP, 0, a) == 0, "G = 2 has signal");
    CHECK(fabs(a[1] - 0.5 / (sqrt(0.5) + 1e-4)) < 1e-6 && fabs(a[0] + a[1]) < 1e-7, "G = 2: %g %g", (double)a[0], (double)a[1]);
    CHECK(grpo_advantages(r, 1, 2, GRPO_SCALE_GROUP, 1, a) == 0 && fabs(a[1] - 0.5 / (0.5 + 1e-4)) < 1e-6, "population std");
    CHECK(grpo_advantages(r, 1, 2, GRPO_SCALE_NONE, 0, a) == 0 && a[1] == 0.5f && a[0] == -0.5f, "Dr. GRPO: no scaling");
    /* G = 1: one reward is its own mean */
    CHECK(grpo_advantages(r, 2, 1, GRPO_SCALE_GROUP, 0, a) == 2 && a[0] == 0.0f && a[1] == 0.0f, "G = 1 gives zero advantages");
    /* NaN: left out of the group's mean and std, advantage 0 */
    r[0] = 1.0f; r[1] = NAN; r[2] = 0.0f; r[3] = 1.0f;
    grpo_advantages(r, 1, 4, GRPO_SCALE_GROUP, 0, a);
    double mean = 2.0 / 3.0, std = sqrt(((1 - mean) * (1 - mean) * 2 + mean * mean) / 2.0);
    CHECK(a[1] == 0.0f && fabs(a[0] - (1 - mean) / (std + 1e-4)) < 1e-6 && fabs(a[2] + mean / (std + 1e-4)) < 1e-6, "NaN rewards are left out");
    r[0] = NAN; r[1] = NAN;
    CHECK(grpo_advantages(r, 1, 2, GRPO_SCALE_GROUP, 0, a) == 1 && a[0] == 0.0f && a[1] == 0.0f, "an all-NaN group has no signal and no NaN advantages");
}

/* ---------------------------------------------------------------------------------------
   The trainer */
static float digits_reward(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    size_t n = strlen(completion), digits = 0;
    for (size_t i = 0; i < n; i++) digits += completion[i] >= '0' && completion[i] <= '9';
    return n ? (float)digits / (float)n : 0.0f;
}

static grpo_trainer_config toy_config(const grpo_tokenizer *tok, const grpo_reward *rewards, int n_rewards) {
    grpo_trainer_config c;
    memset(&c, 0, sizeof c);
    c.prompts_per_step = 4; c.group_size = 8; c.max_completion_tokens = 8;
    c.rewards = rewards; c.n_rewards = n_rewards; c.tokenizer = tok; c.seed = 11;
    c.optimizer.learning_rate = 3e-3f;
    c.sampling.eos_id = -1;
    return c;
}

static const grpo_example toy_examples[8] = {{"digits:", "1"}, {"numbers:", "2"}, {"count:", "3"}, {"say 7:", "7"},
                                             {"more:", "1"}, {"again:", "2"}, {"go:", "3"}, {"now:", "4"}};

/* A real learning signal: the share of digit bytes in a completion starts near 10/259 and GRPO
   must raise it several-fold within 60 steps of this tiny model (measured: 0.056 -> 0.52). */
static void test_grpo_learns_toy_task(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 21);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_trainer_config c = toy_config(&tok, rewards, 1);
    c.loss.beta = 0.01f;
    grpo_trainer trainer;
    CHECK(grpo_trainer_create(&trainer, &model, &c) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    double first = 0.0, last = 0.0;
    grpo_metrics m;
    int steps = getenv("GRPO_TEST_QUICK") ? 12 : 60; /* instrumented builds: the same code, fewer steps, no learning check */
    for (int step = 0; step < steps; step++) {
        grpo_result r = grpo_trainer_step(&trainer, toy_examples + (step % 2) * 4, 4, &m);
        CHECK(r == GRPO_SUCCESS, "step %d: %s", step, grpo_last_error());
        if (r) break;
        if (step < 10) first += m.reward / 10.0;
        if (step >= 50) last += m.reward / 10.0;
        CHECK(isfinite(m.loss) && isfinite(m.grad_norm) && isfinite(m.kl) && m.kl >= 0.0 && isfinite(m.entropy), "step %d: finite metrics", step);
    }
    if (steps == 60) {
        printf("    mean reward, steps 0-9: %.3f; steps 50-59: %.3f\n", first, last);
        CHECK(last > 0.3 && last > 4.0 * first, "the reward must rise: %.3f -> %.3f", first, last);
    }
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

/* Gradient accumulation: micro-batches give the update of the whole batch (dapo, grpo and
   dr_grpo normalise by step-wide counts; bnpo by design does not). */
static void test_micro_batches_match_full_batch(void) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_loss_type types[3] = {GRPO_LOSS_DAPO, GRPO_LOSS_GRPO, GRPO_LOSS_DR_GRPO};
    for (int k = 0; k < 3; k++) {
        grpo_config config = tiny();
        grpo_model whole, parts;
        grpo_model_create(&whole, &config, 5);
        grpo_model_create(&parts, &config, 5);
        grpo_trainer_config c = toy_config(&tok, rewards, 1);
        c.loss.loss_type = types[k];
        c.loss.beta = 0.04f;
        grpo_trainer a, b;
        grpo_trainer_create(&a, &whole, &c);
        c.micro_batch_size = 5; /* 32 sequences in 7 micro-batches, the last one short */
        grpo_trainer_create(&b, &parts, &c);
        grpo_metrics ma, mb;
        CHECK(grpo_trainer_step(&a, toy_examples, 4, &ma) == GRPO_SUCCESS && grpo_trainer_step(&b, toy_examples, 4, &mb) == GRPO_SUCCESS, "steps");
        double e = test_relative_error(parts.params_memory, whole.params_memory, whole.num_parameters);
        CHECK(e < 1e-5, "loss_type %d: weights after one step differ by %g", (int)types[k], e);
        CHECK(fabs(ma.loss - mb.loss) <= 1e-5 * (fabs(ma.loss) + 1e-3) && fabs(ma.grad_norm - mb.grad_norm) <= 1e-4 * ma.grad_norm,
              "loss_type %d: loss %g vs %g, grad norm %g vs %g", (int)types[k], ma.loss, mb.loss, ma.grad_norm, mb.grad_norm);
        grpo_trainer_destroy(&a);
        grpo_trainer_destroy(&b);
        grpo_model_destroy(&whole);
        grpo_model_destroy(&parts);
    }
}

/* share_model_weights = 1 (the generator reads the policy's weights in place) gives the same
   steps bit for bit as the default packed copy: two steps, so the second samples from weights
   the first step changed. */
static void test_share_model_weights(void) {
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_config config = tiny();
    grpo_model packed, shared;
    grpo_model_create(&packed, &config, 9);
    grpo_model_create(&shared, &config, 9);
    grpo_trainer_config c = toy_config(&tok, rewards, 1);
    grpo_trainer a, b;
    CHECK(grpo_trainer_create(&a, &packed, &c) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    c.share_model_weights = 1;
    CHECK(grpo_trainer_create(&b, &shared, &c) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    for (int step = 0; step < 2; step++) {
        grpo_metrics ma, mb;
        CHECK(grpo_trainer_step(&a, toy_examples, 4, &ma) == GRPO_SUCCESS && grpo_trainer_step(&b, toy_examples, 4, &mb) == GRPO_SUCCESS, "steps");
        CHECK(ma.loss == mb.loss && ma.reward == mb.reward && ma.completions_mean_length == mb.completions_mean_length,
              "step %d: loss %g vs %g, reward %g vs %g", step, ma.loss, mb.loss, ma.reward, mb.reward);
        CHECK(memcmp(packed.params_memory, shared.params_memory, packed.num_parameters * sizeof(float)) == 0, "step %d: the weights differ", step);
    }
    grpo_trainer_destroy(&a);
    grpo_trainer_destroy(&b);
    grpo_model_destroy(&packed);
    grpo_model_destroy(&shared);
}

/* mu > 1: later passes see rho != 1, so clipping can act; lp_old stays the sampling policy's. */
static void test_mu_passes(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 8);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_trainer_config c = toy_config(&tok, rewards, 1);
    c.mu = 4;
    c.optimizer.learning_rate = 3e-2f; /* large steps so that rho leaves the trust region */
    c.loss.epsilon_low = 0.01f;
    grpo_trainer trainer;
    grpo_trainer_create(&trainer, &model, &c);
    grpo_metrics m;
    CHECK(grpo_trainer_step(&trainer, toy_examples, 4, &m) == GRPO_SUCCESS, "step: %s", grpo_last_error());
    CHECK(trainer.optimizer.step == 4, "mu = 4 makes 4 AdamW updates (made %llu)", (unsigned long long)trainer.optimizer.step);
    CHECK(m.clip_ratio_region_mean > 0.0, "passes after the first must see clipped tokens (region %g)", m.clip_ratio_region_mean);
    CHECK(isnan(m.kl), "with beta = 0 kl is not measured (NaN, written null in JSON)");
    CHECK(trainer.reference.params_memory == NULL, "beta = 0 allocates no reference model");
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

/* Dynamic sampling: groups whose rewards are all equal are dropped and more prompts are drawn. */
static float constant_for_flat(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)user;
    (void)gold;
    if (!strncmp(prompt, "flat", 4)) return 1.0f;
    return (float)(unsigned char)completion[0] / 255.0f; /* eight random first bytes: all equal is vanishingly rare */
}

static void test_dynamic_sampling(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 9);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "mixed", constant_for_flat, NULL, 0, 0}};
    grpo_trainer_config c = toy_config(&tok, rewards, 1);
    c.prompts_per_step = 2;
    c.dynamic_sampling = 1;
    grpo_example examples[6] = {{"flat a", "x"}, {"varied b", "x"}, {"flat c", "x"}, {"varied d", "x"}, {"varied e", "x"}, {"varied f", "x"}};
    grpo_trainer trainer;
    grpo_trainer_create(&trainer, &model, &c);
    grpo_metrics m;
    CHECK(grpo_trainer_step(&trainer, examples, 6, &m) == GRPO_SUCCESS, "step: %s", grpo_last_error());
    CHECK(m.sampling_rounds >= 2 && m.examples_used >= 4, "flat groups are dropped and replaced (rounds %d, examples used %d)", m.sampling_rounds, m.examples_used);
    CHECK(trainer.example_of_group[0] == 1 && trainer.example_of_group[1] == 3, "the kept groups are the varied prompts (%d, %d)", trainer.example_of_group[0], trainer.example_of_group[1]);
    CHECK(m.frac_reward_zero_std > 0.0, "frac_reward_zero_std counts the dropped groups");
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

/* A NaN reaching the loss: the step is refused and the weights stay as they were. */
static void test_nan_is_refused(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 10);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_trainer_config c = toy_config(&tok, rewards, 1);
    grpo_trainer trainer;
    grpo_trainer_create(&trainer, &model, &c);
    model.params.final_norm[3] = NAN; /* every log-prob becomes NaN */
    float *before = (float *)malloc(model.num_parameters * sizeof(float));
    memcpy(before, model.params_memory, model.num_parameters * sizeof(float));
    grpo_metrics m;
    grpo_result r = grpo_trainer_step(&trainer, toy_examples, 4, &m);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "step 0"), "a NaN loss is refused: %s (%s)", grpo_result_string(r), grpo_last_error());
    CHECK(memcmp(before, model.params_memory, model.num_parameters * sizeof(float)) == 0 && trainer.optimizer.step == 0, "weights and optimizer unchanged");
    free(before);
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

static void test_trainer_errors(void) {
    grpo_config config = tiny();
    grpo_model model;
    grpo_model_create(&model, &config, 1);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    grpo_reward rewards[1] = {{GRPO_REWARD_CALLBACK, 1.0f, "digits", digits_reward, NULL, 0, 0}};
    grpo_reward bad_overlong[1] = {{GRPO_REWARD_OVERLONG, 1.0f, NULL, NULL, NULL, 8, 20}};
    grpo_trainer trainer;
    struct { const char *what, *message; grpo_trainer_config c; } cases[11];
    int n = 0;
    grpo_trainer_config ok = toy_config(&tok, rewards, 1);
#define CASE(text, field, value) do { cases[n].what = #field " = " #value; cases[n].message = text; cases[n].c = ok; cases[n].c.field = value; n++; } while (0)
    CASE("tokenizer", tokenizer, NULL);
    CASE("at least one reward", n_rewards, 0);
    CASE("group_size", group_size, -2);
    CASE("mu", mu, -1);
    CASE("loss.beta", loss.beta, -0.1f);
    CASE("loss.epsilon_low", loss.epsilon_low, 1.5f);
    CASE("loss.dual_clip", loss.dual_clip, 0.5f);
    CASE("overlong", rewards, bad_overlong);
    CASE("max_new_tokens", max_completion_tokens, 60);
    CASE("share_model_weights", share_model_weights, 2);
#undef CASE
    for (int i = 0; i < n; i++) {
        grpo_result r = grpo_trainer_create(&trainer, &model, &cases[i].c);
        CHECK(r != GRPO_SUCCESS && strstr(grpo_last_error(), cases[i].message), "%s: got %s, message \"%s\"", cases[i].what, grpo_result_string(r), grpo_last_error());
    }
    CHECK(grpo_trainer_create(&trainer, &model, &ok) == GRPO_SUCCESS, "a valid config");
    grpo_example too_long[4];
    for (int i = 0; i < 4; i++) { too_long[i].prompt = "a prompt that is far too long for a context of forty-eight tokens"; too_long[i].gold = ""; }
    grpo_metrics m;
    CHECK(grpo_trainer_step(&trainer, too_long, 4, &m) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "context_length"), "a prompt too long: %s", grpo_last_error());
    grpo_trainer_destroy(&trainer);
    grpo_model_destroy(&model);
}

static void test_metrics_json(void) {
    grpo_metrics m;
    memset(&m, 0, sizeof m);
    m.step = 3; m.reward = 0.5; m.kl = NAN; m.n_rewards = 2;
    m.reward_names[0] = "accuracy"; m.reward_names[1] = "format"; m.reward_means[0] = 0.25; m.reward_means[1] = 1.0;
    char line[4096];
    int n = grpo_metrics_json(&m, line, sizeof line);
    CHECK(n > 0 && (size_t)n < sizeof line && (int)strlen(line) == n, "length %d", n);
    CHECK(line[0] == '{' && line[n - 1] == '}' && !strchr(line, '\n'), "one object on one line");
    const char *keys[] = {"\"reward\": 0.5", "\"rewards/accuracy/mean\": 0.25", "\"rewards/format/mean\": 1", "\"kl\": null",
                          "\"frac_reward_zero_std\"", "\"completions/mean_length\"", "\"completions/clipped_ratio\"", "\"entropy\"",
                          "\"clip_ratio/low_mean\"", "\"clip_ratio/high_mean\"", "\"clip_ratio/region_mean\"", "\"grad_norm\"",
                          "\"learning_rate\"", "\"loss\"", "\"seconds/generation\"", "\"seconds/reference_forward\"",
                          "\"seconds/policy_forward_backward\"", "\"seconds/optimizer\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK(strstr(line, keys[i]) != NULL, "missing %s in %s", keys[i], line);
    CHECK(!strstr(line, "nan") && !strstr(line, "inf"), "no NaN or Inf in JSON");
    char small[16];
    CHECK(grpo_metrics_json(&m, small, sizeof small) == n && strlen(small) == 15, "truncates like snprintf and reports the length needed");
    CHECK(grpo_metrics_json(&m, NULL, 0) == n, "NULL buffer: only the length");
}

static void test_r1_zero_template(void) {
    char buffer[1024];
    int n = grpo_r1_zero_prompt("What is 2+3?", buffer, sizeof buffer);
    const char *expected =
        "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant "
        "first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning "
        "process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., "
        "<think> reasoning process here </think> <answer> answer here </answer>. User: What is 2+3?. Assistant:";
    CHECK(n == (int)strlen(expected) && strcmp(buffer, expected) == 0, "the template, verbatim from the paper: %s", buffer);
}

int main(void) {
    TEST(test_loss_gradient_through_model);
    TEST(test_advantages_edges);
    TEST(test_grpo_learns_toy_task);
    TEST(test_micro_batches_match_full_batch);
    TEST(test_share_model_weights);
    TEST(test_mu_passes);
    TEST(test_dynamic_sampling);
    TEST(test_nan_is_refused);
    TEST(test_trainer_errors);
    TEST(test_metrics_json);
    TEST(test_r1_zero_template);
    return test_finish("test_grpo");
}
