/* sft: supervised fine-tuning on a JSONL set of (prompt, completion) pairs -- R1's cold start,
   its second SFT stage on rejection-sampled data, and distillation (SPEC.md section 7). The loss
   is on the completion tokens only; each epoch visits every example once in a fresh order.

     build/sft --model build/demo/base.ckpt --data sft.jsonl --epochs 2 --out sft.ckpt
     build/sft --new-model --d-model 64 --layers 2 --data sft.jsonl --epochs 20 --lr 3e-3 --out tiny.ckpt
     build/sft --model Qwen2.5-0.5B --data sft.jsonl --template chatml --batch 4 --accum 4 --out qwen-sft

   --model is a grpo.h checkpoint (byte-level tokenizer) or a Hugging Face directory (saved back as
   one, tokenizer files copied); --new-model starts a byte-level model from random weights.
   --eval-fraction holds out a share of --data (or --eval-data gives a separate file) for the eval
   loss, measured at the end of each epoch. One JSON line per logged update goes to stdout (TRL's
   names: loss, eval_loss, grad_norm, learning_rate), progress to stderr. */
#define GRPO_IMPLEMENTATION
#include "grpo.h"
#include "model_files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(const char *program) {
    printf("usage: %s --model CKPT|HF_DIR --data FILE.jsonl --out PATH [options]\n"
           "Supervised fine-tuning on {\"prompt\", \"completion\"} lines, loss on the completion tokens only.\n"
           "  --model PATH        a grpo.h checkpoint, or a Hugging Face model directory with its tokenizer.json\n"
           "  --new-model         instead: a byte-level model from random weights (--d-model, --layers, --context)\n"
           "  --d-model N         (default 64)   --layers N (default 2)   --context N (default 256; HF: 1024 or the model's)\n"
           "  --data FILE         JSONL with a prompt and a completion per line\n"
           "  --eval-data FILE    a held-out JSONL for the eval loss\n"
           "  --eval-fraction X   or hold out this share of --data (default 0: none)\n"
           "  --out PATH          a checkpoint file (HF models: a directory)\n"
           "  --epochs N          (default 1)\n"
           "  --batch N           examples per forward/backward (default 16)\n"
           "  --accum N           micro-batches per update (gradient accumulation, default 1)\n"
           "  --lr X              peak learning rate (default 1e-3; HF models 1e-5)\n"
           "  --warmup N          linear warm-up updates (default 0)\n"
           "  --cosine            cosine decay to 10 %% of the peak over the run\n"
           "  --template NAME     r1_zero, chatml or none (default none: the prompt as written)\n"
           "  --system TEXT       ChatML's system turn\n"
           "  --log-every N       updates between log lines (default 1)\n"
           "  --seed N            shuffling, the split and --new-model's weights (default 1)\n"
           "  --help              this text\n", program);
}

static void print_log(void *user, const grpo_sft_log *log) {
    char line[512];
    grpo_sft_log_json(log, line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
    fprintf(stderr, "update %d/%d (epoch %d)  loss %.4f%s", log->step, *(const int *)user, log->epoch, log->train_loss, isnan(log->eval_loss) ? "" : "  eval_loss ");
    if (!isnan(log->eval_loss)) fprintf(stderr, "%.4f", log->eval_loss);
    fprintf(stderr, "  %.1f s\n", log->seconds);
}

static grpo_result load_data(grpo_dataset *data, const char *path, int template_kind, const char *system_prompt) {
    grpo_dataset_options options = {0};
    options.require_completion = 1, options.template_kind = template_kind, options.system_prompt = system_prompt;
    return grpo_dataset_load_jsonl(data, path, &options);
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *data_path = NULL, *eval_path = NULL, *out_path = NULL, *template_name = "none", *system_prompt = NULL;
    int new_model = 0, d_model = 64, layers = 2, context = 0, epochs = 1, batch = 16, accum = 1, warmup = 0, cosine = 0, log_every = 1;
    float lr = 0.0f;
    double eval_fraction = 0.0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(argv[0]); return 0; }
        if (!strcmp(a, "--new-model")) { new_model = 1; continue; }
        if (!strcmp(a, "--cosine")) { cosine = 1; continue; }
        if (!v) { fprintf(stderr, "sft: unknown option or missing value: %s (see --help)\n", a); return 2; }
        i++;
        if (!strcmp(a, "--model")) model_path = v;
        else if (!strcmp(a, "--d-model")) d_model = atoi(v);
        else if (!strcmp(a, "--layers")) layers = atoi(v);
        else if (!strcmp(a, "--context")) context = atoi(v);
        else if (!strcmp(a, "--data")) data_path = v;
        else if (!strcmp(a, "--eval-data")) eval_path = v;
        else if (!strcmp(a, "--eval-fraction")) eval_fraction = atof(v);
        else if (!strcmp(a, "--out")) out_path = v;
        else if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--accum")) accum = atoi(v);
        else if (!strcmp(a, "--lr")) lr = (float)atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--template")) template_name = v;
        else if (!strcmp(a, "--system")) system_prompt = v;
        else if (!strcmp(a, "--log-every")) log_every = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else { fprintf(stderr, "sft: unknown option %s (see --help)\n", a); return 2; }
    }
    if ((!model_path && !new_model) || (model_path && new_model) || !data_path || !out_path) {
        fprintf(stderr, "sft: --model or --new-model, --data and --out are required (see --help)\n");
        return 2;
    }
    int template_kind = !strcmp(template_name, "r1_zero") ? GRPO_TEMPLATE_R1_ZERO : !strcmp(template_name, "chatml") ? GRPO_TEMPLATE_CHATML :
                        !strcmp(template_name, "none") ? GRPO_TEMPLATE_NONE : -1;
    if (template_kind < 0) { fprintf(stderr, "sft: --template must be r1_zero, chatml or none\n"); return 2; }
    if (epochs < 1 || batch < 1 || accum < 1 || log_every < 1 || warmup < 0 || !(eval_fraction >= 0.0 && eval_fraction < 1.0) || (eval_path && eval_fraction > 0.0)) {
        fprintf(stderr, "sft: --epochs, --batch, --accum, --log-every must be >= 1, --eval-fraction in [0, 1), and not with --eval-data\n");
        return 2;
    }

    /* the data: the training set, and a held-out one for the eval loss */
    grpo_dataset all = {0}, train = {0}, eval = {0};
    if (load_data(&all, data_path, template_kind, system_prompt) ||
        (eval_path && load_data(&eval, eval_path, template_kind, system_prompt)) ||
        grpo_dataset_split(&all, eval_fraction, seed, &train, &eval)) {
        fprintf(stderr, "sft: %s\n", grpo_last_error());
        return 1;
    }
    grpo_dataset_destroy(&all);

    /* the model */
    grpo_model model;
    memset(&model, 0, sizeof model);
    grpo_tokenizer tokenizer = grpo_byte_tokenizer();
    grpo_hf_info info;
    struct stat st;
    int hf = model_path && stat(model_path, &st) == 0 && S_ISDIR(st.st_mode);
    grpo_result r;
    if (new_model) {
        grpo_config config = {0}; /* byte vocabulary, RoPE, SwiGLU, tied head */
        config.d_model = d_model, config.n_layers = layers, config.n_heads = 4, config.context_length = context ? context : 256;
        r = grpo_model_create(&model, &config, seed);
    } else if (hf) {
        grpo_hf_options options = {0};
        options.context_length = context ? context : 1024;
        if ((r = grpo_hf_model_load(&model, model_path, &options, &info)) != GRPO_SUCCESS) {
            options.context_length = 0; /* a model whose own context is shorter */
            r = grpo_hf_model_load(&model, model_path, &options, &info);
        }
        if (!r) r = grpo_hf_tokenizer_load(&tokenizer, model_path, model.config.vocab_size);
    } else {
        r = grpo_checkpoint_load(model_path, &model, NULL, NULL);
    }
    if (r) { fprintf(stderr, "sft: %s\n", grpo_last_error()); return 1; }

    grpo_sft_config sc = {0};
    sc.batch_size = batch, sc.epochs = epochs, sc.accumulation_steps = accum, sc.log_every = log_every, sc.seed = seed;
    int total = grpo_sft_total_steps(train.count, &sc);
    sc.on_log = print_log, sc.user = &total;
    grpo_adamw optimizer;
    grpo_adamw_config ac = {0};
    ac.learning_rate = lr > 0.0f ? lr : hf ? 1e-5f : 1e-3f;
    ac.warmup_steps = warmup;
    if (cosine) ac.schedule = GRPO_SCHEDULE_COSINE, ac.total_steps = total, ac.min_lr_ratio = 0.1f;
    if (grpo_adamw_create(&optimizer, &model, &ac) != GRPO_SUCCESS) { fprintf(stderr, "sft: %s\n", grpo_last_error()); return 1; }
    fprintf(stderr, "sft: %zu parameters, %d training examples, %d held out; %d updates of %d examples, lr %g\n", model.num_parameters,
            train.count, eval.count, total, batch * accum, (double)ac.learning_rate);

    grpo_sft_log final;
    if (grpo_sft_train(&model, &optimizer, &tokenizer, &train, eval.count ? &eval : NULL, &sc, &final) != GRPO_SUCCESS) {
        fprintf(stderr, "sft: %s\n", grpo_last_error());
        return 1;
    }
    if (hf) {
        r = grpo_hf_model_save(out_path, &model, &info);
        const char *files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json", "vocab.json", "merges.txt"};
        for (int i = 0; !r && i < 5; i++) copy_file(model_path, out_path, files[i]);
    } else {
        r = grpo_checkpoint_save(out_path, &model, NULL, NULL);
    }
    if (r) { fprintf(stderr, "sft: %s\n", grpo_last_error()); return 1; }
    fprintf(stderr, "sft: saved %s after %d updates: loss %.4f", out_path, final.step, final.train_loss);
    if (!isnan(final.eval_loss)) fprintf(stderr, ", eval loss %.4f", final.eval_loss);
    fprintf(stderr, "\n");
    grpo_adamw_destroy(&optimizer);
    grpo_dataset_destroy(&train);
    grpo_dataset_destroy(&eval);
    grpo_tokenizer_destroy(&tokenizer);
    grpo_model_destroy(&model);
    return 0;
}
