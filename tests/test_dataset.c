/* Datasets (grpo.h section 15): grpo_dataset_load_jsonl on good and malformed input (bad JSON,
   not an object, a field missing, of the wrong type or holding a NUL, empty files, blank lines,
   CRLF, a huge line; refusing vs skipping; messages naming path:line and the field), the prompt
   templates and TRL's conversational form, custom field names and limits, the save/load round
   trip with escapes and Unicode (atomic, refusing invalid UTF-8), grpo_dataset_split
   (determinism, sizes, every record once) and the example views. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char directory[256];

/* A file in this test's directory holding len bytes of text; returns its path (static storage, 8 slots). */
static const char *write_file(const char *name, const char *text, size_t len) {
    static char paths[8][320];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 320, "%s/%s", directory, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        if (len) fwrite(text, 1, len, f);
        fclose(f);
    }
    return path;
}
static const char *write_text(const char *name, const char *text) { return write_file(name, text, strlen(text)); }

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* ---------------------------------------------------------------------------------------
   good input */
static void test_load_fields_blank_lines_crlf(void) {
    const char *path = write_text("good.jsonl",
        "{\"prompt\": \"What is 2+3?\", \"completion\": \"<answer>5</answer>\", \"answer\": \"5\", \"extra\": [1, 2]}\n"
        "\n"
        "   \t \r\n"
        "{\"prompt\": \"only an answer\", \"answer\": \"7\"}\r\n"
        "{\"prompt\": \"only a completion\", \"completion\": \"done\", \"answer\": null}\n"
        "{\"answer\": \"x\", \"prompt\": \"caf\\u00e9 \\\"quoted\\\"\\n\"}"); /* last line without "\n" */
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    grpo_result r = grpo_dataset_load_jsonl(&d, path, NULL);
    CHECK(r == GRPO_SUCCESS, "load: %s", grpo_last_error());
    CHECK(d.count == 4 && d.skipped == 0, "4 records, got %d", d.count);
    if (d.count == 4) {
        CHECK(same(d.records[0].prompt, "What is 2+3?") && same(d.records[0].completion, "<answer>5</answer>") && same(d.records[0].answer, "5"), "record 0");
        CHECK(same(d.records[1].prompt, "only an answer") && d.records[1].completion == NULL && same(d.records[1].answer, "7"), "record 1: no completion, CRLF");
        CHECK(same(d.records[2].completion, "done") && d.records[2].answer == NULL, "record 2: a null answer is no answer");
        CHECK(same(d.records[3].prompt, "caf\xc3\xa9 \"quoted\"\n"), "record 3: escapes decoded, last line unterminated: [%s]", d.records[3].prompt);
    }
    /* loading again appends */
    CHECK(grpo_dataset_load_jsonl(&d, path, NULL) == GRPO_SUCCESS && d.count == 8, "a second load appends: %d", d.count);
    grpo_dataset_destroy(&d);
    CHECK(d.count == 0 && d.records == NULL, "destroy leaves an empty dataset");
    grpo_dataset_destroy(&d); /* twice is fine */
}

static void test_custom_fields_and_limit(void) {
    const char *path = write_text("gsm.jsonl",
        "{\"question\": \"q1\", \"gold\": \"1\"}\n{\"question\": \"q2\", \"gold\": \"2\"}\n{\"question\": \"q3\", \"gold\": \"3\"}\n");
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    grpo_dataset_options o;
    memset(&o, 0, sizeof o);
    o.prompt_field = "question", o.answer_field = "gold", o.require_answer = 1, o.limit = 2;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(d.count == 2 && same(d.records[1].prompt, "q2") && same(d.records[1].answer, "2"), "the first two, by their own field names");
    grpo_dataset_destroy(&d);
    o.limit = -1;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "limit"), "a negative limit");
    o.limit = 0, o.prompt_field = "prompt";
    grpo_result r = grpo_dataset_load_jsonl(&d, path, &o);
    CHECK(r == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), "gsm.jsonl:1: field \"prompt\" is missing"), "the default prompt field is absent: %s", grpo_last_error());
}

static void test_huge_line(void) {
    size_t n = 3u << 20; /* 3 MiB of prompt: the reader's buffer grows many times */
    char *text = (char *)malloc(n + 64);
    size_t at = (size_t)sprintf(text, "{\"prompt\": \"");
    for (size_t i = 0; i < n; i++) text[at++] = (char)('a' + i % 26);
    at += (size_t)sprintf(text + at, "\", \"answer\": \"1\"}\n");
    const char *path = write_file("huge.jsonl", text, at);
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    CHECK(grpo_dataset_load_jsonl(&d, path, NULL) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(d.count == 1 && strlen(d.records[0].prompt) == n && d.records[0].prompt[n - 1] == (char)('a' + (n - 1) % 26), "the whole line");
    grpo_dataset_destroy(&d);
    free(text);
}

/* ---------------------------------------------------------------------------------------
   malformed input: refused naming path:line and the field; the dataset unchanged */
typedef struct { const char *line, *expected; int require_completion, require_answer; } bad_case;

static void test_malformed_lines_refused(void) {
    static const bad_case cases[] = {
        {"{\"prompt\": \"a\", \"answer\": }", ":3:", 0, 0},                              /* bad JSON: the reader's path:line:column */
        {"[\"prompt\", \"a\"]", ":3: expected a JSON object, got a list", 0, 0},
        {"\"just a string\"", ":3: expected a JSON object, got a string", 0, 0},
        {"{\"answer\": \"1\"}", ":3: field \"prompt\" is missing", 0, 0},
        {"{\"prompt\": null}", ":3: field \"prompt\" is missing (null)", 0, 0},
        {"{\"prompt\": 42}", ":3: field \"prompt\" must be a string or a list of messages, got a number", 0, 0},
        {"{\"prompt\": \"a\", \"completion\": 3}", ":3: field \"completion\" must be a string, got a number", 0, 0},
        {"{\"prompt\": \"a\", \"answer\": true}", ":3: field \"answer\" must be a string, got a boolean", 0, 0},
        {"{\"prompt\": \"a\", \"answer\": {\"x\": 1}}", ":3: field \"answer\" must be a string, got an object", 0, 0},
        {"{\"prompt\": \"a\", \"answer\": \"1\"}", ":3: field \"completion\" is missing", 1, 0},
        {"{\"prompt\": \"a\", \"completion\": \"b\"}", ":3: field \"answer\" is missing", 0, 1},
        {"{\"prompt\": \"a\\u0000b\"}", ":3: field \"prompt\" holds a NUL character", 0, 0},
        {"{\"prompt\": \"a\", \"prompt\": \"b\"}", ":3:", 0, 0},                          /* a duplicate key: the JSON reader refuses it */
        {"{\"prompt\": \"\xff\"}", ":3:", 0, 0},                                           /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"prompt\": \"fine\", \"completion\": \"c\", \"answer\": \"1\"}\n\n%s\n{\"prompt\": \"after\"}\n", cases[i].line);
        char name[32];
        snprintf(name, sizeof name, "bad%zu.jsonl", i);
        const char *path = write_text(name, text);
        grpo_dataset d;
        memset(&d, 0, sizeof d);
        grpo_dataset_append(&d, "kept", NULL, NULL);
        grpo_dataset_options o;
        memset(&o, 0, sizeof o);
        o.require_completion = cases[i].require_completion, o.require_answer = cases[i].require_answer;
        grpo_result r = grpo_dataset_load_jsonl(&d, path, &o);
        char expected[400];
        snprintf(expected, sizeof expected, "%s%s", path, cases[i].expected);
        CHECK(r == GRPO_ERROR_BAD_FILE, "case %zu (%s): result %d", i, cases[i].line, (int)r);
        CHECK(strstr(grpo_last_error(), expected) != NULL, "case %zu: message [%s], expected [%s]", i, grpo_last_error(), expected);
        CHECK(d.count == 1 && same(d.records[0].prompt, "kept"), "case %zu: a refused load leaves the dataset as it was (%d records)", i, d.count);
        grpo_dataset_destroy(&d);
    }
}

typedef struct { int calls; char messages[4][256]; } malformed_log;
static void collect(void *user, const char *message) {
    malformed_log *log = (malformed_log *)user;
    if (log->calls < 4) snprintf(log->messages[log->calls], sizeof log->messages[0], "%s", message);
    log->calls++;
}

static void test_malformed_lines_skipped(void) {
    const char *path = write_text("mixed.jsonl",
        "{\"prompt\": \"one\", \"answer\": \"1\"}\n"
        "{\"prompt\": \"two\"\n"                        /* line 2: bad JSON */
        "{\"prompt\": \"three\", \"answer\": \"3\"}\n"
        "{\"prompt\": [1, 2], \"answer\": \"4\"}\n"     /* line 4: a list that is not messages */
        "{\"prompt\": \"five\"}\n"                      /* line 5: no answer, which is required */
        "{\"prompt\": \"six\", \"answer\": \"6\"}\n");
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    malformed_log log;
    memset(&log, 0, sizeof log);
    grpo_dataset_options o;
    memset(&o, 0, sizeof o);
    o.require_answer = 1, o.skip_malformed = 1, o.on_malformed = collect, o.user = &log;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(d.count == 3 && same(d.records[0].prompt, "one") && same(d.records[1].prompt, "three") && same(d.records[2].prompt, "six"), "the good lines, in order");
    CHECK(d.skipped == 3 && log.calls == 3, "three skipped (%d), three reports (%d)", d.skipped, log.calls);
    char where[3][320];
    snprintf(where[0], sizeof where[0], "%s:2:", path);
    snprintf(where[1], sizeof where[1], "%s:4: field \"prompt\"[0] must be a {\"role\", \"content\"} message", path);
    snprintf(where[2], sizeof where[2], "%s:5: field \"answer\" is missing", path);
    for (int i = 0; i < 3; i++) CHECK(strstr(log.messages[i], where[i]) != NULL, "report %d: [%s], expected [%s]", i, log.messages[i], where[i]);
    /* without a callback the count is still kept */
    o.on_malformed = NULL;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS && d.count == 6 && d.skipped == 6, "skipped counts add up: %d", d.skipped);
    grpo_dataset_destroy(&d);
    /* a file whose every line is skipped has no records: an error */
    const char *all_bad = write_text("all_bad.jsonl", "nonsense\n{\"x\": 1}\n");
    CHECK(grpo_dataset_load_jsonl(&d, all_bad, &o) == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), "every line was malformed"), "all skipped: %s", grpo_last_error());
    CHECK(d.count == 0 && d.skipped == 0, "and nothing changed");
}

static void test_empty_and_missing_files(void) {
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    const char *empty = write_text("empty.jsonl", "");
    CHECK(grpo_dataset_load_jsonl(&d, empty, NULL) == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), "no records") && strstr(grpo_last_error(), "empty"),
          "an empty file: %s", grpo_last_error());
    const char *blank = write_text("blank.jsonl", "\n\r\n  \n\t\n");
    CHECK(grpo_dataset_load_jsonl(&d, blank, NULL) == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), "no records"), "only blank lines: %s", grpo_last_error());
    char missing[320];
    snprintf(missing, sizeof missing, "%s/no-such-file.jsonl", directory);
    CHECK(grpo_dataset_load_jsonl(&d, missing, NULL) == GRPO_ERROR_IO && strstr(grpo_last_error(), "no-such-file.jsonl"), "a missing file: %s", grpo_last_error());
    CHECK(grpo_dataset_load_jsonl(NULL, empty, NULL) == GRPO_ERROR_INVALID_ARGUMENT && grpo_dataset_load_jsonl(&d, NULL, NULL) == GRPO_ERROR_INVALID_ARGUMENT, "NULLs");
    CHECK(d.count == 0, "nothing loaded");
}

/* ---------------------------------------------------------------------------------------
   templates and TRL's conversational form */
static void test_templates(void) {
    const char *path = write_text("plain.jsonl", "{\"prompt\": \"2+3\", \"answer\": \"5\"}\n");
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    grpo_dataset_options o;
    memset(&o, 0, sizeof o);
    char expected[1024];
    o.template_kind = GRPO_TEMPLATE_R1_ZERO;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS, "%s", grpo_last_error());
    grpo_r1_zero_prompt("2+3", expected, sizeof expected);
    CHECK(d.count == 1 && same(d.records[0].prompt, expected), "R1-Zero's template: [%s]", d.count ? d.records[0].prompt : "");
    CHECK(strstr(d.records[0].prompt, "User: 2+3. Assistant:") != NULL, "ends with the question");
    o.template_kind = GRPO_TEMPLATE_CHATML, o.system_prompt = "Be brief.";
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(d.count == 2 && same(d.records[1].prompt, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+3<|im_end|>\n<|im_start|>assistant\n"), "ChatML with a system turn");
    int n = grpo_template_apply(GRPO_TEMPLATE_CHATML, "Be brief.", "2+3", expected, sizeof expected);
    CHECK(n == (int)strlen(d.records[1].prompt) && same(expected, d.records[1].prompt), "grpo_template_apply gives the same");
    CHECK(grpo_template_apply(7, NULL, "x", expected, sizeof expected) == -1, "an unknown kind");
    CHECK(grpo_template_apply(GRPO_TEMPLATE_NONE, NULL, "abc", NULL, 0) == 3, "snprintf's convention");
    o.template_kind = GRPO_TEMPLATE_R1_ZERO;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "system_prompt"), "R1-Zero has no system turn");
    o.template_kind = 3, o.system_prompt = NULL;
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "template_kind"), "a template kind out of range");
    CHECK(d.count == 2, "refused options load nothing");
    grpo_dataset_destroy(&d);
}

static void test_conversational(void) {
    const char *path = write_text("chat.jsonl",
        "{\"prompt\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"2+3?\"}], "
        "\"completion\": [{\"role\": \"assistant\", \"content\": \"<answer>5</answer>\"}], \"answer\": \"5\"}\n"
        "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    CHECK(grpo_dataset_load_jsonl(&d, path, NULL) == GRPO_SUCCESS, "%s", grpo_last_error());
    char expected[256];
    grpo_chatml_prompt("S", "2+3?", expected, sizeof expected);
    CHECK(d.count == 2 && same(d.records[0].prompt, expected), "messages render as grpo_chatml_prompt does: [%s]", d.count ? d.records[0].prompt : "");
    CHECK(d.count == 2 && same(d.records[0].completion, "<answer>5</answer>"), "a conversational completion is its content");
    grpo_chatml_prompt(NULL, "hi", expected, sizeof expected);
    CHECK(d.count == 2 && same(d.records[1].prompt, expected) && d.records[1].completion == NULL, "no system turn");
    /* the options' system prompt goes in when the conversation has none */
    grpo_dataset_options o;
    memset(&o, 0, sizeof o);
    o.system_prompt = "Sys";
    CHECK(grpo_dataset_load_jsonl(&d, path, &o) == GRPO_SUCCESS && d.count == 4, "%s", grpo_last_error());
    grpo_chatml_prompt("S", "2+3?", expected, sizeof expected);
    CHECK(same(d.records[2].prompt, expected), "its own system turn is kept");
    grpo_chatml_prompt("Sys", "hi", expected, sizeof expected);
    CHECK(same(d.records[3].prompt, expected), "the options' system turn is added");
    grpo_dataset_destroy(&d);
    static const struct { const char *line, *expected; int r1; } bad[] = {
        {"{\"prompt\": [{\"role\": \"user\"}]}", ":1: field \"prompt[0].content\" is missing", 0},
        {"{\"prompt\": [{\"role\": \"user\", \"content\": 5}]}", ":1: field \"prompt[0].content\" must be a string, got a number", 0},
        {"{\"prompt\": []}", ":1: field \"prompt\" is an empty list of messages", 0},
        {"{\"prompt\": [\"hi\"]}", ":1: field \"prompt\"[0] must be a {\"role\", \"content\"} message, got a string", 0},
        {"{\"prompt\": \"a\", \"completion\": [{\"role\": \"user\", \"content\": \"x\"}]}", ":1: field \"completion\"[0].role is \"user\"", 0},
        {"{\"prompt\": \"a\", \"completion\": [{\"role\": \"assistant\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}", ":1: field \"completion\" holds 2 messages", 0},
        {"{\"prompt\": [{\"role\": \"user\", \"content\": \"x\"}]}", ":1: field \"prompt\" is a list of messages", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = write_text("chat_bad.jsonl", bad[i].line);
        memset(&o, 0, sizeof o);
        if (bad[i].r1) o.template_kind = GRPO_TEMPLATE_R1_ZERO;
        char where[400];
        snprintf(where, sizeof where, "%s%s", p, bad[i].expected);
        CHECK(grpo_dataset_load_jsonl(&d, p, &o) == GRPO_ERROR_BAD_FILE && strstr(grpo_last_error(), where), "bad conversation %zu: [%s], expected [%s]", i, grpo_last_error(), where);
    }
    CHECK(d.count == 0, "nothing loaded");
}

/* ---------------------------------------------------------------------------------------
   saving, appending, splitting, views */
static void test_save_load_round_trip(void) {
    grpo_dataset d, back;
    memset(&d, 0, sizeof d);
    memset(&back, 0, sizeof back);
    char source[64] = "a prompt";
    CHECK(grpo_dataset_append(&d, source, "<think>\"quoted\" \\ back\\slash\n\ttab\r\x01\x1f</think>", "5") == GRPO_SUCCESS, "append");
    strcpy(source, "CHANGED"); /* append copied it */
    CHECK(same(d.records[0].prompt, "a prompt"), "append copies");
    grpo_dataset_append(&d, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \x7f", NULL, "\xc2\xbd");
    grpo_dataset_append(&d, "", "", NULL);
    grpo_dataset_append(&d, "only a prompt", NULL, NULL);
    CHECK(grpo_dataset_append(&d, NULL, "x", NULL) == GRPO_ERROR_INVALID_ARGUMENT && d.count == 4, "a prompt is required");
    char path[320];
    snprintf(path, sizeof path, "%s/saved.jsonl", directory);
    CHECK(grpo_dataset_save_jsonl(&d, path) == GRPO_SUCCESS, "save: %s", grpo_last_error());
    char temporary[330];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    CHECK(access(temporary, F_OK) != 0, "no temporary file is left");
    CHECK(grpo_dataset_load_jsonl(&back, path, NULL) == GRPO_SUCCESS, "reload: %s", grpo_last_error());
    CHECK(back.count == d.count, "%d records back, %d saved", back.count, d.count);
    for (int i = 0; i < d.count && i < back.count; i++)
        CHECK(same(d.records[i].prompt, back.records[i].prompt) && same(d.records[i].completion, back.records[i].completion) &&
              same(d.records[i].answer, back.records[i].answer), "record %d round-trips", i);
    /* the file is what a JSON library expects: escapes where needed, UTF-8 as it is */
    FILE *f = fopen(path, "rb");
    char text[1024] = {0};
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    CHECK(n > 0 && strstr(text, "{\"prompt\": \"a prompt\", \"completion\": \"<think>\\\"quoted\\\" \\\\ back\\\\slash\\n\\ttab\\r\\u0001\\u001f</think>\", \"answer\": \"5\"}\n"),
          "escapes: %s", text);
    CHECK(strstr(text, "{\"prompt\": \"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \x7f\", \"answer\": \"\xc2\xbd\"}\n") != NULL, "UTF-8 written as it is, NULL fields left out");
    CHECK(strstr(text, "{\"prompt\": \"\", \"completion\": \"\"}\n") != NULL, "empty strings are kept, distinct from absent");
    /* invalid UTF-8 is refused before the file is touched */
    grpo_dataset_append(&d, "ok", "\xc3(", NULL);
    grpo_result r = grpo_dataset_save_jsonl(&d, path);
    CHECK(r == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "record 4's completion is not valid UTF-8"), "invalid UTF-8: %s", grpo_last_error());
    grpo_dataset_destroy(&back);
    CHECK(grpo_dataset_load_jsonl(&back, path, NULL) == GRPO_SUCCESS && back.count == 4, "the old file is intact");
    char nowhere[340];
    snprintf(nowhere, sizeof nowhere, "%s/no-such-directory/x.jsonl", directory);
    CHECK(grpo_dataset_save_jsonl(&back, nowhere) == GRPO_ERROR_IO, "an unwritable path: %s", grpo_last_error());
    grpo_dataset_destroy(&back);
    grpo_dataset_destroy(&d);
}

static void test_split(void) {
    grpo_dataset all, train, eval, train2, eval2;
    memset(&all, 0, sizeof all);
    memset(&train, 0, sizeof train); memset(&eval, 0, sizeof eval);
    memset(&train2, 0, sizeof train2); memset(&eval2, 0, sizeof eval2);
    for (int i = 0; i < 40; i++) {
        char prompt[16], answer[16];
        snprintf(prompt, sizeof prompt, "p%02d", i);
        snprintf(answer, sizeof answer, "%d", i);
        grpo_dataset_append(&all, prompt, NULL, answer);
    }
    CHECK(grpo_dataset_split(&all, 0.25, 7, &train, &eval) == GRPO_SUCCESS, "%s", grpo_last_error());
    CHECK(train.count == 30 && eval.count == 10, "0.25 of 40: %d train, %d eval", train.count, eval.count);
    int seen[40] = {0}, ordered = 1;
    for (int i = 0; i < train.count; i++) { seen[atoi(train.records[i].prompt + 1)]++; if (i && strcmp(train.records[i - 1].prompt, train.records[i].prompt) >= 0) ordered = 0; }
    for (int i = 0; i < eval.count; i++) { seen[atoi(eval.records[i].prompt + 1)]++; if (i && strcmp(eval.records[i - 1].prompt, eval.records[i].prompt) >= 0) ordered = 0; }
    int once = 1;
    for (int i = 0; i < 40; i++) once &= seen[i] == 1;
    CHECK(once && ordered, "every record in exactly one part (%d), each part in the original order (%d)", once, ordered);
    int contiguous = 1; /* a shuffle, not the first or last ten */
    for (int i = 1; i < eval.count; i++) contiguous &= atoi(eval.records[i].prompt + 1) == atoi(eval.records[i - 1].prompt + 1) + 1;
    CHECK(!contiguous, "the eval part is a random choice");
    CHECK(grpo_dataset_split(&all, 0.25, 7, &train2, &eval2) == GRPO_SUCCESS && eval2.count == 10, "again");
    int identical = 1;
    for (int i = 0; i < 10; i++) identical &= same(eval.records[i].prompt, eval2.records[i].prompt);
    CHECK(identical, "the same seed gives the same split");
    grpo_dataset_destroy(&train2); grpo_dataset_destroy(&eval2);
    CHECK(grpo_dataset_split(&all, 0.25, 8, &train2, &eval2) == GRPO_SUCCESS, "another seed");
    identical = 1;
    for (int i = 0; i < 10; i++) identical &= same(eval.records[i].prompt, eval2.records[i].prompt);
    CHECK(!identical, "another seed gives another split");
    grpo_dataset_destroy(&train2); grpo_dataset_destroy(&eval2);
    CHECK(grpo_dataset_split(&all, 0.0, 1, &train2, &eval2) == GRPO_SUCCESS && train2.count == 40 && eval2.count == 0, "fraction 0: all train");
    grpo_dataset_destroy(&train2); grpo_dataset_destroy(&eval2);
    grpo_dataset two;
    memset(&two, 0, sizeof two);
    grpo_dataset_append(&two, "a", NULL, NULL);
    grpo_dataset_append(&two, "b", NULL, NULL);
    CHECK(grpo_dataset_split(&two, 0.01, 1, &train2, &eval2) == GRPO_SUCCESS && train2.count == 1 && eval2.count == 1, "a small fraction of 2 still gives 1 eval");
    grpo_dataset_destroy(&train2); grpo_dataset_destroy(&eval2);
    CHECK(grpo_dataset_split(&two, 0.99, 1, &train2, &eval2) == GRPO_SUCCESS && train2.count == 1 && eval2.count == 1, "and keeps 1 train");
    grpo_dataset_destroy(&train2); grpo_dataset_destroy(&eval2);
    CHECK(grpo_dataset_split(&all, 1.0, 1, &train2, &eval2) == GRPO_ERROR_INVALID_ARGUMENT && grpo_dataset_split(&all, -0.1, 1, &train2, &eval2) == GRPO_ERROR_INVALID_ARGUMENT &&
          grpo_dataset_split(&all, NAN, 1, &train2, &eval2) == GRPO_ERROR_INVALID_ARGUMENT, "fractions outside [0, 1)");
    CHECK(grpo_dataset_split(&all, 0.5, 1, &train2, &train2) == GRPO_ERROR_INVALID_ARGUMENT, "the same dataset twice");
    grpo_dataset_destroy(&two);
    grpo_dataset_destroy(&train); grpo_dataset_destroy(&eval); grpo_dataset_destroy(&all);
}

static void test_views(void) {
    grpo_dataset d;
    memset(&d, 0, sizeof d);
    grpo_dataset_append(&d, "p0", "c0", "a0");
    grpo_dataset_append(&d, "p1", "c1", "a1");
    grpo_example examples[3];
    grpo_sft_example sft[3];
    CHECK(grpo_dataset_examples(&d, examples) == GRPO_SUCCESS && examples[1].prompt == d.records[1].prompt && examples[1].gold == d.records[1].answer, "RL view, no copies");
    CHECK(grpo_dataset_sft_examples(&d, sft) == GRPO_SUCCESS && sft[0].prompt == d.records[0].prompt && sft[0].completion == d.records[0].completion, "SFT view, no copies");
    grpo_dataset_append(&d, "p2", NULL, NULL);
    CHECK(grpo_dataset_examples(&d, examples) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "record 2 has no answer"), "%s", grpo_last_error());
    CHECK(grpo_dataset_sft_examples(&d, sft) == GRPO_ERROR_INVALID_ARGUMENT && strstr(grpo_last_error(), "record 2 has no completion"), "%s", grpo_last_error());
    grpo_dataset_destroy(&d);
}

int main(void) {
    snprintf(directory, sizeof directory, "/tmp/grpo-test-dataset-%d", (int)getpid());
    if (mkdir(directory, 0700) != 0) { printf("cannot create %s\n", directory); return 1; }
    TEST(test_load_fields_blank_lines_crlf);
    TEST(test_custom_fields_and_limit);
    TEST(test_huge_line);
    TEST(test_malformed_lines_refused);
    TEST(test_malformed_lines_skipped);
    TEST(test_empty_and_missing_files);
    TEST(test_templates);
    TEST(test_conversational);
    TEST(test_save_load_round_trip);
    TEST(test_split);
    TEST(test_views);
    DIR *d = opendir(directory); /* remove what the tests wrote */
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        char path[600];
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", directory, e->d_name);
        remove(path);
    }
    if (d) closedir(d);
    rmdir(directory);
    return test_finish("test_dataset");
}
