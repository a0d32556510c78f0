/* Checkpoints: a round trip restores everything; every malformed file is refused with a
   message that says what is wrong, and a refused load changes nothing; saving is atomic. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include <sys/stat.h>
#include <unistd.h>

static char directory[256];
static char *path_in(const char *name) {
    static char paths[8][320];
    static int next = 0;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", directory, name);
    return p;
}

static grpo_config small_config(void) {
    grpo_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 31; c.context_length = 8; c.d_model = 16; c.n_layers = 2; c.n_heads = 4; c.n_kv_heads = 2;
    c.d_ff = 24; c.qkv_bias = 1; c.untied_head = 1; c.rope_theta = 1e6f; c.norm_eps = 1e-6f;
    return c;
}

/* A model and optimizer after two training steps, so that m, v and step are not trivial. */
static void trained(grpo_model *model, grpo_adamw *opt) {
    grpo_config config = small_config();
    grpo_model_create(model, &config, 77);
    grpo_adamw_config oc;
    memset(&oc, 0, sizeof oc);
    oc.learning_rate = 1e-2f;
    grpo_adamw_create(opt, model, &oc);
    int tokens[6] = {1, 5, 9, 2, 30, 4};
    float lp[6], d[6];
    for (int s = 0; s < 2; s++) {
        grpo_model_forward(model, tokens, tokens + 1, NULL, 1, 5, 1.0f, lp, NULL);
        grpo_sft_loss(lp, NULL, 1, 5, d);
        grpo_model_zero_grad(model);
        grpo_model_backward(model, d);
        grpo_adamw_step(opt, model, NULL, NULL);
    }
}

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = (unsigned char *)malloc(*size ? *size : 1);
    if (fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    fclose(f);
    return data;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, size, f);
    fclose(f);
}

static void test_round_trip(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    grpo_checkpoint_state state = {12345, 0xDEADBEEFCAFEull};
    const char *path = path_in("round.ckpt");
    CHECK(grpo_checkpoint_save(path, &model, &opt, &state) == GRPO_SUCCESS, "save: %s", grpo_last_error());
    CHECK(access(path_in("round.ckpt.tmp"), F_OK) != 0, "no temporary file is left behind");
    size_t size;
    unsigned char *bytes = read_file(path, &size);
    CHECK(bytes && size == 92 + 3 * 4 * model.num_parameters + 4, "file size %zu matches the documented layout", size);
    free(bytes);

    grpo_model loaded;
    memset(&loaded, 0, sizeof loaded);
    grpo_adamw loaded_opt;
    memset(&loaded_opt, 0, sizeof loaded_opt);
    grpo_checkpoint_state loaded_state = {0, 0};
    CHECK(grpo_checkpoint_load(path, &loaded, &loaded_opt, &loaded_state) == GRPO_SUCCESS, "load: %s", grpo_last_error());
    CHECK(memcmp(&loaded.config, &model.config, sizeof model.config) == 0, "config restored");
    CHECK(memcmp(loaded.params_memory, model.params_memory, model.num_parameters * 4) == 0, "weights restored bit for bit");
    CHECK(loaded_opt.m && memcmp(loaded_opt.m, opt.m, model.num_parameters * 4) == 0 && memcmp(loaded_opt.v, opt.v, model.num_parameters * 4) == 0, "AdamW moments restored");
    CHECK(loaded_opt.step == 2 && loaded_state.step == 12345 && loaded_state.rng_state == 0xDEADBEEFCAFEull, "step and RNG state restored");
    /* the restored model computes the same thing */
    int tokens[4] = {3, 1, 4, 1};
    float a[4], b[4];
    grpo_model_forward(&model, tokens, tokens, NULL, 1, 4, 1.0f, a, NULL);
    grpo_model_forward(&loaded, tokens, tokens, NULL, 1, 4, 1.0f, b, NULL);
    CHECK(memcmp(a, b, sizeof a) == 0, "same log-probs");
    /* and into an existing model of the same config, without optimizer state requested */
    grpo_model existing;
    grpo_config config = small_config();
    grpo_model_create(&existing, &config, 1);
    CHECK(grpo_checkpoint_load(path, &existing, NULL, NULL) == GRPO_SUCCESS, "load into an existing model: %s", grpo_last_error());
    CHECK(memcmp(existing.params_memory, model.params_memory, model.num_parameters * 4) == 0, "weights restored into the existing model");
    /* a weights-only checkpoint */
    const char *weights_only = path_in("weights.ckpt");
    CHECK(grpo_checkpoint_save(weights_only, &model, NULL, NULL) == GRPO_SUCCESS, "save weights only");
    grpo_adamw wanted;
    grpo_adamw_create(&wanted, &existing, NULL);
    CHECK(grpo_checkpoint_load(weights_only, &existing, &wanted, NULL) == GRPO_ERROR_BAD_CHECKPOINT && strstr(grpo_last_error(), "no optimizer state"),
          "asking for optimizer state a file lacks is an error: %s", grpo_last_error());
    grpo_adamw_destroy(&wanted);
    grpo_model_destroy(&existing);
    grpo_model_destroy(&loaded);
    grpo_adamw_destroy(&loaded_opt);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* The documented header: the field that covers each byte offset. */
static const char *field_at(size_t offset) {
    static const struct { size_t start; const char *name; } fields[] = {
        {0, "magic"}, {8, "version"}, {12, "vocab_size"}, {16, "context_length"}, {20, "d_model"},
        {24, "n_layers"}, {28, "n_heads"}, {32, "n_kv_heads"}, {36, "d_ff"}, {40, "rope_theta"},
        {44, "norm_eps"}, {48, "qkv_bias"}, {52, "untied_head"}, {56, "num_parameters"}, {64, "step"},
        {72, "rng_state"}, {80, "has_optimizer"}, {84, "optimizer_step"}, {92, NULL}};
    for (int i = 0; fields[i + 1].name || fields[i + 1].start == 92; i++)
        if (offset < fields[i + 1].start) return fields[i].name;
    return NULL;
}

/* A load that fails must leave a fresh model empty. */
static void expect_refused(const char *path, grpo_result expected, const char *in_message, const char *what) {
    grpo_model model;
    memset(&model, 0, sizeof model);
    grpo_adamw opt;
    memset(&opt, 0, sizeof opt);
    grpo_result r = grpo_checkpoint_load(path, &model, &opt, NULL);
    CHECK(r == expected, "%s: expected %s, got %s (%s)", what, grpo_result_string(expected), grpo_result_string(r), grpo_last_error());
    CHECK(!in_message || strstr(grpo_last_error(), in_message), "%s: message \"%s\" should mention \"%s\"", what, grpo_last_error(), in_message);
    CHECK(model.params_memory == NULL && opt.m == NULL, "%s: a refused load must allocate nothing", what);
    grpo_model_destroy(&model);
    grpo_adamw_destroy(&opt);
}

static void test_truncated_at_every_field(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    const char *good = path_in("good.ckpt"), *bad = path_in("truncated.ckpt");
    grpo_checkpoint_save(good, &model, &opt, NULL);
    size_t size;
    unsigned char *bytes = read_file(good, &size);
    char what[64];
    /* every cut inside the header names the field it falls in */
    for (size_t cut = 0; cut < 92; cut++) {
        write_file(bad, bytes, cut);
        snprintf(what, sizeof what, "cut at byte %zu", cut);
        char expected[48];
        snprintf(expected, sizeof expected, "truncated in field '%s'", field_at(cut));
        expect_refused(bad, GRPO_ERROR_BAD_CHECKPOINT, expected, what);
    }
    /* cuts in the parameters, in the moments and just before the CRC */
    size_t cuts[] = {92, 93, 92 + 4 * model.num_parameters, 92 + 8 * model.num_parameters + 1, size - 4, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(bad, bytes, cuts[i]);
        snprintf(what, sizeof what, "cut at byte %zu of %zu", cuts[i], size);
        expect_refused(bad, GRPO_ERROR_BAD_CHECKPOINT, "truncated", what);
    }
    free(bytes);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

static void patch_and_expect(const unsigned char *bytes, size_t size, size_t offset, const void *value, size_t len,
                             const char *in_message, const char *what) {
    unsigned char *copy = (unsigned char *)malloc(size);
    memcpy(copy, bytes, size);
    memcpy(copy + offset, value, len);
    const char *bad = path_in("patched.ckpt");
    write_file(bad, copy, size);
    expect_refused(bad, GRPO_ERROR_BAD_CHECKPOINT, in_message, what);
    free(copy);
}

static void test_malformed_files(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    const char *good = path_in("good2.ckpt");
    grpo_checkpoint_save(good, &model, &opt, NULL);
    size_t size;
    unsigned char *bytes = read_file(good, &size);
    uint32_t version = 2, has_optimizer = 7;
    int32_t heads = 3, negative = -16, zero = 0;
    uint64_t count = model.num_parameters + 1;
    float flipped;
    patch_and_expect(bytes, size, 0, "GGUF\0\0\0\0", 8, "not a grpo.h checkpoint", "wrong magic");
    patch_and_expect(bytes, size, 8, &version, 4, "field 'version' is 2", "wrong version");
    patch_and_expect(bytes, size, 28, &heads, 4, "not divisible", "n_heads that does not divide d_model");
    patch_and_expect(bytes, size, 20, &negative, 4, "field 'd_model' is -16", "negative d_model");
    patch_and_expect(bytes, size, 36, &zero, 4, "field 'd_ff' is 0", "zero d_ff");
    patch_and_expect(bytes, size, 56, &count, 8, "field 'num_parameters'", "wrong parameter count");
    patch_and_expect(bytes, size, 80, &has_optimizer, 4, "field 'has_optimizer' is 7", "bad flag");
    memcpy(&flipped, bytes + 100, 4);
    flipped = -flipped + 1.0f;
    patch_and_expect(bytes, size, 100, &flipped, 4, "CRC-32 mismatch", "a corrupted weight");
    unsigned char flip = bytes[size - 10] ^ 0x01;
    patch_and_expect(bytes, size, size - 10, &flip, 1, "CRC-32 mismatch", "a corrupted moment");
    /* trailing bytes */
    unsigned char *longer = (unsigned char *)malloc(size + 3);
    memcpy(longer, bytes, size);
    memset(longer + size, 0, 3);
    write_file(path_in("long.ckpt"), longer, size + 3);
    expect_refused(path_in("long.ckpt"), GRPO_ERROR_BAD_CHECKPOINT, "trailing bytes", "trailing bytes");
    free(longer);
    expect_refused(path_in("does-not-exist.ckpt"), GRPO_ERROR_IO, "cannot open", "missing file");
    free(bytes);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* A model whose config differs is refused and keeps its weights. */
static void test_mismatched_model(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    const char *path = path_in("mismatch.ckpt");
    grpo_checkpoint_save(path, &model, &opt, NULL);
    grpo_config other = small_config();
    other.n_layers = 3;
    grpo_model different;
    grpo_model_create(&different, &other, 5);
    float first = different.params_memory[0];
    CHECK(grpo_checkpoint_load(path, &different, NULL, NULL) == GRPO_ERROR_BAD_CHECKPOINT && strstr(grpo_last_error(), "does not match"),
          "mismatched config: %s", grpo_last_error());
    CHECK(different.params_memory[0] == first, "the model keeps its weights");
    grpo_model_destroy(&different);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

/* A failed save leaves the previous file as it was. */
static void test_atomic_save(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    const char *path = path_in("atomic.ckpt");
    CHECK(grpo_checkpoint_save(path, &model, NULL, NULL) == GRPO_SUCCESS, "first save");
    size_t size_before, size_after;
    unsigned char *before = read_file(path, &size_before);
    /* make the temporary path unwritable: a directory stands where the file would go */
    mkdir(path_in("atomic.ckpt.tmp"), 0700);
    model.params_memory[0] += 1.0f;
    CHECK(grpo_checkpoint_save(path, &model, &opt, NULL) == GRPO_ERROR_IO && strstr(grpo_last_error(), "atomic.ckpt.tmp"), "save fails: %s", grpo_last_error());
    unsigned char *after = read_file(path, &size_after);
    CHECK(before && after && size_before == size_after && memcmp(before, after, size_before) == 0, "the previous checkpoint is intact");
    rmdir(path_in("atomic.ckpt.tmp"));
    CHECK(grpo_checkpoint_save(path_in("no-such-dir/x.ckpt"), &model, NULL, NULL) == GRPO_ERROR_IO, "an unwritable directory is an I/O error");
    free(before);
    free(after);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

int main(void) {
    snprintf(directory, sizeof directory, "/tmp/grpo-test-checkpoint-%d", (int)getpid());
    mkdir(directory, 0700);
    TEST(test_round_trip);
    TEST(test_truncated_at_every_field);
    TEST(test_malformed_files);
    TEST(test_mismatched_model);
    TEST(test_atomic_save);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    if (system(command) != 0) printf("  (could not remove %s)\n", directory);
    return test_finish("test_checkpoint");
}
