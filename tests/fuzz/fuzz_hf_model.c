/* libFuzzer target for grpo_hf_model_load on a whole model directory: config.json with
   model.safetensors, or config.json with model.safetensors.index.json and two shards. fuzz_json
   covers each file's parser alone; this covers what joins them: the index's weight map and its
   shard files, tensor names mapped to the tensor table, shapes against the config, tied and
   untied heads, missing, duplicated and unknown tensors, context_length against
   max_position_embeddings.

   Input: a mode byte; a 16-bit little-endian length and that many bytes of config.json; then
   mode bit 0 clear: the rest is model.safetensors; set: a 16-bit length and the index, a 16-bit
   length and the first shard, the rest the second shard. Mode bit 1 sets
   options.context_length = 16 (else 0: config.json's max_position_embeddings). The memory cap is
   64 MiB, as a program loading models from outside should set one.

   Invariants (a violation traps): success, or an error with a message and the model left
   zeroed; a loaded model has a valid config and finite weights, and saved with
   grpo_hf_model_save and loaded again it has the same config and weights.
   Seeds: tests/fuzz/corpus/hf_model/ (made by tests/fuzz/make_hf_model_seeds.py). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char directory[64], resaved[80];

static void fz_write(const char *name, const uint8_t *bytes, size_t size) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(size == 0 || fwrite(bytes, 1, size, f) == size);
    fclose(f);
}

static void fz_remove(const char *name) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    remove(path);
}

/* The next length-prefixed part of the input (16-bit little-endian length), or the rest. */
static const uint8_t *fz_part(const uint8_t **at, const uint8_t *end, int prefixed, size_t *size) {
    const uint8_t *p = *at;
    size_t n = (size_t)(end - p);
    if (prefixed) {
        if (n < 2) { *size = 0; *at = end; return p; }
        size_t want = (size_t)p[0] | (size_t)p[1] << 8;
        p += 2;
        n -= 2;
        if (want < n) n = want;
    }
    *size = n;
    *at = p + n;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!directory[0]) {
        snprintf(directory, sizeof directory, "/tmp/fuzz-hf-model-%d", (int)getpid());
        snprintf(resaved, sizeof resaved, "%s-resaved", directory);
        mkdir(directory, 0700);
        grpo_set_memory_limit((size_t)64 << 20);
    }
    if (size == 0) return 0;
    int mode = data[0];
    const uint8_t *at = data + 1, *end = data + size;
    size_t n;
    const uint8_t *config = fz_part(&at, end, 1, &n);
    fz_write("config.json", config, n);
    if (mode & 1) {
        fz_remove("model.safetensors");
        const uint8_t *index = fz_part(&at, end, 1, &n);
        fz_write("model.safetensors.index.json", index, n);
        const uint8_t *first = fz_part(&at, end, 1, &n);
        fz_write("model-00001-of-00002.safetensors", first, n);
        const uint8_t *second = fz_part(&at, end, 0, &n);
        fz_write("model-00002-of-00002.safetensors", second, n);
    } else {
        fz_remove("model.safetensors.index.json");
        const uint8_t *weights = fz_part(&at, end, 0, &n);
        fz_write("model.safetensors", weights, n);
    }
    grpo_hf_options options;
    memset(&options, 0, sizeof options);
    if (mode & 2) options.context_length = 16;
    grpo_model model;
    grpo_hf_info info;
    grpo__error_message[0] = '\0';
    grpo_result r = grpo_hf_model_load(&model, directory, &options, &info);
    if (r != GRPO_SUCCESS) {
        REQUIRE(strcmp(grpo_result_string(r), "unknown result") != 0 && grpo_last_error()[0] != '\0');
        static const grpo_model empty;
        REQUIRE(memcmp(&model, &empty, sizeof model) == 0);
        return 0;
    }
    REQUIRE(grpo_config_validate(&model.config) == GRPO_SUCCESS);
    for (size_t i = 0; i < model.num_parameters; i++) REQUIRE(isfinite(model.params_memory[i]));
    REQUIRE(grpo_hf_model_save(resaved, &model, &info) == GRPO_SUCCESS);
    grpo_model again;
    grpo_hf_options same;
    memset(&same, 0, sizeof same);
    same.context_length = model.config.context_length;
    REQUIRE(grpo_hf_model_load(&again, resaved, &same, NULL) == GRPO_SUCCESS);
    REQUIRE(memcmp(&again.config, &model.config, sizeof model.config) == 0);
    REQUIRE(memcmp(again.params_memory, model.params_memory, model.num_parameters * sizeof(float)) == 0);
    grpo_model_destroy(&again);
    grpo_model_destroy(&model);
    return 0;
}
