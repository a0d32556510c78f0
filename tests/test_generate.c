/* Generation: the KV cache gives the logits of a full forward at every position (GQA, shared
   prompt prefixes, rows dropping out), the sampler draws from the filtered softmax, seeds
   reproduce completions whatever the batch, stops work, and bad requests are refused. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

static grpo_config generation_config(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = GRPO_BYTE_VOCAB_SIZE; c.context_length = 32; c.d_model = 32; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.d_ff = 48; c.qkv_bias = 1; c.untied_head = 1; c.rope_theta = 500.0f;
    return c;
}

/* A model with weights large enough that attention is far from uniform. */
static void make_model(grpo_model *model, uint64_t seed) {
    grpo_config config = generation_config();
    grpo_model_create(model, &config, seed);
    grpo_rng rng = grpo_rng_seed(seed + 100);
    for (size_t i = 0; i < model->num_parameters; i++) model->params_memory[i] += 0.1f * grpo_rng_normal(&rng);
}

enum { NP = 3, PT = 9, G = 3, S = NP * G, K = 8 };
static const int prompt_lengths_fixed[NP] = {5, 9, 2};

static void fill_prompts(int *prompts) {
    for (int b = 0; b < NP; b++)
        for (int t = 0; t < PT; t++) prompts[b * PT + t] = t < prompt_lengths_fixed[b] ? 'a' + (b * 7 + t * 3) % 26 : 0;
}

/* Drives the decoder directly with fixed tokens: every sequence of a group shares the prompt
   but continues differently; from step 3 on, only odd sequences stay in the batch. Each step's
   logits must equal those of a full forward over prompt + continuation at that position. */
static void test_cache_matches_full_forward(void) {
    grpo_model model, full;
    make_model(&model, 1);
    grpo_model_create_reference(&full, &model);
    grpo_generator gen;
    grpo_generator_config gc = {NP, G, K + 1, 0};
    CHECK(grpo_generator_create(&gen, &model, &gc) == GRPO_SUCCESS, "create: %s", grpo_last_error());
    int prompts[NP * PT], continuation[S][K];
    fill_prompts(prompts);
    for (int s = 0; s < S; s++)
        for (int k = 0; k < K; k++) continuation[s][k] = (s * 31 + k * 17 + 5) % 256;
    float lp[NP * PT];
    CHECK(grpo_model_forward(&model, prompts, prompts, prompt_lengths_fixed, NP, PT, 1.0f, lp, NULL) == GRPO_SUCCESS, "prefill");
    grpo__decode_prefill(&gen, &model, NP, PT, prompt_lengths_fixed);
    static float cached[S][K][GRPO_BYTE_VOCAB_SIZE];
    int fed[S];
    for (int s = 0; s < S; s++) fed[s] = 0;
    for (int k = 0; k < K; k++) {
        int n = 0;
        for (int s = 0; s < S; s++) {
            if (k >= 3 && s % 2 == 0) continue;
            gen.row_sequence[n] = s;
            gen.row_token[n] = continuation[s][k];
            gen.row_position[n] = prompt_lengths_fixed[s / G] + k;
            gen.row_step[n] = k;
            n++;
        }
        grpo__decode_step(&gen, &model, n, G);
        for (int i = 0; i < n; i++) {
            memcpy(cached[gen.row_sequence[i]][k], gen.logits + (size_t)i * GRPO_BYTE_VOCAB_SIZE, sizeof cached[0][0]);
            fed[gen.row_sequence[i]] = k + 1;
        }
    }
    double worst = 0.0;
    for (int s = 0; s < S; s++) {
        int b = s / G, P = prompt_lengths_fixed[b], length = P + fed[s];
        int sequence[PT + K], targets[PT + K];
        float full_lp[PT + K];
        for (int t = 0; t < P; t++) sequence[t] = prompts[b * PT + t];
        for (int k = 0; k < fed[s]; k++) sequence[P + k] = continuation[s][k];
        for (int t = 0; t < length; t++) targets[t] = 0;
        CHECK(grpo_model_forward(&full, sequence, targets, NULL, 1, length, 1.0f, full_lp, NULL) == GRPO_SUCCESS, "full forward");
        for (int k = 0; k < fed[s]; k++) {
            double e = test_relative_error(cached[s][k], full.acts.logits + (size_t)(P + k) * GRPO_BYTE_VOCAB_SIZE, GRPO_BYTE_VOCAB_SIZE);
            if (e > worst) worst = e;
            CHECK(e < 1e-5, "sequence %d, step %d: cached logits differ from a full forward (rel err %g)", s, k, e);
        }
    }
    printf("    cached vs full-forward logits: max rel err %.2e over %d sequences (tolerance 1e-5)\n", worst, S);
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&full);
    grpo_model_destroy(&model);
}

/* Through the public API: the sampling-time log-probs (lp_old) equal the log-probs a forward
   over prompt + completion gives at the same temperature, at every completion position, even
   with top-k/top-p filters (lp_old is the unfiltered distribution). */
static void check_lp_old(float temperature, int top_k, float top_p) {
    grpo_model model, full;
    make_model(&model, 2);
    grpo_model_create_reference(&full, &model);
    grpo_generator gen;
    grpo_generator_config gc = {NP, G, 12, 0};
    grpo_generator_create(&gen, &model, &gc);
    int prompts[NP * PT];
    fill_prompts(prompts);
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.temperature = temperature; sc.top_k = top_k; sc.top_p = top_p; sc.seed = 7;
    const grpo_completions *out = NULL;
    CHECK(grpo_generate(&gen, &model, prompts, prompt_lengths_fixed, NP, PT, G, &sc, &out) == GRPO_SUCCESS, "generate: %s", grpo_last_error());
    double worst = 0.0;
    for (int s = 0; s < out->n_sequences; s++) {
        int b = s / G, P = prompt_lengths_fixed[b], n = out->lengths[s];
        int tokens[PT + 12], targets[PT + 12];
        float lp[PT + 12];
        for (int t = 0; t < P; t++) tokens[t] = prompts[b * PT + t];
        for (int k = 0; k < n; k++) tokens[P + k] = out->tokens[s * out->max_new_tokens + k];
        for (int t = 0; t + 1 < P + n; t++) targets[t] = tokens[t + 1];
        CHECK(grpo_model_forward(&full, tokens, targets, NULL, 1, P + n - 1, temperature, lp, NULL) == GRPO_SUCCESS, "forward: %s", grpo_last_error());
        for (int k = 0; k < n; k++) {
            double e = fabs((double)lp[P - 1 + k] - out->logprobs[s * out->max_new_tokens + k]);
            if (e > worst) worst = e;
        }
        for (int k = 0; k < out->max_new_tokens; k++)
            CHECK((k < n) == (out->mask[s * out->max_new_tokens + k] == 1.0f), "mask of sequence %d at %d", s, k);
    }
    CHECK(worst < 1e-4, "lp_old vs forward log-probs: max abs err %g (T %g, top_k %d, top_p %g)", worst, (double)temperature, top_k, (double)top_p);
    printf("    lp_old vs forward (T %.1f, top_k %d, top_p %.2f): max abs err %.2e\n", (double)temperature, top_k, (double)top_p, worst);
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&full);
    grpo_model_destroy(&model);
}
static void test_lp_old_matches_forward(void) {
    check_lp_old(1.0f, 0, 1.0f);
    check_lp_old(0.7f, 20, 0.9f);
}

/* ---------------------------------------------------------------------------------------
   The sampler's empirical frequencies against the filtered softmax, by Pearson's chi-square.
   Each setting draws 200,000 tokens; the critical value is the exact chi-square quantile at a
   false-alarm rate of 1e-6 per setting, so the six settings together raise a false alarm
   about once in 170,000 runs. Tokens the filters remove must never appear. */

/* Upper tail of the chi-square distribution: Q(df/2, x/2), the regularised upper incomplete
   gamma function, by its series for small x and its continued fraction (Lentz) otherwise. */
static double chi_square_tail(int df, double x) {
    double a = 0.5 * df, z = 0.5 * x, log_prefix = a * log(z) - z - lgamma(a);
    if (z < a + 1.0) {
        double term = 1.0 / a, sum = term;
        for (int n = 1; n < 1000; n++) { term *= z / (a + n); sum += term; if (term < sum * 1e-15) break; }
        return 1.0 - sum * exp(log_prefix);
    }
    double b = z + 1.0 - a, c = 1e300, d = 1.0 / b, h = d;
    for (int n = 1; n < 1000; n++) {
        double an = -n * (n - a);
        b += 2.0;
        d = an * d + b; if (fabs(d) < 1e-300) d = 1e-300;
        c = b + an / c; if (fabs(c) < 1e-300) c = 1e-300;
        d = 1.0 / d;
        h *= d * c;
        if (fabs(d * c - 1.0) < 1e-15) break;
    }
    return exp(log_prefix) * h;
}

static double chi_square_critical(int df) {
    double lo = 0.0, hi = 1000.0;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (chi_square_tail(df, mid) > 1e-6) lo = mid; else hi = mid;
    }
    return hi;
}

static void expected_distribution(const float *logits, int V, float temperature, int top_k, float top_p, double *expected) {
    double p[16], total = 0.0;
    int order[16];
    for (int j = 0; j < V; j++) { p[j] = exp(logits[j] / temperature); total += p[j]; order[j] = j; }
    for (int j = 0; j < V; j++) p[j] /= total;
    for (int i = 0; i < V; i++) /* selection sort: most likely first, ties by index */
        for (int j = i + 1; j < V; j++)
            if (p[order[j]] > p[order[i]] || (p[order[j]] == p[order[i]] && order[j] < order[i])) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    int kept = top_k > 0 && top_k < V ? top_k : V;
    double mass = 0.0;
    for (int i = 0; i < kept; i++) mass += p[order[i]];
    double cumulative = 0.0;
    for (int i = 0; i < kept; i++) {
        cumulative += p[order[i]] / mass;
        if (cumulative >= top_p) { kept = i + 1; break; }
    }
    mass = 0.0;
    for (int i = 0; i < kept; i++) mass += p[order[i]];
    for (int j = 0; j < V; j++) expected[j] = 0.0;
    for (int i = 0; i < kept; i++) expected[order[i]] = p[order[i]] / mass;
}

static void test_sampler_frequencies(void) {
    enum { V = 8, DRAWS = 200000 };
    const float logits[V] = {2.0f, 1.4f, 1.0f, 0.55f, 0.0f, -0.6f, -1.3f, -3.0f};
    /* the quantile itself: for 2 degrees of freedom it is -2 ln(1e-6) exactly */
    CHECK(fabs(chi_square_critical(2) - (-2.0 * log(1e-6))) < 1e-6, "chi-square quantile, df 2: %.6f", chi_square_critical(2));
    CHECK(fabs(chi_square_tail(1, 23.928) - 1e-6) < 2e-9, "chi-square tail, df 1 at 23.928 (erfc check): %g", chi_square_tail(1, 23.928));
    struct { float temperature; int top_k; float top_p; } settings[] = {
        {1.0f, 0, 1.0f}, {0.5f, 0, 1.0f}, {2.0f, 3, 1.0f}, {1.0f, 0, 0.8f}, {0.7f, 5, 0.9f}, {1.5f, 6, 0.75f}};
    float probs[V];
    grpo__candidate candidates[V];
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        grpo_sampling_config sc;
        memset(&sc, 0, sizeof sc);
        sc.temperature = settings[k].temperature; sc.top_k = settings[k].top_k; sc.top_p = settings[k].top_p;
        double expected[V];
        expected_distribution(logits, V, sc.temperature, sc.top_k, sc.top_p, expected);
        long counts[V] = {0};
        grpo_rng rng = grpo_rng_seed(1000 + k);
        float lp;
        for (int i = 0; i < DRAWS; i++) counts[grpo__sample_token(logits, V, &sc, &rng, probs, candidates, &lp)]++;
        double chi2 = 0.0;
        int df = -1;
        for (int j = 0; j < V; j++) {
            if (expected[j] == 0.0) { CHECK(counts[j] == 0, "setting %zu: filtered token %d was drawn %ld times", k, j, counts[j]); continue; }
            double e = expected[j] * DRAWS;
            chi2 += (counts[j] - e) * (counts[j] - e) / e;
            df++;
        }
        double critical = chi_square_critical(df);
        CHECK(chi2 < critical, "setting %zu (T %g, top_k %d, top_p %g): chi-square %.2f >= %.2f with %d degrees of freedom",
              k, (double)sc.temperature, sc.top_k, (double)sc.top_p, chi2, critical, df);
        printf("    T %.1f top_k %d top_p %.2f: %d tokens kept, chi-square %.2f (critical %.2f)\n",
               (double)sc.temperature, sc.top_k, (double)sc.top_p, df + 1, chi2, critical);
    }
    /* greedy takes the argmax and still reports lp_old at the temperature */
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.temperature = 0.5f; sc.top_p = 1.0f; sc.greedy = 1;
    grpo_rng rng = grpo_rng_seed(1);
    float lp;
    CHECK(grpo__sample_token(logits, V, &sc, &rng, probs, candidates, &lp) == 0, "greedy picks the argmax");
    double z = 0.0;
    for (int j = 0; j < V; j++) z += exp((logits[j] - 2.0) / 0.5);
    CHECK(fabs(lp - (-log(z))) < 1e-6, "greedy lp_old %g, expected %g", (double)lp, -log(z));
}

/* ---------------------------------------------------------------------------------------
   Seeds: the same seed gives the same completions; a prompt's completions do not depend on the
   other prompts of the batch; prompt_seeds let a prompt move to another slot. */
static void generate_into(grpo_generator *gen, grpo_model *model, const int *prompts, const int *lengths, int n_prompts,
                          const uint64_t *prompt_seeds, uint64_t seed, int *tokens /* (n_prompts * G, max_new) */,
                          float *logprobs /* the same shape, or NULL */) {
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.seed = seed; sc.prompt_seeds = prompt_seeds; sc.eos_id = -1; sc.max_new_tokens = 10;
    const grpo_completions *out;
    CHECK(grpo_generate(gen, model, prompts, lengths, n_prompts, PT, G, &sc, &out) == GRPO_SUCCESS, "generate: %s", grpo_last_error());
    memcpy(tokens, out->tokens, (size_t)out->n_sequences * out->max_new_tokens * sizeof(int));
    if (logprobs) memcpy(logprobs, out->logprobs, (size_t)out->n_sequences * out->max_new_tokens * sizeof(float));
}

static void test_seed_reproducibility(void) {
    grpo_model model;
    make_model(&model, 3);
    grpo_generator gen;
    grpo_generator_config gc = {NP, G, 10, 0};
    grpo_generator_create(&gen, &model, &gc);
    int prompts[NP * PT];
    fill_prompts(prompts);
    static int a[S * 10], b[S * 10], c[S * 10], alone[G * 10], moved[S * 10];
    generate_into(&gen, &model, prompts, prompt_lengths_fixed, NP, NULL, 42, a, NULL);
    generate_into(&gen, &model, prompts, prompt_lengths_fixed, NP, NULL, 42, b, NULL);
    CHECK(memcmp(a, b, sizeof a) == 0, "the same seed must give the same completions");
    generate_into(&gen, &model, prompts, prompt_lengths_fixed, NP, NULL, 43, c, NULL);
    CHECK(memcmp(a, c, sizeof a) != 0, "another seed must give other completions");
    CHECK(memcmp(a, a + 10, 10 * sizeof(int)) != 0, "the G completions of a prompt differ from each other");
    /* prompt 0 alone: same completions as inside the batch */
    generate_into(&gen, &model, prompts, prompt_lengths_fixed, 1, NULL, 42, alone, NULL);
    CHECK(memcmp(alone, a, sizeof alone) == 0, "a prompt alone must get the completions it gets in a batch");
    /* prompt 0 moved to slot 2, keyed by prompt_seeds: the same completions again */
    int swapped[NP * PT], swapped_lengths[NP] = {prompt_lengths_fixed[2], prompt_lengths_fixed[1], prompt_lengths_fixed[0]};
    memcpy(swapped, prompts + 2 * PT, PT * sizeof(int));
    memcpy(swapped + PT, prompts + PT, PT * sizeof(int));
    memcpy(swapped + 2 * PT, prompts, PT * sizeof(int));
    uint64_t keys_a[NP] = {0, 1, 2}, keys_moved[NP] = {2, 1, 0};
    generate_into(&gen, &model, prompts, prompt_lengths_fixed, NP, keys_a, 42, a, NULL);
    generate_into(&gen, &model, swapped, swapped_lengths, NP, keys_moved, 42, moved, NULL);
    CHECK(memcmp(moved + 2 * G * 10, a, G * 10 * sizeof(int)) == 0, "with prompt_seeds a prompt's completions follow it to another slot");
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&model);
}

/* The generator's packed copy of the weights (the default) against reading the model's
   weights in place (share_model_weights = 1): the same completions and log-probs bit for bit,
   also after the model's weights change between calls (the copy is refreshed each call). */
static void test_packed_weights(void) {
    grpo_model model, other;
    make_model(&model, 5);
    make_model(&other, 6);
    grpo_generator packed, shared;
    grpo_generator_config pc = {NP, G, 10, 0}, sc = {NP, G, 10, 1};
    CHECK(grpo_generator_create(&packed, &model, &pc) == GRPO_SUCCESS && grpo_generator_create(&shared, &model, &sc) == GRPO_SUCCESS, "create: %s", grpo_last_error());
#ifdef GRPO__LANES
    CHECK(packed.weights != NULL && shared.weights == NULL, "the default keeps a packed copy; share_model_weights = 1 does not");
#else
    CHECK(packed.weights == NULL, "without the vector kernel there is no packed copy");
#endif
    int prompts[NP * PT];
    fill_prompts(prompts);
    static int ta[S * 10], tb[S * 10], first[S * 10];
    static float la[S * 10], lb[S * 10];
    for (int round = 0; round < 2; round++) {
        generate_into(&packed, &model, prompts, prompt_lengths_fixed, NP, NULL, 7, ta, la);
        generate_into(&shared, &model, prompts, prompt_lengths_fixed, NP, NULL, 7, tb, lb);
        CHECK(memcmp(ta, tb, sizeof ta) == 0 && memcmp(la, lb, sizeof la) == 0, "round %d: packed and shared weights must give the same completions and log-probs", round);
        if (round == 0) {
            memcpy(first, ta, sizeof first);
            /* new weights, as after an optimizer step */
            memcpy(model.params_memory, other.params_memory, model.num_parameters * sizeof(float));
        } else {
            CHECK(memcmp(first, ta, sizeof first) != 0, "new weights must give other completions (the packed copy was refreshed)");
        }
    }
    grpo_generator bad;
    grpo_generator_config two = {NP, G, 10, 2};
    CHECK(grpo_generator_create(&bad, &model, &two) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "share_model_weights"), "share_model_weights = 2 is refused");
    grpo_generator_destroy(&packed);
    grpo_generator_destroy(&shared);
    grpo_model_destroy(&model);
    grpo_model_destroy(&other);
}

/* ---------------------------------------------------------------------------------------
   Stops: EOS, stop strings (found at the token that completes them, kept in the completion)
   and truncation at max_new_tokens. Greedy decoding makes the continuation known in advance. */
static void test_stops(void) {
    grpo_model model;
    make_model(&model, 4);
    grpo_generator gen;
    grpo_generator_config gc = {1, 2, 16, 0};
    grpo_generator_create(&gen, &model, &gc);
    grpo_tokenizer tok = grpo_byte_tokenizer();
    int prompt[4] = {'a', 'b', 'c', 'd'}, length = 4;
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.greedy = 1; sc.eos_id = -1; sc.max_new_tokens = 16;
    const grpo_completions *out;
    CHECK(grpo_generate(&gen, &model, prompt, &length, 1, 4, 2, &sc, &out) == GRPO_SUCCESS, "greedy: %s", grpo_last_error());
    CHECK(out->lengths[0] == 16 && out->truncated[0] == 1 && out->lengths[1] == 16, "no stop: the completion is truncated at max_new_tokens");
    int greedy[16];
    memcpy(greedy, out->tokens, sizeof greedy);
    CHECK(memcmp(out->tokens, out->tokens + 16, sizeof greedy) == 0, "greedy completions of one prompt are identical");
    /* EOS: make the greedy token at step 5 the EOS id; the completion ends there, EOS included */
    sc.eos_id = greedy[5];
    CHECK(grpo_generate(&gen, &model, prompt, &length, 1, 4, 2, &sc, &out) == GRPO_SUCCESS, "eos");
    int first_occurrence = 0;
    while (greedy[first_occurrence] != greedy[5]) first_occurrence++;
    CHECK(out->lengths[0] == first_occurrence + 1 && out->truncated[0] == 0, "EOS ends the completion at its first occurrence (length %d, expected %d)", out->lengths[0], first_occurrence + 1);
    CHECK(out->mask[first_occurrence] == 1.0f && (first_occurrence + 1 >= 16 || out->mask[first_occurrence + 1] == 0.0f), "the EOS token is in the mask, nothing after it");
    /* a stop string made of three greedy bytes that end at step e (the first window of three
       bytes from step 3 on); the completion must end where the string first completes */
    char text[16];
    for (int k = 0; k < 16; k++) text[k] = (char)greedy[k];
    int end = 0;
    for (int e = 6; e <= 16 && !end; e++)
        if (greedy[e - 3] < 256 && greedy[e - 2] < 256 && greedy[e - 1] < 256) end = e;
    CHECK(end > 0, "no three consecutive byte tokens in the greedy continuation");
    if (end) {
        char stop[4] = {text[end - 3], text[end - 2], text[end - 1], '\0'};
        const char *stops[2] = {"\x01never", stop};
        int expected = end;
        for (int e = 3; e < end; e++)
            if (greedy[e - 3] < 256 && greedy[e - 2] < 256 && greedy[e - 1] < 256 && memcmp(text + e - 3, stop, 3) == 0) { expected = e; break; }
        sc.eos_id = -1; sc.stop_strings = stops; sc.n_stop_strings = 2; sc.tokenizer = &tok;
        CHECK(grpo_generate(&gen, &model, prompt, &length, 1, 4, 2, &sc, &out) == GRPO_SUCCESS, "stop strings: %s", grpo_last_error());
        CHECK(out->lengths[0] == expected && out->truncated[0] == 0, "the stop string ends the completion at the token completing it (length %d, expected %d)", out->lengths[0], expected);
    }
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&model);
}

/* The stop-string window on its own: found only where it overlaps the newest bytes. */
static void test_stop_string_window(void) {
    const char *stops[1] = {"</answer>"};
    grpo_sampling_config sc;
    memset(&sc, 0, sizeof sc);
    sc.stop_strings = stops; sc.n_stop_strings = 1;
    const char *text = "<answer>42</answer>";
    int n = (int)strlen(text);
    CHECK(grpo__ends_with_stop(text, n, 1, &sc) == 1, "completed by the last byte");
    CHECK(grpo__ends_with_stop(text, n - 1, 1, &sc) == 0, "not yet complete");
    CHECK(grpo__ends_with_stop(text, n, 4, &sc) == 1, "completed inside a multi-byte piece");
    const char *earlier = "</answer>xyz";
    CHECK(grpo__ends_with_stop(earlier, 12, 1, &sc) == 0, "an occurrence that ended earlier is not found again");
}

/* ---------------------------------------------------------------------------------------
   Bad requests: an error with a message, never a crash. */
static void test_bad_requests(void) {
    grpo_model model;
    make_model(&model, 5);
    grpo_generator gen;
    grpo_generator_config gc = {2, 4, 8, 0};
    CHECK(grpo_generator_create(&gen, &model, &gc) == GRPO_SUCCESS, "create");
    int prompts[2 * 30], lengths[2] = {3, 3};
    for (int i = 0; i < 60; i++) prompts[i] = 'x';
    grpo_sampling_config ok;
    memset(&ok, 0, sizeof ok);
    const grpo_completions *out;
    CHECK(grpo_generate(&gen, &model, prompts, lengths, 2, 30, 4, &ok, &out) == GRPO_SUCCESS, "a valid request: %s", grpo_last_error());
    struct { const char *what, *message; grpo_sampling_config sc; int n_prompts, group, T, length0, token; } cases[16];
    int n = 0;
#define CASE(description, text, field, value, np, g, t, len, tok_) do { cases[n].what = description; cases[n].message = text; cases[n].sc = ok; cases[n].sc.field = value; \
        cases[n].n_prompts = np; cases[n].group = g; cases[n].T = t; cases[n].length0 = len; cases[n].token = tok_; n++; } while (0)
    CASE("prompt longer than the context allows", "exceeds context_length", seed, 0, 2, 4, 30, 28, 'x');
    CASE("empty prompt", "has length 0", seed, 0, 2, 4, 30, 0, 'x');
    CASE("G beyond the limit", "group_size = 5", seed, 0, 2, 5, 30, 3, 'x');
    CASE("too many prompts", "3 prompts", seed, 0, 3, 4, 30, 3, 'x');
    CASE("prompt wider than the context", "prompt width T = 40", seed, 0, 1, 4, 40, 3, 'x');
    CASE("max_new_tokens beyond the limit", "max_new_tokens = 9", max_new_tokens, 9, 2, 4, 30, 3, 'x');
    CASE("negative temperature", "temperature", temperature, -0.5f, 2, 4, 30, 3, 'x');
    CASE("NaN temperature", "temperature", temperature, NAN, 2, 4, 30, 3, 'x');
    CASE("top_p above 1", "top_p", top_p, 1.5f, 2, 4, 30, 3, 'x');
    CASE("negative top_p", "top_p", top_p, -0.1f, 2, 4, 30, 3, 'x');
    CASE("negative top_k", "top_k", top_k, -1, 2, 4, 30, 3, 'x');
    CASE("eos_id outside the vocabulary", "eos_id", eos_id, 300, 2, 4, 30, 3, 'x');
    CASE("stop strings without a tokenizer", "tokenizer", n_stop_strings, 1, 2, 4, 30, 3, 'x');
    CASE("more stop strings than the limit", "n_stop_strings = 65", n_stop_strings, GRPO_MAX_STOP_STRINGS + 1, 2, 4, 30, 3, 'x');
    CASE("prompt token outside the vocabulary", "outside the vocabulary", seed, 0, 2, 4, 30, 3, 400);
#undef CASE
    const char *stops[1] = {"x"};
    for (int i = 0; i < n; i++) {
        if (cases[i].sc.n_stop_strings) cases[i].sc.stop_strings = stops;
        int ls[3] = {cases[i].length0, 3, 3};
        prompts[1] = cases[i].token;
        grpo_result r = grpo_generate(&gen, &model, prompts, ls, cases[i].n_prompts, cases[i].T, cases[i].group, &cases[i].sc, &out);
        CHECK(r == GRPO_ERROR_INVALID_ARGUMENT, "%s: expected an invalid-argument error, got %s (%s)", cases[i].what, grpo_result_string(r), grpo_last_error());
        CHECK(strstr(grpo_last_error(), cases[i].message) != NULL, "%s: message \"%s\" should mention \"%s\"", cases[i].what, grpo_last_error(), cases[i].message);
    }
    prompts[1] = 'x';
    /* a generator for another model, and bad generator configs */
    grpo_config other = generation_config();
    other.n_layers = 1;
    grpo_model small;
    grpo_model_create(&small, &other, 1);
    CHECK(grpo_generate(&gen, &small, prompts, lengths, 2, 30, 4, &ok, &out) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "another config"), "generator of another model");
    grpo_generator bad;
    grpo_generator_config too_long = {1, 1, 32, 0};
    CHECK(grpo_generator_create(&bad, &model, &too_long) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "max_new_tokens"), "max_new_tokens must leave room for a prompt");
    grpo_generator_config negative = {-1, 1, 4, 0};
    CHECK(grpo_generator_create(&bad, &model, &negative) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "max_prompts"), "negative max_prompts");
    grpo_model_destroy(&small);
    grpo_generator_destroy(&gen);
    grpo_model_destroy(&model);
}

int main(void) {
    TEST(test_cache_matches_full_forward);
    TEST(test_lp_old_matches_forward);
    TEST(test_sampler_frequencies);
    TEST(test_seed_reproducibility);
    TEST(test_packed_weights);
    TEST(test_stops);
    TEST(test_stop_string_window);
    TEST(test_bad_requests);
    return test_finish("test_generate");
}
