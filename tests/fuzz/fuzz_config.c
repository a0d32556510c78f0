/* libFuzzer target for everything a caller passes in from outside (a command line, a config
   file, a dataset): model configs, forward/backward shapes, token ids and lengths, generator
   limits, sampling settings with stop strings, prompts, trainer configs and a GRPO step.

   The input is read as a stream of choices: small integers near the edges of each range
   (0, 1, -1, limits, INT_MIN, INT_MAX) or raw values. The memory cap is 8 MiB, as a program
   taking its config from outside should set one. Forward, generation and a step run only on
   models of at most 50k parameters (zero fields mean defaults, which are bigger): the checks
   are the same for any size and the fuzzer stays fast.

   Invariants (a violation traps): every call returns success or an error code with a message;
   no crash, leak or undefined behaviour (ASan + UBSan); what succeeds is well-formed:
   log-probs <= 0 and finite on valid positions and 0 on padding, completions within their
   limits with tokens in the vocabulary and a mask that matches their lengths, finite metrics.
   Seeds: tests/fuzz/corpus/config/. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

typedef struct { const uint8_t *data; size_t size, at; } fz_input;

static unsigned fz_byte(fz_input *in) { return in->at < in->size ? in->data[in->at++] : 0u; }
static uint32_t fz_u32(fz_input *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | fz_byte(in);
    return v;
}
/* mostly small values in [low, high], sometimes an edge or a raw 32-bit value */
static int fz_int(fz_input *in, int low, int high) {
    static const int edges[] = {0, 1, -1, 2, INT_MIN, INT_MAX, 1 << 24, (1 << 24) + 1, 65536, 1024, 1025};
    unsigned kind = fz_byte(in);
    if (kind < 200) {
        unsigned span = (unsigned)(high - low) + 1u;
        return low + (int)(fz_u32(in) % span);
    }
    if (kind < 245) return edges[fz_byte(in) % (sizeof edges / sizeof edges[0])];
    return (int)fz_u32(in);
}
static float fz_float(fz_input *in, float typical) {
    static const float edges[] = {0.0f, 1.0f, -1.0f, 0.5f, 1e-30f, 1e30f, 2.0f, 0.999f, 1.0001f};
    unsigned kind = fz_byte(in);
    if (kind < 180) return typical * (float)(fz_byte(in) + 1) / 128.0f;
    if (kind < 240) return edges[fz_byte(in) % (sizeof edges / sizeof edges[0])];
    uint32_t bits = fz_u32(in);
    float f;
    memcpy(&f, &bits, 4);
    return f; /* NaN and Inf included */
}

static void fz_error(grpo_result r) {
    REQUIRE(r != GRPO_SUCCESS && strcmp(grpo_result_string(r), "unknown result") != 0);
    REQUIRE(grpo_last_error()[0] != '\0');
}

static float fz_reward(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return (float)(strlen(completion) % 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_input in = {data, size, 0};
    grpo_set_memory_limit((size_t)8 << 20);
    grpo__error_message[0] = '\0';

    /* a model config near the small end */
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = fz_int(&in, 0, 300);
    c.context_length = fz_int(&in, 0, 40);
    c.d_model = fz_int(&in, 0, 32);
    c.n_layers = fz_int(&in, 0, 3);
    c.n_heads = fz_int(&in, 0, 8);
    c.n_kv_heads = fz_int(&in, 0, 8);
    c.d_ff = fz_int(&in, 0, 48);
    c.rope_theta = fz_float(&in, 10000.0f);
    c.norm_eps = fz_float(&in, 1e-5f);
    c.qkv_bias = fz_int(&in, 0, 1);
    c.untied_head = fz_int(&in, 0, 1);
    grpo_result valid = grpo_config_validate(&c);
    grpo_model model;
    grpo_result r = grpo_model_create(&model, &c, fz_u32(&in));
    if (valid != GRPO_SUCCESS) REQUIRE(r != GRPO_SUCCESS); /* an invalid config is never created */
    if (r != GRPO_SUCCESS) {
        fz_error(r);
        static const grpo_model empty;
        REQUIRE(memcmp(&model, &empty, sizeof model) == 0);
        return 0;
    }
    const grpo_config *mc = &model.config;
    int V = mc->vocab_size, ctx = mc->context_length;
    if (model.num_parameters > 50000 || ctx > 64) {
        grpo_model_destroy(&model);
        return 0;
    }

    /* forward and backward with fuzzed shapes, tokens and lengths */
    int B = fz_int(&in, 0, 4), T = fz_int(&in, 0, ctx + 1);
    int shaped = B > 0 && T > 0 && B <= 8 && T <= ctx + 1, rows = shaped ? B * T : 1;
    int *tokens = (int *)calloc((size_t)rows, sizeof(int)), *targets = (int *)calloc((size_t)rows, sizeof(int));
    int *lengths = (int *)calloc(8, sizeof(int));
    float *logprobs = (float *)calloc((size_t)rows, sizeof(float)), *entropy = (float *)calloc((size_t)rows, sizeof(float));
    float *dlogprobs = (float *)calloc((size_t)rows, sizeof(float));
    int bad_token = fz_byte(&in) < 16;
    for (int i = 0; i < rows; i++) {
        tokens[i] = bad_token && i == rows - 1 ? fz_int(&in, -3, V + 3) : (int)(fz_u32(&in) % (unsigned)V);
        targets[i] = (int)(fz_u32(&in) % (unsigned)V);
        dlogprobs[i] = fz_float(&in, 1.0f);
    }
    for (int b = 0; b < 8; b++) lengths[b] = fz_int(&in, 0, T > 0 ? T : 1);
    float temperature = fz_float(&in, 1.0f);
    if (shaped) {
        r = grpo_model_forward(&model, tokens, targets, fz_byte(&in) % 2 ? lengths : NULL, B, T, temperature, logprobs, entropy);
        if (r == GRPO_SUCCESS) {
            for (int i = 0; i < rows; i++) REQUIRE(isfinite(logprobs[i]) && logprobs[i] <= 0.0f && isfinite(entropy[i]) && entropy[i] >= -1e-4f);
            r = grpo_model_backward(&model, dlogprobs);
            if (r != GRPO_SUCCESS) fz_error(r);
        } else {
            fz_error(r);
            REQUIRE(grpo_model_backward(&model, dlogprobs) != GRPO_SUCCESS); /* nothing to go back through */
        }
    } else if (B <= 0 || T <= 0 || T > ctx || (long long)B * T > (1 << 24)) {
        /* shapes that must be refused before the arrays (too short for them here) are read */
        r = grpo_model_forward(&model, tokens, targets, NULL, B, T, temperature, logprobs, entropy);
        REQUIRE(r != GRPO_SUCCESS);
        fz_error(r);
    }

    /* generation with fuzzed limits, prompts and sampling */
    grpo_generator generator;
    grpo_generator_config gc = {fz_int(&in, 0, 3), fz_int(&in, 0, 4), fz_int(&in, 0, ctx), 0};
    r = grpo_generator_create(&generator, &model, fz_byte(&in) < 20 ? NULL : &gc);
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    char stop_a[8], stop_b[200];
    /* the API cannot see the array's length: it must hold n_stop_strings entries, which the
       library bounds at GRPO_MAX_STOP_STRINGS */
    const char *stops[GRPO_MAX_STOP_STRINGS];
    for (int k = 0; k < GRPO_MAX_STOP_STRINGS; k++) stops[k] = k == 1 ? stop_b : stop_a;
    if (r == GRPO_SUCCESS) {
        int n_prompts = fz_int(&in, 0, 3), G = fz_int(&in, 0, 4), width = fz_int(&in, 0, ctx);
        int prompt_lengths[3];
        int prompts[3 * 40];
        for (int b = 0; b < 3; b++) prompt_lengths[b] = fz_int(&in, 0, width > 0 ? width : 1);
        for (int i = 0; i < 3 * 40; i++) prompts[i] = (int)(fz_u32(&in) % (unsigned)V);
        if (fz_byte(&in) < 16) prompts[fz_byte(&in) % 120] = fz_int(&in, -2, V + 2);
        grpo_sampling_config s;
        memset(&s, 0, sizeof s);
        s.temperature = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 1.0f);
        s.top_k = fz_int(&in, 0, V + 1);
        s.top_p = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 0.9f);
        s.greedy = fz_int(&in, 0, 1);
        /* gc may hold a fuzzed INT_MAX (the generator then made from defaults): no + 1 past it */
        s.max_new_tokens = fz_int(&in, 0, gc.max_new_tokens < INT_MAX ? gc.max_new_tokens + 1 : INT_MAX);
        s.eos_id = fz_int(&in, -1, V);
        s.seed = fz_u32(&in);
        size_t a_len = fz_byte(&in) % sizeof stop_a, b_len = fz_byte(&in) % sizeof stop_b;
        for (size_t i = 0; i < sizeof stop_a; i++) stop_a[i] = (char)fz_byte(&in);
        for (size_t i = 0; i < sizeof stop_b; i++) stop_b[i] = (char)fz_byte(&in);
        stop_a[a_len] = '\0';
        stop_b[b_len] = '\0';
        s.n_stop_strings = fz_int(&in, 0, 2);
        s.stop_strings = fz_byte(&in) < 10 ? NULL : stops;
        s.tokenizer = V >= GRPO_BYTE_VOCAB_SIZE && fz_byte(&in) > 10 ? &tokenizer : NULL;
        const grpo_completions *out = NULL;
        int T_prompt = width;
        if (n_prompts >= 0 && n_prompts <= 3 && T_prompt >= 0 && T_prompt <= 40 && (size_t)n_prompts * (size_t)T_prompt <= 120) {
            r = grpo_generate(&generator, &model, prompts, prompt_lengths, n_prompts, T_prompt, G, &s, &out);
            if (r == GRPO_SUCCESS) {
                REQUIRE(out && out->n_sequences == n_prompts * G);
                for (int q = 0; q < out->n_sequences; q++) {
                    int length = out->lengths[q];
                    REQUIRE(length >= 1 && length <= out->max_new_tokens);
                    for (int t = 0; t < out->max_new_tokens; t++) {
                        size_t at = (size_t)q * out->max_new_tokens + t;
                        REQUIRE(out->mask[at] == (t < length ? 1.0f : 0.0f));
                        if (t < length) REQUIRE(out->tokens[at] >= 0 && out->tokens[at] < V && isfinite(out->logprobs[at]) && out->logprobs[at] <= 0.0f);
                    }
                    REQUIRE(!out->truncated[q] || length == out->max_new_tokens);
                }
            } else {
                fz_error(r);
            }
        }
        grpo_generator_destroy(&generator);
    } else {
        fz_error(r);
    }

    /* a trainer with a fuzzed config, and a step when it is small */
    if (V >= GRPO_BYTE_VOCAB_SIZE) {
        /* n_rewards is fuzzed too: the array must hold as many as the library accepts */
        grpo_reward rewards[GRPO_MAX_REWARDS] = {{GRPO_REWARD_CALLBACK, 1.0f, "length", fz_reward, NULL, 0, 0},
                                                 {(grpo_reward_kind)fz_int(&in, 0, 8), fz_float(&in, 1.0f), NULL, NULL, NULL, fz_int(&in, 0, 20), fz_int(&in, 0, 20)}};
        for (int k = 2; k < GRPO_MAX_REWARDS; k++) rewards[k] = rewards[0];
        grpo_trainer_config tc;
        memset(&tc, 0, sizeof tc);
        tc.prompts_per_step = fz_int(&in, 0, 3);
        tc.group_size = fz_int(&in, 0, 4);
        tc.max_completion_tokens = fz_int(&in, 0, ctx);
        tc.mu = fz_int(&in, 0, 3);
        tc.micro_batch_size = fz_int(&in, 0, 8);
        tc.scale_rewards = (grpo_scale_rewards)fz_int(&in, 0, 3);
        tc.population_std = fz_int(&in, 0, 1);
        tc.mask_truncated_completions = fz_int(&in, 0, 1);
        tc.dynamic_sampling = fz_int(&in, 0, 1);
        tc.max_sampling_rounds = fz_int(&in, 0, 3);
        tc.loss.loss_type = (grpo_loss_type)fz_int(&in, 0, 4);
        tc.loss.epsilon_low = fz_float(&in, 0.2f);
        tc.loss.epsilon_high = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 0.28f);
        tc.loss.dual_clip = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 3.0f);
        tc.loss.beta = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 0.04f);
        tc.loss.kl_estimator = (grpo_kl_estimator)fz_int(&in, 0, 4);
        tc.sampling.temperature = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 1.0f);
        tc.sampling.eos_id = fz_int(&in, -1, V);
        tc.optimizer.learning_rate = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 1e-3f);
        tc.optimizer.max_grad_norm = fz_byte(&in) < 128 ? 0.0f : fz_float(&in, 1.0f);
        tc.rewards = rewards;
        tc.n_rewards = fz_int(&in, 0, 2);
        tc.tokenizer = &tokenizer;
        tc.seed = fz_u32(&in);
        grpo_trainer trainer;
        r = grpo_trainer_create(&trainer, &model, &tc);
        if (r == GRPO_SUCCESS) {
            const grpo_trainer_config *k = &trainer.config;
            grpo_example examples[4];
            char prompts_text[4][24];
            for (int i = 0; i < 4; i++) {
                size_t n = fz_byte(&in) % sizeof prompts_text[i];
                for (size_t j = 0; j < n; j++) prompts_text[i][j] = (char)(fz_byte(&in) | 1); /* no NUL inside */
                prompts_text[i][n] = '\0';
                examples[i].prompt = prompts_text[i];
                examples[i].gold = "1";
            }
            if (k->prompts_per_step * k->group_size <= 12 && k->max_completion_tokens <= 12 && k->mu <= 3) {
                grpo_metrics m;
                int n_examples = fz_int(&in, 0, 4);
                r = grpo_trainer_step(&trainer, n_examples >= 0 && n_examples <= 4 ? examples : NULL, n_examples, &m);
                if (r == GRPO_SUCCESS) {
                    REQUIRE(isfinite(m.loss) && isfinite(m.grad_norm) && m.grad_norm >= 0.0 && isfinite(m.entropy));
                    REQUIRE(m.examples_used >= 1 && m.examples_used <= n_examples);
                    REQUIRE(trainer.step == 1);
                } else {
                    fz_error(r);
                    REQUIRE(trainer.step == 0 && trainer.optimizer.step == 0);
                }
            }
            grpo_trainer_destroy(&trainer);
        } else {
            fz_error(r);
        }
    }
    free(tokens); free(targets); free(lengths); free(logprobs); free(entropy); free(dlogprobs);
    grpo_model_destroy(&model);
    return 0;
}
