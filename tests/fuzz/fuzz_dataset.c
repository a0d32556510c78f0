/* libFuzzer target for the dataset loader (grpo_dataset_load_jsonl) and writer
   (grpo_dataset_save_jsonl): TRL's fields, templates, conversational prompts, refusing or
   skipping malformed lines.

   Input: one byte of options (bit 0: skip malformed lines, bits 1-2: the template, bit 3: require a
   completion, bit 4: require an answer, bit 5: a system prompt unless R1-Zero, bit 6: limit 3),
   then the bytes of a JSONL file. Invariants (a violation traps): every call returns success or
   an error with a message; a refused load leaves the dataset as it was (one record put there
   first) and a malformed line's message names the file and a line; loaded records hold a prompt,
   valid UTF-8 without NUL, and a required field is present; skipped lines are counted; saving
   what was loaded and loading it back (no template) gives the same records, byte for byte.
   Seeds: tests/fuzz/corpus/dataset/. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"

static int fz_same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int fz_skipped_reports;
static void fz_on_malformed(void *user, const char *message) {
    REQUIRE(strstr(message, (const char *)user) != NULL);
    fz_skipped_reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64], saved[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-dataset-%d.jsonl", (int)getpid());
        snprintf(saved, sizeof saved, "/tmp/fuzz-dataset-%d-saved.jsonl", (int)getpid());
    }
    if (size < 1) return 0;
    unsigned flags = data[0];
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(size == 1 || fwrite(data + 1, 1, size - 1, f) == size - 1);
    fclose(f);

    grpo_dataset_options o;
    memset(&o, 0, sizeof o);
    o.skip_malformed = flags & 1;
    o.template_kind = (int)((flags >> 1) & 3); /* 3 is out of range: refused */
    o.require_completion = (flags >> 3) & 1;
    o.require_answer = (flags >> 4) & 1;
    if ((flags >> 5) & 1 && o.template_kind != GRPO_TEMPLATE_R1_ZERO) o.system_prompt = "You are \"helpful\".\n";
    if ((flags >> 6) & 1) o.limit = 3;
    o.on_malformed = fz_on_malformed, o.user = path;
    fz_skipped_reports = 0;

    grpo_dataset d;
    memset(&d, 0, sizeof d);
    REQUIRE(grpo_dataset_append(&d, "sentinel", NULL, "0") == GRPO_SUCCESS);
    grpo_result r = grpo_dataset_load_jsonl(&d, path, &o);
    if (r != GRPO_SUCCESS) {
        REQUIRE(r == GRPO_ERROR_BAD_FILE || r == GRPO_ERROR_OUT_OF_MEMORY || r == GRPO_ERROR_IO || r == GRPO_ERROR_INVALID_CONFIG);
        REQUIRE(grpo_last_error()[0] != '\0');
        if (r == GRPO_ERROR_BAD_FILE) REQUIRE(strstr(grpo_last_error(), path) != NULL);
        if (r == GRPO_ERROR_INVALID_CONFIG) REQUIRE(o.template_kind == 3);
        REQUIRE(d.count == 1 && fz_same(d.records[0].prompt, "sentinel") && d.skipped == 0);
        grpo_dataset_destroy(&d);
        return 0;
    }
    REQUIRE(o.template_kind != 3);
    REQUIRE(d.count >= 2 && d.skipped == fz_skipped_reports);
    REQUIRE(o.skip_malformed || d.skipped == 0);
    REQUIRE(!o.limit || d.count - 1 <= o.limit);
    for (int i = 1; i < d.count; i++) {
        const grpo_record *record = &d.records[i];
        REQUIRE(record->prompt != NULL);
        REQUIRE(!o.require_completion || record->completion != NULL);
        REQUIRE(!o.require_answer || record->answer != NULL);
        if (o.template_kind == GRPO_TEMPLATE_R1_ZERO) REQUIRE(strstr(record->prompt, "A conversation between User and Assistant.") == record->prompt);
        if (o.template_kind == GRPO_TEMPLATE_CHATML) REQUIRE(strstr(record->prompt, "<|im_start|>") == record->prompt);
    }
    /* the round trip: save, load without a template, the same records */
    grpo_dataset back;
    memset(&back, 0, sizeof back);
    REQUIRE(grpo_dataset_save_jsonl(&d, saved) == GRPO_SUCCESS);
    REQUIRE(grpo_dataset_load_jsonl(&back, saved, NULL) == GRPO_SUCCESS);
    REQUIRE(back.count == d.count && back.skipped == 0);
    for (int i = 0; i < d.count; i++)
        REQUIRE(fz_same(d.records[i].prompt, back.records[i].prompt) && fz_same(d.records[i].completion, back.records[i].completion) &&
                fz_same(d.records[i].answer, back.records[i].answer));
    grpo_dataset_destroy(&back);
    grpo_dataset_destroy(&d);
    REQUIRE(d.count == 0 && d.records == NULL);
    return 0;
}
