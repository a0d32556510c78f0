/* Checkpoints: a round trip restores everything; every malformed file is refused with a
   message that says what is wrong, and a refused load changes nothing; saving is atomic. */
#define _POSIX_C_SOURCE 200809L /* fork, kill, nanosleep */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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
    grpo_checkpoint_state state = {12345, 0xDEADBEEFCAFEull, {99, 1000, 4321}};
    const char *path = path_in("round.ckpt");
    CHECK(grpo_checkpoint_save(path, &model, &opt, &state) == GRPO_SUCCESS, "save: %s", grpo_last_error());
    CHECK(access(path_in("round.ckpt.tmp"), F_OK) != 0, "no temporary file is left behind");
    size_t size;
    unsigned char *bytes = read_file(path, &size);
    CHECK(bytes && size == 120 + 3 * 4 * model.num_parameters + 4, "file size %zu matches the documented layout", size);
    free(bytes);

    grpo_model loaded;
    memset(&loaded, 0, sizeof loaded);
    grpo_adamw loaded_opt;
    memset(&loaded_opt, 0, sizeof loaded_opt);
    grpo_checkpoint_state loaded_state;
    memset(&loaded_state, 0, sizeof loaded_state);
    CHECK(grpo_checkpoint_load(path, &loaded, &loaded_opt, &loaded_state) == GRPO_SUCCESS, "load: %s", grpo_last_error());
    CHECK(memcmp(&loaded.config, &model.config, sizeof model.config) == 0, "config restored");
    CHECK(memcmp(loaded.params_memory, model.params_memory, model.num_parameters * 4) == 0, "weights restored bit for bit");
    CHECK(loaded_opt.m && memcmp(loaded_opt.m, opt.m, model.num_parameters * 4) == 0 && memcmp(loaded_opt.v, opt.v, model.num_parameters * 4) == 0, "AdamW moments restored");
    CHECK(loaded_opt.step == 2 && loaded_state.step == 12345 && loaded_state.rng_state == 0xDEADBEEFCAFEull, "step and RNG state restored");
    CHECK(loaded_state.data.seed == 99 && loaded_state.data.size == 1000 && loaded_state.data.position == 4321, "data order restored");
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
        {72, "rng_state"}, {80, "has_optimizer"}, {84, "optimizer_step"}, {92, "has_reference"}, {96, "data_seed"},
        {104, "data_size"}, {112, "data_position"}, {120, NULL}};
    for (int i = 0; fields[i + 1].name || fields[i + 1].start == 120; i++)
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
    for (size_t cut = 0; cut < 120; cut++) {
        write_file(bad, bytes, cut);
        snprintf(what, sizeof what, "cut at byte %zu", cut);
        char expected[48];
        snprintf(expected, sizeof expected, "truncated in field '%s'", field_at(cut));
        expect_refused(bad, GRPO_ERROR_BAD_CHECKPOINT, expected, what);
    }
    /* cuts in the parameters, in the moments and just before the CRC */
    size_t cuts[] = {120, 121, 120 + 4 * model.num_parameters, 120 + 8 * model.num_parameters + 1, size - 4, size - 1};
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
    uint32_t version = 3, has_optimizer = 7, has_reference = 5;
    uint64_t position = 17;
    int32_t heads = 3, negative = -16, zero = 0;
    uint64_t count = model.num_parameters + 1;
    float flipped;
    patch_and_expect(bytes, size, 0, "GGUF\0\0\0\0", 8, "not a grpo.h checkpoint", "wrong magic");
    patch_and_expect(bytes, size, 8, &version, 4, "field 'version' is 3", "wrong version");
    patch_and_expect(bytes, size, 92, &has_reference, 4, "field 'has_reference' is 5", "bad reference flag");
    patch_and_expect(bytes, size, 112, &position, 8, "field 'data_position' is 17", "a data position without a dataset");
    patch_and_expect(bytes, size, 28, &heads, 4, "not divisible", "n_heads that does not divide d_model");
    patch_and_expect(bytes, size, 20, &negative, 4, "field 'd_model' is -16", "negative d_model");
    patch_and_expect(bytes, size, 36, &zero, 4, "field 'd_ff' is 0", "zero d_ff");
    patch_and_expect(bytes, size, 56, &count, 8, "field 'num_parameters'", "wrong parameter count");
    patch_and_expect(bytes, size, 80, &has_optimizer, 4, "field 'has_optimizer' is 7", "bad flag");
    memcpy(&flipped, bytes + 128, 4);
    flipped = -flipped + 1.0f;
    patch_and_expect(bytes, size, 128, &flipped, 4, "CRC-32 mismatch", "a corrupted weight");
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


/* tests/data/checkpoint_v1.ckpt was written by the version 1 writer (grpo.h of commit 72cb354)
   from small_config(), seed 77, m[i] = i * 1e-3 - 0.5, v[i] = i * 1e-4, AdamW step 5 and state
   {12345, 0xDEADBEEFCAFE}. Version 2 must read it exactly, and write it back as version 2. */
static void test_version_1_file(void) {
    grpo_model loaded, expected;
    memset(&loaded, 0, sizeof loaded);
    grpo_adamw opt;
    memset(&opt, 0, sizeof opt);
    grpo_checkpoint_state state;
    memset(&state, 0xAB, sizeof state);
    grpo_result r = grpo_checkpoint_load("tests/data/checkpoint_v1.ckpt", &loaded, &opt, &state);
    CHECK(r == GRPO_SUCCESS, "a version 1 file loads: %s", grpo_last_error());
    if (r) return;
    grpo_config config = small_config();
    grpo_model_create(&expected, &config, 77);
    CHECK(memcmp(&loaded.config, &expected.config, sizeof config) == 0, "config");
    CHECK(memcmp(loaded.params_memory, expected.params_memory, expected.num_parameters * 4) == 0, "weights bit for bit");
    int moments_ok = 1;
    for (size_t i = 0; i < expected.num_parameters; i++)
        moments_ok &= opt.m[i] == (float)i * 1e-3f - 0.5f && opt.v[i] == (float)i * 1e-4f;
    CHECK(moments_ok && opt.step == 5, "AdamW moments and step");
    CHECK(state.step == 12345 && state.rng_state == 0xDEADBEEFCAFEull, "step and RNG state");
    CHECK(state.data.seed == 0 && state.data.size == 0 && state.data.position == 0, "a version 1 file has no data order");
    /* written back, it is version 2, and reads the same */
    const char *path = path_in("upgraded.ckpt");
    CHECK(grpo_checkpoint_save(path, &loaded, &opt, &state) == GRPO_SUCCESS, "save: %s", grpo_last_error());
    size_t size;
    unsigned char *bytes = read_file(path, &size);
    uint32_t version = 0;
    if (bytes) memcpy(&version, bytes + 8, 4);
    CHECK(version == 2 && size == 120 + 12 * expected.num_parameters + 4, "written as version 2 (%u, %zu bytes)", version, size);
    free(bytes);
    grpo_model again;
    memset(&again, 0, sizeof again);
    CHECK(grpo_checkpoint_load(path, &again, NULL, NULL) == GRPO_SUCCESS && memcmp(again.params_memory, expected.params_memory, expected.num_parameters * 4) == 0,
          "the upgraded file reads the same weights");
    grpo_model_destroy(&again);
    grpo_model_destroy(&expected);
    grpo_model_destroy(&loaded);
    grpo_adamw_destroy(&opt);
}

/* Rewrites the CRC of a patched file so that only the value checks can refuse it. */
static void fix_crc(unsigned char *bytes, size_t size) {
    uint32_t crc = grpo__crc32(0, bytes, size - 4);
    memcpy(bytes + size - 4, &crc, 4);
}

/* NaN or Inf never goes into a checkpoint, and a file holding one (with a good CRC) is refused
   with the element named. */
static void test_non_finite_values(void) {
    grpo_model model;
    grpo_adamw opt;
    trained(&model, &opt);
    const char *path = path_in("finite.ckpt");
    CHECK(grpo_checkpoint_save(path, &model, &opt, NULL) == GRPO_SUCCESS, "save");
    size_t size, size_after;
    unsigned char *bytes = read_file(path, &size);
    /* saving a NaN weight or an Inf moment is refused and the previous file stays */
    size_t wk = model.tensors[GRPO_TENSOR_WK].offset + 1 * 8 * 16 + 2 * 16 + 5; /* wk[1][2][5]: (L, KVH*D = 8, C = 16) */
    float kept = model.params_memory[wk];
    model.params_memory[wk] = NAN;
    grpo_result r = grpo_checkpoint_save(path, &model, &opt, NULL);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "weight wk[1][2][5] is nan"), "a NaN weight is not saved: %s", grpo_last_error());
    model.params_memory[wk] = kept;
    opt.v[3] = INFINITY;
    r = grpo_checkpoint_save(path, &model, &opt, NULL);
    CHECK(r == GRPO_ERROR_NON_FINITE && strstr(grpo_last_error(), "AdamW v of token_embedding[0][3] is inf"), "an Inf moment is not saved: %s", grpo_last_error());
    opt.v[3] = 0.0f;
    grpo_checkpoint_state odd = {1, 2, {3, 0, 5}};
    r = grpo_checkpoint_save(path, &model, &opt, &odd);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "dataset of 0 examples"), "a data position without a dataset is not saved: %s", grpo_last_error());
    unsigned char *after = read_file(path, &size_after);
    CHECK(after && size_after == size && memcmp(after, bytes, size) == 0, "the previous checkpoint is untouched");
    free(after);
    /* files with a good CRC but bad values */
    size_t P = model.num_parameters, at_wk = 120 + 4 * wk, at_v = 120 + 4 * P + 4 * P + 4 * 7, at_m = 120 + 4 * P + 4 * 2;
    const struct { size_t offset; float value; const char *message; } cases[] = {
        {at_wk, NAN, "parameter wk[1][2][5] is nan"}, {at_wk, -INFINITY, "parameter wk[1][2][5] is -inf"},
        {at_m, INFINITY, "AdamW m of token_embedding[0][2] is inf"}, {at_v, -1.0f, "AdamW v of token_embedding[0][7] is -1, expected >= 0"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *copy = (unsigned char *)malloc(size);
        memcpy(copy, bytes, size);
        memcpy(copy + cases[i].offset, &cases[i].value, 4);
        fix_crc(copy, size);
        write_file(path_in("bad-value.ckpt"), copy, size);
        expect_refused(path_in("bad-value.ckpt"), GRPO_ERROR_BAD_CHECKPOINT, cases[i].message, cases[i].message);
        free(copy);
    }
    free(bytes);
    grpo_adamw_destroy(&opt);
    grpo_model_destroy(&model);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A process killed (SIGKILL) at any moment while saving leaves the previous checkpoint intact
   and loadable. A child saves a 3.6 MB checkpoint in a loop, each with its iteration in `step`
   (and in the first weight). Each time, the parent waits until the child has started writing
   (the temporary file appears), then kills it after a random delay of up to two save times, so
   that kills land in every part of a save whatever the speed of the machine (valgrind too);
   the file must then load, with a step the child reached. */
static void test_killed_while_saving(void) {
    grpo_config config = small_config();
    config.d_model = 96; config.n_heads = 4; config.n_kv_heads = 4; config.d_ff = 192; config.n_layers = 3; config.vocab_size = 259;
    grpo_model model;
    grpo_adamw opt;
    grpo_model_create(&model, &config, 3);
    grpo_adamw_create(&opt, &model, NULL);
    const char *path = path_in("killed.ckpt"), *temporary = path_in("killed.ckpt.tmp");
    grpo_checkpoint_state state;
    memset(&state, 0, sizeof state);
    model.params_memory[0] = 0.0f; /* = the step of the checkpoint */
    double start = seconds_now();
    CHECK(grpo_checkpoint_save(path, &model, &opt, &state) == GRPO_SUCCESS, "first save: %s", grpo_last_error());
    double save_seconds = seconds_now() - start;
    /* Instrumented builds: fewer kills. Past that count, killing goes on (up to 20 times it)
       until kills have landed both inside and after a save: with random delays, 8 kills all
       landing before the first save completes is rare but happens, and the test must not
       depend on luck either way. */
    int kills = getenv("GRPO_TEST_QUICK") ? 8 : 60, mid_write = 0, loaded_ok = 0, k = 0;
    uint64_t last_step = 0;
    srand((unsigned)time(NULL));
    for (; k < kills || ((mid_write == 0 || last_step == 0) && k < 20 * kills); k++) {
        remove(temporary); /* what an earlier kill left; a save overwrites it anyway */
        pid_t child = fork();
        if (child == 0) {
            grpo_checkpoint_state s = {last_step, 0, {0, 0, 0}};
            for (;;) {
                s.step++;
                model.params_memory[0] = (float)s.step; /* the weights change with each save */
                if (grpo_checkpoint_save(path, &model, &opt, &s) != GRPO_SUCCESS) _exit(3);
            }
        }
        for (double wait = seconds_now(); access(temporary, F_OK) != 0 && seconds_now() - wait < 30.0;) {
            struct timespec poll = {0, 100000};
            nanosleep(&poll, NULL);
        }
        double delay = 2.0 * save_seconds * (double)rand() / RAND_MAX;
        struct timespec pause = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        int status;
        waitpid(child, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was killed, not failed (status %d)", status);
        mid_write += access(temporary, F_OK) == 0;
        grpo_model loaded;
        memset(&loaded, 0, sizeof loaded);
        grpo_adamw loaded_opt;
        memset(&loaded_opt, 0, sizeof loaded_opt);
        grpo_checkpoint_state got;
        memset(&got, 0, sizeof got);
        grpo_result r = grpo_checkpoint_load(path, &loaded, &loaded_opt, &got);
        CHECK(r == GRPO_SUCCESS, "kill %d: the checkpoint must load: %s", k, grpo_last_error());
        if (r == GRPO_SUCCESS) {
            loaded_ok++;
            CHECK(got.step >= last_step && loaded.params_memory[0] == (float)got.step, "kill %d: step %llu (previous %llu) and its weights",
                  k, (unsigned long long)got.step, (unsigned long long)last_step);
            last_step = got.step;
        }
        grpo_model_destroy(&loaded);
        grpo_adamw_destroy(&loaded_opt);
    }
    printf("    %d kills (a save takes %.0f ms), %d of them while the temporary file was being written; %d loads good; %llu checkpoints completed\n",
           k, 1e3 * save_seconds, mid_write, loaded_ok, (unsigned long long)last_step);
    CHECK(mid_write > 0 && last_step > 0, "kills must land both inside and after saves, or the test proves nothing");
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
    TEST(test_version_1_file);
    TEST(test_non_finite_values);
    TEST(test_killed_while_saving);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    if (system(command) != 0) printf("  (could not remove %s)\n", directory);
    return test_finish("test_checkpoint");
}
