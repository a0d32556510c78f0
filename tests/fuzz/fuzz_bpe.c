/* libFuzzer target for the BPE tokenizer (grpo.h section 3b): the input is text.

   Two tokenizers are built once, from tokenizer.json texts made here: byte-level vocabularies with
   every byte, all 676 merges of two lower-case letters and their space-prefixed forms, and added
   tokens; one Qwen2-style (NFC, the Qwen2 Split pattern, ByteLevel) and one GPT-2-style
   (ByteLevel with the GPT-2 pattern, add_prefix_space). For every input:
     - invalid UTF-8 is refused with GRPO_ERROR_INVALID_ARGUMENT; valid UTF-8 encodes;
     - GPT-2 style (no normalizer): decode(encode(text)) == text, byte for byte;
     - Qwen2 style: decode(encode(text)) is valid UTF-8, equal to the text if it is ASCII;
     - NFC is idempotent and gives valid UTF-8;
     - each pattern's match at each position ends after it, within the text, on a character boundary.

   Build and run: tests/fuzz/run.sh fuzz_bpe 60 */
#define GRPO_IMPLEMENTATION
#include "grpo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static grpo_tokenizer qwen2, gpt2;
static grpo__composition *pairs;
static size_t n_pairs;

static size_t append(char *json, size_t at, size_t capacity, const char *text) {
    size_t n = strlen(text);
    REQUIRE(at + n < capacity);
    memcpy(json + at, text, n + 1);
    return at + n;
}

/* The byte-level character of a byte, as a JSON string body (escaped where JSON needs it). */
static void byte_char(int byte, char *out) {
    uint32_t byte_to_char[256];
    int char_to_byte[324];
    grpo__byte_level_alphabet(byte_to_char, char_to_byte);
    if (byte == '"' || byte == '\\') { out[0] = '\\'; out[1] = (char)byte; out[2] = 0; return; }
    int n = grpo__utf8_encode(byte_to_char[byte], (unsigned char *)out);
    out[n] = 0;
}

static void build(grpo_tokenizer *t, int qwen) {
    size_t capacity = 1 << 18, at = 0;
    char *json = (char *)malloc(capacity), item[64], a[8], b[8];
    at = append(json, at, capacity, "{\"added_tokens\": [{\"id\": 2000, \"content\": \"<|a|>\", \"normalized\": false, \"special\": false},"
                                    " {\"id\": 2001, \"content\": \"<b>\", \"normalized\": true, \"special\": false}],");
    at = append(json, at, capacity, qwen ? "\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
                                         : "\"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"use_regex\": true},");
    if (qwen) {
        at = append(json, at, capacity, "\"");
        for (const char *p = grpo__pattern_qwen2; *p; p++) { char c[3] = {*p, 0, 0}; if (*p == '\\') { c[1] = '\\'; } at = append(json, at, capacity, c); }
        at = append(json, at, capacity, "\"}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}]},");
    }
    at = append(json, at, capacity, "\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {");
    int id = 0;
    for (int byte = 0; byte < 256; byte++) {
        byte_char(byte, a);
        snprintf(item, sizeof item, "\"%s\": %d, ", a, id++);
        at = append(json, at, capacity, item);
    }
    for (int x = 'a'; x <= 'z'; x++)
        for (int y = 'a'; y <= 'z'; y++) {
            snprintf(item, sizeof item, "\"%c%c\": %d, ", x, y, id++);
            at = append(json, at, capacity, item);
        }
    for (int x = 'a'; x <= 'z'; x++) {
        byte_char(' ', a);
        snprintf(item, sizeof item, "\"%s%c\": %d%s", a, x, id++, x == 'z' ? "" : ", ");
        at = append(json, at, capacity, item);
    }
    at = append(json, at, capacity, "}, \"merges\": [");
    for (int x = 'a'; x <= 'z'; x++) { /* space + letter first, then letter pairs in a scrambled order */
        byte_char(' ', b);
        snprintf(item, sizeof item, "\"%s %c\", ", b, x);
        at = append(json, at, capacity, item);
    }
    for (int k = 0; k < 676; k++) {
        int pair = (k * 397) % 676;
        snprintf(item, sizeof item, "[\"%c\", \"%c\"]%s", 'a' + pair / 26, 'a' + pair % 26, k == 675 ? "" : ", ");
        at = append(json, at, capacity, item);
    }
    at = append(json, at, capacity, "]}}");
    grpo_result r = grpo_bpe_tokenizer_parse(t, json, at, qwen ? "qwen2.json" : "gpt2.json");
    if (r) fprintf(stderr, "fuzz_bpe: %s\n", grpo_last_error());
    REQUIRE(r == GRPO_SUCCESS);
    free(json);
}

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t at = 0; at < n;) {
        uint32_t c;
        int used = grpo__utf8_decode(s + at, n - at, &c);
        if (!used) return 0;
        at += (size_t)used;
    }
    return 1;
}

static void roundtrip(const grpo_tokenizer *t, const char *text, size_t n, int exact) {
    /* NFC can lengthen a text: U+0344 (2 bytes) becomes U+0308 U+0301 (4 bytes), and Unicode
       bounds the growth at 3x in UTF-8. Byte-level BPE gives at most one token per byte of the
       normalised text, plus a prefix space. */
    int capacity = 3 * (int)n + 8, count = -1;
    int *ids = (int *)malloc((size_t)capacity * sizeof(int));
    grpo_result r = t->encode(t, text, n, ids, capacity, &count);
    if (r) fprintf(stderr, "fuzz_bpe: encode: %s\n", grpo_last_error());
    REQUIRE(r == GRPO_SUCCESS && count >= 0 && count <= 3 * (int)n + 1);
    for (int i = 0; i < count; i++) REQUIRE(ids[i] >= 0 && ids[i] < t->vocab_size);
    size_t bytes = 0, out_capacity = 3 * n + 16;
    char *out = (char *)malloc(out_capacity);
    r = t->decode(t, ids, count, out, out_capacity, &bytes);
    REQUIRE(r == GRPO_SUCCESS && valid_utf8((const unsigned char *)out, bytes));
    if (exact) {
        /* add_prefix_space puts a space before each stretch between added tokens that lacks one */
        size_t i = 0, j = 0;
        while (i < n && j < bytes) {
            if (text[i] == out[j]) { i++; j++; }
            else if (out[j] == ' ') j++;
            else break;
        }
        while (j < bytes && out[j] == ' ') j++;
        REQUIRE(i == n && j == bytes);
    }
    int ascii = 1;
    for (size_t i = 0; i < n; i++) ascii &= (unsigned char)text[i] < 0x80;
    if (!exact && ascii) REQUIRE(bytes == n && memcmp(out, text, n) == 0);
    free(out);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!pairs) {
        build(&qwen2, 1);
        build(&gpt2, 0);
        pairs = grpo__composition_table(&n_pairs);
    }
    char *text = (char *)malloc(size ? size : 1);
    if (size) memcpy(text, data, size);
    const unsigned char *s = (const unsigned char *)text;
    if (!valid_utf8(s, size)) {
        int ids[4], count;
        REQUIRE(qwen2.encode(&qwen2, text, size, ids, 4, &count) == GRPO_ERROR_INVALID_ARGUMENT);
        REQUIRE(strstr(grpo_last_error(), "not valid UTF-8") != NULL);
        free(text);
        return 0;
    }
    roundtrip(&gpt2, text, size, 1);
    roundtrip(&qwen2, text, size, 0);
    unsigned char *once, *twice;
    size_t n1, n2;
    REQUIRE(grpo__nfc(pairs, n_pairs, s, size, &once, &n1) == GRPO_SUCCESS);
    REQUIRE(valid_utf8(once, n1));
    REQUIRE(grpo__nfc(pairs, n_pairs, once, n1, &twice, &n2) == GRPO_SUCCESS);
    REQUIRE(n1 == n2 && memcmp(once, twice, n1) == 0);
    free(once);
    free(twice);
    for (int pattern = GRPO__PATTERN_GPT2; pattern <= GRPO__PATTERN_QWEN2; pattern++)
        for (size_t at = 0; at < size; at++) {
            if ((s[at] & 0xC0) == 0x80) continue;
            size_t end = grpo__pattern_match(pattern, s, size, at);
            REQUIRE(end == 0 || (end > at && end <= size && (end == size || (s[end] & 0xC0) != 0x80)));
        }
    free(text);
    return 0;
}
