/* Hugging Face interoperability: the JSON reader, safetensors, config.json, saving, the BPE
   tokenizer (NFC, pre-tokenizer patterns, added tokens) and the ChatML text.

   build/.../test_hf               the checks that need nothing but this program: every malformed
                                   JSON / safetensors / config / tokenizer case is an error with a
                                   message, save -> load round trips, known tokenizations
   build/.../test_hf build/hf      also the cross-checks against transformers and tokenizers on the
                                   fixtures tests/hf_reference.py wrote there; it saves each model
                                   back (build/hf/saved/) for tests/hf_check_saved.py */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

#include <stdint.h>
#include <sys/stat.h>

static const char *fixtures = NULL;
#define SCRATCH "build/test_hf"

/* ------------------------------------------------------------------------------------------
   Helpers */

static int error_has(grpo_result r, grpo_result expected, const char *needle) {
    return r == expected && strstr(grpo_last_error(), needle) != NULL;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) { printf("cannot write %s\n", path); exit(2); }
    fwrite(data, 1, n, f);
    fclose(f);
}

static char *read_all(const char *path, size_t *n) {
    char *data;
    if (grpo__read_file(path, "test", (size_t)1 << 30, &data, n)) return NULL;
    return data;
}

/* A safetensors image built tensor by tensor; the header is written as given (so that it can be
   malformed on purpose) and the data appended. */
typedef struct { char header[65536]; size_t header_len; unsigned char data[1 << 20]; size_t data_len; } image;

static void image_begin(image *im) { im->header_len = 0; im->data_len = 0; im->header[im->header_len++] = '{'; }
static void image_tensor(image *im, const char *name, const char *dtype, int rank, const int64_t *shape, const void *data, size_t bytes) {
    if (im->header_len > 1) im->header[im->header_len++] = ',';
    im->header_len += (size_t)snprintf(im->header + im->header_len, sizeof im->header - im->header_len, "\"%s\":{\"dtype\":\"%s\",\"shape\":[", name, dtype);
    for (int d = 0; d < rank; d++)
        im->header_len += (size_t)snprintf(im->header + im->header_len, sizeof im->header - im->header_len, "%s%lld", d ? "," : "", (long long)shape[d]);
    im->header_len += (size_t)snprintf(im->header + im->header_len, sizeof im->header - im->header_len, "],\"data_offsets\":[%zu,%zu]}", im->data_len, im->data_len + bytes);
    if (bytes) memcpy(im->data + im->data_len, data, bytes);
    im->data_len += bytes;
}
/* the whole file: 8-byte length, header, data */
static unsigned char *image_end(image *im, size_t *size) {
    im->header[im->header_len++] = '}';
    unsigned char *file = (unsigned char *)malloc(8 + im->header_len + im->data_len);
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)im->header_len >> (8 * i));
    memcpy(file + 8, im->header, im->header_len);
    memcpy(file + 8 + im->header_len, im->data, im->data_len);
    *size = 8 + im->header_len + im->data_len;
    return file;
}
/* a file from a raw header text and data bytes */
static unsigned char *raw_file(const char *header, size_t data_len, size_t *size) {
    size_t h = strlen(header);
    unsigned char *file = (unsigned char *)calloc(8 + h + data_len + 1, 1);
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(file + 8, header, h);
    *size = 8 + h + data_len;
    return file;
}

static grpo_result parse_raw(const char *header, size_t data_len) {
    size_t size;
    unsigned char *file = raw_file(header, data_len, &size);
    grpo_safetensors st;
    grpo_result r = grpo_safetensors_parse(&st, file, size, "test.safetensors");
    grpo_safetensors_close(&st);
    free(file);
    return r;
}

/* ------------------------------------------------------------------------------------------
   JSON */

static grpo_result parse_json(const char *text) {
    grpo_json json;
    grpo_result r = grpo_json_parse(&json, text, strlen(text), "t.json");
    grpo_json_free(&json);
    return r;
}

static void test_json_values(void) {
    const char *text = "{\"a\": [1, -0, 2.5e3, -9223372036854775808, 9223372036854775808, true, false, null],\n"
                       " \"s\": \"caf\\u00e9 \\ud83d\\ude00 \\n\\t\\\"\\\\\\/ \\u0000x\", \"\": {}, \"e\": [], \"n\": {\"k\": {\"k\": [[]]}}}";
    grpo_json json;
    grpo_result r = grpo_json_parse(&json, text, strlen(text), "t.json");
    CHECK(r == GRPO_SUCCESS, "parse: %s", grpo_last_error());
    if (r) return;
    const grpo_json_value *root = json.values, *a = grpo_json_get(&json, root, "a");
    CHECK(root->type == GRPO_JSON_OBJECT && root->count == 5, "root has 5 members: %u", root->count);
    CHECK(a && a->type == GRPO_JSON_ARRAY && a->count == 8, "a has 8 elements");
    const grpo_json_value *v = grpo_json_first(&json, a);
    CHECK(v->is_integer && v->integer == 1 && v->number == 1.0, "1");
    v = grpo_json_next(&json, v);
    CHECK(v->is_integer && v->integer == 0, "-0");
    v = grpo_json_next(&json, v);
    CHECK(!v->is_integer && v->number == 2500.0, "2.5e3 = %g", v->number);
    v = grpo_json_next(&json, v);
    CHECK(v->is_integer && v->integer == INT64_MIN, "INT64_MIN");
    v = grpo_json_next(&json, v);
    CHECK(!v->is_integer && v->number == 9223372036854775808.0, "2^63 is a double, not an int64");
    v = grpo_json_next(&json, v);
    CHECK(v->type == GRPO_JSON_TRUE, "true");
    v = grpo_json_next(&json, v);
    CHECK(v->type == GRPO_JSON_FALSE && grpo_json_next(&json, v)->type == GRPO_JSON_NULL, "false, null");
    const grpo_json_value *s = grpo_json_get(&json, root, "s");
    const char *want = "caf\xc3\xa9 \xf0\x9f\x98\x80 \n\t\"\\/ \0x";
    CHECK(s && s->length == 19 && memcmp(grpo_json_string(&json, s), want, 19) == 0, "escapes decode (length %u)", s ? s->length : 0);
    CHECK(grpo_json_get(&json, root, "") && grpo_json_get(&json, root, "")->type == GRPO_JSON_OBJECT, "empty key");
    CHECK(grpo_json_get(&json, root, "missing") == NULL && grpo_json_get(&json, a, "x") == NULL, "absent members");
    const grpo_json_value *n = grpo_json_get(&json, root, "n");
    CHECK(n->next == json.n_values, "the last member's subtree ends the document");
    grpo_json_free(&json);
    /* depth: 64 levels are fine, 65 are not */
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        for (int i = 0; i < depth; i++) { deep[i] = '['; deep[2 * depth - 1 - i] = ']'; }
        deep[2 * depth] = 0;
        r = parse_json(deep);
        if (depth == 64) CHECK(r == GRPO_SUCCESS, "depth 64: %s", grpo_last_error());
        else CHECK(error_has(r, GRPO_ERROR_BAD_FILE, "nested deeper than 64"), "depth 65: %s", grpo_last_error());
    }
}

static void test_json_errors(void) {
    static const struct { const char *text, *message; } cases[] = {
        {"", "t.json:1:1: unexpected end of input"},
        {"  ", "unexpected end of input"},
        {"{\"a\": 1,}", "t.json:1:9: expected a string"},
        {"[1, 2,]", "expected a value"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\": 1 \"b\": 2}", "expected ',' or '}'"},
        {"{a: 1}", "expected a string"},
        {"{'a': 1}", "expected a string"},
        {"01", "leading zeros"},
        {"-", "expected a digit"},
        {"1.", "after the decimal point"},
        {"1e", "in the exponent"},
        {"1e999", "beyond the range of a double"},
        {"-1e400", "beyond the range of a double"},
        {"NaN", "unexpected character 'N'"},
        {"Infinity", "unexpected character 'I'"},
        {"\"abc", "unterminated string"},
        {"\"a\tb\"", "control character 0x09"},
        {"\"\\x\"", "unknown escape \\x"},
        {"\"\\u12G4\"", "4 hexadecimal digits"},
        {"\"\\ud800\"", "not followed by a low surrogate"},
        {"\"\\ud800\\u0041\"", "not followed by a low surrogate"},
        {"\"\\udc00\"", "lone low surrogate"},
        {"\"\xff\"", "invalid UTF-8"},
        {"\"\xc0\xaf\"", "invalid UTF-8"},          /* overlong '/' */
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},      /* a surrogate in UTF-8 */
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},  /* above U+10FFFF */
        {"\"\xe2\x82\"", "invalid UTF-8"},          /* truncated */
        {"\xef\xbb\xbf{}", "unexpected byte 0xef"}, /* byte-order mark */
        {"{} x", "unexpected text after the JSON value"},
        {"{}{}", "unexpected text after the JSON value"},
        {"// c\n{}", "unexpected character '/'"},
        {"{\"a\": 1, \"b\": 2, \"a\": 3}", "duplicate key \"a\""},
        {"tru", "unexpected character 't'"},
        {"{\"x\":\n  [1,\n   2,,3]}", "t.json:3:6: unexpected character ','; expected a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grpo_result r = parse_json(cases[i].text);
        CHECK(error_has(r, GRPO_ERROR_BAD_FILE, cases[i].message), "case %zu (%s): got \"%s\", wanted \"%s\"", i, cases[i].text, grpo_last_error(), cases[i].message);
    }
    /* a duplicate among many keys (the hashed path) */
    char big[20000];
    size_t at = 0;
    at += (size_t)sprintf(big + at, "{");
    for (int i = 0; i < 1000; i++) at += (size_t)sprintf(big + at, "\"k%d\": %d,", i, i);
    at += (size_t)sprintf(big + at, "\"k517\": 0}");
    CHECK(error_has(parse_json(big), GRPO_ERROR_BAD_FILE, "duplicate key \"k517\""), "hashed duplicate: %s", grpo_last_error());
    big[at - 9] = '9', big[at - 8] = '9', big[at - 7] = '9'; /* "k999" would still clash; make it unique */
    memcpy(big + at - 10, "\"x517\": 0}", 10);
    CHECK(parse_json(big) == GRPO_SUCCESS, "1001 distinct keys: %s", grpo_last_error());
    /* a NUL byte inside the text is an unexpected byte, not an end */
    grpo_json json;
    CHECK(error_has(grpo_json_parse(&json, "[1]\0", 4, "t.json"), GRPO_ERROR_BAD_FILE, "unexpected text"), "NUL after the value");
    CHECK(json.values == NULL, "a failed parse leaves nothing");
}

static void test_jsonl(void) {
    mkdir(SCRATCH, 0777);
    const char *good = "{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\r\n\n   \n[1,2]\n\"last line without newline\"";
    write_file(SCRATCH "/good.jsonl", good, strlen(good));
    grpo_jsonl_reader reader;
    CHECK(grpo_jsonl_open(&reader, SCRATCH "/good.jsonl") == GRPO_SUCCESS, "open");
    int done = 0, values = 0;
    size_t lines[3] = {0};
    while (grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && !done) {
        if (values < 3) lines[values] = reader.line;
        if (values == 0) CHECK(strcmp(grpo_json_string(&reader.json, grpo_json_get(&reader.json, reader.json.values, "answer")), "#### 2") == 0, "answer");
        values++;
    }
    CHECK(done && values == 3 && lines[0] == 1 && lines[1] == 4 && lines[2] == 5, "3 values on lines 1, 4, 5: %d values, lines %zu %zu %zu", values, lines[0], lines[1], lines[2]);
    grpo_jsonl_close(&reader);
    const char *bad = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,}\n";
    write_file(SCRATCH "/bad.jsonl", bad, strlen(bad));
    grpo_jsonl_open(&reader, SCRATCH "/bad.jsonl");
    grpo_result r = GRPO_SUCCESS;
    done = 0;
    while (!r && !done) r = grpo_jsonl_next(&reader, &done);
    CHECK(error_has(r, GRPO_ERROR_BAD_FILE, SCRATCH "/bad.jsonl:3:9: expected a string"), "line 3 is named: %s", grpo_last_error());
    grpo_jsonl_close(&reader);
    CHECK(error_has(grpo_jsonl_open(&reader, SCRATCH "/absent.jsonl"), GRPO_ERROR_IO, "absent.jsonl"), "a missing file is named");
}

/* ------------------------------------------------------------------------------------------
   safetensors */

static void test_safetensors_valid(void) {
    image *im = (image *)malloc(sizeof *im);
    float f32[6] = {1, -2, 3.5f, 0, 1e-3f, -1e30f};
    uint16_t f16[5] = {0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000}; /* 1, -2, 2^-24, 65504, -0 */
    uint16_t bf16[3] = {0x4049, 0xBF80, 0x0000};                /* 3.140625, -1, 0 */
    int64_t s6[2] = {2, 3}, s5[1] = {5}, s3[1] = {3}, s0[2] = {0, 4};
    image_begin(im);
    im->header_len += (size_t)sprintf(im->header + im->header_len, "\"__metadata__\":{\"format\":\"pt\"}");
    image_tensor(im, "a", "F32", 2, s6, f32, sizeof f32);
    image_tensor(im, "empty", "F32", 2, s0, NULL, 0);
    image_tensor(im, "h", "F16", 1, s5, f16, sizeof f16);
    image_tensor(im, "b", "BF16", 1, s3, bf16, sizeof bf16);
    size_t size;
    unsigned char *file = image_end(im, &size);
    grpo_safetensors st;
    grpo_result r = grpo_safetensors_parse(&st, file, size, "mem");
    CHECK(r == GRPO_SUCCESS, "parse: %s", grpo_last_error());
    if (!r) {
        CHECK(st.n_tensors == 4, "4 tensors: %d", st.n_tensors);
        float out[6];
        int i = grpo_safetensors_find(&st, "a");
        CHECK(i >= 0 && grpo_safetensors_read(&st, i, out) == GRPO_SUCCESS && memcmp(out, f32, sizeof f32) == 0, "F32 read");
        i = grpo_safetensors_find(&st, "h");
        CHECK(i >= 0 && grpo_safetensors_read(&st, i, out) == GRPO_SUCCESS && out[0] == 1.0f && out[1] == -2.0f &&
              out[2] == ldexpf(1.0f, -24) && out[3] == 65504.0f && out[4] == 0.0f && signbit(out[4]), "F16 read: %g %g %g %g", out[0], out[1], out[2], out[3]);
        i = grpo_safetensors_find(&st, "b");
        CHECK(i >= 0 && grpo_safetensors_read(&st, i, out) == GRPO_SUCCESS && out[0] == 3.140625f && out[1] == -1.0f && out[2] == 0.0f, "BF16 read");
        CHECK(grpo_safetensors_find(&st, "nope") == -1, "find absent");
    }
    grpo_safetensors_close(&st);
    /* the same image from a file */
    mkdir(SCRATCH, 0777);
    write_file(SCRATCH "/ok.safetensors", file, size);
    r = grpo_safetensors_open(&st, SCRATCH "/ok.safetensors");
    float out[6];
    CHECK(r == GRPO_SUCCESS && grpo_safetensors_read(&st, grpo_safetensors_find(&st, "a"), out) == GRPO_SUCCESS && memcmp(out, f32, sizeof f32) == 0,
          "open from a file: %s", grpo_last_error());
    grpo_safetensors_close(&st);
    /* every truncation of the file is refused, with no crash */
    int refused = 0;
    for (size_t n = 0; n < size; n++) {
        r = grpo_safetensors_parse(&st, file, n, "mem");
        refused += r == GRPO_ERROR_BAD_FILE;
        grpo_safetensors_close(&st);
    }
    CHECK(refused == (int)size, "every truncation refused: %d of %zu", refused, size);
    /* non-finite values are refused on read, naming the element */
    uint32_t nan_bits = 0x7FC00000u;
    memcpy(&f32[4], &nan_bits, 4);
    image_begin(im);
    image_tensor(im, "bad", "F32", 2, s6, f32, sizeof f32);
    free(file);
    file = image_end(im, &size);
    grpo_safetensors_parse(&st, file, size, "mem");
    CHECK(error_has(grpo_safetensors_read(&st, 0, out), GRPO_ERROR_NON_FINITE, "tensor 'bad' element 4"), "NaN: %s", grpo_last_error());
    grpo_safetensors_close(&st);
    uint16_t inf16[1] = {0x7C00};
    int64_t s1[1] = {1};
    image_begin(im);
    image_tensor(im, "inf", "F16", 1, s1, inf16, 2);
    free(file);
    file = image_end(im, &size);
    grpo_safetensors_parse(&st, file, size, "mem");
    CHECK(error_has(grpo_safetensors_read(&st, 0, out), GRPO_ERROR_NON_FINITE, "element 0"), "F16 Inf: %s", grpo_last_error());
    grpo_safetensors_close(&st);
    image_begin(im);
    image_tensor(im, "ints", "I64", 1, s1, f32, 8);
    free(file);
    file = image_end(im, &size);
    grpo_safetensors_parse(&st, file, size, "mem");
    CHECK(error_has(grpo_safetensors_read(&st, 0, out), GRPO_ERROR_UNSUPPORTED, "dtype I64"), "I64: %s", grpo_last_error());
    grpo_safetensors_close(&st);
    free(file);
    free(im);
}

static void test_safetensors_malformed(void) {
    static const struct { const char *header; size_t data; const char *message; } cases[] = {
        {"[]", 0, "not a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "expected ',' or '}'"},
        {"{\"a\":5}", 0, "tensor 'a' is not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "exactly the fields dtype, shape and data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "exactly the fields"},
        {"{\"a\":{\"dtype\":\"F99\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype \"F99\""},
        {"{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype (not a string)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape must be an array"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, "at most 8 integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]: expected a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "shape[0]: expected a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,8]}}", 8, "beyond the range of a double"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "element count overflows"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, "need"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "data_offsets must be [begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "are not within"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "are not within the 8 data bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "4 bytes between its offsets, but its shape and dtype F32 need 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "they overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "a gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "a gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "cover 8 data bytes, the file has 12"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "duplicate key \"a\""},
        {"{\"__metadata__\":[1],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "__metadata__ is not an object"},
        {"{\"__metadata__\":{\"format\":1}}", 0, "__metadata__.format is not a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551624]}}", 8, "expected a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,NaN]}}", 8, "unexpected character 'N'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grpo_result r = parse_raw(cases[i].header, cases[i].data);
        CHECK(error_has(r, GRPO_ERROR_BAD_FILE, cases[i].message), "case %zu: got \"%s\", wanted \"%s\"", i, grpo_last_error(), cases[i].message);
    }
    /* the 8-byte length */
    grpo_safetensors st;
    unsigned char small[16] = {0};
    CHECK(error_has(grpo_safetensors_parse(&st, small, 5, "mem"), GRPO_ERROR_BAD_FILE, "too short"), "5 bytes");
    uint64_t lengths[3] = {UINT64_MAX, (uint64_t)GRPO_SAFETENSORS_MAX_HEADER + 1, 9};
    const char *messages[3] = {"over the 100000000 bytes allowed", "over the 100000000 bytes allowed", "runs past the end"};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 8; i++) small[i] = (unsigned char)(lengths[k] >> (8 * i));
        CHECK(error_has(grpo_safetensors_parse(&st, small, 16, "mem"), GRPO_ERROR_BAD_FILE, messages[k]), "length %llu: %s", (unsigned long long)lengths[k], grpo_last_error());
    }
    /* a file that is not there */
    CHECK(error_has(grpo_safetensors_open(&st, SCRATCH "/absent.safetensors"), GRPO_ERROR_IO, "absent.safetensors"), "absent file");
}

/* ------------------------------------------------------------------------------------------
   config.json */

static const char *llama_config =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 176,"
    " \"num_hidden_layers\": 3, \"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"vocab_size\": 320,"
    " \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true,"
    " \"hidden_act\": \"silu\", \"attention_bias\": false, \"mlp_bias\": false, \"rope_scaling\": null, \"bos_token_id\": 1,"
    " \"eos_token_id\": [2, 3], \"torch_dtype\": \"bfloat16\", \"pretraining_tp\": 1, \"use_cache\": true}";

static grpo_result config_with(const char *base, const char *key, const char *value, grpo_config *c) {
    /* replaces "key": <value> in base, or appends it */
    char text[4096];
    const char *at = strstr(base, key);
    if (at) {
        const char *colon = strchr(at, ':'), *end = colon + 1;
        int depth = 0;
        while (*end && !((*end == ',' || *end == '}') && depth == 0)) { if (*end == '[' || *end == '{') depth++; if (*end == ']' || *end == '}') depth--; end++; }
        snprintf(text, sizeof text, "%.*s: %s%s", (int)(colon - base), base, value, end);
    } else {
        snprintf(text, sizeof text, "%.*s, %s: %s}", (int)(strlen(base) - 1), base, key, value);
    }
    return grpo_hf_config_parse(text, strlen(text), "config.json", NULL, c, NULL);
}

static void test_config(void) {
    grpo_config c;
    grpo_hf_info info;
    grpo_result r = grpo_hf_config_parse(llama_config, strlen(llama_config), "config.json", NULL, &c, &info);
    CHECK(r == GRPO_SUCCESS, "llama: %s", grpo_last_error());
    CHECK(c.d_model == 64 && c.d_ff == 176 && c.n_layers == 3 && c.n_heads == 8 && c.n_kv_heads == 2 && c.vocab_size == 320 &&
          c.context_length == 64 && c.norm_eps == 1e-5f && c.rope_theta == 10000.0f && c.untied_head == 0 && c.qkv_bias == 0, "llama fields");
    CHECK(strcmp(info.architecture, "LlamaForCausalLM") == 0 && info.bos_token_id == 1 && info.eos_token_id == 2 &&
          strcmp(info.torch_dtype, "bfloat16") == 0 && info.max_position_embeddings == 64, "llama info");
    const char *qwen = "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"hidden_size\": 896, \"intermediate_size\": 4864,"
                       " \"num_hidden_layers\": 24, \"num_attention_heads\": 14, \"num_key_value_heads\": 2, \"vocab_size\": 151936,"
                       " \"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"tie_word_embeddings\": true,"
                       " \"sliding_window\": 32768, \"use_sliding_window\": false, \"max_window_layers\": 24, \"attention_dropout\": 0.0,"
                       " \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"torch_dtype\": \"bfloat16\"}";
    grpo_hf_options options = {512};
    r = grpo_hf_config_parse(qwen, strlen(qwen), "config.json", &options, &c, &info);
    CHECK(r == GRPO_SUCCESS && c.qkv_bias == 1 && c.untied_head == 0 && c.context_length == 512 && info.max_position_embeddings == 32768 &&
          c.rope_theta == 1e6f && c.norm_eps == 1e-6f && c.d_model == 896, "Qwen2.5-0.5B's config: %s", grpo_last_error());
    options.context_length = 40000;
    CHECK(error_has(grpo_hf_config_parse(qwen, strlen(qwen), "config.json", &options, &c, NULL), GRPO_ERROR_INVALID_ARGUMENT, "options.context_length = 40000"), "context too long");
    /* model_type alone, num_key_value_heads absent (= heads), untied by default */
    const char *minimal = "{\"model_type\": \"llama\", \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1,"
                          " \"num_attention_heads\": 4, \"vocab_size\": 100, \"max_position_embeddings\": 16}";
    r = grpo_hf_config_parse(minimal, strlen(minimal), "config.json", NULL, &c, &info);
    CHECK(r == GRPO_SUCCESS && c.n_kv_heads == 4 && c.untied_head == 1 && c.norm_eps == 1e-6f && c.rope_theta == 10000.0f && info.eos_token_id == -1,
          "defaults: %s", grpo_last_error());
    static const struct { const char *key, *value; grpo_result code; const char *message; } cases[] = {
        {"\"architectures\"", "[\"MistralForCausalLM\"]", GRPO_ERROR_UNSUPPORTED, "architecture \"MistralForCausalLM\" is not supported"},
        {"\"architectures\"", "[\"LlamaForCausalLM\", \"X\"]", GRPO_ERROR_BAD_FILE, "must be a list of one name"},
        {"\"architectures\"", "\"LlamaForCausalLM\"", GRPO_ERROR_BAD_FILE, "must be a list of one name"},
        {"\"model_type\"", "\"qwen2\"", GRPO_ERROR_UNSUPPORTED, "model_type \"qwen2\" does not match"},
        {"\"hidden_size\"", "null", GRPO_ERROR_BAD_FILE, "\"hidden_size\" is missing"},
        {"\"hidden_size\"", "64.5", GRPO_ERROR_BAD_FILE, "\"hidden_size\" must be an integer from 1"},
        {"\"hidden_size\"", "-64", GRPO_ERROR_BAD_FILE, "\"hidden_size\" must be an integer"},
        {"\"hidden_size\"", "\"64\"", GRPO_ERROR_BAD_FILE, "\"hidden_size\" must be an integer"},
        {"\"hidden_size\"", "100000000000", GRPO_ERROR_BAD_FILE, "\"hidden_size\" must be an integer"},
        {"\"num_attention_heads\"", "7", GRPO_ERROR_BAD_FILE, "not divisible by config.n_heads = 7"},
        {"\"num_key_value_heads\"", "3", GRPO_ERROR_BAD_FILE, "not divisible by config.n_kv_heads = 3"},
        {"\"vocab_size\"", "0", GRPO_ERROR_BAD_FILE, "\"vocab_size\" must be an integer from 1"},
        {"\"rms_norm_eps\"", "0", GRPO_ERROR_BAD_FILE, "\"rms_norm_eps\" = 0"},
        {"\"rms_norm_eps\"", "\"small\"", GRPO_ERROR_BAD_FILE, "\"rms_norm_eps\" must be a number"},
        {"\"rope_theta\"", "1", GRPO_ERROR_BAD_FILE, "\"rope_theta\" = 1"},
        {"\"rope_theta\"", "1e300", GRPO_ERROR_BAD_FILE, "\"rope_theta\" = 1e+300"},
        {"\"tie_word_embeddings\"", "\"yes\"", GRPO_ERROR_BAD_FILE, "\"tie_word_embeddings\" must be true or false"},
        {"\"rope_scaling\"", "{\"rope_type\": \"llama3\", \"factor\": 8.0}", GRPO_ERROR_UNSUPPORTED, "rope_scaling (llama3) is not implemented"},
        {"\"rope_scaling\"", "{\"type\": \"linear\", \"factor\": 2.0}", GRPO_ERROR_UNSUPPORTED, "rope_scaling (linear)"},
        {"\"hidden_act\"", "\"gelu\"", GRPO_ERROR_UNSUPPORTED, "hidden_act \"gelu\" is not implemented"},
        {"\"attention_bias\"", "true", GRPO_ERROR_UNSUPPORTED, "attention_bias is not false"},
        {"\"mlp_bias\"", "true", GRPO_ERROR_UNSUPPORTED, "mlp_bias is not false"},
        {"\"use_sliding_window\"", "true", GRPO_ERROR_UNSUPPORTED, "sliding-window attention is not implemented"},
        {"\"attention_dropout\"", "0.1", GRPO_ERROR_UNSUPPORTED, "attention_dropout = 0.1"},
        {"\"head_dim\"", "16", GRPO_ERROR_UNSUPPORTED, "head_dim differs"},
        {"\"max_position_embeddings\"", "0", GRPO_ERROR_BAD_FILE, "\"max_position_embeddings\" must be an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = config_with(llama_config, cases[i].key, cases[i].value, &c);
        CHECK(error_has(r, cases[i].code, cases[i].message), "case %zu (%s: %s): got %d \"%s\", wanted \"%s\"", i, cases[i].key, cases[i].value, r, grpo_last_error(), cases[i].message);
    }
    CHECK(config_with(llama_config, "\"head_dim\"", "8", &c) == GRPO_SUCCESS, "head_dim equal to hidden/heads is fine");
    CHECK(error_has(grpo_hf_config_parse("[]", 2, "config.json", NULL, &c, NULL), GRPO_ERROR_BAD_FILE, "expected a JSON object"), "not an object");
    CHECK(error_has(grpo_hf_config_parse("{}", 2, "config.json", NULL, &c, NULL), GRPO_ERROR_BAD_FILE, "neither \"architectures\" nor \"model_type\""), "empty");
}

/* ------------------------------------------------------------------------------------------
   Model directories: save -> load, and every malformed directory */

static grpo_config small_config(int qkv_bias, int untied) {
    grpo_config c = {0};
    c.vocab_size = 97, c.context_length = 32, c.d_model = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.d_ff = 48;
    c.rope_theta = 1e6f, c.norm_eps = 1e-6f, c.qkv_bias = qkv_bias, c.untied_head = untied;
    return c;
}

static void test_save_load(void) {
    mkdir(SCRATCH, 0777);
    for (int variant = 0; variant < 2; variant++) {
        grpo_config config = small_config(variant, variant);
        grpo_model model, loaded;
        grpo_model_create(&model, &config, 5 + (uint64_t)variant);
        for (size_t i = 0; i < model.num_parameters; i++) model.params_memory[i] += 0.01f * (float)(i % 7); /* norms and biases too */
        grpo_hf_info info = {"", 100, 1, 2, ""};
        const char *dir = variant ? SCRATCH "/saved-qwen2" : SCRATCH "/saved-llama";
        grpo_result r = grpo_hf_model_save(dir, &model, &info);
        CHECK(r == GRPO_SUCCESS, "save: %s", grpo_last_error());
        grpo_hf_info back;
        r = grpo_hf_model_load(&loaded, dir, NULL, &back);
        CHECK(r == GRPO_SUCCESS, "load: %s", grpo_last_error());
        if (r == GRPO_SUCCESS) {
            grpo_config want = model.config;
            want.context_length = 100; /* max_position_embeddings was written from info */
            CHECK(memcmp(&loaded.config, &want, sizeof want) == 0, "same config");
            CHECK(loaded.num_parameters == model.num_parameters && memcmp(loaded.params_memory, model.params_memory, model.num_parameters * 4) == 0, "same weights");
            CHECK(strcmp(back.architecture, variant ? "Qwen2ForCausalLM" : "LlamaForCausalLM") == 0 && back.bos_token_id == 1 && back.eos_token_id == 2,
                  "architecture and ids: %s %d %d", back.architecture, back.bos_token_id, back.eos_token_id);
            grpo_model_destroy(&loaded);
        }
        char path[256];
        snprintf(path, sizeof path, "%s/model.safetensors.tmp", dir);
        FILE *left = fopen(path, "rb");
        CHECK(!left, "no temporary file is left behind");
        if (left) fclose(left);
        grpo_model_destroy(&model);
    }
    /* a failed save leaves the old files intact: saving into a directory whose model.safetensors.tmp is a directory */
    grpo_config config = small_config(0, 0);
    grpo_model model;
    grpo_model_create(&model, &config, 9);
    mkdir(SCRATCH "/saved-llama/model.safetensors.tmp", 0777);
    size_t before_len, after_len;
    char *before = read_all(SCRATCH "/saved-llama/model.safetensors", &before_len);
    CHECK(error_has(grpo_hf_model_save(SCRATCH "/saved-llama", &model, NULL), GRPO_ERROR_IO, "model.safetensors.tmp"), "unwritable temporary: %s", grpo_last_error());
    char *after = read_all(SCRATCH "/saved-llama/model.safetensors", &after_len);
    CHECK(before && after && before_len == after_len && memcmp(before, after, before_len) == 0, "the previous model.safetensors is intact");
    free(before); free(after);
    rmdir(SCRATCH "/saved-llama/model.safetensors.tmp");
    grpo_model_destroy(&model);
}

/* Writes a model directory: config.json (text) and model.safetensors (image) */
static void write_dir(const char *dir, const char *config, const unsigned char *file, size_t size) {
    char path[512];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_file(path, config, strlen(config));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (file) write_file(path, file, size);
    else remove(path);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir); /* from an earlier case or run */
    remove(path);
}

static const char *tiny_config =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4, \"intermediate_size\": 6, \"num_hidden_layers\": 1,"
    " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"vocab_size\": 5, \"max_position_embeddings\": 8}";

/* The tensors of tiny_config (untied: lm_head needed), optionally one left out, one renamed, one misshapen, one extra. */
static unsigned char *tiny_image(const char *skip, const char *rename_from, const char *rename_to, const char *misshape, const char *extra, const char *dtype_of, size_t *size) {
    static const struct { const char *name; int rank; int64_t shape[2]; } tensors[] = {
        {"model.embed_tokens.weight", 2, {5, 4}}, {"model.layers.0.input_layernorm.weight", 1, {4, 0}},
        {"model.layers.0.self_attn.q_proj.weight", 2, {4, 4}}, {"model.layers.0.self_attn.k_proj.weight", 2, {2, 4}},
        {"model.layers.0.self_attn.v_proj.weight", 2, {2, 4}}, {"model.layers.0.self_attn.o_proj.weight", 2, {4, 4}},
        {"model.layers.0.post_attention_layernorm.weight", 1, {4, 0}}, {"model.layers.0.mlp.gate_proj.weight", 2, {6, 4}},
        {"model.layers.0.mlp.up_proj.weight", 2, {6, 4}}, {"model.layers.0.mlp.down_proj.weight", 2, {4, 6}},
        {"model.norm.weight", 1, {4, 0}}, {"lm_head.weight", 2, {5, 4}}};
    static float values[64];
    for (int i = 0; i < 64; i++) values[i] = 0.01f * (float)i;
    image *im = (image *)malloc(sizeof *im);
    image_begin(im);
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) {
        const char *name = tensors[i].name;
        if (skip && strcmp(name, skip) == 0) continue;
        if (rename_from && strcmp(name, rename_from) == 0) name = rename_to;
        int64_t shape[2] = {tensors[i].shape[0], tensors[i].shape[1]};
        if (misshape && strcmp(name, misshape) == 0) shape[0]++;
        size_t count = (size_t)shape[0] * (size_t)(tensors[i].rank > 1 ? shape[1] : 1);
        const char *dtype = dtype_of && strcmp(name, dtype_of) == 0 ? "F64" : "F32";
        image_tensor(im, name, dtype, tensors[i].rank, shape, values, count * (dtype[1] == '6' ? 8 : 4));
    }
    if (extra) { int64_t one[1] = {1}; image_tensor(im, extra, "F32", 1, one, values, 4); }
    unsigned char *file = image_end(im, size);
    free(im);
    return file;
}

static grpo_result load_dir(const char *dir) {
    grpo_model model;
    grpo_result r = grpo_hf_model_load(&model, dir, NULL, NULL);
    if (r) CHECK(model.params_memory == NULL, "a failed load leaves the model zeroed");
    grpo_model_destroy(&model);
    return r;
}

static void test_bad_directories(void) {
    mkdir(SCRATCH, 0777);
    const char *dir = SCRATCH "/bad-model";
    size_t size;
    unsigned char *file = tiny_image(NULL, NULL, NULL, NULL, NULL, NULL, &size);
    write_dir(dir, tiny_config, file, size);
    CHECK(load_dir(dir) == GRPO_SUCCESS, "the good tiny model loads: %s", grpo_last_error());
    free(file);
    static const struct { const char *skip, *from, *to, *misshape, *extra, *f64, *message; grpo_result code; } cases[] = {
        {"model.norm.weight", 0, 0, 0, 0, 0, "tensor 'model.norm.weight' is missing", GRPO_ERROR_BAD_FILE},
        {"lm_head.weight", 0, 0, 0, 0, 0, "tensor 'lm_head.weight' is missing", GRPO_ERROR_BAD_FILE},
        {0, "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight", 0, 0, 0, "unexpected tensor 'model.layers.1.mlp.up_proj.weight'", GRPO_ERROR_BAD_FILE},
        {0, 0, 0, 0, "model.layers.0.mlp.experts.0.weight", 0, "unexpected tensor 'model.layers.0.mlp.experts.0.weight'", GRPO_ERROR_BAD_FILE},
        {0, 0, 0, 0, "model.layers.0.self_attn.q_proj.bias", 0, "unexpected tensor 'model.layers.0.self_attn.q_proj.bias' for a LlamaForCausalLM with 1 layers and no Q/K/V biases", GRPO_ERROR_BAD_FILE},
        {0, 0, 0, 0, "model.layers.00.input_layernorm.weight", 0, "unexpected tensor", GRPO_ERROR_BAD_FILE},
        {0, 0, 0, "model.layers.0.self_attn.k_proj.weight", 0, 0, "has shape [3, 4] (rank 2), expected [2, 4]", GRPO_ERROR_BAD_FILE},
        {0, 0, 0, 0, 0, "model.norm.weight", "dtype F64", GRPO_ERROR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        file = tiny_image(cases[i].skip, cases[i].from, cases[i].to, cases[i].misshape, cases[i].extra, cases[i].f64, &size);
        write_dir(dir, tiny_config, file, size);
        grpo_result r = load_dir(dir);
        CHECK(error_has(r, cases[i].code, cases[i].message), "case %zu: got \"%s\", wanted \"%s\"", i, grpo_last_error(), cases[i].message);
        free(file);
    }
    /* ignored tensors: rotary_emb.inv_freq, and lm_head when tied */
    file = tiny_image(NULL, NULL, NULL, NULL, "model.layers.0.self_attn.rotary_emb.inv_freq", NULL, &size);
    write_dir(dir, tiny_config, file, size);
    CHECK(load_dir(dir) == GRPO_SUCCESS, "inv_freq is ignored: %s", grpo_last_error());
    free(file);
    char tied[1024];
    snprintf(tied, sizeof tied, "%.*s, \"tie_word_embeddings\": true}", (int)strlen(tiny_config) - 1, tiny_config);
    file = tiny_image(NULL, NULL, NULL, NULL, NULL, NULL, &size);
    write_dir(dir, tied, file, size);
    CHECK(load_dir(dir) == GRPO_SUCCESS, "a tied model ignores lm_head.weight: %s", grpo_last_error());
    free(file);
    /* no weights at all; no config */
    write_dir(dir, tiny_config, NULL, 0);
    CHECK(error_has(load_dir(dir), GRPO_ERROR_IO, "no model.safetensors or model.safetensors.index.json"), "no weights: %s", grpo_last_error());
    CHECK(error_has(load_dir(SCRATCH "/no-such-dir"), GRPO_ERROR_IO, "no-such-dir/config.json"), "no config: %s", grpo_last_error());
    /* shards: the good split, then an index that lies in each way */
    size_t n1, n2;
    unsigned char *all = tiny_image(NULL, NULL, NULL, NULL, NULL, NULL, &size);
    free(all);
    unsigned char *part1 = tiny_image("lm_head.weight", NULL, NULL, NULL, NULL, NULL, &n1);
    image *im = (image *)malloc(sizeof *im);
    float head[20] = {0};
    int64_t head_shape[2] = {5, 4};
    image_begin(im);
    image_tensor(im, "lm_head.weight", "F32", 2, head_shape, head, sizeof head);
    unsigned char *part2 = image_end(im, &n2);
    free(im);
    write_dir(dir, tiny_config, NULL, 0);
    write_file(SCRATCH "/bad-model/model-00001-of-00002.safetensors", part1, n1);
    write_file(SCRATCH "/bad-model/model-00002-of-00002.safetensors", part2, n2);
    const char *index_head = "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {\"lm_head.weight\": \"%s\"";
    const char *rest[] = {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                          "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                          "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                          "model.layers.0.mlp.down_proj.weight", "model.norm.weight"};
    static const struct { const char *head_file, *norm_file, *extra, *message; } index_cases[] = {
        {"model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors", "", NULL},
        {"model-00001-of-00002.safetensors", "model-00001-of-00002.safetensors", "", "the index puts tensor 'lm_head.weight' in this shard, which does not hold it"},
        {"model-00002-of-00002.safetensors", "model-00002-of-00002.safetensors", "", "the index puts tensor 'model.norm.weight' in this shard"},
        {"../model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors", "", "must be a plain file name"},
        {"model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors", ", \"ghost\": \"model-00003-of-00002.safetensors\"", "model-00003-of-00002.safetensors"},
    };
    for (size_t i = 0; i < sizeof index_cases / sizeof index_cases[0]; i++) {
        char text[4096];
        size_t at = (size_t)snprintf(text, sizeof text, index_head, index_cases[i].head_file);
        for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++)
            at += (size_t)snprintf(text + at, sizeof text - at, ", \"%s\": \"%s\"", rest[k],
                                   strcmp(rest[k], "model.norm.weight") == 0 ? index_cases[i].norm_file : "model-00001-of-00002.safetensors");
        snprintf(text + at, sizeof text - at, "%s}}", index_cases[i].extra);
        write_file(SCRATCH "/bad-model/model.safetensors.index.json", text, strlen(text));
        grpo_result r = load_dir(dir);
        if (!index_cases[i].message) CHECK(r == GRPO_SUCCESS, "the sharded tiny model loads: %s", grpo_last_error());
        else CHECK(r != GRPO_SUCCESS && strstr(grpo_last_error(), index_cases[i].message), "index case %zu: got \"%s\"", i, grpo_last_error());
    }
    /* a tensor in a shard that the index does not list */
    {
        char text[4096];
        size_t at = (size_t)snprintf(text, sizeof text, "{\"weight_map\": {\"lm_head.weight\": \"model-00002-of-00002.safetensors\"");
        for (size_t k = 1; k < sizeof rest / sizeof rest[0]; k++)
            at += (size_t)snprintf(text + at, sizeof text - at, ", \"%s\": \"model-00001-of-00002.safetensors\"", rest[k]);
        snprintf(text + at, sizeof text - at, "}}");
        write_file(SCRATCH "/bad-model/model.safetensors.index.json", text, strlen(text));
        CHECK(error_has(load_dir(dir), GRPO_ERROR_BAD_FILE, "tensor 'model.embed_tokens.weight' is in this shard but the index does not list it"), "unlisted: %s", grpo_last_error());
        write_file(SCRATCH "/bad-model/model.safetensors.index.json", "{\"weight_map\": []}", 18);
        CHECK(error_has(load_dir(dir), GRPO_ERROR_BAD_FILE, "\"weight_map\" must be an object"), "weight_map: %s", grpo_last_error());
    }
    /* the same tensors in two shards */
    {
        char text[4096];
        unsigned char *whole = tiny_image(NULL, NULL, NULL, NULL, NULL, NULL, &size);
        write_file(SCRATCH "/bad-model/model-00002-of-00002.safetensors", whole, size);
        free(whole);
        size_t at = (size_t)snprintf(text, sizeof text, "{\"weight_map\": {\"lm_head.weight\": \"model-00002-of-00002.safetensors\"");
        for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++)
            at += (size_t)snprintf(text + at, sizeof text - at, ", \"%s\": \"model-00001-of-00002.safetensors\"", rest[k]);
        snprintf(text + at, sizeof text - at, "}}");
        write_file(SCRATCH "/bad-model/model.safetensors.index.json", text, strlen(text));
        CHECK(error_has(load_dir(dir), GRPO_ERROR_BAD_FILE, "model-00002-of-00002.safetensors: tensor 'model.embed_tokens.weight' is in this shard but the index puts it in another"),
              "duplicated across shards: %s", grpo_last_error());
    }
    free(part1); free(part2);
}

/* ------------------------------------------------------------------------------------------
   The BPE tokenizer, on a small hand-written tokenizer.json */

/* Byte-level vocabulary: the 256 byte characters (ids 0..255 in GPT-2's order of characters),
   merges "Ġ t" -> "Ġt", "h e" -> "he", "Ġt he" -> "Ġthe", "l l" -> "ll". */
static int skip_byte_a = -1, skip_byte_b = -1; /* bytes left out of the small vocabulary */
static char *small_tokenizer_json(const char *pre_tokenizer, const char *normalizer, const char *extra_model, const char *added, const char *merges) {
    uint32_t byte_to_char[256];
    int char_to_byte[324];
    grpo__byte_level_alphabet(byte_to_char, char_to_byte);
    size_t capacity = 1 << 16, at = 0;
    char *json = (char *)malloc(capacity);
    at += (size_t)snprintf(json + at, capacity - at, "{\"version\": \"1.0\", \"added_tokens\": [%s], \"normalizer\": %s, \"pre_tokenizer\": %s,"
                           " \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", %s \"vocab\": {",
                           added, normalizer, pre_tokenizer, extra_model);
    for (int b = 0; b < 256; b++) {
        unsigned char utf8[4];
        int n = grpo__utf8_encode(byte_to_char[b], utf8);
        if (b == skip_byte_a || b == skip_byte_b) continue;
        if (b == '"' || b == '\\') at += (size_t)snprintf(json + at, capacity - at, "\"\\%c\": %d, ", b, b);
        else at += (size_t)snprintf(json + at, capacity - at, "\"%.*s\": %d, ", n, (const char *)utf8, b);
    }
    at += (size_t)snprintf(json + at, capacity - at, "\"\xc4\xa0t\": 256, \"he\": 257, \"\xc4\xa0the\": 258, \"ll\": 259, \"<unk>\": 260}, \"merges\": %s}}",
                           merges ? merges : "[\"\xc4\xa0 t\", [\"h\", \"e\"], \"\xc4\xa0t he\", \"l l\"]");
    return json;
}

static const char *byte_level_pre = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}";
static const char *small_added = "{\"id\": 261, \"content\": \"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true},"
                                 "{\"id\": 262, \"content\": \"<x>\", \"normalized\": true, \"special\": false}";

static grpo_result load_small(grpo_tokenizer *t, const char *pre, const char *normalizer, const char *extra_model, const char *added, const char *merges) {
    char *json = small_tokenizer_json(pre, normalizer, extra_model, added, merges);
    grpo_result r = grpo_bpe_tokenizer_parse(t, json, strlen(json), "tokenizer.json");
    free(json);
    return r;
}

static int encode_is(const grpo_tokenizer *t, const char *text, const int *want, int n_want) {
    int ids[256], n = -1;
    grpo_result r = t->encode(t, text, strlen(text), ids, 256, &n);
    if (r || n != n_want) { printf("    encode(\"%s\"): r=%d n=%d (%s)\n", text, r, n, grpo_last_error()); return 0; }
    for (int i = 0; i < n; i++) if (ids[i] != want[i]) { printf("    encode(\"%s\")[%d] = %d, want %d\n", text, i, ids[i], want[i]); return 0; }
    return 1;
}

static void test_bpe_small(void) {
    grpo_tokenizer t;
    grpo_result r = load_small(&t, byte_level_pre, "null", "", small_added, NULL);
    CHECK(r == GRPO_SUCCESS, "load: %s", grpo_last_error());
    if (r) return;
    CHECK(t.vocab_size == 263 && t.eos_id == 261 && t.bos_id == -1, "vocab %d eos %d", t.vocab_size, t.eos_id);
    int the[] = {'t', 257, 258}; /* "the the": t he | Ġthe  (merges: Ġ t first, then h e, then Ġt he) */
    CHECK(encode_is(&t, "the the", the, 3), "the the");
    int hello[] = {257, 259, 'o'};
    CHECK(encode_is(&t, "hello", hello, 3), "hello: he ll o");
    int special[] = {'a', 261, 'b', 262, 258};
    CHECK(encode_is(&t, "a<|endoftext|>b<x> the", special, 5), "added tokens split out");
    int spaces[] = {32, 32, 256}; /* "   t": \s+(?!\S) takes two spaces, then " t" merges (ids are the bytes here) */
    CHECK(encode_is(&t, "   t", spaces, 3), "white space run before a word");
    char text[64];
    size_t n_bytes;
    int ids[] = {258, 261, 262, 97, 259};
    CHECK(t.decode(&t, ids, 5, text, sizeof text, &n_bytes) == GRPO_SUCCESS && strcmp(text, " the<x>all") == 0 && n_bytes == 10, "decode skips specials: '%s'", text);
    CHECK(error_has(t.decode(&t, ids, 5, text, 5, &n_bytes), GRPO_ERROR_INVALID_ARGUMENT, "do not fit") && n_bytes == 10, "decode capacity");
    int bad_id = 263;
    CHECK(error_has(t.decode(&t, &bad_id, 1, text, sizeof text, &n_bytes), GRPO_ERROR_INVALID_ARGUMENT, "outside the vocabulary"), "decode range");
    int out[2], count;
    CHECK(error_has(t.encode(&t, "hello", 5, out, 2, &count), GRPO_ERROR_INVALID_ARGUMENT, "3 ids do not fit in capacity 2") && count == 3, "encode capacity");
    CHECK(error_has(t.encode(&t, "a\xff", 2, out, 2, &count), GRPO_ERROR_INVALID_ARGUMENT, "not valid UTF-8 at byte 1"), "invalid UTF-8");
    CHECK(grpo_tokenizer_token_id(&t, "<|endoftext|>") == 261 && grpo_tokenizer_token_id(&t, " the") == 258 && grpo_tokenizer_token_id(&t, "<x>") == 262 &&
          grpo_tokenizer_token_id(&t, "zzz") == -1, "token ids by text");
    grpo_tokenizer_destroy(&t);
    CHECK(t.state == NULL && t.encode == NULL, "destroy zeroes");
    /* unk: bytes absent from the vocabulary become <unk> (fused or not), or are dropped without unk_token */
    skip_byte_a = 0xC3, skip_byte_b = 0xA9; /* "\xc3\xa9" is U+00E9 */
    static const struct { const char *model; int want[4], n; } unk_cases[] = {
        {"\"unk_token\": \"<unk>\", \"fuse_unk\": true,", {'a', 260, 'b'}, 3},
        {"\"unk_token\": \"<unk>\", \"fuse_unk\": false,", {'a', 260, 260, 'b'}, 4},
        {"\"unk_token\": null,", {'a', 'b'}, 2},
    };
    for (int i = 0; i < 3; i++) {
        r = load_small(&t, byte_level_pre, "null", unk_cases[i].model, "", "[]");
        CHECK(r == GRPO_SUCCESS, "load with unk case %d: %s", i, grpo_last_error());
        if (!r) CHECK(encode_is(&t, "a\xc3\xa9" "b", unk_cases[i].want, unk_cases[i].n), "unk case %d", i);
        grpo_tokenizer_destroy(&t);
    }
    skip_byte_a = skip_byte_b = -1;
}

static void test_bpe_refusals(void) {
    grpo_tokenizer t;
    static const struct { const char *pre, *normalizer, *extra, *added, *merges; grpo_result code; const char *message; } cases[] = {
        {"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\"}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "pattern \"\\w+\" is not implemented"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"Isolated\"}]}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "only a {\"Regex\": ...} pattern"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Removed\"}]}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "only behavior \"Isolated\""},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Isolated\"}]}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "no ByteLevel step"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": \"Digits\"}]}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "a Digits step after ByteLevel"},
        {"{\"type\": \"Metaspace\"}", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "pre_tokenizer \"Metaspace\" is not implemented"},
        {"null", "null", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "pre_tokenizer is null"},
        {NULL, "{\"type\": \"NFKC\"}", "", "", NULL, GRPO_ERROR_UNSUPPORTED, "normalizer \"NFKC\" is not implemented"},
        {NULL, "null", "\"byte_fallback\": true,", "", NULL, GRPO_ERROR_UNSUPPORTED, "model.byte_fallback is true"},
        {NULL, "null", "\"dropout\": 0.1,", "", NULL, GRPO_ERROR_UNSUPPORTED, "BPE dropout is not implemented"},
        {NULL, "null", "\"continuing_subword_prefix\": \"##\",", "", NULL, GRPO_ERROR_UNSUPPORTED, "continuing_subword_prefix is set"},
        {NULL, "null", "\"unk_token\": \"<nope>\",", "", NULL, GRPO_ERROR_BAD_FILE, "unk_token \"<nope>\" is not in the vocabulary"},
        {NULL, "null", "", "{\"id\": 261, \"content\": \"<s>\", \"lstrip\": true}", NULL, GRPO_ERROR_UNSUPPORTED, "added_tokens[0].lstrip is true"},
        {NULL, "null", "", "{\"id\": 261, \"content\": \"<s>\", \"single_word\": true}", NULL, GRPO_ERROR_UNSUPPORTED, "single_word is true"},
        {NULL, "null", "", "{\"id\": -1, \"content\": \"<s>\"}", NULL, GRPO_ERROR_BAD_FILE, "added_tokens[0] must have an integer \"id\""},
        {NULL, "null", "", "{\"id\": 261, \"content\": \"<s>\"}, {\"id\": 261, \"content\": \"<t>\"}", NULL, GRPO_ERROR_BAD_FILE, "added_tokens gives id 261 twice"},
        {NULL, "null", "", "", "[\"a b c\"]", GRPO_ERROR_BAD_FILE, "merges[0] = \"a b c\" is not two tokens"},
        {NULL, "null", "", "", "[\"ab\"]", GRPO_ERROR_BAD_FILE, "is not two tokens"},
        {NULL, "null", "", "", "[[\"a\"]]", GRPO_ERROR_BAD_FILE, "merges[0] must be"},
        {NULL, "null", "", "", "[\"a \xe2\x82\xac\"]", GRPO_ERROR_BAD_FILE, "the second token is not in the vocabulary"},
        {NULL, "null", "", "", "[\"a b\"]", GRPO_ERROR_BAD_FILE, "the merged token is not in the vocabulary"},
        {NULL, "null", "\"type\": \"WordPiece\",", "", NULL, GRPO_ERROR_BAD_FILE, "duplicate key \"type\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grpo_result r = load_small(&t, cases[i].pre ? cases[i].pre : byte_level_pre, cases[i].normalizer, cases[i].extra, cases[i].added, cases[i].merges);
        CHECK(error_has(r, cases[i].code, cases[i].message), "case %zu: got %d \"%s\", wanted \"%s\"", i, r, grpo_last_error(), cases[i].message);
        CHECK(t.state == NULL, "a refused tokenizer is left empty");
    }
    /* model type, vocabulary ids, decoder */
    char *json = small_tokenizer_json(byte_level_pre, "null", "", "", NULL);
    char *type = strstr(json, "\"type\": \"BPE\"");
    memcpy(type, "\"type\": \"UNI\"", 13);
    CHECK(error_has(grpo_bpe_tokenizer_parse(&t, json, strlen(json), "tokenizer.json"), GRPO_ERROR_UNSUPPORTED, "model type \"UNI\""), "model type: %s", grpo_last_error());
    memcpy(type, "\"type\": \"BPE\"", 13);
    char *decoder = strstr(json, "\"decoder\": {\"type\": \"ByteLevel\"}");
    memcpy(decoder, "\"decoder\": {\"type\": \"Metaspace\"", 31);
    CHECK(error_has(grpo_bpe_tokenizer_parse(&t, json, strlen(json), "tokenizer.json"), GRPO_ERROR_UNSUPPORTED, "decoder \"Metaspac"), "decoder: %s", grpo_last_error());
    free(json);
    json = small_tokenizer_json(byte_level_pre, "null", "", "", NULL);
    char *id = strstr(json, "\"ll\": 259");
    memcpy(id, "\"ll\": 258", 9);
    CHECK(error_has(grpo_bpe_tokenizer_parse(&t, json, strlen(json), "tokenizer.json"), GRPO_ERROR_BAD_FILE, "gives id 258 to two tokens"), "duplicate id: %s", grpo_last_error());
    memcpy(id, "\"ll\": 1e9", 9);
    CHECK(error_has(grpo_bpe_tokenizer_parse(&t, json, strlen(json), "tokenizer.json"), GRPO_ERROR_BAD_FILE, "model.vocab[\"ll\"] must be an id"), "id range: %s", grpo_last_error());
    free(json);
    CHECK(error_has(grpo_bpe_tokenizer_load(&t, SCRATCH "/absent.json"), GRPO_ERROR_IO, "absent.json"), "absent file");
}

/* Splits text with a pattern the way tokenizers' Split(..., "isolated") does; returns pieces as byte ranges. */
static int split_pieces(int pattern, const char *text, size_t n, size_t (*pieces)[2], int capacity) {
    const unsigned char *s = (const unsigned char *)text;
    int count = 0;
    size_t gap = 0, at = 0;
    while (at < n) {
        size_t end = grpo__pattern_match(pattern, s, n, at);
        if (end > at) {
            if (at > gap && count < capacity) { pieces[count][0] = gap; pieces[count][1] = at; count++; }
            if (count < capacity) { pieces[count][0] = at; pieces[count][1] = end; count++; }
            gap = at = end;
        } else {
            at++;
            while (at < n && (s[at] & 0xC0) == 0x80) at++;
        }
    }
    if (n > gap && count < capacity) { pieces[count][0] = gap; pieces[count][1] = n; count++; }
    return count;
}

static int pieces_are(int pattern, const char *text, const char *const *want, int n_want) {
    size_t pieces[64][2];
    int n = split_pieces(pattern, text, strlen(text), pieces, 64);
    int ok = n == n_want;
    for (int i = 0; ok && i < n; i++) ok = strlen(want[i]) == pieces[i][1] - pieces[i][0] && memcmp(want[i], text + pieces[i][0], strlen(want[i])) == 0;
    if (!ok) {
        printf("    pieces of \"%s\":", text);
        for (int i = 0; i < n; i++) printf(" [%.*s]", (int)(pieces[i][1] - pieces[i][0]), text + pieces[i][0]);
        printf("\n");
    }
    return ok;
}

static void test_patterns(void) {
    /* as tokenizers (Oniguruma) cuts them; the Qwen2 ones were read off tokenizers 0.20.3 */
    const char *a[] = {"'S", "'RE", " '", "Ll"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "'S'RE 'Ll", a, 4), "case-insensitive contractions");
    const char *b[] = {"a", "  \n\n", " ", " b"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "a  \n\n  b", b, 4), "\\s*[\\r\\n]+ then \\s+(?!\\S)");
    const char *c[] = {"  \t\n \r\n", " ", " z", "  "};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "  \t\n \r\n  z  ", c, 4), "line breaks in a white-space run");
    const char *d[] = {"1", "2", "3", "4", " ab", "1", "2"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "1234 ab12", d, 7), "digits one by one");
    const char *e[] = {"'\xc5\xbf", "x"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "'\xc5\xbfx", e, 2), "long s folds to s");
    const char *f[] = {"hi", "!!\n\n", "there"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, "hi!!\n\nthere", f, 3), "punctuation takes the line breaks after it");
    const char *g[] = {" ", "\xc2\xa0x"};
    CHECK(pieces_are(GRPO__PATTERN_QWEN2, " \xc2\xa0x", g, 2), "no-break space is white space and joins a word");
    const char *h[] = {"Hello", " world", "!!", " It", "'s", "  ", " 42"};
    CHECK(pieces_are(GRPO__PATTERN_GPT2, "Hello world!! It's   42", h, 7), "GPT-2");
    const char *k[] = {"'S", " 'RE"};
    CHECK(pieces_are(GRPO__PATTERN_GPT2, "'S 'RE", k, 2) == 0, "GPT-2's contractions are case-sensitive");
    const char *l[] = {"'", "S", " '", "RE"};
    CHECK(pieces_are(GRPO__PATTERN_GPT2, "'S 'RE", l, 4), "GPT-2: ' then S");
    const char *m[] = {"a", "\n", "b", "   "};
    CHECK(pieces_are(GRPO__PATTERN_GPT2, "a\nb   ", m, 4), "trailing run");
}

static void test_nfc_known(void) {
    size_t n;
    const grpo__composition *pairs;
    size_t n_pairs = 0;
    grpo__composition *table = grpo__composition_table(&n_pairs);
    pairs = table;
    static const struct { const char *in, *out; } cases[] = {
        {"e\xcc\x81", "\xc3\xa9"},                                  /* e + acute -> é */
        {"\xc3\xa9", "\xc3\xa9"},
        {"\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81"},   /* Hangul L V T -> 각 */
        {"a\xcc\xa3\xcc\x87", "\xe1\xba\xa1\xcc\x87"},              /* a + dot below + dot above -> ạ + dot above */
        {"a\xcc\x87\xcc\xa3", "\xe1\xba\xa1\xcc\x87"},              /* the same after reordering */
        {"\xe2\x84\xab", "\xc3\x85"},                               /* ANGSTROM SIGN -> Å (singleton) */
        {"\xef\xac\x81", "\xef\xac\x81"},                           /* ﬁ stays (a compatibility mapping) */
        {"\xe0\xa4\x95\xe0\xa4\xbc", "\xe0\xa4\x95\xe0\xa4\xbc"},   /* क + nukta stays (a composition exclusion) */
        {"plain ascii", "plain ascii"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *out;
        grpo__nfc(pairs, n_pairs, (const unsigned char *)cases[i].in, strlen(cases[i].in), &out, &n);
        CHECK(n == strlen(cases[i].out) && memcmp(out, cases[i].out, n) == 0, "NFC case %zu", i);
        free(out);
    }
    free(table);
}

static void test_chatml(void) {
    char buffer[256];
    int n = grpo_chatml_prompt("You are a helpful assistant.", "What is 2+3?", buffer, sizeof buffer);
    const char *want = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n";
    CHECK(n == (int)strlen(want) && strcmp(buffer, want) == 0, "ChatML: %s", buffer);
    volatile size_t small = 8; /* truncation on purpose, out of the compiler's sight */
    n = grpo_chatml_prompt(NULL, "Hi", buffer, small);
    CHECK(n == (int)strlen("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") && strlen(buffer) == 7, "truncates like snprintf");
}

/* ------------------------------------------------------------------------------------------
   Cross-checks against the fixtures of tests/hf_reference.py */

static void check_model(const char *name) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/models/%s", fixtures, name);
    grpo_model model;
    grpo_hf_info info;
    grpo_result r = grpo_hf_model_load(&model, dir, NULL, &info);
    CHECK(r == GRPO_SUCCESS, "%s: %s", name, grpo_last_error());
    if (r) return;
    snprintf(path, sizeof path, "%s/reference.bin", dir);
    size_t n;
    char *data = read_all(path, &n);
    CHECK(data != NULL, "%s: reference.bin", name);
    if (!data) { grpo_model_destroy(&model); return; }
    int B, T, V;
    memcpy(&B, data, 4); memcpy(&T, data + 4, 4); memcpy(&V, data + 8, 4);
    const int *tokens = (const int *)(data + 12);
    const float *logits = (const float *)(data + 12 + (size_t)B * T * 4);
    CHECK(V == model.config.vocab_size && n == 12 + (size_t)B * T * 4 + (size_t)B * T * V * 4, "%s: reference size", name);
    float *logprobs = (float *)malloc((size_t)B * T * sizeof(float));
    r = grpo_model_forward(&model, tokens, tokens, NULL, B, T, 1.0f, logprobs, NULL);
    CHECK(r == GRPO_SUCCESS, "%s: forward: %s", name, grpo_last_error());
    double error = test_relative_error(model.acts.logits, logits, (size_t)B * T * V);
    printf("  %-22s logits vs transformers: relative error %.2e (%s, %d layers, V %d)\n", name, error, info.architecture, model.config.n_layers, V);
    CHECK(error < 2e-5, "%s: logits differ from transformers': relative error %.3e", name, error);
    /* save it back for tests/hf_check_saved.py, with our logits */
    snprintf(path, sizeof path, "%s/saved", fixtures);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/saved/%s", fixtures, name);
    r = grpo_hf_model_save(path, &model, &info);
    CHECK(r == GRPO_SUCCESS, "%s: save: %s", name, grpo_last_error());
    snprintf(path, sizeof path, "%s/saved/%s/grpo_logits.bin", fixtures, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        int header[3] = {B, T, V};
        fwrite(header, 4, 3, f);
        fwrite(tokens, 4, (size_t)B * T, f);
        fwrite(model.acts.logits, 4, (size_t)B * T * V, f);
        fclose(f);
    }
    free(logprobs);
    free(data);
    grpo_model_destroy(&model);
}

static void test_models_against_transformers(void) {
    const char *names[] = {"llama-f32", "llama-sharded-bf16", "qwen2-f32", "qwen2-f16", "qwen2-bf16", "qwen2-tied-sharded"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) check_model(names[i]);
}

/* The ids of a JSON array into ids; returns the count. */
static int json_ids(const grpo_json *json, const grpo_json_value *array, int *ids, int capacity) {
    const grpo_json_value *v = grpo_json_first(json, array);
    int n = 0;
    for (uint32_t i = 0; array && i < array->count && n < capacity; i++, v = grpo_json_next(json, v)) ids[n++] = (int)v->integer;
    return n;
}

static void check_tokenizer(const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", fixtures, name);
    grpo_tokenizer t;
    grpo_result r = grpo_bpe_tokenizer_load(&t, path);
    CHECK(r == GRPO_SUCCESS, "%s: %s", name, grpo_last_error());
    if (r) return;
    snprintf(path, sizeof path, "%s/tokenizers/%s/cases.jsonl", fixtures, name);
    grpo_jsonl_reader reader;
    if (grpo_jsonl_open(&reader, path)) { CHECK(0, "%s", grpo_last_error()); grpo_tokenizer_destroy(&t); return; }
    int done = 0, cases = 0, same = 0, decoded_same = 0, skipped = 0, *want = (int *)malloc(65536 * sizeof(int)), *got = (int *)malloc(65536 * sizeof(int));
    char *text = (char *)malloc(1 << 20);
    while (grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && !done) {
        const grpo_json *json = &reader.json;
        const grpo_json_value *input = grpo_json_get(json, json->values, "text");
        const grpo_json_value *agrees = grpo_json_get(json, json->values, "nfc_agrees");
        if (agrees && agrees->type == GRPO_JSON_FALSE) { skipped++; continue; }
        int n_want = json_ids(json, grpo_json_get(json, json->values, "ids"), want, 65536), n_got = -1;
        cases++;
        r = t.encode(&t, grpo_json_string(json, input), input->length, got, 65536, &n_got);
        int ok = r == GRPO_SUCCESS && n_got == n_want && memcmp(got, want, (size_t)n_want * sizeof(int)) == 0;
        same += ok;
        if (!ok && cases - same <= 3) {
            printf("    %s: \"%s\"\n      tokenizers:", name, grpo_json_string(json, input));
            for (int i = 0; i < n_want; i++) printf(" %d", want[i]);
            printf("\n      grpo.h:    ");
            for (int i = 0; i < n_got; i++) printf(" %d", got[i]);
            printf("\n");
        }
        size_t n_bytes = 0;
        const grpo_json_value *decoded = grpo_json_get(json, json->values, "decoded");
        r = t.decode(&t, want, n_want, text, 1 << 20, &n_bytes);
        decoded_same += r == GRPO_SUCCESS && n_bytes == decoded->length && memcmp(text, grpo_json_string(json, decoded), n_bytes) == 0;
    }
    printf("  %-22s %d of %d texts encode to tokenizers' ids, %d decode to its text%s\n", name, same, cases, decoded_same,
           skipped ? " (texts whose NFC differs between Unicode versions left out; see nfc)" : "");
    if (skipped) printf("  %-22s %d texts left out: tokenizers' NFC tables are older than Unicode 14\n", name, skipped);
    CHECK(cases > 500 && same == cases, "%s: %d of %d texts differ from tokenizers", name, cases - same, cases);
    CHECK(decoded_same == cases, "%s: %d of %d decodes differ", name, cases - decoded_same, cases);
    free(want); free(got); free(text);
    grpo_jsonl_close(&reader);
    grpo_tokenizer_destroy(&t);
}

static void test_tokenizers_against_tokenizers(void) {
    const char *names[] = {"qwen2-list", "qwen2-string", "gpt2-list", "gpt2-string", "gpt2-prefix-list", "gpt2-prefix-string"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) check_tokenizer(names[i]);
}

static void test_pretokenize_against_tokenizers(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/pretokenize.jsonl", fixtures);
    grpo_jsonl_reader reader;
    if (grpo_jsonl_open(&reader, path)) { CHECK(0, "%s", grpo_last_error()); return; }
    int done = 0, cases = 0, same[2] = {0, 0};
    static size_t pieces[4096][2];
    while (grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && !done) {
        const grpo_json *json = &reader.json;
        const grpo_json_value *input = grpo_json_get(json, json->values, "text");
        cases++;
        for (int p = 0; p < 2; p++) {
            const grpo_json_value *want = grpo_json_get(json, json->values, p ? "gpt2" : "qwen2");
            int n = split_pieces(p ? GRPO__PATTERN_GPT2 : GRPO__PATTERN_QWEN2, grpo_json_string(json, input), input->length, pieces, 4096);
            int ok = (uint32_t)n == want->count;
            const grpo_json_value *piece = grpo_json_first(json, want);
            for (int i = 0; ok && i < n; i++, piece = grpo_json_next(json, piece)) {
                const grpo_json_value *start = grpo_json_first(json, piece);
                ok = (size_t)start->integer == pieces[i][0] && (size_t)grpo_json_next(json, start)->integer == pieces[i][1];
            }
            same[p] += ok;
            if (!ok && cases - same[p] <= 2) printf("    %s pattern differs on \"%s\"\n", p ? "GPT-2" : "Qwen2", grpo_json_string(json, input));
        }
    }
    printf("  pre-tokenizer patterns: Qwen2 %d of %d texts, GPT-2 %d of %d cut exactly as Oniguruma cuts them\n", same[0], cases, same[1], cases);
    CHECK(cases > 500 && same[0] == cases && same[1] == cases, "patterns differ");
    grpo_jsonl_close(&reader);
}

static void test_nfc_against_unicodedata(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/nfc.jsonl", fixtures);
    grpo_jsonl_reader reader;
    if (grpo_jsonl_open(&reader, path)) { CHECK(0, "%s", grpo_last_error()); return; }
    size_t n_pairs = 0;
    grpo__composition *pairs = grpo__composition_table(&n_pairs);
    int done = 0, cases = 0, same = 0, tokenizers_differ = 0;
    while (grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && !done) {
        const grpo_json *json = &reader.json;
        const grpo_json_value *input = grpo_json_get(json, json->values, "text"), *want = grpo_json_get(json, json->values, "nfc");
        const grpo_json_value *theirs = grpo_json_get(json, json->values, "tokenizers");
        unsigned char *out;
        size_t n;
        grpo__nfc(pairs, n_pairs, (const unsigned char *)grpo_json_string(json, input), input->length, &out, &n);
        cases++;
        same += n == want->length && memcmp(out, grpo_json_string(json, want), n) == 0;
        tokenizers_differ += !(theirs->length == want->length && memcmp(grpo_json_string(json, theirs), grpo_json_string(json, want), want->length) == 0);
        free(out);
    }
    printf("  NFC: %d of %d texts as Python's unicodedata (Unicode 14); tokenizers' older tables differ on %d of them\n", same, cases, tokenizers_differ);
    CHECK(cases > 5000 && same == cases, "NFC differs from unicodedata on %d texts", cases - same);
    free(pairs);
    grpo_jsonl_close(&reader);
}

static void test_classes_against_oniguruma(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/classes.json", fixtures);
    grpo_json json;
    if (grpo_json_parse_file(&json, path)) { CHECK(0, "%s", grpo_last_error()); return; }
    const char *names[3] = {"letters", "numbers", "spaces"};
    for (int k = 0; k < 3; k++) {
        unsigned char *in = (unsigned char *)calloc(0x110000, 1);
        const grpo_json_value *ranges = grpo_json_get(&json, json.values, names[k]), *range = grpo_json_first(&json, ranges);
        for (uint32_t i = 0; i < ranges->count; i++, range = grpo_json_next(&json, range)) {
            const grpo_json_value *first = grpo_json_first(&json, range);
            for (int64_t c = first->integer; c <= grpo_json_next(&json, first)->integer; c++) in[c] = 1;
        }
        int wrong = 0;
        for (uint32_t c = 0; c < 0x110000; c++) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            int ours = k == 0 ? grpo__unicode_letter(c) : k == 1 ? grpo__unicode_number(c) : grpo__unicode_space(c);
            if (ours != in[c] && wrong++ < 3) printf("    %s: U+%04X grpo.h %d, Oniguruma %d\n", names[k], c, ours, in[c]);
        }
        CHECK(wrong == 0, "%s: %d code points differ from Oniguruma", names[k], wrong);
        free(in);
    }
    printf("  character classes: \\p{L}, \\p{N}, \\s agree with Oniguruma on all 1,112,064 code points\n");
    grpo_json_free(&json);
}

static void test_chat_against_transformers(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/chat.jsonl", fixtures);
    grpo_jsonl_reader reader;
    if (grpo_jsonl_open(&reader, path)) { printf("skipped: the ChatML cross-check (no %s: jinja2 missing)\n", path); return; }
    int done = 0, cases = 0, same = 0;
    char buffer[4096];
    while (grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && !done) {
        const grpo_json *json = &reader.json;
        grpo_chatml_prompt(grpo_json_string(json, grpo_json_get(json, json->values, "system")),
                           grpo_json_string(json, grpo_json_get(json, json->values, "user")), buffer, sizeof buffer);
        cases++;
        same += strcmp(buffer, grpo_json_string(json, grpo_json_get(json, json->values, "text"))) == 0;
    }
    CHECK(cases == 3 && same == cases, "ChatML: %d of %d as apply_chat_template", same, cases);
    grpo_jsonl_close(&reader);
}

int main(int argc, char **argv) {
    mkdir("build", 0777);
    mkdir(SCRATCH, 0777);
    TEST(test_json_values);
    TEST(test_json_errors);
    TEST(test_jsonl);
    TEST(test_safetensors_valid);
    TEST(test_safetensors_malformed);
    TEST(test_config);
    TEST(test_save_load);
    TEST(test_bad_directories);
    TEST(test_bpe_small);
    TEST(test_bpe_refusals);
    TEST(test_patterns);
    TEST(test_nfc_known);
    TEST(test_chatml);
    if (argc > 1) {
        fixtures = argv[1];
        TEST(test_models_against_transformers);
        TEST(test_tokenizers_against_tokenizers);
        TEST(test_pretokenize_against_tokenizers);
        TEST(test_nfc_against_unicodedata);
        TEST(test_classes_against_oniguruma);
        TEST(test_chat_against_transformers);
    }
    return test_finish("test_hf");
}
