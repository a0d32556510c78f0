/* libFuzzer target for the JSON Lines reader (grpo_jsonl_open / _next / _close): the dataset
   reader of the examples. fuzz_json covers the JSON parser on a whole buffer; this covers what
   is around it: reading a file line by line, growing the line buffer, "\r\n", blank lines, a
   last line without "\n", NUL bytes, and errors naming path:line:column.

   Input: the bytes of a JSONL file. Invariants (a violation traps): every call returns success
   or an error with a message; a bad line's message names the file and the line number the
   reader reports; line numbers only increase; each value read is a valid JSON tree (walked);
   after the end, next keeps saying done; close leaves the reader zeroed and nothing leaked.
   Seeds: tests/fuzz/corpus/jsonl/. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* Walks value i and its subtree; returns the index one past it. */
static uint32_t fz_walk(const grpo_json *json, uint32_t i) {
    REQUIRE(i < json->n_values);
    const grpo_json_value *v = &json->values[i];
    REQUIRE(v->next > i && v->next <= json->n_values);
    if (v->type == GRPO_JSON_STRING) REQUIRE(grpo_json_string(json, v) != NULL && strlen(grpo_json_string(json, v)) <= v->length);
    if (v->type == GRPO_JSON_ARRAY || v->type == GRPO_JSON_OBJECT) {
        uint32_t child = i + 1;
        for (uint32_t k = 0; k < v->count; k++) {
            if (v->type == GRPO_JSON_OBJECT) REQUIRE(json->values[child].is_member && grpo_json_key(json, &json->values[child]) != NULL);
            child = fz_walk(json, child);
        }
        REQUIRE(child == v->next);
    }
    return v->next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-jsonl-%d.jsonl", (int)getpid());
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(size == 0 || fwrite(data, 1, size, f) == size);
    fclose(f);

    grpo_jsonl_reader reader;
    REQUIRE(grpo_jsonl_open(&reader, path) == GRPO_SUCCESS);
    size_t last_line = 0;
    int values = 0;
    for (int guard = 0; guard < 100000; guard++) {
        int done = 0;
        grpo__error_message[0] = '\0';
        grpo_result r = grpo_jsonl_next(&reader, &done);
        if (r != GRPO_SUCCESS) {
            REQUIRE(r == GRPO_ERROR_BAD_FILE || r == GRPO_ERROR_OUT_OF_MEMORY || r == GRPO_ERROR_IO);
            char where[96];
            snprintf(where, sizeof where, "%s:%zu", path, reader.line + (r == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), "longer than") ? 1 : 0));
            REQUIRE(strstr(grpo_last_error(), where) != NULL);
            break;
        }
        if (done) {
            REQUIRE(grpo_jsonl_next(&reader, &done) == GRPO_SUCCESS && done); /* the end stays the end */
            break;
        }
        REQUIRE(reader.line > last_line);
        last_line = reader.line;
        REQUIRE(reader.json.n_values >= 1 && fz_walk(&reader.json, 0) == reader.json.n_values);
        values++;
    }
    REQUIRE((size_t)values <= size);
    grpo_jsonl_close(&reader);
    static const grpo_jsonl_reader empty;
    REQUIRE(memcmp(&reader, &empty, sizeof reader) == 0);
    return 0;
}
