/* Shared by the example programs (not part of grpo.h: command-line conveniences).
   load_model: a grpo.h checkpoint (with the byte tokenizer) or a Hugging Face model directory
   (with its tokenizer.json), whichever `path` is. copy_file: copies a file if it exists, e.g.
   a Hugging Face model's tokenizer files next to weights saved elsewhere. */
#ifndef GRPO_EXAMPLES_MODEL_FILES_H
#define GRPO_EXAMPLES_MODEL_FILES_H
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* 0 on success; else grpo_last_error() says why. *kind (may be NULL) names what was loaded. */
static int load_model(const char *path, int context, grpo_model *model, grpo_tokenizer *tokenizer, const char **kind) {
    struct stat st;
    memset(model, 0, sizeof *model);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        grpo_hf_options options = {0};
        options.context_length = context;
        if (grpo_hf_model_load(model, path, &options, NULL) != GRPO_SUCCESS) {
            options.context_length = 0; /* a model whose own context is shorter */
            if (grpo_hf_model_load(model, path, &options, NULL) != GRPO_SUCCESS) return 1;
        }
        if (kind) *kind = "Hugging Face";
        return grpo_hf_tokenizer_load(tokenizer, path, model->config.vocab_size) != GRPO_SUCCESS;
    }
    if (kind) *kind = "grpo.h checkpoint, byte-level";
    *tokenizer = grpo_byte_tokenizer();
    return grpo_checkpoint_load(path, model, NULL, NULL) != GRPO_SUCCESS;
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name) {
    char from[1024], to[1024], buffer[65536];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    size_t n;
    while (in && out && (n = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, n, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

#endif
