/* libFuzzer target for the rule rewards (SPEC.md section 2).

   Input: GOLD 0x1E COMPLETION. The gold is a C string (it ends at its first NUL byte); the
   completion is every byte after the first 0x1E (record separator), NULs included. Without a
   0x1E the whole input is the completion and the gold is "3 5 7 2 = 24".

   Every reward parser runs on an exactly-sized heap copy of the completion (so ASan sees any read
   past `len`), and invariants that must hold for every input are checked; a violation prints
   what failed and traps.

   Build and run: tests/fuzz/run.sh fuzz_rewards 60
   Replay without libFuzzer: cc -fsanitize=address,undefined -I. tests/fuzz/replay.c
                             tests/fuzz/fuzz_rewards.c -lm -o replay && ./replay FILES... */
#define GRPO_IMPLEMENTATION
#include "grpo.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* ------------------------------------------------------------------------------------------
   Reference predicates, written independently of grpo.h's parsers. */

static int fz_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int fz_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Naive search: first occurrence of needle in text[from, len), or -1. */
static long fz_find(const char *text, size_t len, size_t from, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= len; i++)
        if (memcmp(text + i, needle, n) == 0) return (long)i;
    return -1;
}

/* Is there an <answer> ... </answer> pair, in this order, anywhere? */
static int fz_has_answer(const char *text, size_t len) {
    long open = fz_find(text, len, 0, "<answer>");
    return open >= 0 && fz_find(text, len, (size_t)open + 8, "</answer>") >= 0;
}

/* Countdown gold: ws* (digits ws*)+ '=' ws* ['-'] digits ws*, with at most 64 numbers (grpo.h's
   documented cap on the numbers of a puzzle). The numbers go to numbers[] (NULL: not needed)
   as decimal strings of at most 15 digits; *small is 0 if one is longer. */
static int fz_countdown_gold(const char *gold, int *n_numbers, unsigned long long *numbers, unsigned long long *sum,
                             int *small) {
    const unsigned char *p = (const unsigned char *)gold;
    int n = 0;
    *small = 1;
    *sum = 0;
    for (;;) {
        while (fz_space(*p)) p++;
        if (*p == '=') break;
        if (!fz_digit(*p)) return 0;
        const unsigned char *first = p;
        unsigned long long v = 0;
        while (fz_digit(*p)) { v = v * 10 + (unsigned long long)(*p - '0'); p++; }
        /* leading zeros do not count towards the magnitude, but do towards the literal */
        if (p - first > 15) *small = 0;
        if (n < 64) { numbers[n] = v; if (*small) *sum += v; }
        n++;
    }
    p++;
    while (fz_space(*p)) p++;
    if (*p == '-') p++;
    if (!fz_digit(*p)) return 0;
    while (fz_digit(*p)) p++;
    while (fz_space(*p)) p++;
    *n_numbers = n;
    return *p == 0 && n >= 1 && n <= 64;
}

static int fz_contains(const char *s, size_t len, const char *needle) { return fz_find(s, len, 0, needle) >= 0; }

/* "<answer>" + content + "</answer>" */
static char *fz_wrap(const char *content, size_t n, size_t *len) {
    *len = n + 17;
    char *out = (char *)malloc(*len);
    memcpy(out, "<answer>", 8);
    memcpy(out + 8, content, n);
    memcpy(out + 8 + n, "</answer>", 9);
    return out;
}

/* The content of the last <answer>...</answer> (the last </answer>, and the last <answer> that
   ends before it), trimmed; 0 if there is none. */
static int fz_answer(const char *text, size_t len, size_t *start, size_t *end) {
    long close = -1, open = -1;
    for (long at = fz_find(text, len, 0, "</answer>"); at >= 0; at = fz_find(text, len, (size_t)at + 1, "</answer>")) close = at;
    if (close < 0) return 0;
    for (long at = fz_find(text, (size_t)close, 0, "<answer>"); at >= 0; at = fz_find(text, (size_t)close, (size_t)at + 1, "<answer>")) open = at;
    if (open < 0) return 0;
    *start = (size_t)open + 8;
    *end = (size_t)close;
    while (*start < *end && fz_space((unsigned char)text[*start])) (*start)++;
    while (*end > *start && fz_space((unsigned char)text[*end - 1])) (*end)--;
    return 1;
}

/* An unsigned integer with optional thousands commas (first group 1-3 digits, then groups of
   exactly 3), copied without its commas to out. Returns its length in s, or 0 if it is not one. */
static size_t fz_integer(const char *s, size_t n, char *out, size_t *out_len, size_t *significant) {
    size_t i = 0, group = 0, groups = 0;
    *out_len = 0;
    while (i < n) {
        if (fz_digit((unsigned char)s[i])) { out[(*out_len)++] = s[i]; group++; i++; }
        else if (s[i] == ',' && group > 0 && i + 1 < n && fz_digit((unsigned char)s[i + 1])) {
            if ((groups == 0 && group > 3) || (groups > 0 && group != 3)) return 0;
            groups++; group = 0; i++;
        } else break;
    }
    if (*out_len == 0 || (groups > 0 && group != 3)) return 0;
    size_t lead = 0;
    while (lead < *out_len && out[lead] == '0') lead++;
    *significant = *out_len - lead;
    out[*out_len] = 0;
    return i;
}

/* SPEC's numbers, parsed independently (strtod on a cleaned copy):
   [+-] ( integer [ '/' integer | '.' digits* ] | '.' digits+ ).
   1: a number (*value); 0: not a number (no digits, bad commas, x/0, or an integer part or a
   denominator beyond a double's range); -1: no opinion (digit strings near the edge of the
   double range, where rounding decides, or over 300 decimal digits). */
static int fz_number(const char *s, size_t n, double *value) {
    char *a = (char *)malloc(2 * n + 8), *b = (char *)malloc(n + 8);
    size_t i = 0, a_len = 0, b_len = 0, significant = 0, used;
    int result = 0;
    double sign = 1.0;
    if (i < n && (s[i] == '+' || s[i] == '-')) { sign = s[i] == '-' ? -1.0 : 1.0; i++; }
    if (i < n && s[i] == '.') {
        size_t first = ++i;
        while (i < n && fz_digit((unsigned char)s[i])) i++;
        if (i == first || i != n) goto done;
        if (i - first > 300) { result = -1; goto done; }
        a[0] = '0'; a[1] = '.';
        memcpy(a + 2, s + first, i - first);
        a[2 + i - first] = 0;
        *value = sign * strtod(a, NULL);
        result = 1;
        goto done;
    }
    if ((used = fz_integer(s + i, n - i, a, &a_len, &significant)) == 0) goto done;
    i += used;
    if (significant > 320) { result = 0; goto done; } /* overflows: not a number */
    if (significant >= 300) { result = -1; goto done; }
    if (i < n && s[i] == '/') {
        i++;
        size_t b_significant;
        if ((used = fz_integer(s + i, n - i, b, &b_len, &b_significant)) == 0 || i + used != n) goto done;
        if (b_significant == 0 || b_significant > 320) { result = 0; goto done; } /* x/0, or x/overflow */
        if (b_significant >= 300) { result = -1; goto done; }
        *value = sign * (strtod(a, NULL) / strtod(b, NULL));
        result = 1;
        goto done;
    }
    if (i < n && s[i] == '.') {
        size_t first = ++i;
        while (i < n && fz_digit((unsigned char)s[i])) i++;
        if (i != n) goto done;
        if (i - first > 300) { result = -1; goto done; }
        a[a_len++] = '.';
        memcpy(a + a_len, s + first, i - first);
        a[a_len + i - first] = 0;
    } else if (i != n) {
        goto done;
    }
    *value = sign * strtod(a, NULL);
    result = 1;
done:
    free(a);
    free(b);
    return result;
}

/* The accuracy SPEC asks for, or -1 for no opinion (numbers at the tolerance's edge or at the
   edge of the double range). */
static int fz_accuracy(const char *text, size_t len, const char *gold) {
    size_t start, end, g0 = 0, g1 = strlen(gold);
    if (!fz_answer(text, len, &start, &end)) return 0;
    while (g0 < g1 && fz_space((unsigned char)gold[g0])) g0++;
    while (g1 > g0 && fz_space((unsigned char)gold[g1 - 1])) g1--;
    double x, y;
    int nx = fz_number(text + start, end - start, &x), ny = fz_number(gold + g0, g1 - g0, &y);
    int same_string = end - start == g1 - g0 && memcmp(text + start, gold + g0, end - start) == 0;
    if (nx == 1 && ny == 1) {
        double scale = fabs(x) > fabs(y) ? fabs(x) : fabs(y), diff = fabs(x - y);
        if (fabs(diff - 1e-6 * scale) <= 1e-8 * scale + 1e-300) return -1;
        return diff <= 1e-6 * scale || same_string;
    }
    if (nx == -1 || ny == -1) return same_string ? 1 : -1;
    return same_string;
}

/* The format reward, independently: each tag once, <think> at 0, </answer> at the end, the
   blocks in order with only white space between; strict adds open-r1's newlines. */
static size_t fz_count(const char *text, size_t len, const char *needle) {
    size_t count = 0, n = strlen(needle);
    for (size_t i = 0; i + n <= len;) {
        if (memcmp(text + i, needle, n) == 0) { count++; i += n; }
        else i++;
    }
    return count;
}

static void fz_format(const char *text, size_t len, int *format, int *strict) {
    *format = *strict = 0;
    if (fz_count(text, len, "<think>") != 1 || fz_count(text, len, "</think>") != 1 || fz_count(text, len, "<answer>") != 1 ||
        fz_count(text, len, "</answer>") != 1)
        return;
    size_t to = (size_t)fz_find(text, len, 0, "<think>"), tc = (size_t)fz_find(text, len, 0, "</think>");
    size_t ao = (size_t)fz_find(text, len, 0, "<answer>"), ac = (size_t)fz_find(text, len, 0, "</answer>");
    if (to != 0 || tc < to + 7 || ao < tc + 8 || ac < ao + 8 || ac + 9 != len) return;
    for (size_t i = tc + 8; i < ao; i++) if (!fz_space((unsigned char)text[i])) return;
    *format = 1;
    /* ^<think>\n(.*?)\n</think>\n<answer>\n(.*?)\n</answer>$ : the two \n around each content are distinct */
    *strict = tc >= 9 && text[7] == '\n' && text[tc - 1] == '\n' && ao == tc + 9 && text[tc + 8] == '\n' && ac >= ao + 10 &&
              text[ao + 8] == '\n' && text[ac - 1] == '\n';
}

static float fz_tag_count(const char *text, size_t len) {
    float r = 0.0f;
    if (fz_count(text, len, "<think>\n") == 1) r += 0.25f;
    if (fz_count(text, len, "\n</think>\n") == 1) r += 0.25f;
    if (fz_count(text, len, "\n<answer>\n") == 1) r += 0.25f;
    if (fz_count(text, len, "\n</answer>") == 1) r += 0.25f;
    return r;
}

/* Countdown expressions, independently: expr := term (('+'|'-') term)*, term := unary
   (('*'|'/') unary)*, unary := ('+'|'-') unary | number | '(' expr ')', spaces between tokens.
   No opinion (abstain) beyond 10 levels of nesting, on literals over 15 digits or over 64 of
   them: those are grpo.h's limits, a matter of policy. */
typedef struct {
    const char *s;
    size_t i, n;
    int bad, abstain, zero_division, depth, count;
    double literals[64];
} fz_expression;

static void fz_spaces(fz_expression *e) { while (e->i < e->n && e->s[e->i] == ' ') e->i++; }
static double fz_expr(fz_expression *e);
static double fz_unary(fz_expression *e) {
    fz_spaces(e);
    if (e->bad || e->abstain) return 0.0;
    if (e->i >= e->n) { e->bad = 1; return 0.0; }
    if (++e->depth > 10) { e->abstain = 1; return 0.0; }
    char c = e->s[e->i];
    double v = 0.0;
    if (c == '+' || c == '-') { e->i++; v = fz_unary(e); if (c == '-') v = -v; }
    else if (c == '(') {
        e->i++;
        v = fz_expr(e);
        fz_spaces(e);
        if (e->i < e->n && e->s[e->i] == ')') e->i++; else e->bad = 1;
    } else if (fz_digit((unsigned char)c)) {
        size_t first = e->i;
        while (e->i < e->n && fz_digit((unsigned char)e->s[e->i])) v = v * 10.0 + (e->s[e->i++] - '0');
        if (e->i - first > 15 || e->count == 64) e->abstain = 1;
        else e->literals[e->count++] = v;
    } else e->bad = 1;
    e->depth--;
    return v;
}
static double fz_term(fz_expression *e) {
    double v = fz_unary(e);
    for (;;) {
        fz_spaces(e);
        if (e->bad || e->abstain || e->i >= e->n || (e->s[e->i] != '*' && e->s[e->i] != '/')) return v;
        char op = e->s[e->i++];
        double r = fz_unary(e);
        if (op == '*') v *= r;
        else if (r == 0.0) e->zero_division = 1;
        else v /= r;
    }
}
static double fz_expr(fz_expression *e) {
    double v = fz_term(e);
    for (;;) {
        fz_spaces(e);
        if (e->bad || e->abstain || e->i >= e->n || (e->s[e->i] != '+' && e->s[e->i] != '-')) return v;
        char op = e->s[e->i++];
        double r = fz_term(e);
        v = op == '+' ? v + r : v - r;
    }
}
static int fz_compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The countdown reward for a well-formed gold (numbers[n], target), or -1 for no opinion. */
static float fz_countdown(const char *text, size_t len, const char *gold) {
    size_t start, end;
    if (!fz_answer(text, len, &start, &end)) return 0.0f;
    /* the gold, again: numbers then the target */
    double numbers[64], target = 0.0;
    int n = 0;
    const char *p = gold;
    for (;;) {
        while (fz_space((unsigned char)*p)) p++;
        if (*p == '=') break;
        double v = 0.0;
        while (fz_digit((unsigned char)*p)) v = v * 10.0 + (*p++ - '0');
        numbers[n++] = v;
    }
    p++;
    while (fz_space((unsigned char)*p)) p++;
    int negative = *p == '-';
    if (negative) p++;
    while (fz_digit((unsigned char)*p)) target = target * 10.0 + (*p++ - '0');
    if (negative) target = -target;

    fz_expression e;
    memset(&e, 0, sizeof e);
    e.s = text + start;
    e.n = end - start;
    double v = fz_expr(&e);
    fz_spaces(&e);
    if (e.abstain) return -1.0f;
    if (e.bad || e.i != e.n || e.zero_division || !isfinite(v) || e.count != n) return 0.1f;
    qsort(e.literals, (size_t)n, sizeof(double), fz_compare);
    qsort(numbers, (size_t)n, sizeof(double), fz_compare);
    for (int i = 0; i < n; i++) if (e.literals[i] != numbers[i]) return 0.1f;
    double d = fabs(v - target);
    if (d > 0.5e-5 && d < 2e-5) return -1.0f;
    return d < 1e-5 ? 1.0f : 0.1f;
}

/* ------------------------------------------------------------------------------------------
   Deterministic choices derived from the input (FNV-1a, then splitmix64). */
static uint64_t fz_state;
static uint64_t fz_next(void) {
    uint64_t z = (fz_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int fz_int(void) {
    static const int edges[] = {INT_MIN, INT_MIN + 1, -100, -1, 0, 1, 2, 3, 10, 99, 100, 101, 4096, INT_MAX - 1, INT_MAX};
    uint64_t r = fz_next();
    if (r % 4 == 0) return (int)(uint32_t)(r >> 32);
    if (r % 4 == 1) return (int)((r >> 32) % 200) - 20;
    return edges[(r >> 32) % (sizeof edges / sizeof edges[0])];
}
static float fz_weight(void) {
    static const float weights[] = {0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 1e-3f, -3.25f, 1e30f, -1e30f};
    return weights[fz_next() % (sizeof weights / sizeof weights[0])];
}

typedef struct {
    const char *gold;
    size_t len;
    int calls;
} fz_callback_state;

static float fz_callback(const char *prompt, const char *completion, const char *gold, void *user) {
    fz_callback_state *state = (fz_callback_state *)user;
    state->calls++;
    REQUIRE(prompt != NULL && completion != NULL && gold == state->gold);
    size_t n = strlen(completion); /* the completion handed to grpo_reward_completion is NUL-terminated */
    REQUIRE(n <= state->len);
    return (n % 3 == 0) ? NAN : (float)(n % 7) - 3.0f;
}

static int fz_is_tag_count(float v) { return v == 0.0f || v == 0.25f || v == 0.5f || v == 0.75f || v == 1.0f; }
static int fz_same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

/* ------------------------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* split */
    const uint8_t *separator = size ? (const uint8_t *)memchr(data, 0x1E, size) : NULL;
    char *gold;
    const uint8_t *completion_bytes;
    size_t len;
    if (separator) {
        size_t gold_len = (size_t)(separator - data);
        gold = (char *)malloc(gold_len + 1);
        memcpy(gold, data, gold_len);
        gold[gold_len] = 0; /* a NUL inside ends it early: it is a C string */
        completion_bytes = separator + 1;
        len = size - gold_len - 1;
    } else {
        gold = (char *)malloc(16);
        strcpy(gold, "3 5 7 2 = 24");
        completion_bytes = data;
        len = size;
    }
    char *text = (char *)malloc(len ? len : 1); /* exactly len bytes: no NUL after them */
    if (len) memcpy(text, completion_bytes, len);
    size_t gold_len = strlen(gold);

    fz_state = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++) fz_state = (fz_state ^ data[i]) * 1099511628211ull;

    /* format family */
    float format = grpo_reward_format(text, len);
    float strict = grpo_reward_format_strict(text, len);
    float tags = grpo_reward_tag_count(text, len);
    REQUIRE(format == 0.0f || format == 1.0f);
    REQUIRE(strict == 0.0f || strict == 1.0f);
    REQUIRE(fz_is_tag_count(tags));
    if (strict == 1.0f) REQUIRE(format == 1.0f && tags == 1.0f); /* strict implies loose and all four tags once */
    int want_format, want_strict;
    fz_format(text, len, &want_format, &want_strict);
    REQUIRE(format == (float)want_format && strict == (float)want_strict);
    REQUIRE(tags == fz_tag_count(text, len));
    if (format == 1.0f) REQUIRE(len >= 32 && memcmp(text, "<think>", 7) == 0 && memcmp(text + len - 9, "</answer>", 9) == 0);

    /* accuracy */
    float accuracy = grpo_reward_accuracy(text, len, gold);
    REQUIRE(accuracy == 0.0f || accuracy == 1.0f);
    if (!fz_has_answer(text, len)) REQUIRE(accuracy == 0.0f);
    int oracle = fz_accuracy(text, len, gold);
    if (oracle >= 0) REQUIRE(accuracy == (float)oracle);
    if (!fz_contains(gold, gold_len, "<answer>")) {
        /* reflexive: the gold as the answer is right */
        size_t wrapped_len;
        char *wrapped = fz_wrap(gold, gold_len, &wrapped_len);
        REQUIRE(grpo_reward_accuracy(wrapped, wrapped_len, gold) == 1.0f);
        free(wrapped);
        /* symmetric: the completion's bytes (to the first NUL) against the gold, both ways */
        size_t y_len = 0;
        while (y_len < len && y_len < 4096 && text[y_len] != 0) y_len++;
        if (!fz_contains(text, y_len, "<answer>")) {
            char *y = (char *)malloc(y_len + 1);
            memcpy(y, text, y_len);
            y[y_len] = 0;
            size_t a_len, b_len;
            char *a = fz_wrap(gold, gold_len, &a_len), *b = fz_wrap(y, y_len, &b_len);
            REQUIRE(grpo_reward_accuracy(a, a_len, y) == grpo_reward_accuracy(b, b_len, gold));
            free(a); free(b); free(y);
        }
    }

    /* countdown */
    int n_numbers = 0, small = 0;
    unsigned long long numbers[64], sum = 0;
    int gold_ok = fz_countdown_gold(gold, &n_numbers, numbers, &sum, &small);
    float countdown = grpo_reward_countdown(text, len, gold);
    if (!gold_ok) {
        REQUIRE(isnan(countdown)); /* malformed gold: no opinion, whatever the completion */
    } else {
        REQUIRE(countdown == 0.0f || countdown == 0.1f || countdown == 1.0f);
        REQUIRE((countdown == 0.0f) == !fz_has_answer(text, len));
        float want = fz_countdown(text, len, gold);
        if (want >= 0.0f) REQUIRE(countdown == want);
        if (small && sum < (1ull << 53)) {
            /* positive control: n1+n2+...+nk against "n1 ... nk = sum" is right */
            char expression[64 * 17 + 32], target[64 * 17 + 64];
            size_t e = 0, t = 0;
            for (int i = 0; i < n_numbers; i++) {
                e += (size_t)snprintf(expression + e, sizeof expression - e, i ? "+%llu" : "%llu", numbers[i]);
                t += (size_t)snprintf(target + t, sizeof target - t, "%llu ", numbers[i]);
            }
            snprintf(target + t, sizeof target - t, "= %llu", sum);
            size_t wrapped_len;
            char *wrapped = fz_wrap(expression, e, &wrapped_len);
            REQUIRE(grpo_reward_countdown(wrapped, wrapped_len, target) == 1.0f);
            free(wrapped);
        }
    }

    /* overlong */
    int tokens = fz_int(), max_tokens = fz_int(), buffer = fz_int();
    float overlong = grpo_reward_overlong(tokens, max_tokens, buffer);
    int overlong_ok = buffer >= 1 && buffer <= max_tokens;
    if (!overlong_ok) {
        REQUIRE(isnan(overlong));
    } else {
        REQUIRE(overlong >= -1.0f && overlong <= 0.0f);
        if (tokens <= max_tokens - buffer) REQUIRE(overlong == 0.0f);
        if (tokens >= max_tokens) REQUIRE(overlong == -1.0f);
        if (tokens < INT_MAX) REQUIRE(grpo_reward_overlong(tokens + 1, max_tokens, buffer) <= overlong);
    }

    /* the weighted sum over every kind, with a callback; the completion NUL-terminated */
    char *terminated = (char *)malloc(len + 1);
    if (len) memcpy(terminated, text, len);
    terminated[len] = 0;
    fz_callback_state state = {gold, len, 0};
    grpo_reward rewards[7] = {
        {.kind = GRPO_REWARD_FORMAT, .weight = fz_weight()},
        {.kind = GRPO_REWARD_FORMAT_STRICT, .weight = fz_weight()},
        {.kind = GRPO_REWARD_TAG_COUNT, .weight = fz_weight()},
        {.kind = GRPO_REWARD_ACCURACY, .weight = fz_weight()},
        {.kind = GRPO_REWARD_COUNTDOWN, .weight = fz_weight()},
        {.kind = GRPO_REWARD_OVERLONG, .weight = fz_weight(), .overlong_max_tokens = max_tokens, .overlong_buffer = buffer},
        {.kind = GRPO_REWARD_CALLBACK, .weight = fz_weight(), .function = fz_callback, .user = &state},
    };
    /* a random subset, in a random order */
    int n_rewards = 1 + (int)(fz_next() % 7);
    for (int i = 6; i > 0; i--) {
        int j = (int)(fz_next() % (uint64_t)(i + 1));
        grpo_reward swap = rewards[i]; rewards[i] = rewards[j]; rewards[j] = swap;
    }
    int expect_valid = 1;
    for (int k = 0; k < n_rewards; k++)
        if (rewards[k].kind == GRPO_REWARD_OVERLONG && !(overlong_ok && max_tokens >= 1)) expect_valid = 0;
    grpo_result validity = grpo_reward_validate(rewards, n_rewards);
    REQUIRE((validity == GRPO_SUCCESS) == expect_valid);
    if (validity != GRPO_SUCCESS) REQUIRE(validity == GRPO_ERROR_INVALID_CONFIG && strstr(grpo_last_error(), "rewards[") != NULL);

    float values[7];
    float total = grpo_reward_completion(rewards, n_rewards, "prompt", terminated, len, tokens, gold, values);
    double expected = 0.0;
    int opinions = 0, callbacks = 0;
    for (int k = 0; k < n_rewards; k++) {
        float direct = NAN;
        switch (rewards[k].kind) {
        case GRPO_REWARD_FORMAT: direct = format; break;
        case GRPO_REWARD_FORMAT_STRICT: direct = strict; break;
        case GRPO_REWARD_TAG_COUNT: direct = tags; break;
        case GRPO_REWARD_ACCURACY: direct = accuracy; break;
        case GRPO_REWARD_COUNTDOWN: direct = countdown; break;
        case GRPO_REWARD_OVERLONG: direct = overlong; break;
        case GRPO_REWARD_CALLBACK: direct = values[k]; callbacks++; break; /* checked by its own REQUIREs */
        }
        REQUIRE(fz_same(values[k], direct));
        if (!isnan(values[k])) {
            expected += (double)(rewards[k].weight == 0.0f ? 1.0f : rewards[k].weight) * values[k];
            opinions++;
        }
    }
    REQUIRE(state.calls == callbacks);
    if (opinions == 0) REQUIRE(isnan(total));
    else REQUIRE(!isnan(total) && fabs((double)total - expected) <= 1e-5 * (1.0 + fabs(expected)));

    /* a fuzzed reward config: validate must refuse exactly the bad ones */
    grpo_reward random_rewards[3];
    int n_random = (int)(fz_next() % 4);
    int random_valid = n_random >= 1;
    static const float weights[] = {0.0f, 1.0f, -2.0f, NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        memset(&random_rewards[k], 0, sizeof random_rewards[k]);
        random_rewards[k].kind = (grpo_reward_kind)((int)(fz_next() % 10) - 1);
        random_rewards[k].weight = weights[fz_next() % 6];
        random_rewards[k].function = fz_next() % 2 ? fz_callback : NULL;
        random_rewards[k].user = &state;
        random_rewards[k].overlong_max_tokens = fz_int();
        random_rewards[k].overlong_buffer = fz_int();
        const grpo_reward *r = &random_rewards[k];
        if (k < n_random) {
            if (r->kind < GRPO_REWARD_FORMAT || r->kind > GRPO_REWARD_CALLBACK || !isfinite(r->weight)) random_valid = 0;
            if (r->kind == GRPO_REWARD_CALLBACK && !r->function) random_valid = 0;
            if (r->kind == GRPO_REWARD_OVERLONG &&
                !(r->overlong_max_tokens >= 1 && r->overlong_buffer >= 1 && r->overlong_buffer <= r->overlong_max_tokens))
                random_valid = 0;
        }
    }
    validity = grpo_reward_validate(n_random ? random_rewards : NULL, n_random);
    REQUIRE((validity == GRPO_SUCCESS) == random_valid);
    if (validity == GRPO_SUCCESS) {
        state.calls = 0;
        total = grpo_reward_completion(random_rewards, n_random, "prompt", terminated, len, tokens, gold, values);
        for (int k = 0; k < n_random; k++) {
            grpo_reward_kind kind = random_rewards[k].kind;
            if (kind == GRPO_REWARD_FORMAT || kind == GRPO_REWARD_FORMAT_STRICT || kind == GRPO_REWARD_TAG_COUNT ||
                kind == GRPO_REWARD_ACCURACY)
                REQUIRE(!isnan(values[k]));
            if (kind == GRPO_REWARD_OVERLONG) REQUIRE(values[k] >= -1.0f && values[k] <= 0.0f);
        }
    }

    free(terminated);
    free(text);
    free(gold);
    return 0;
}
