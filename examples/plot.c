/* plot: draw training logs of JSON lines (one object per step, as grpo_metrics_json writes them)
   as an SVG image: one panel per metric, one coloured line per log file, so runs with different
   seeds or settings can be compared at a glance. No dependencies: the SVG is written by hand.

     build/plot -o curves.svg build/demo/metrics.jsonl
     build/plot -o seeds.svg --smooth 9 seed1.jsonl seed2.jsonl seed3.jsonl
     build/plot -o loss.svg --metric loss --metric grad_norm run.jsonl

   Each panel shows the raw values faintly and their moving average (--smooth N steps) solid.
   A value written as null (e.g. kl when beta = 0) leaves a gap. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 8
#define MAX_METRICS 12
#define MAX_STEPS 100000

static const char *default_metrics[] = {"reward", "rewards/accuracy/mean", "rewards/format/mean",
                                        "completions/mean_length", "kl", "entropy"};
static const char *colours[MAX_FILES] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

typedef struct {
    const char *path;
    int n;                      /* steps read */
    double *x;                  /* (n) the "step" field, or the line number */
    double *y[MAX_METRICS];     /* (n) each metric; NaN where missing or null */
} series;

/* The number after "name": in a flat JSON object; NaN if absent or null. */
static double json_number(const char *line, const char *name) {
    char key[160];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(line, key);
    if (!at) return NAN;
    at += strlen(key);
    while (isspace((unsigned char)*at)) at++;
    char *end;
    double value = strtod(at, &end);
    return end == at ? NAN : value; /* "null" parses as nothing */
}

static int read_series(series *s, const char *path, const char **metrics, int n_metrics) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "plot: cannot open %s\n", path); return 0; }
    size_t capacity = 256;
    s->path = path;
    s->n = 0;
    s->x = malloc(capacity * sizeof(double));
    for (int m = 0; m < n_metrics; m++) s->y[m] = malloc(capacity * sizeof(double));
    static char line[1 << 16];
    while (fgets(line, sizeof line, f) && s->n < MAX_STEPS) {
        if (line[0] != '{') continue;
        if ((size_t)s->n == capacity) {
            capacity *= 2;
            s->x = realloc(s->x, capacity * sizeof(double));
            for (int m = 0; m < n_metrics; m++) s->y[m] = realloc(s->y[m], capacity * sizeof(double));
        }
        double step = json_number(line, "step");
        s->x[s->n] = isnan(step) ? s->n : step;
        for (int m = 0; m < n_metrics; m++) s->y[m][s->n] = json_number(line, metrics[m]);
        s->n++;
    }
    fclose(f);
    if (s->n == 0) { fprintf(stderr, "plot: %s has no JSON lines\n", path); return 0; }
    return 1;
}

/* Text inside an SVG element, with XML's special characters escaped. */
static void xml_text(FILE *out, const char *text) {
    for (; *text; text++)
        switch (*text) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        default: fputc(*text, out);
        }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about n ticks over span. */
static double tick_step(double span, int n) {
    double raw = span / n, power = pow(10.0, floor(log10(raw))), fraction = raw / power;
    return (fraction < 1.5 ? 1.0 : fraction < 3.5 ? 2.0 : fraction < 7.5 ? 5.0 : 10.0) * power;
}

/* Moving average over a centred window, skipping NaNs. */
static double smoothed(const double *y, int n, int i, int window) {
    double sum = 0.0;
    int count = 0;
    for (int j = i - window / 2; j <= i + window / 2; j++)
        if (j >= 0 && j < n && !isnan(y[j])) { sum += y[j]; count++; }
    return count ? sum / count : NAN;
}

static void polyline(FILE *out, const series *s, const double *y, int window, double x0, double x1, double y0, double y1,
                     double px, double py, double width, double height, const char *style) {
    int open = 0;
    for (int i = 0; i < s->n; i++) {
        double v = window > 1 ? smoothed(y, s->n, i, window) : y[i];
        if (isnan(v)) { if (open) fprintf(out, "\"/>\n"); open = 0; continue; }
        double X = px + (s->x[i] - x0) / (x1 - x0) * width, Y = py + height - (v - y0) / (y1 - y0) * height;
        if (!open) fprintf(out, "<polyline %s points=\"", style), open = 1;
        fprintf(out, "%.1f,%.1f ", X, Y);
    }
    if (open) fprintf(out, "\"/>\n");
}

static void usage(const char *program) {
    printf("usage: %s -o OUT.svg [--metric NAME]... [--smooth N] [--title TEXT] [--label TEXT]... LOG.jsonl...\n"
           "Draws JSON-lines training logs (grpo_metrics_json) as an SVG: one panel per metric, one line per log.\n"
           "  -o OUT.svg       the image to write (required)\n"
           "  --metric NAME    a field to plot (repeatable); default: reward, rewards/accuracy/mean,\n"
           "                   rewards/format/mean, completions/mean_length, kl, entropy\n"
           "  --smooth N       moving average over N steps drawn over the raw values (default 5; 1: off)\n"
           "  --title TEXT     a title above the panels\n"
           "  --label TEXT     the legend name of each log in turn (default: the file names)\n"
           "  --help           this text\n", program);
}

int main(int argc, char **argv) {
    const char *out_path = NULL, *title = NULL, *metrics[MAX_METRICS], *files[MAX_FILES], *labels[MAX_FILES] = {0};
    int n_metrics = 0, n_files = 0, n_labels = 0, window = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        else if (!strcmp(a, "-o") && has_value) out_path = argv[++i];
        else if (!strcmp(a, "--title") && has_value) title = argv[++i];
        else if (!strcmp(a, "--smooth") && has_value) window = atoi(argv[++i]);
        else if (!strcmp(a, "--metric") && has_value) {
            if (n_metrics == MAX_METRICS) { fprintf(stderr, "plot: at most %d metrics\n", MAX_METRICS); return 2; }
            metrics[n_metrics++] = argv[++i];
        } else if (!strcmp(a, "--label") && has_value) {
            if (n_labels < MAX_FILES) labels[n_labels++] = argv[++i]; else i++;
        } else if (a[0] == '-') { fprintf(stderr, "plot: unknown option or missing value: %s (see --help)\n", a); return 2; }
        else {
            if (n_files == MAX_FILES) { fprintf(stderr, "plot: at most %d logs\n", MAX_FILES); return 2; }
            files[n_files++] = a;
        }
    }
    if (!out_path || n_files == 0) { usage(argv[0]); return 2; }
    if (window < 1) window = 1;
    if (n_metrics == 0)
        for (size_t m = 0; m < sizeof default_metrics / sizeof default_metrics[0]; m++) metrics[n_metrics++] = default_metrics[m];
    series runs[MAX_FILES];
    for (int f = 0; f < n_files; f++)
        if (!read_series(&runs[f], files[f], metrics, n_metrics)) return 1;

    /* layout: panels in a grid of up to 3 columns */
    const int columns = n_metrics < 3 ? n_metrics : 3, rows = (n_metrics + columns - 1) / columns;
    const double panel_w = 300, panel_h = 190, margin_l = 52, margin_r = 16, margin_t = 28, margin_b = 34;
    const double top = (title ? 34 : 8) + 22 /* legend */, cell_w = panel_w + margin_l + margin_r, cell_h = panel_h + margin_t + margin_b;
    double W = columns * cell_w, H = top + rows * cell_h;
    FILE *out = fopen(out_path, "w");
    if (!out) { fprintf(stderr, "plot: cannot write %s\n", out_path); return 1; }
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n", W, H, W, H);
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    if (title) {
        fprintf(out, "<text x=\"%.0f\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">", W / 2);
        xml_text(out, title);
        fprintf(out, "</text>\n");
    }
    double legend_x = 16, legend_y = top - 10;
    for (int f = 0; f < n_files; f++) {
        const char *name = f < n_labels ? labels[f] : files[f];
        fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2.5\"/>", legend_x, legend_y - 4, legend_x + 18, legend_y - 4, colours[f]);
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">", legend_x + 24, legend_y);
        xml_text(out, name);
        fprintf(out, "</text>\n");
        legend_x += 34 + 7.0 * strlen(name);
    }
    for (int m = 0; m < n_metrics; m++) {
        double px = (m % columns) * cell_w + margin_l, py = top + (m / columns) * cell_h + margin_t;
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int f = 0; f < n_files; f++)
            for (int i = 0; i < runs[f].n; i++) {
                if (runs[f].x[i] < x0) x0 = runs[f].x[i];
                if (runs[f].x[i] > x1) x1 = runs[f].x[i];
                double v = runs[f].y[m][i];
                if (!isnan(v) && v < y0) y0 = v;
                if (!isnan(v) && v > y1) y1 = v;
            }
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" font-weight=\"bold\">", px, py - 10);
        xml_text(out, metrics[m]);
        fprintf(out, "</text>\n");
        fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", px, py, panel_w, panel_h);
        if (!(y0 <= y1)) { /* no values at all */
            fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#888\">no values</text>\n", px + panel_w / 2, py + panel_h / 2);
            continue;
        }
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
        double pad = 0.05 * (y1 - y0);
        y0 -= pad, y1 += pad;
        if (y0 < 0 && y0 + pad >= 0) y0 = 0; /* a non-negative metric keeps 0 as its floor */
        double ys = tick_step(y1 - y0, 4), xs = tick_step(x1 - x0, 5);
        for (double t = ceil(y0 / ys) * ys; t <= y1 + 1e-9 * ys; t += ys) {
            double Y = py + panel_h - (t - y0) / (y1 - y0) * panel_h;
            fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>", px, Y, px + panel_w, Y);
            fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", px - 4, Y + 4, fabs(t) < 1e-12 ? 0.0 : t);
        }
        for (double t = ceil(x0 / xs) * xs; t <= x1 + 1e-9 * xs; t += xs) {
            double X = px + (t - x0) / (x1 - x0) * panel_w;
            fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n", X, py + panel_h + 14, t);
        }
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#555\">step</text>\n", px + panel_w / 2, py + panel_h + 28);
        for (int f = 0; f < n_files; f++) {
            char style[128];
            if (window > 1) {
                snprintf(style, sizeof style, "fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.25\" stroke-width=\"1\"", colours[f]);
                polyline(out, &runs[f], runs[f].y[m], 1, x0, x1, y0, y1, px, py, panel_w, panel_h, style);
            }
            snprintf(style, sizeof style, "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"", colours[f]);
            polyline(out, &runs[f], runs[f].y[m], window, x0, x1, y0, y1, px, py, panel_w, panel_h, style);
        }
    }
    fprintf(out, "</svg>\n");
    int ok = !ferror(out);
    if (fclose(out) != 0 || !ok) { fprintf(stderr, "plot: could not write %s\n", out_path); return 1; }
    for (int f = 0; f < n_files; f++) {
        free(runs[f].x);
        for (int m = 0; m < n_metrics; m++) free(runs[f].y[m]);
    }
    printf("plot: wrote %s (%d metrics, %d logs)\n", out_path, n_metrics, n_files);
    return 0;
}
