/* Writes the seed corpus of fuzz_checkpoint into the directory given (tests/fuzz/corpus/checkpoint):
   checkpoints of fuzz_checkpoint.c's tiny config, each prefixed with a mode byte (see there).
     gcc -std=c11 -I. tests/fuzz/make_checkpoint_seeds.c -o build/make_seeds -lm
     build/make_seeds tests/fuzz/corpus/checkpoint                                            */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = (unsigned char *)malloc(*size);
    if (fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    fclose(f);
    return data;
}

/* mode byte, then bytes */
static void seed(const char *directory, const char *name, int mode, const unsigned char *bytes, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fputc(mode, f);
    fwrite(bytes, 1, size, f);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]); return 2; }
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 8; c.context_length = 6; c.d_model = 4; c.n_layers = 1; c.n_heads = 2; c.n_kv_heads = 1;
    c.d_ff = 4; c.qkv_bias = 1; c.untied_head = 1;
    grpo_model model;
    grpo_adamw opt;
    if (grpo_model_create(&model, &c, 5) || grpo_adamw_create(&opt, &model, NULL)) { fprintf(stderr, "%s\n", grpo_last_error()); return 1; }
    for (size_t i = 0; i < model.num_parameters; i++) { opt.m[i] = 0.01f * (float)i - 1.0f; opt.v[i] = 1e-3f * (float)i; }
    opt.step = 9;
    grpo_checkpoint_state state = {4, 77, {3, 10, 25}};
    const char *tmp = "/tmp/make-checkpoint-seeds.ckpt";
    size_t size;
    unsigned char *bytes;
    /* version 2, weights only, and with optimizer state and a data order */
    grpo_checkpoint_save(tmp, &model, NULL, NULL);
    bytes = slurp(tmp, &size);
    seed(argv[1], "v2_weights_new_model", 2, bytes, size);
    free(bytes);
    grpo_checkpoint_save(tmp, &model, &opt, &state);
    bytes = slurp(tmp, &size);
    seed(argv[1], "v2_optimizer_new_model", 0, bytes, size);
    seed(argv[1], "v2_optimizer_existing_model_fix_crc", 5, bytes, size);
    /* version 1: the same file without the version 2 fields (bytes 92 to 119) */
    unsigned char *v1 = (unsigned char *)malloc(size - 28);
    memcpy(v1, bytes, 92);
    memcpy(v1 + 92, bytes + 120, size - 120);
    uint32_t one = 1, crc;
    memcpy(v1 + 8, &one, 4);
    crc = grpo__crc32(0, v1, size - 28 - 4);
    memcpy(v1 + size - 28 - 4, &crc, 4);
    seed(argv[1], "v1_optimizer_new_model", 0, v1, size - 28);
    free(v1);
    free(bytes);
    /* a trainer checkpoint: a reference model (different weights) after the moments */
    grpo_model reference;
    grpo_model_create(&reference, &c, 6);
    grpo_checkpoint_save(tmp, &model, &opt, &state);
    bytes = slurp(tmp, &size);
    size_t P = model.num_parameters, with_reference = size + 4 * P;
    unsigned char *t = (unsigned char *)malloc(with_reference);
    memcpy(t, bytes, size - 4);
    memcpy(t + size - 4, reference.params_memory, 4 * P);
    uint32_t has_reference = 1;
    memcpy(t + 92, &has_reference, 4);
    crc = grpo__crc32(0, t, with_reference - 4);
    memcpy(t + with_reference - 4, &crc, 4);
    seed(argv[1], "v2_trainer", 6, t, with_reference);
    seed(argv[1], "v2_trainer_new_model_fix_crc", 1, t, with_reference);
    free(t);
    free(bytes);
    remove(tmp);
    grpo_model_destroy(&reference);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
    printf("seeds written to %s\n", argv[1]);
    return 0;
}
