/* Rule rewards (SPEC.md section 2): format, format_strict, tag_count, accuracy, countdown,
   overlong, the weighted sum with NaN abstention, and reward-config validation.
   Every table row is {bytes, explicit length, gold, expected, why}: the length is explicit so
   that NUL bytes can sit in the middle of a completion. The megabyte inputs at the end of each
   test must finish quickly (a quadratic scan or a recursive parser would not). */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "tests/test.h"

#include <limits.h>
#include <time.h>

typedef struct {
    const char *text;
    size_t len;
    const char *gold;
    float expected; /* NaN: expect NaN */
    const char *why;
} reward_row;

/* sizeof a string literal counts embedded NULs, so "a\0b" has length 3. */
#define ROW(literal, gold, expected, why) {literal, sizeof(literal) - 1, gold, expected, why}
#define ROWS(table) (sizeof(table) / sizeof((table)[0]))

static int same_value(float got, float expected) {
    if (isnan(expected)) return isnan(got);
    return !isnan(got) && fabsf(got - expected) <= 1e-6f;
}

/* Prints a row's bytes with escapes so that failures can be reproduced. */
static const char *escaped(const char *text, size_t len) {
    static char out[256];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < sizeof out; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
        else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
        else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
        else if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
        else if (c < 32 || c >= 127) o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
        else out[o++] = (char)c;
    }
    if (o + 8 >= sizeof out) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
    return out;
}

/* A copy of exactly len bytes, so that ASan sees any read past the end. */
static char *exact_copy(const char *text, size_t len) {
    char *copy = (char *)malloc(len ? len : 1);
    if (len) memcpy(copy, text, len);
    return copy;
}

typedef float (*text_reward)(const char *, size_t);
typedef float (*gold_reward)(const char *, size_t, const char *);

static void check_rows(const char *name, const reward_row *rows, size_t n, text_reward f, gold_reward g) {
    for (size_t i = 0; i < n; i++) {
        char *copy = exact_copy(rows[i].text, rows[i].len);
        float got = f ? f(copy, rows[i].len) : g(copy, rows[i].len, rows[i].gold);
        CHECK(same_value(got, rows[i].expected), "%s row %zu \"%s\" (len %zu) gold \"%s\": got %g, expected %g -- %s", name, i,
              escaped(rows[i].text, rows[i].len), rows[i].len, rows[i].gold ? rows[i].gold : "(null)", (double)got,
              (double)rows[i].expected, rows[i].why);
        free(copy);
    }
}

/* A buffer of `repeat` copies of `unit`, between prefix and suffix. */
static char *build(const char *prefix, const char *unit, size_t repeat, const char *suffix, size_t *len) {
    size_t p = strlen(prefix), u = strlen(unit), s = strlen(suffix);
    *len = p + u * repeat + s;
    char *buffer = (char *)malloc(*len + 1);
    memcpy(buffer, prefix, p);
    for (size_t i = 0; i < repeat; i++) memcpy(buffer + p + i * u, unit, u);
    memcpy(buffer + p + u * repeat, suffix, s);
    buffer[*len] = 0;
    return buffer;
}

#define MIB ((size_t)1 << 20)

/* A megabyte row: the value, and that it takes well under a second (a generous limit, for the
   sanitizer build on a loaded machine). */
static void check_big(const char *name, char *text, size_t len, const char *gold, float expected, text_reward f,
                      gold_reward g, const char *why) {
    clock_t t0 = clock();
    float got = f ? f(text, len) : g(text, len, gold);
    double seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(same_value(got, expected), "%s megabyte row \"%s\" (len %zu): got %g, expected %g -- %s", name, escaped(text, len), len,
          (double)got, (double)expected, why);
    CHECK(seconds < 2.0, "%s megabyte row \"%s\" (len %zu) took %.2f s -- %s", name, escaped(text, len), len, seconds, why);
    free(text);
}

/* ------------------------------------------------------------------------------------------ */

static const reward_row format_rows[] = {
    ROW("<think>a</think><answer>1</answer>", NULL, 1, "the plain R1 format"),
    ROW("<think>a</think> \n\t\r<answer>1</answer>", NULL, 1, "white space between </think> and <answer> is allowed"),
    ROW("<think></think><answer></answer>", NULL, 1, "empty contents still have the format"),
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer>", NULL, 1, "open-r1's strict layout is also the loose one"),
    ROW("<think>a\0b</think><answer>1</answer>", NULL, 1, "a NUL byte inside <think> is content"),
    ROW("<think>a</think><answer>1\0</answer>", NULL, 1, "a NUL byte inside <answer> is content"),
    ROW("<think>a <thin </thin think> </think><answer>1 <answer</answer>", NULL, 1, "partial tags inside content are content"),
    ROW("", NULL, 0, "empty completion"),
    ROW("\0", NULL, 0, "a lone NUL byte"),
    ROW("<think>", NULL, 0, "unterminated <think>"),
    ROW("<think>a</think>", NULL, 0, "no answer"),
    ROW("<think>a</think><answer>1", NULL, 0, "unterminated <answer>"),
    ROW("<think>a</think><answer>1</answer", NULL, 0, "truncated </answer"),
    ROW("<think>a<answer>1</answer>", NULL, 0, "missing </think>"),
    ROW("<answer>1</answer>", NULL, 0, "missing <think> block"),
    ROW(" <think>a</think><answer>1</answer>", NULL, 0, "leading space: nothing else is allowed"),
    ROW("\n<think>a</think><answer>1</answer>", NULL, 0, "leading newline"),
    ROW("<think>a</think><answer>1</answer> ", NULL, 0, "trailing space"),
    ROW("<think>a</think><answer>1</answer>\n", NULL, 0, "trailing newline"),
    ROW("<think>a</think><answer>1</answer>\0", NULL, 0, "a trailing NUL byte is something else"),
    ROW("x<think>a</think><answer>1</answer>", NULL, 0, "text before <think>"),
    ROW("<think>a</think>x<answer>1</answer>", NULL, 0, "text between the blocks"),
    ROW("<think>a</think>\0<answer>1</answer>", NULL, 0, "NUL is not white space"),
    ROW("<answer>1</answer><think>a</think>", NULL, 0, "blocks in the wrong order"),
    ROW("</think><think>a<answer>1</answer>", NULL, 0, "</think> before <think>"),
    ROW("<think>a</think></answer><answer>1", NULL, 0, "</answer> before <answer>"),
    ROW("<think>a<answer>1</answer></think>", NULL, 0, "answer nested in think"),
    ROW("<think>a</think><answer><think></answer>", NULL, 0, "think tag nested in answer"),
    ROW("<think><think>a</think><answer>1</answer>", NULL, 0, "<think> twice"),
    ROW("<think>a</think></think><answer>1</answer>", NULL, 0, "</think> twice"),
    ROW("<think>a</think><answer>1</answer><answer>2</answer>", NULL, 0, "two answers"),
    ROW("<think>a</think><answer>1</answer></answer>", NULL, 0, "</answer> twice"),
    ROW("<think>a</think><think>b</think><answer>1</answer>", NULL, 0, "two think blocks"),
    ROW("<THINK>a</THINK><answer>1</answer>", NULL, 0, "tags are case sensitive"),
    ROW("<think >a</think><answer>1</answer>", NULL, 0, "a tag with a space is not the tag"),
};

static void test_format(void) {
    check_rows("format", format_rows, ROWS(format_rows), grpo_reward_format, NULL);
    CHECK(grpo_reward_format(NULL, 0) == 0.0f, "format(NULL, 0) = %g, expected 0", (double)grpo_reward_format(NULL, 0));
    size_t len;
    char *text;
    text = build("", "<", MIB, "", &len);
    check_big("format", text, len, NULL, 0, grpo_reward_format, NULL, "1 MiB of '<'");
    text = build("", "<answer>", MIB / 8, "", &len);
    check_big("format", text, len, NULL, 0, grpo_reward_format, NULL, "repeated <answer>");
    text = build("<think>", "</think>", MIB / 8, "<answer>1</answer>", &len);
    check_big("format", text, len, NULL, 0, grpo_reward_format, NULL, "repeated </think>");
    text = build("<think>", "x", MIB, "</think><answer>1</answer>", &len);
    check_big("format", text, len, NULL, 1, grpo_reward_format, NULL, "a megabyte of thinking");
    text = build("<think>a</think>", " ", MIB, "<answer>1</answer>", &len);
    check_big("format", text, len, NULL, 1, grpo_reward_format, NULL, "a megabyte of white space between the blocks");
}

static const reward_row format_strict_rows[] = {
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer>", NULL, 1, "open-r1's layout"),
    ROW("<think>\n\n</think>\n<answer>\n\n</answer>", NULL, 1, "empty .*? between the two newlines"),
    ROW("<think>\nl1\nl2\n</think>\n<answer>\n4\n2\n</answer>", NULL, 1, "contents may span lines"),
    ROW("<think>\na\0b\n</think>\n<answer>\n4\0\n</answer>", NULL, 1, "NUL bytes inside the contents"),
    ROW("<think>\n</think>\n<answer>\n42\n</answer>", NULL, 0, "one newline cannot end <think>\\n and start \\n</think>"),
    ROW("<think>\nabc\n</think>\n<answer>\n</answer>", NULL, 0, "one newline cannot end <answer>\\n and start \\n</answer>"),
    ROW("<think>abc\n</think>\n<answer>\n42\n</answer>", NULL, 0, "no newline after <think>"),
    ROW("<think>\nabc</think>\n<answer>\n42\n</answer>", NULL, 0, "no newline before </think>"),
    ROW("<think>\nabc\n</think><answer>\n42\n</answer>", NULL, 0, "no newline between the blocks"),
    ROW("<think>\nabc\n</think>\n\n<answer>\n42\n</answer>", NULL, 0, "two newlines between the blocks"),
    ROW("<think>\nabc\n</think> <answer>\n42\n</answer>", NULL, 0, "a space instead of the newline"),
    ROW("<think>\nabc\n</think>\n<answer>42\n</answer>", NULL, 0, "no newline after <answer>"),
    ROW("<think>\nabc\n</think>\n<answer>\n42</answer>", NULL, 0, "no newline before </answer>"),
    ROW("<think>\r\nabc\r\n</think>\r\n<answer>\r\n42\r\n</answer>", NULL, 0, "CRLF is not \\n after the tags"),
    ROW("<think>abc</think><answer>42</answer>", NULL, 0, "the loose format only"),
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer>\n", NULL, 0, "trailing newline: nothing else"),
    ROW(" <think>\nabc\n</think>\n<answer>\n42\n</answer>", NULL, 0, "leading space"),
    ROW("<think>\nabc\n</think>\n<answer>\n1\n</answer>\n<answer>\n2\n</answer>", NULL, 0, "two answers"),
    ROW("<think>\n<think>\n</think>\n<answer>\n1\n</answer>", NULL, 0, "nested <think>"),
    ROW("<think>\n<answer>\n1\n</answer>\n</think>\n", NULL, 0, "answer nested in think"),
    ROW("<answer>\n1\n</answer>\n<think>\nabc\n</think>", NULL, 0, "blocks in the wrong order"),
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer", NULL, 0, "truncated </answer"),
    ROW("<think>\n", NULL, 0, "unterminated <think>"),
    ROW("", NULL, 0, "empty completion"),
};

static void test_format_strict(void) {
    check_rows("format_strict", format_strict_rows, ROWS(format_strict_rows), grpo_reward_format_strict, NULL);
    CHECK(grpo_reward_format_strict(NULL, 0) == 0.0f, "format_strict(NULL, 0) != 0");
    size_t len;
    char *text;
    text = build("", "\n", MIB, "", &len);
    check_big("format_strict", text, len, NULL, 0, grpo_reward_format_strict, NULL, "1 MiB of newlines");
    text = build("", "<think>\n", MIB / 8, "", &len);
    check_big("format_strict", text, len, NULL, 0, grpo_reward_format_strict, NULL, "repeated <think>\\n");
    text = build("<think>\n", "y", MIB, "\n</think>\n<answer>\n1\n</answer>", &len);
    check_big("format_strict", text, len, NULL, 1, grpo_reward_format_strict, NULL, "a megabyte of thinking");
}

static const reward_row tag_count_rows[] = {
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer>", NULL, 1, "all four tags once"),
    ROW("", NULL, 0, "empty completion"),
    ROW("<think>abc</think><answer>42</answer>", NULL, 0, "tags without their newlines"),
    ROW("<think>\n", NULL, 0.25f, "only <think>\\n"),
    ROW("\n</think>\n", NULL, 0.25f, "only \\n</think>\\n"),
    ROW("\n<answer>\n", NULL, 0.25f, "only \\n<answer>\\n"),
    ROW("\n</answer>", NULL, 0.25f, "only \\n</answer>"),
    ROW("<think>\n</think>\n", NULL, 0.5f, "different tags may share a newline (separate counts)"),
    ROW("<think>\n<think>\n", NULL, 0, "<think>\\n twice"),
    ROW("<think>\nabc\n</think>\n<answer>\n42\n</answer>\n<answer>\n43\n</answer>", NULL, 0.5f, "answer tags twice"),
    ROW("\n</answer>\n<answer>\n\n</think>\n<think>\n", NULL, 1, "the order does not matter, only the counts"),
    ROW("\n</think>\n</think>\n", NULL, 0.25f, "overlapping occurrences count once, as Python's str.count (open-r1)"),
    ROW("<think>\n\0\n</think>\n\0\n<answer>\n\0\n</answer>", NULL, 1, "NUL bytes between the tags"),
    ROW("<think>\0\n", NULL, 0, "a NUL byte inside the tag breaks it"),
    ROW("\r\n</answer>", NULL, 0.25f, "\\r\\n</answer> contains \\n</answer>"),
    ROW("<think>", NULL, 0, "unterminated, no newline"),
    ROW("  <think>\n  ", NULL, 0.25f, "white space around a tag"),
};

static void test_tag_count(void) {
    check_rows("tag_count", tag_count_rows, ROWS(tag_count_rows), grpo_reward_tag_count, NULL);
    CHECK(grpo_reward_tag_count(NULL, 0) == 0.0f, "tag_count(NULL, 0) != 0");
    size_t len;
    char *text;
    text = build("", "<think>\n", MIB / 8, "", &len);
    check_big("tag_count", text, len, NULL, 0, grpo_reward_tag_count, NULL, "repeated <think>\\n");
    text = build("", "\n", MIB, "", &len);
    check_big("tag_count", text, len, NULL, 0, grpo_reward_tag_count, NULL, "1 MiB of newlines");
    text = build("<think>\n", "z", MIB, "\n</think>\n<answer>\n1\n</answer>", &len);
    check_big("tag_count", text, len, NULL, 1, grpo_reward_tag_count, NULL, "a megabyte of thinking");
}

/* "1" followed by 400 zeros and variants: beyond a double's range. */
#define ZEROS_50 "00000000000000000000000000000000000000000000000000"
#define ZEROS_400 ZEROS_50 ZEROS_50 ZEROS_50 ZEROS_50 ZEROS_50 ZEROS_50 ZEROS_50 ZEROS_50
#define HUGE_A "1" ZEROS_400
#define HUGE_B "1" ZEROS_400 "1"

static const reward_row accuracy_rows[] = {
    /* the last <answer>...</answer> */
    ROW("<answer>42</answer>", "42", 1, "exact match"),
    ROW("<think>7</think><answer>42</answer>", "42", 1, "the think block is ignored"),
    ROW("<answer>43</answer>", "42", 0, "wrong"),
    ROW("<answer>1</answer><answer>2</answer>", "2", 1, "the last answer counts"),
    ROW("<answer>1</answer><answer>2</answer>", "1", 0, "an earlier answer does not count"),
    ROW("<answer>1</answer> <answer>2", "1", 1, "an unterminated trailing <answer> is not an answer"),
    ROW("<answer>1<answer>2</answer>", "2", 1, "the innermost <answer> before the last </answer>"),
    ROW("<answer>2", "2", 0, "unterminated answer"),
    ROW("2</answer>", "2", 0, "no <answer>"),
    ROW("</answer>2<answer>", "2", 0, "tags in the wrong order"),
    ROW("the answer is 42", "42", 0, "no tags"),
    ROW("", "42", 0, "empty completion"),
    ROW("<answer></answer>", "0", 0, "empty content is not the number 0"),
    ROW("<answer>  </answer>", "0", 0, "blank content is not the number 0"),
    ROW("<answer></answer>", "", 1, "trimmed string match: empty equals empty"),
    ROW("<answer>-</answer>", "0", 0, "a lone sign is not a number"),
    ROW("<answer>+</answer>", "-0", 0, "a lone sign is not a number"),
    ROW("<answer>.</answer>", "0", 0, "a lone point is not a number"),
    ROW("<answer>-.</answer>", "0", 0, "a sign and a point are not a number"),
    ROW("<answer>/</answer>", "0", 0, "a lone slash is not a number"),
    /* trimming and string match */
    ROW("<answer> 42 \n</answer>", "42", 1, "content is trimmed"),
    ROW("<answer>42</answer>", " \t42\n", 1, "gold is trimmed"),
    ROW("<answer>\n\r\v\f 42 \n</answer>", "42", 1, "all C white space is trimmed"),
    ROW("<answer>abc</answer>", "abc", 1, "string match"),
    ROW("<answer> abc </answer>", "abc", 1, "trimmed string match"),
    ROW("<answer>ABC</answer>", "abc", 0, "string match is case sensitive"),
    ROW("<answer>a b</answer>", "a  b", 0, "inner white space is not collapsed"),
    ROW("<answer>1\0</answer>", "1", 0, "a NUL byte is not white space"),
    ROW("<answer>\0</answer>", "", 0, "a NUL byte is not empty"),
    ROW("<think>\0</think><answer>42</answer>", "42", 1, "NUL bytes outside the answer do not matter"),
    ROW("<answer>42</answer>\0", "42", 1, "a trailing NUL byte after the answer does not matter"),
    /* numbers */
    ROW("<answer>3.0</answer>", "3", 1, "decimal equals integer"),
    ROW("<answer>0.5</answer>", "1/2", 1, "decimal equals fraction"),
    ROW("<answer>1/2</answer>", "2/4", 1, "fraction equals fraction"),
    ROW("<answer>.5</answer>", "0.5", 1, "a decimal without integer part"),
    ROW("<answer>-.5</answer>", "-1/2", 1, "signed decimal without integer part"),
    ROW("<answer>5.</answer>", "5", 1, "a decimal without fraction digits"),
    ROW("<answer>-0</answer>", "0", 1, "-0 equals 0"),
    ROW("<answer>+7</answer>", "7", 1, "explicit plus sign"),
    ROW("<answer>-7</answer>", "7", 0, "the sign matters"),
    ROW("<answer>007</answer>", "7", 1, "leading zeros"),
    ROW("<answer>-3/4</answer>", "-0.75", 1, "negative fraction"),
    ROW("<answer>3/-4</answer>", "-0.75", 0, "a sign inside the fraction is not a number"),
    ROW("<answer>1 / 2</answer>", "0.5", 0, "a fraction with spaces is not a number a/b"),
    ROW("<answer>1,234</answer>", "1234", 1, "thousands comma"),
    ROW("<answer>1234</answer>", "1,234", 1, "thousands comma in gold"),
    ROW("<answer>-1,234,567.5</answer>", "-1234567.5", 1, "several thousands commas, sign and decimals"),
    ROW("<answer>12,34</answer>", "1234", 0, "a group of 2 digits is not a thousands group"),
    ROW("<answer>1,2345</answer>", "12345", 0, "a group of 4 digits is not a thousands group"),
    ROW("<answer>1234,567</answer>", "1234567", 0, "a leading group of 4 digits"),
    ROW("<answer>1,234,56</answer>", "123456", 0, "a short last group"),
    ROW("<answer>,123</answer>", "123", 0, "a leading comma"),
    ROW("<answer>1,</answer>", "1", 0, "a trailing comma"),
    ROW("<answer>12,34</answer>", "12,34", 1, "not a number, but the same string"),
    ROW("<answer>1.0000005</answer>", "1", 1, "within 1e-6 relative"),
    ROW("<answer>1.00001</answer>", "1", 0, "beyond 1e-6 relative"),
    ROW("<answer>1000000</answer>", "1000000.5", 1, "the tolerance is relative"),
    ROW("<answer>0</answer>", "0.0000001", 0, "the tolerance is relative, not absolute"),
    ROW("<answer>1e3</answer>", "1000", 0, "exponents are not among SPEC's number forms"),
    ROW("<answer>--5</answer>", "5", 0, "two signs are not a number"),
    ROW("<answer>1.2.3</answer>", "1.2", 0, "two points are not a number"),
    ROW("<answer>5</answer>", "five", 0, "number against a word"),
    /* division by zero: not a number, so only the same string matches */
    ROW("<answer>1/0</answer>", "1/0", 1, "1/0 is not a number; the same string matches"),
    ROW("<answer>1/0</answer>", "2/0", 0, "1/0 and 2/0 are not numbers and differ as strings"),
    ROW("<answer>0/0</answer>", "0", 0, "0/0 is not 0"),
    ROW("<answer>1/0</answer>", "1/0.0", 0, "different strings"),
    /* numbers beyond a double's range are not numbers: they are compared as strings */
    ROW("<answer>" HUGE_A "</answer>", HUGE_A, 1, "the same overflowing digit string"),
    ROW("<answer>" HUGE_A "</answer>", HUGE_B, 0, "different overflowing digit strings are not both infinity"),
    ROW("<answer>-" HUGE_A "</answer>", "-" HUGE_B, 0, "different negative overflowing digit strings"),
    ROW("<answer>" HUGE_A ".5</answer>", HUGE_A ".25", 0, "overflowing decimals"),
    ROW("<answer>" HUGE_A "/" HUGE_A "</answer>", "1", 0, "inf/inf is not 1"),
    ROW("<answer>1/" HUGE_A "</answer>", "0", 0, "an overflowing denominator does not make the fraction 0"),
    ROW("<answer>1/" HUGE_A "</answer>", "2/" HUGE_A, 0, "fractions with an overflowing denominator are not both 0"),
    ROW("<answer>0." ZEROS_400 "1</answer>", "0", 0, "1e-401 is not 0 (the fraction's scale overflows)"),
    ROW("<answer>0." ZEROS_400 "1</answer>", "0." ZEROS_400 "2", 0, "1e-401 is not 2e-401"),
};

static void test_accuracy(void) {
    check_rows("accuracy", accuracy_rows, ROWS(accuracy_rows), NULL, grpo_reward_accuracy);
    CHECK(grpo_reward_accuracy("<answer>1</answer>", 18, NULL) == 0.0f, "accuracy with gold NULL != 0");
    CHECK(grpo_reward_accuracy(NULL, 0, "1") == 0.0f, "accuracy of text NULL != 0");
    size_t len;
    char *text;
    text = build("", "<", MIB, "", &len);
    check_big("accuracy", text, len, "1", 0, NULL, grpo_reward_accuracy, "1 MiB of '<'");
    text = build("", "<answer>", MIB / 8, "", &len);
    check_big("accuracy", text, len, "1", 0, NULL, grpo_reward_accuracy, "repeated <answer>, never closed");
    text = build("", "</answer>", MIB / 9, "", &len);
    check_big("accuracy", text, len, "1", 0, NULL, grpo_reward_accuracy, "repeated </answer>, never opened");
    text = build("", "<answer>", MIB / 8, "7</answer>", &len);
    check_big("accuracy", text, len, "7", 1, NULL, grpo_reward_accuracy, "repeated <answer>, the last one closed");
    text = build("<answer>", "9", MIB, "</answer>", &len);
    check_big("accuracy", text, len, "1", 0, NULL, grpo_reward_accuracy, "a megabyte-long overflowing number");
    char *gold = build("", "x", MIB, "", &len);
    text = build("<answer>", "x", MIB, "</answer>", &len);
    check_big("accuracy", text, len, gold, 1, NULL, grpo_reward_accuracy, "a megabyte-long string answer");
    free(gold);
}

static const reward_row countdown_rows[] = {
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 = 24", 1, "correct"),
    ROW("<answer> ( 3 * 5 ) + 7 + 2 </answer>", "3 5 7 2 = 24", 1, "spaces and parentheses"),
    ROW("<answer>\n2+7+5*3\n</answer>", "3 5 7 2 = 24", 1, "any order, content trimmed"),
    ROW("<think>3*5+7+2</think><answer>3*5+7+2</answer>", "  3 5 7 2=24  ", 1, "gold with odd spacing"),
    ROW("<answer>((((((((((3*5+7+2))))))))))</answer>", "3 5 7 2 = 24", 1, "10 nested parentheses are fine"),
    ROW("<answer>1</answer><answer>3*5+7+2</answer>", "3 5 7 2 = 24", 1, "the last answer counts"),
    ROW("<answer>3*5+7+2</answer><answer>1</answer>", "3 5 7 2 = 24", 0.1f, "an earlier answer does not count"),
    ROW("<answer>3*5+7-2</answer>", "3 5 7 2 = 24", 0.1f, "wrong value"),
    ROW("<answer>3*5+7+2+2</answer>", "3 5 7 2 = 24", 0.1f, "2 used twice"),
    ROW("<answer>3*5+7</answer>", "3 5 7 2 = 24", 0.1f, "a number missing"),
    ROW("<answer>3*5+7+2+0</answer>", "3 5 7 2 = 24", 0.1f, "an extra number, right value"),
    ROW("<answer>3*5+7+2*1</answer>", "3 5 7 2 = 24", 0.1f, "an extra 1, right value"),
    ROW("<answer>35-7-2-2</answer>", "3 5 7 2 = 24", 0.1f, "digits glued into another number"),
    ROW("<answer>3*3+5</answer>", "3 3 5 = 14", 1, "a repeated given number used as often as given"),
    ROW("<answer>3*5+3</answer>", "3 3 5 = 14", 0.1f, "wrong value with repeated numbers"),
    ROW("<answer>4/(2-2)</answer>", "2 2 4 = 4", 0.1f, "division by zero is wrong, not a crash"),
    ROW("<answer>0/0+2+2</answer>", "0 0 2 2 = 4", 0.1f, "0/0 is wrong"),
    ROW("<answer>2-5</answer>", "2 5 = -3", 1, "negative target"),
    ROW("<answer>-2+3</answer>", "2 3 = 1", 1, "unary minus"),
    ROW("<answer>3--2</answer>", "3 2 = 5", 1, "unary minus after binary minus"),
    ROW("<answer>-(2-3)</answer>", "2 3 = 1", 1, "unary minus before parentheses"),
    ROW("<answer>+3*5+7+2</answer>", "3 5 7 2 = 24", 1, "unary plus"),
    ROW("<answer>7/2*2</answer>", "7 2 2 = 7", 1, "fractional intermediate"),
    ROW("<answer>1/49*49</answer>", "1 49 49 = 1", 1, "0.9999999999999999 is 1 within 1e-5"),
    ROW("<answer>7/2</answer>", "7 2 = 3", 0.1f, "3.5 is not 3 (no integer division)"),
    ROW("<answer>7/2</answer>", "7 2 = 4", 0.1f, "3.5 is not 4 (no rounding)"),
    ROW("<answer>3*5+7+2=24</answer>", "3 5 7 2 = 24", 0.1f, "'=' is not allowed"),
    ROW("<answer>3*5+7+2.0</answer>", "3 5 7 2 = 24", 0.1f, "decimal literals are not allowed"),
    ROW("<answer>3x5+7+2</answer>", "3 5 7 2 = 24", 0.1f, "'x' is not an operator"),
    ROW("<answer>3**5</answer>", "3 5 = 243", 0.1f, "no power operator"),
    ROW("<answer>3^5</answer>", "3 5 = 6", 0.1f, "'^' is not allowed"),
    ROW("<answer>eval(3*5+7+2)</answer>", "3 5 7 2 = 24", 0.1f, "no function calls"),
    ROW("<answer>__import__('os')</answer>", "3 5 7 2 = 24", 0.1f, "never eval"),
    ROW("<answer>3*5+7+\0 2</answer>", "3 5 7 2 = 24", 0.1f, "a NUL byte inside the expression"),
    ROW("<answer>(3*5+7+2</answer>", "3 5 7 2 = 24", 0.1f, "unbalanced ("),
    ROW("<answer>3*5+7+2)</answer>", "3 5 7 2 = 24", 0.1f, "unbalanced )"),
    ROW("<answer>()</answer>", "3 5 7 2 = 24", 0.1f, "empty parentheses"),
    ROW("<answer>3*5+7+2+</answer>", "3 5 7 2 = 24", 0.1f, "dangling operator"),
    ROW("<answer>3 5 7 2</answer>", "3 5 7 2 = 24", 0.1f, "numbers without operators"),
    ROW("<answer></answer>", "3 5 7 2 = 24", 0.1f, "an empty answer is present but malformed"),
    ROW("<answer>  </answer>", "3 5 7 2 = 24", 0.1f, "a blank answer is present but malformed"),
    ROW("<answer>9007199254740992*1</answer>", "9007199254740993 1 = 9007199254740993", 0.1f,
        "16-digit literals are refused: 2^53 and 2^53+1 are the same double"),
    ROW("<answer>1000000000000000*1-1000000000000000</answer>", "1000000000000000 1 1000000000000000 = 0", 0.1f,
        "16-digit literals are refused"),
    ROW("<answer>100000000000000*1-100000000000000</answer>", "100000000000000 1 100000000000000 = 0", 1,
        "15-digit literals are fine"),
    ROW("<answer>999999999999999*999999999999999*999999999999999*999999999999999*999999999999999*999999999999999"
        "*999999999999999*999999999999999*999999999999999*999999999999999*999999999999999*999999999999999"
        "*999999999999999*999999999999999*999999999999999*999999999999999*999999999999999*999999999999999"
        "*999999999999999*999999999999999*999999999999999*999999999999999</answer>",
        "1 = 1", 0.1f, "a product overflowing to infinity is wrong"),
    /* no answer */
    ROW("3*5+7+2", "3 5 7 2 = 24", 0, "no answer tags"),
    ROW("<answer>3*5+7+2", "3 5 7 2 = 24", 0, "unterminated answer"),
    ROW("", "3 5 7 2 = 24", 0, "empty completion"),
    ROW("</answer>3*5+7+2<answer>", "3 5 7 2 = 24", 0, "tags in the wrong order"),
    /* malformed gold: NaN, whatever the completion */
    ROW("<answer>3*5+7+2</answer>", "", NAN, "empty gold"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2", NAN, "gold without '='"),
    ROW("<answer>3*5+7+2</answer>", "= 24", NAN, "gold without numbers"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 =", NAN, "gold without target"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 = ", NAN, "gold with a blank target"),
    ROW("<answer>3*5+7+2</answer>", "3 5 x 2 = 24", NAN, "a word in gold"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 = 24 25", NAN, "two targets"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 = 24 = 24", NAN, "two '='"),
    ROW("<answer>3*5+7+2</answer>", "3,5,7,2 = 24", NAN, "commas in gold"),
    ROW("<answer>3*5+7+2</answer>", "3 5 7 2 = x", NAN, "a word as target"),
    ROW("no answer", "3 5 7 2", NAN, "malformed gold and no answer: still NaN"),
};

static void test_countdown(void) {
    check_rows("countdown", countdown_rows, ROWS(countdown_rows), NULL, grpo_reward_countdown);
    CHECK(isnan(grpo_reward_countdown("<answer>1</answer>", 18, NULL)), "countdown with gold NULL is not NaN");
    CHECK(grpo_reward_countdown(NULL, 0, "1 = 1") == 0.0f, "countdown of text NULL != 0");
    size_t len;
    char *text;
    /* "<answer>(((...(3*5+7+2)...)))</answer>": the opening half, then the closing half around it */
    size_t open_len;
    char *opening = build("<answer>", "(", 10000, "3*5+7+2", &open_len);
    char *nested = build(opening, ")", 10000, "</answer>", &len);
    free(opening);
    check_big("countdown", nested, len, "3 5 7 2 = 24", 0.1f, NULL, grpo_reward_countdown,
              "10000 nested parentheses: refused without a stack overflow");
    text = build("<answer>", "-", 100000, "1</answer>", &len);
    check_big("countdown", text, len, "1 = 1", 0.1f, NULL, grpo_reward_countdown, "100000 unary minuses");
    text = build("<answer>1", "+1", MIB / 2, "</answer>", &len);
    check_big("countdown", text, len, "1 1 = 2", 0.1f, NULL, grpo_reward_countdown, "a megabyte of 1+1+...");
    text = build("<answer>", " ", MIB, "1+1</answer>", &len);
    check_big("countdown", text, len, "1 1 = 2", 1, NULL, grpo_reward_countdown, "a megabyte of leading spaces");
    text = build("<answer>", "9", MIB, "</answer>", &len);
    check_big("countdown", text, len, "9 = 9", 0.1f, NULL, grpo_reward_countdown, "a megabyte-long literal");
    text = build("", "<answer>", MIB / 8, "", &len);
    check_big("countdown", text, len, "1 = 1", 0, NULL, grpo_reward_countdown, "repeated <answer>, never closed");
    text = build("", "<", MIB, "", &len);
    check_big("countdown", text, len, "1 = 1", 0, NULL, grpo_reward_countdown, "1 MiB of '<'");
}

typedef struct {
    int tokens, max_tokens, buffer;
    float expected;
    const char *why;
} overlong_row;

static void test_overlong(void) {
    static const overlong_row rows[] = {
        {0, 100, 20, 0, "short"},
        {-5, 100, 20, 0, "negative length is short"},
        {80, 100, 20, 0, "L = L_max - L_c: still 0"},
        {81, 100, 20, -0.05f, "L = L_max - L_c + 1: the ramp starts"},
        {90, 100, 20, -0.5f, "half way down the ramp"},
        {99, 100, 20, -0.95f, "L = L_max - 1"},
        {100, 100, 20, -1, "L = L_max: -1, the end of the ramp"},
        {101, 100, 20, -1, "L = L_max + 1: beyond"},
        {1000000, 100, 20, -1, "far beyond"},
        {INT_MAX, 100, 20, -1, "INT_MAX tokens"},
        {INT_MIN, 100, 20, 0, "INT_MIN tokens"},
        {0, 10, 10, 0, "L_c = L_max, L = 0"},
        {1, 10, 10, -0.1f, "L_c = L_max, L = 1"},
        {10, 10, 10, -1, "L_c = L_max, L = L_max"},
        {11, 10, 10, -1, "L_c = L_max, beyond"},
        {99, 100, 1, 0, "L_c = 1, L = L_max - 1"},
        {100, 100, 1, -1, "L_c = 1, L = L_max"},
        {INT_MAX - 1, INT_MAX, 1, 0, "INT_MAX limits, below"},
        {INT_MAX, INT_MAX, 1, -1, "INT_MAX limits, at L_max"},
        {INT_MAX, INT_MAX, INT_MAX, -1, "L_c = L_max = INT_MAX"},
        {INT_MIN, INT_MAX, INT_MAX, 0, "INT_MIN tokens, L_c = L_max = INT_MAX"},
        {50, 100, 0, NAN, "buffer 0 is invalid"},
        {50, 100, -1, NAN, "negative buffer is invalid"},
        {50, 100, 101, NAN, "buffer > L_max is invalid"},
        {50, 0, 0, NAN, "L_max 0 is invalid"},
        {50, -10, -20, NAN, "negative L_max is invalid"},
        {50, INT_MIN, INT_MIN, NAN, "INT_MIN limits are invalid"},
    };
    for (size_t i = 0; i < ROWS(rows); i++) {
        float got = grpo_reward_overlong(rows[i].tokens, rows[i].max_tokens, rows[i].buffer);
        CHECK(same_value(got, rows[i].expected), "overlong row %zu (L %d, L_max %d, L_c %d): got %g, expected %g -- %s", i,
              rows[i].tokens, rows[i].max_tokens, rows[i].buffer, (double)got, (double)rows[i].expected, rows[i].why);
    }
    /* in [-1, 0] and non-increasing in L */
    float previous = 0.0f;
    for (int L = 0; L <= 130; L++) {
        float v = grpo_reward_overlong(L, 100, 30);
        CHECK(v >= -1.0f && v <= 0.0f && v <= previous, "overlong(%d, 100, 30) = %g is outside [-1, 0] or increased", L, (double)v);
        previous = v;
    }
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int calls;
    const char *prompt, *completion, *gold;
    float value;
} callback_state;

static float recording_callback(const char *prompt, const char *completion, const char *gold, void *user) {
    callback_state *state = (callback_state *)user;
    state->calls++;
    state->prompt = prompt;
    state->completion = completion;
    state->gold = gold;
    return state->value;
}

static float abstaining_callback(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)completion; (void)gold;
    if (user) (*(int *)user)++;
    return NAN;
}

static float length_callback(const char *prompt, const char *completion, const char *gold, void *user) {
    (void)prompt; (void)gold; (void)user;
    return (float)strlen(completion); /* a NUL byte ends the completion for a callback */
}

static void test_completion(void) {
    const char *prompt = "what is 6*7?";
    const char text[] = "<think>\n6*7\n</think>\n<answer>\n42\n</answer>";
    size_t len = sizeof text - 1;
    float values[8];

    {   /* weights, default weight 1 for weight 0 */
        grpo_reward rewards[] = {
            {.kind = GRPO_REWARD_FORMAT},                     /* weight 0: default 1 */
            {.kind = GRPO_REWARD_ACCURACY, .weight = 2.0f},
            {.kind = GRPO_REWARD_TAG_COUNT, .weight = 0.5f},
            {.kind = GRPO_REWARD_FORMAT_STRICT, .weight = -1.0f}, /* a penalty */
            {.kind = GRPO_REWARD_OVERLONG, .weight = 3.0f, .overlong_max_tokens = 100, .overlong_buffer = 20},
        };
        CHECK(grpo_reward_validate(rewards, 5) == GRPO_SUCCESS, "valid rewards refused: %s", grpo_last_error());
        float total = grpo_reward_completion(rewards, 5, prompt, text, len, 90, "42", values);
        CHECK(values[0] == 1.0f && values[1] == 1.0f && values[2] == 1.0f && values[3] == 1.0f && fabsf(values[4] + 0.5f) < 1e-6f,
              "values %g %g %g %g %g, expected 1 1 1 1 -0.5", (double)values[0], (double)values[1], (double)values[2],
              (double)values[3], (double)values[4]);
        float expected = 1.0f * 1 + 2.0f * 1 + 0.5f * 1 - 1.0f * 1 + 3.0f * -0.5f;
        CHECK(fabsf(total - expected) < 1e-6f, "weighted total %g, expected %g", (double)total, (double)expected);
        CHECK(same_value(grpo_reward_completion(rewards, 5, prompt, text, len, 90, "42", NULL), total), "values NULL changes the total");
        total = grpo_reward_completion(rewards, 5, prompt, text, len, 10, "41", values);
        CHECK(values[1] == 0.0f && values[4] == 0.0f && fabsf(total - 0.5f) < 1e-6f, "wrong answer, short: total %g, expected 1 + 0.5 - 1 = 0.5", (double)total);
    }
    {   /* a callback gets prompt, completion, gold and user */
        callback_state state = {0, NULL, NULL, NULL, 0.7f};
        grpo_reward rewards[] = {
            {.kind = GRPO_REWARD_CALLBACK, .weight = 2.0f, .function = recording_callback, .user = &state, .name = "mine"},
            {.kind = GRPO_REWARD_FORMAT},
        };
        CHECK(grpo_reward_validate(rewards, 2) == GRPO_SUCCESS, "callback reward refused: %s", grpo_last_error());
        float total = grpo_reward_completion(rewards, 2, prompt, text, len, 10, "42", values);
        CHECK(state.calls == 1 && state.prompt == prompt && state.gold && strcmp(state.gold, "42") == 0 && state.completion &&
                  strcmp(state.completion, text) == 0,
              "callback called %d times with prompt %p (expected %p), gold %s, completion %s", state.calls, (const void *)state.prompt,
              (const void *)prompt, state.gold ? state.gold : "(null)", state.completion ? escaped(state.completion, strlen(state.completion)) : "(null)");
        CHECK(fabsf(values[0] - 0.7f) < 1e-6f && values[1] == 1.0f, "values %g %g, expected 0.7 1", (double)values[0], (double)values[1]);
        CHECK(fabsf(total - (2.0f * 0.7f + 1.0f)) < 1e-6f, "total %g, expected 2.4", (double)total);
        CHECK(strcmp(grpo_reward_name(&rewards[0]), "mine") == 0 && strcmp(grpo_reward_name(&rewards[1]), "format") == 0,
              "reward names %s %s", grpo_reward_name(&rewards[0]), grpo_reward_name(&rewards[1]));
        /* weight 0 on a callback: default 1 */
        rewards[0].weight = 0.0f;
        total = grpo_reward_completion(rewards, 2, prompt, text, len, 10, "42", values);
        CHECK(fabsf(total - 1.7f) < 1e-6f, "callback weight 0 -> 1: total %g, expected 1.7", (double)total);
    }
    {   /* a callback sees a completion with a NUL byte as a C string ending at the NUL */
        const char with_nul[] = "<think>a\0b</think><answer>1</answer>";
        grpo_reward rewards[] = {{.kind = GRPO_REWARD_CALLBACK, .function = length_callback}, {.kind = GRPO_REWARD_FORMAT}};
        grpo_reward_completion(rewards, 2, prompt, with_nul, sizeof with_nul - 1, 10, "1", values);
        CHECK(values[0] == 8.0f && values[1] == 1.0f, "NUL completion: callback saw %g bytes (expected 8), format %g (expected 1)",
              (double)values[0], (double)values[1]);
    }
    {   /* NaN abstention */
        int abstentions = 0;
        grpo_reward rewards[] = {
            {.kind = GRPO_REWARD_CALLBACK, .weight = 5.0f, .function = abstaining_callback, .user = &abstentions},
            {.kind = GRPO_REWARD_ACCURACY, .weight = 2.0f},
            {.kind = GRPO_REWARD_COUNTDOWN, .weight = 7.0f}, /* gold "42" is not countdown gold: NaN */
        };
        float total = grpo_reward_completion(rewards, 3, prompt, text, len, 10, "42", values);
        CHECK(abstentions == 1 && isnan(values[0]) && values[1] == 1.0f && isnan(values[2]),
              "abstention: calls %d values %g %g %g, expected NaN 1 NaN", abstentions, (double)values[0], (double)values[1], (double)values[2]);
        CHECK(fabsf(total - 2.0f) < 1e-6f, "abstaining rewards are left out of the sum: total %g, expected 2", (double)total);
        /* all abstain */
        grpo_reward none[] = {
            {.kind = GRPO_REWARD_CALLBACK, .function = abstaining_callback},
            {.kind = GRPO_REWARD_COUNTDOWN},
        };
        total = grpo_reward_completion(none, 2, prompt, text, len, 10, "not countdown gold", values);
        CHECK(isnan(total), "all rewards abstain: total %g, expected NaN", (double)total);
        total = grpo_reward_completion(none, 0, prompt, text, len, 10, "42", values);
        CHECK(isnan(total), "no rewards: total %g, expected NaN", (double)total);
    }
    {   /* a completion with a NUL byte, through every built-in kind */
        const char with_nul[] = "<think>\na\0b\n</think>\n<answer>\n3*5+7+2\n</answer>";
        grpo_reward rewards[] = {
            {.kind = GRPO_REWARD_FORMAT}, {.kind = GRPO_REWARD_FORMAT_STRICT}, {.kind = GRPO_REWARD_TAG_COUNT},
            {.kind = GRPO_REWARD_ACCURACY}, {.kind = GRPO_REWARD_COUNTDOWN},
            {.kind = GRPO_REWARD_OVERLONG, .overlong_max_tokens = 10, .overlong_buffer = 10},
        };
        float total = grpo_reward_completion(rewards, 6, prompt, with_nul, sizeof with_nul - 1, 5, "3 5 7 2 = 24", values);
        CHECK(values[0] == 1 && values[1] == 1 && values[2] == 1 && values[3] == 0 && values[4] == 1 && fabsf(values[5] + 0.5f) < 1e-6f,
              "NUL completion: values %g %g %g %g %g %g, expected 1 1 1 0 1 -0.5", (double)values[0], (double)values[1],
              (double)values[2], (double)values[3], (double)values[4], (double)values[5]);
        CHECK(fabsf(total - 3.5f) < 1e-6f, "NUL completion: total %g, expected 3.5", (double)total);
    }
}

static void check_invalid(const grpo_reward *rewards, int n, const char *needle, const char *why) {
    grpo_result r = grpo_reward_validate(rewards, n);
    CHECK(r == GRPO_ERROR_INVALID_CONFIG, "%s: validate returned %d, expected GRPO_ERROR_INVALID_CONFIG", why, (int)r);
    CHECK(strstr(grpo_last_error(), needle) != NULL, "%s: message \"%s\" does not name %s", why, grpo_last_error(), needle);
}

static void test_validate(void) {
    grpo_reward good[] = {
        {.kind = GRPO_REWARD_FORMAT}, {.kind = GRPO_REWARD_FORMAT_STRICT, .weight = -1.0f}, {.kind = GRPO_REWARD_TAG_COUNT},
        {.kind = GRPO_REWARD_ACCURACY, .weight = 2.0f}, {.kind = GRPO_REWARD_COUNTDOWN},
        {.kind = GRPO_REWARD_OVERLONG, .overlong_max_tokens = 100, .overlong_buffer = 100},
        {.kind = GRPO_REWARD_CALLBACK, .function = length_callback},
    };
    CHECK(grpo_reward_validate(good, 7) == GRPO_SUCCESS, "a valid config was refused: %s", grpo_last_error());

    check_invalid(NULL, 1, "rewards", "rewards NULL");
    check_invalid(good, 0, "rewards", "no rewards");
    check_invalid(good, -3, "rewards", "negative count");
    grpo_reward bad[3];
    memcpy(bad, good, sizeof bad);
    bad[1].kind = (grpo_reward_kind)0;
    check_invalid(bad, 3, "rewards[1]", "kind 0");
    memcpy(bad, good, sizeof bad);
    bad[2].kind = (grpo_reward_kind)99;
    check_invalid(bad, 3, "rewards[2]", "kind 99");
    memcpy(bad, good, sizeof bad);
    bad[0].kind = (grpo_reward_kind)-1;
    check_invalid(bad, 3, "rewards[0]", "kind -1");
    memcpy(bad, good, sizeof bad);
    bad[1].weight = NAN;
    check_invalid(bad, 3, "rewards[1]", "weight NaN");
    memcpy(bad, good, sizeof bad);
    bad[2].weight = INFINITY;
    check_invalid(bad, 3, "rewards[2]", "weight +inf");
    memcpy(bad, good, sizeof bad);
    bad[0].weight = -INFINITY;
    check_invalid(bad, 3, "rewards[0]", "weight -inf");
    grpo_reward callback[2] = {{.kind = GRPO_REWARD_FORMAT}, {.kind = GRPO_REWARD_CALLBACK}};
    check_invalid(callback, 2, "rewards[1]", "a callback without a function");
    grpo_reward overlong[2] = {{.kind = GRPO_REWARD_FORMAT}, {.kind = GRPO_REWARD_OVERLONG}};
    check_invalid(overlong, 2, "rewards[1]", "overlong without limits");
    overlong[1].overlong_max_tokens = 100; overlong[1].overlong_buffer = 0;
    check_invalid(overlong, 2, "rewards[1]", "overlong buffer 0");
    overlong[1].overlong_buffer = -5;
    check_invalid(overlong, 2, "rewards[1]", "overlong buffer negative");
    overlong[1].overlong_buffer = 101;
    check_invalid(overlong, 2, "rewards[1]", "overlong buffer > max_tokens");
    overlong[1].overlong_max_tokens = 0; overlong[1].overlong_buffer = 0;
    check_invalid(overlong, 2, "rewards[1]", "overlong max_tokens 0");
    overlong[1].overlong_max_tokens = -100; overlong[1].overlong_buffer = -200;
    check_invalid(overlong, 2, "rewards[1]", "overlong negative limits");
    overlong[1].overlong_max_tokens = 100; overlong[1].overlong_buffer = 100;
    CHECK(grpo_reward_validate(overlong, 2) == GRPO_SUCCESS, "overlong buffer = max_tokens refused: %s", grpo_last_error());
    overlong[1].overlong_buffer = 1;
    CHECK(grpo_reward_validate(overlong, 2) == GRPO_SUCCESS, "overlong buffer 1 refused: %s", grpo_last_error());
}

int main(void) {
    TEST(test_format);
    TEST(test_format_strict);
    TEST(test_tag_count);
    TEST(test_accuracy);
    TEST(test_countdown);
    TEST(test_overlong);
    TEST(test_completion);
    TEST(test_validate);
    return test_finish("test_rewards");
}
