/* quickstart: include grpo.h, train a tiny byte-level transformer on one sentence, save it.
   Build: make build/quickstart   Run: build/quickstart [checkpoint path] */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <string.h>

#define TRY(call) do { if ((call) != GRPO_SUCCESS) { fprintf(stderr, "error: %s\n", grpo_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: %s [checkpoint path, default quickstart.ckpt]\n"
               "Trains a 2-layer byte-level model to predict one sentence and saves a checkpoint.\n", argv[0]);
        return 0;
    }
    grpo_config config = {0};                  /* zero means default: byte vocabulary, RoPE 10000 */
    config.d_model = 64, config.n_layers = 2, config.n_heads = 4, config.n_kv_heads = 2;
    grpo_model model;
    TRY(grpo_model_create(&model, &config, 42));
    grpo_adamw optimizer;
    grpo_adamw_config adamw = {0};
    adamw.learning_rate = 3e-3f;
    TRY(grpo_adamw_create(&optimizer, &model, &adamw));

    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    const char *text = "<think>2 + 3 = 5</think> <answer>5</answer>";
    int ids[64], n;
    TRY(tokenizer.encode(&tokenizer, text, strlen(text), ids, 64, &n));
    float logprobs[64], dlogprobs[64], loss = 0.0f, first_loss = 0.0f;
    for (int step = 0; step < 60; step++) {
        /* inputs ids[0..n-2] predict targets ids[1..n-1] */
        TRY(grpo_model_forward(&model, ids, ids + 1, NULL, 1, n - 1, 1.0f, logprobs, NULL));
        loss = grpo_sft_loss(logprobs, NULL, 1, n - 1, dlogprobs);
        if (step == 0) first_loss = loss;
        grpo_model_zero_grad(&model);
        TRY(grpo_model_backward(&model, dlogprobs));
        TRY(grpo_adamw_step(&optimizer, &model, NULL, NULL));
        if (step % 10 == 0) printf("step %2d  loss %.3f\n", step, loss);
    }
    const char *path = argc > 1 ? argv[1] : "quickstart.ckpt";
    TRY(grpo_checkpoint_save(path, &model, &optimizer, NULL));
    printf("loss %.3f -> %.3f, saved %s (%zu parameters)\n", first_loss, loss, path, model.num_parameters);
    grpo_adamw_destroy(&optimizer);
    grpo_model_destroy(&model);
    return loss < 0.5f * first_loss ? 0 : 1;   /* non-zero if it did not learn */
}
