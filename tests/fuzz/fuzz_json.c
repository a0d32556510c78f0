/* libFuzzer target for the readers of Hugging Face files (grpo.h sections 2b, 3b, 14b).

   Input: one mode byte, then the bytes of a file. The mode byte % 4 picks the reader:
     0  grpo_json_parse               (JSON; the structure it returns is walked and checked)
     1  grpo_safetensors_parse        (a whole safetensors file; every tensor is read)
     2  grpo_hf_config_parse          (config.json; an accepted config must validate)
     3  grpo_bpe_tokenizer_parse      (tokenizer.json; an accepted tokenizer encodes and decodes)
   Whatever the input, a reader returns a result (never crashes, never reads out of bounds: the
   file is an exactly-sized heap copy) and, on failure, leaves a message.

   Build and run: tests/fuzz/run.sh fuzz_json 60
   Replay without libFuzzer: cc -fsanitize=address,undefined -I. tests/fuzz/replay.c
                             tests/fuzz/fuzz_json.c -lm -o replay && ./replay FILES... */
#define GRPO_IMPLEMENTATION
#include "grpo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Walks value i and its subtree; returns the index one past it. */
static uint32_t walk(const grpo_json *json, uint32_t i, int depth) {
    REQUIRE(i < json->n_values && depth <= GRPO_JSON_MAX_DEPTH + 1);
    const grpo_json_value *v = &json->values[i];
    REQUIRE(v->next > i && v->next <= json->n_values);
    if (v->type == GRPO_JSON_STRING) {
        REQUIRE((size_t)v->string + v->length < json->strings_size + 1);
        REQUIRE(json->strings[v->string + v->length] == '\0');
    }
    if (v->is_member) REQUIRE((size_t)v->key + v->key_length < json->strings_size + 1 && json->strings[v->key + v->key_length] == '\0');
    if (v->type == GRPO_JSON_NUMBER) REQUIRE(isfinite(v->number));
    if (v->type == GRPO_JSON_ARRAY || v->type == GRPO_JSON_OBJECT) {
        uint32_t child = i + 1;
        for (uint32_t k = 0; k < v->count; k++) {
            REQUIRE(json->values[child].is_member == (v->type == GRPO_JSON_OBJECT));
            child = walk(json, child, depth + 1);
        }
        REQUIRE(child == v->next);
    } else {
        REQUIRE(v->count == 0 && v->next == i + 1);
    }
    return v->next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int mode = data[0] % 4;
    size_t n = size - 1;
    char *file = (char *)malloc(n ? n : 1); /* exactly n bytes: no NUL after them */
    if (n) memcpy(file, data + 1, n);
    grpo__error_message[0] = '\0';
    grpo_result r;
    if (mode == 0) {
        grpo_json json;
        r = grpo_json_parse(&json, file, n, "fuzz.json");
        if (r == GRPO_SUCCESS) {
            REQUIRE(json.n_values >= 1 && walk(&json, 0, 0) == json.n_values);
        } else {
            REQUIRE(json.values == NULL && json.n_values == 0);
        }
        grpo_json_free(&json);
    } else if (mode == 1) {
        grpo_safetensors st;
        r = grpo_safetensors_parse(&st, file, n, "fuzz.safetensors");
        if (r == GRPO_SUCCESS) {
            uint64_t covered = 0;
            for (int i = 0; i < st.n_tensors; i++) {
                const grpo_safetensors_tensor *t = &st.tensors[i];
                REQUIRE(t->begin >= st.data_start && t->begin <= t->end && t->end <= n);
                REQUIRE(t->end - t->begin == t->count * (uint64_t)t->element_size);
                covered += t->end - t->begin;
                if (t->count <= (1u << 20)) {
                    float *out = (float *)malloc((size_t)(t->count ? t->count : 1) * sizeof(float));
                    grpo_result read = grpo_safetensors_read(&st, i, out);
                    REQUIRE(read == GRPO_SUCCESS || read == GRPO_ERROR_NON_FINITE || read == GRPO_ERROR_UNSUPPORTED);
                    free(out);
                }
            }
            REQUIRE(covered == n - st.data_start); /* the tensors tile the data */
        }
        grpo_safetensors_close(&st);
    } else if (mode == 2) {
        grpo_config config;
        grpo_hf_info info;
        grpo_hf_options options = {(int)(n % 64)};
        r = grpo_hf_config_parse(file, n, "config.json", n % 2 ? &options : NULL, &config, &info);
        if (r == GRPO_SUCCESS) {
            REQUIRE(grpo_config_validate(&config) == GRPO_SUCCESS);
            REQUIRE(strcmp(info.architecture, "LlamaForCausalLM") == 0 || strcmp(info.architecture, "Qwen2ForCausalLM") == 0);
            REQUIRE(config.qkv_bias == (strcmp(info.architecture, "Qwen2ForCausalLM") == 0));
        }
    } else {
        grpo_tokenizer tokenizer;
        r = grpo_bpe_tokenizer_parse(&tokenizer, file, n, "tokenizer.json");
        if (r == GRPO_SUCCESS) {
            const char *text = "Hello, world! 123 caf\xc3\xa9 e\xcc\x81 <|endoftext|>  \n\n 'll \xf0\x9f\x98\x80";
            int ids[256], count = 0;
            grpo_result e = tokenizer.encode(&tokenizer, text, strlen(text), ids, 256, &count);
            REQUIRE(e == GRPO_SUCCESS || (e == GRPO_ERROR_INVALID_ARGUMENT && count > 256));
            for (int i = 0; e == GRPO_SUCCESS && i < count; i++) REQUIRE(ids[i] >= 0 && ids[i] < tokenizer.vocab_size);
            char out[4096];
            size_t bytes = 0;
            if (e == GRPO_SUCCESS) {
                grpo_result d = tokenizer.decode(&tokenizer, ids, count, out, sizeof out, &bytes);
                REQUIRE(d == GRPO_SUCCESS || (d == GRPO_ERROR_INVALID_ARGUMENT && bytes + 1 > sizeof out));
            }
            grpo_tokenizer_destroy(&tokenizer);
        } else {
            REQUIRE(tokenizer.state == NULL);
        }
    }
    if (r != GRPO_SUCCESS) REQUIRE(grpo_last_error()[0] != '\0');
    free(file);
    return 0;
}
