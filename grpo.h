/* grpo.h - v0.1 - GRPO reinforcement learning for small language models, in one C header.

   DeepSeek-R1's recipe -- a Llama/Qwen2-style decoder-only transformer trained by
   Group Relative Policy Optimization with rule-based rewards -- written so that you can
   read it top to bottom and drop it into your own program.

   USAGE
     In exactly one C file:
         #define GRPO_IMPLEMENTATION
         #include "grpo.h"
     Everywhere else, include "grpo.h" without the define.
     Build with -O3 (not -Ofast: it breaks exp/log-based backward passes) and, for speed,
     -march=native -fopenmp plus an OpenMP build of OpenBLAS (see GRPO_USE_CBLAS).

   COMPILE-TIME OPTIONS (define before including the implementation)
     GRPO_USE_CBLAS          call cblas_sgemm for the matmuls (link OpenBLAS). Without it a
                             portable blocked loop is used; both give the same results to
                             float rounding and both are tested. With AVX-512 or AVX2 + FMA
                             the model's forward and input-gradient matmuls run through the
                             header's own GEMM either way (and the weight gradient too
                             without BLAS), decoding through its own small-row kernel.
     GRPO_STATIC             make every function static (private to one translation unit).
     GRPO_MALLOC(size)       \
     GRPO_FREE(pointer)       > replace the allocator / assert; define all of MALLOC and FREE or none.
     GRPO_ASSERT(condition)  /  GRPO_ASSERT guards internal invariants only, never user input.
     GRPO_NO_HUGE_PAGES      do not ask Linux for 2 MB pages for the generator's buffers (its
                             packed weights and KV cache, streamed every decoding step; a
                             madvise hint, on x86-64 and AArch64 Linux only, results unchanged).

   WHAT IS IN HERE, IN THE ORDER DATA FLOWS
     1. results and error messages      grpo_result, grpo_result_string, grpo_last_error
     2. random numbers                  grpo_rng (splitmix64: one uint64 of state)
     2b. JSON and JSON Lines            a strict reader for config.json, tokenizer.json, safetensors
                                        headers and JSONL datasets
     3. tokenizers                      grpo_tokenizer, the byte-level tokenizer, byte-level BPE
                                        from tokenizer.json (GPT-2, Qwen2), ChatML prompt text
     4. model configuration             grpo_config (zero means default), validation
     5. the model                       parameters in one allocation, tensor table
     6. layers, forward/backward pairs  embedding, RMSNorm, matmul, RoPE, attention, SwiGLU,
                                        log-prob of targets at a temperature
     7. the whole model                 grpo_model_forward / grpo_model_backward
     8. generation                      KV-cached sampling of G completions per prompt:
                                        temperature, top-k, top-p, greedy, EOS, stop strings
     9. rewards                         format, strict format, tag count, accuracy, countdown,
                                        overlong, user callbacks; weighted, NaN abstains
    10. advantages and the GRPO loss    group/batch/no scaling; clipped objective, dual-clip,
                                        KL by k1/k2/k3/importance-weighted k3; grpo, bnpo, dapo, dr_grpo
    11. supervised loss                 SFT cross-entropy on masked tokens
    12. optimizer                       AdamW, gradient-norm clipping, learning-rate schedule
    13. the GRPO step                   sample, reward, advantages, mu x (forward, loss, backward,
                                        AdamW); dynamic sampling; metrics named as TRL's
    14. checkpoints                     documented binary format, written atomically
    14b. Hugging Face models            config.json + safetensors (F32/F16/BF16, sharded) in and out
    15. around GRPO                     R1's pipeline (SPEC.md 7, 8): datasets from JSONL (TRL's
                                        fields, templates, conversational prompts); SFT steps and an
                                        SFT trainer (epochs, shuffling, exact gradient accumulation,
                                        eval loss); rejection sampling; evaluation: pass@1 over k
                                        samples, cons@k, pass@k, greedy accuracy, format rate

   DIMENSIONS, the same letters everywhere (as in SPEC.md):
     B batch of sequences, T time (tokens per sequence), N = B*T rows, C d_model,
     V vocab, L layers, H query heads, KVH key/value heads, D head size = C/H,
     F SwiGLU hidden size, G completions per prompt.

   ERRORS
     Every function that can fail on its input returns a grpo_result. On failure a message
     that names the file, field or index and what was expected is kept per thread and read
     with grpo_last_error(). Nothing in this library calls exit() or abort() on input.

   UNTRUSTED INPUT: WHAT GRPO.H GUARANTEES AND WHAT IT DOES NOT
     Guaranteed, and fuzzed under ASan + UBSan (tests/fuzz/, named per reader):
     - Checkpoints (grpo_checkpoint_load, grpo_trainer_load; fuzz_checkpoint): any file --
       truncated, corrupted or crafted -- is loaded whole or refused with a message naming the
       field, and a refused load changes nothing. Sizes are checked against the file's size
       before anything is allocated; a CRC-32 covers every byte; NaN or Inf weights or moments
       and a negative v are refused.
     - Hugging Face files and datasets (grpo_json_parse, grpo_jsonl_next, grpo_safetensors_*,
       grpo_hf_config_parse, grpo_hf_model_load, tokenizer.json; fuzz_json, fuzz_jsonl,
       fuzz_hf_model, fuzz_bpe): malformed input is refused with GRPO_ERROR_BAD_FILE or
       _UNSUPPORTED naming the file and line:column, field or tensor; JSON nesting and sizes are
       bounded (GRPO_JSON_MAX_DEPTH, GRPO_JSON_MAX_BYTES); tensors must tile their file exactly
       and hold no NaN or Inf; a refused model load leaves the model zeroed.
     - Configs and call arguments (model, generator, sampling and trainer configs, shapes,
       token ids, lengths, prompts, temperatures; fuzz_config): a value out of range is refused
       with GRPO_ERROR_INVALID_CONFIG or _ARGUMENT naming it. Sizes are multiplied with overflow
       checks: a config whose buffers would overflow size_t is refused before any allocation.
     - Rewards (fuzz_rewards): completions are read as bytes -- NULs, unterminated or repeated
       tags, huge numbers and huge inputs (tests/test_rewards.c times those); the countdown
       parser has a depth limit and never evaluates text.
     - Memory: an allocation that fails is GRPO_ERROR_OUT_OF_MEMORY, never a crash, and what
       was allocated before it is freed (tested by failing each allocation of a whole GRPO run
       in turn). grpo_set_memory_limit(bytes) refuses, before allocating, any object that would
       pass the cap.
     - Numbers: a NaN or Inf in the loss, a gradient, or an updated weight or moment refuses the
       step with a message naming the step and the first offending tensor element; weights and
       optimizer state stay bit-identical. Checkpoints never store NaN or Inf.
     Not guaranteed:
     - Memory and time without a cap: a valid config or checkpoint header for a huge model asks
       for that much memory (and time to initialise it). Set grpo_set_memory_limit when the
       input is not yours.
     - Authenticity: the CRC-32 catches accidents, not attacks. A crafted checkpoint with a
       valid CRC and finite weights loads, and the model computes whatever those weights say.
     - What you hand over: arrays must be as long as documented (tokens (B, T), ...), strings
       NUL-terminated where documented; grpo.h cannot check memory it is given. Your reward
       and tokenizer callbacks run as they are.
     - Threads: one object per thread at a time; grpo_set_memory_limit is process-wide.

   THREADS AND DETERMINISM
     Elementwise loops are parallelised with OpenMP (static schedules, no cross-thread float
     reductions), matmuls by the header's kernels or BLAS. The same seed and inputs give
     bit-identical results with the same build and the same thread count. Link the OpenMP
     build of OpenBLAS: the default pthread build fights OpenMP over the cores (up to 6x
     slower).

   VERSION HISTORY
     0.1  the model, forward/backward, AdamW, SFT loss, byte tokenizer, checkpoints,
          generation, rewards, the GRPO loss and step; JSON; Hugging Face models (config.json,
          safetensors) and byte-level BPE tokenizers (tokenizer.json); checkpoint version 2
          (reference model, data order) with grpo_trainer_save/_load for exact resume,
          grpo_data_order, NaN/Inf checks on every update, grpo_set_memory_limit; SFT steps, evaluation;
          datasets (grpo_dataset_*), grpo_sft_train, grpo_rejection_sample, cons@k / pass@k / greedy
          accuracy in grpo_evaluate, grpo_pass_at_k, grpo_majority_answer; the header's own GEMM
          for the training matmuls (rounds differently from OpenBLAS for k > 320: the same seed
          gives other figures than before it); 2 MB pages for the generator's buffers on Linux
          (GRPO_NO_HUGE_PAGES).

   LICENCE at the end of the file.
*/
#ifndef GRPO_H_INCLUDED
#define GRPO_H_INCLUDED
#define GRPO__TAIL 256 /* bytes of each completion's end kept for stop strings; a stop string is at most half of it */

#include <stddef.h>
#include <stdint.h>

#ifndef GRPODEF
#ifdef GRPO_STATIC
#define GRPODEF static
#else
#define GRPODEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
   1. Results. 0 is success; anything else has a message in grpo_last_error(). */
typedef enum {
    GRPO_SUCCESS = 0,
    GRPO_ERROR_INVALID_CONFIG,    /* a config field is out of range or inconsistent */
    GRPO_ERROR_INVALID_ARGUMENT,  /* a call's arguments are wrong: token id out of range, NULL, ... */
    GRPO_ERROR_OUT_OF_MEMORY,     /* an allocation failed or a size overflowed size_t */
    GRPO_ERROR_IO,                /* a file could not be opened, read, written or renamed */
    GRPO_ERROR_BAD_CHECKPOINT,    /* a checkpoint file is truncated, corrupt, of another version or mismatched */
    GRPO_ERROR_NON_FINITE,        /* a NaN or Inf was found where the weights would take it in */
    GRPO_ERROR_INVALID_STATE,     /* the call does not fit the object's state (backward before forward, frozen model) */
    GRPO_ERROR_BAD_FILE,          /* a JSON, safetensors, config or tokenizer file is malformed */
    GRPO_ERROR_UNSUPPORTED,       /* a file asks for a feature grpo.h does not implement (rope_scaling, an architecture, ...) */
    GRPO_ERROR_GPU                /* a CUDA or cuBLAS call failed (kernels/, the GPU build): the message names the call */
} grpo_result;

GRPODEF const char *grpo_result_string(grpo_result result);
/* The detailed message of the last failure on this thread ("" if none). */
GRPODEF const char *grpo_last_error(void);
/* Sets that message (printf format) and returns result: for code built beside the header that
   reports through grpo.h's results, such as the GPU kernels in kernels/. */
GRPODEF grpo_result grpo_set_error(grpo_result result, const char *format, ...);

/* A cap on memory, for configs that come from outside (a checkpoint header, a config file, a
   command line): no object may hold more than `bytes` -- a model with its gradients and
   activations, an optimizer, a generator, a trainer with its own generator, optimizer, reference
   model and buffers (the policy is the caller's and counted as a model). The call that would pass
   the cap fails with GRPO_ERROR_OUT_OF_MEMORY before it allocates anything, and its message says
   how much it needed. 0 (the default) means no cap. Process-wide: set it before starting threads
   that use grpo.h. */
GRPODEF void grpo_set_memory_limit(size_t bytes);
GRPODEF size_t grpo_memory_limit(void);

/* ---------------------------------------------------------------------------------------
   2. Random numbers: splitmix64. One uint64 is the whole state, so it is trivially saved in
   a checkpoint and a seed reproduces a run. */
typedef struct { uint64_t state; } grpo_rng;

GRPODEF grpo_rng grpo_rng_seed(uint64_t seed);
GRPODEF uint64_t grpo_rng_next(grpo_rng *rng);
GRPODEF float grpo_rng_uniform(grpo_rng *rng); /* in [0, 1), 24 random bits */
GRPODEF float grpo_rng_normal(grpo_rng *rng);  /* standard normal, Box-Muller */

/* ---------------------------------------------------------------------------------------
   2b. JSON and JSON Lines: a small, strict reader (RFC 8259) for Hugging Face config.json,
   tokenizer.json and safetensors headers, and for JSONL datasets.

   grpo_json_parse turns a text into a flat array of values in document order. values[0] is the
   root; the first child of an array or object is the value right after it, and each value's
   `next` is the index one past its subtree (its next sibling). Strings are decoded (escapes,
   UTF-16 surrogate pairs) into one pool, each NUL-terminated; a string may also hold NUL bytes,
   so use its length. Strict: UTF-8 is validated; no comments, trailing commas, NaN/Infinity,
   byte-order mark or text after the value; a number beyond a double's range, a lone surrogate
   escape and a duplicate key in one object are refused; nesting is at most GRPO_JSON_MAX_DEPTH
   deep and a text at most GRPO_JSON_MAX_BYTES long. Errors name the source, line and column:
   "config.json:3:17: expected ',' or '}' after an object member".

       grpo_json json;
       if (grpo_json_parse_file(&json, "config.json")) { puts(grpo_last_error()); return 1; }
       const grpo_json_value *layers = grpo_json_get(&json, json.values, "num_hidden_layers");
       if (layers && layers->is_integer) printf("%lld layers\n", (long long)layers->integer);
       const grpo_json_value *array = grpo_json_get(&json, json.values, "architectures");
       const grpo_json_value *item = grpo_json_first(&json, array);
       for (uint32_t i = 0; array && i < array->count; i++, item = grpo_json_next(&json, item))
           if (item->type == GRPO_JSON_STRING) puts(grpo_json_string(&json, item));
       grpo_json_free(&json); */
#define GRPO_JSON_MAX_DEPTH 64
#define GRPO_JSON_MAX_BYTES ((size_t)1 << 30)

typedef enum {
    GRPO_JSON_NULL, GRPO_JSON_FALSE, GRPO_JSON_TRUE, GRPO_JSON_NUMBER, GRPO_JSON_STRING,
    GRPO_JSON_ARRAY, GRPO_JSON_OBJECT
} grpo_json_type;

typedef struct {
    grpo_json_type type;
    int is_integer;          /* number written without fraction or exponent that fits int64 */
    int is_member;           /* 1 if this value is an object member (it has a key) */
    uint32_t next;           /* index of the next sibling: one past this value's subtree */
    uint32_t count;          /* array: elements; object: members */
    uint32_t key, key_length;/* object member: its name, an offset into the string pool */
    uint32_t string, length; /* string: its decoded bytes in the string pool */
    double number;           /* number: its value (finite) */
    int64_t integer;         /* number with is_integer: its exact value */
} grpo_json_value;

typedef struct {
    grpo_json_value *values; /* values[0] is the root */
    uint32_t n_values;
    char *strings;           /* the string pool */
    size_t strings_size;
} grpo_json;

/* Parses len bytes of text; source names it in error messages (a file name). On failure *json
   is left empty (safe to free). */
GRPODEF grpo_result grpo_json_parse(grpo_json *json, const char *text, size_t len, const char *source);
GRPODEF grpo_result grpo_json_parse_file(grpo_json *json, const char *path);
GRPODEF void grpo_json_free(grpo_json *json);
/* The member of object called key, or NULL (also if object is NULL or not an object). */
GRPODEF const grpo_json_value *grpo_json_get(const grpo_json *json, const grpo_json_value *object, const char *key);
/* The first child of an array or object (meaningful only if its count > 0), and the sibling after value. */
GRPODEF const grpo_json_value *grpo_json_first(const grpo_json *json, const grpo_json_value *container);
GRPODEF const grpo_json_value *grpo_json_next(const grpo_json *json, const grpo_json_value *value);
GRPODEF const char *grpo_json_string(const grpo_json *json, const grpo_json_value *value); /* NULL if not a string */
GRPODEF const char *grpo_json_key(const grpo_json *json, const grpo_json_value *value);    /* NULL if not a member */

/* JSON Lines (one JSON value per line), e.g. a dataset of {"question": ..., "answer": ...}.
   grpo_jsonl_next reads the next non-blank line into reader->json; at the end of the file it
   sets *done = 1. A bad line is an error naming "path:line:column". Lines may end in "\r\n";
   a line is at most GRPO_JSON_MAX_BYTES long. */
typedef struct {
    void *file;              /* FILE* */
    const char *path;        /* the caller's string; must outlive the reader */
    size_t line;             /* 1-based number of the line last read */
    char *buffer;
    size_t capacity;
    grpo_json json;          /* the value of the line last read */
} grpo_jsonl_reader;

GRPODEF grpo_result grpo_jsonl_open(grpo_jsonl_reader *reader, const char *path);
GRPODEF grpo_result grpo_jsonl_next(grpo_jsonl_reader *reader, int *done);
GRPODEF void grpo_jsonl_close(grpo_jsonl_reader *reader);

/* ---------------------------------------------------------------------------------------
   3. Tokenizers. An interface of two functions with two implementations: the byte-level
   tokenizer, which needs no vocabulary file (ids 0..255 are the bytes, then BOS, EOS and PAD),
   and byte-level BPE read from a Hugging Face tokenizer.json (GPT-2, Qwen2, Qwen2.5). */
typedef struct grpo_tokenizer grpo_tokenizer;
struct grpo_tokenizer {
    int vocab_size;
    int bos_id, eos_id, pad_id;
    void *state; /* the implementation's own data; NULL for the byte tokenizer */
    /* Encode len bytes of text into at most capacity ids; *n_ids receives the count needed. */
    grpo_result (*encode)(const grpo_tokenizer *tokenizer, const char *text, size_t len,
                          int *ids, int capacity, int *n_ids);
    /* Decode n ids into text (special tokens produce no bytes); writes at most capacity
       bytes including a terminating NUL; *n_bytes receives the length needed without it. */
    grpo_result (*decode)(const grpo_tokenizer *tokenizer, const int *ids, int n,
                          char *text, size_t capacity, size_t *n_bytes);
    /* Frees state; NULL if there is nothing to free. Call it through grpo_tokenizer_destroy. */
    void (*destroy)(grpo_tokenizer *tokenizer);
};

enum { GRPO_BYTE_BOS = 256, GRPO_BYTE_EOS = 257, GRPO_BYTE_PAD = 258, GRPO_BYTE_VOCAB_SIZE = 259 };
GRPODEF grpo_tokenizer grpo_byte_tokenizer(void);
GRPODEF void grpo_tokenizer_destroy(grpo_tokenizer *tokenizer);
/* The id of a token given by its text ("<|im_end|>", or the bytes of a vocabulary entry), or -1. */
GRPODEF int grpo_tokenizer_token_id(const grpo_tokenizer *tokenizer, const char *text);

/* 3b. Byte-level BPE from a Hugging Face tokenizer.json, encoding and decoding exactly as the
   `tokenizers` library does (tested id for id against it). Text is encoded in these steps:
     1. added tokens whose "normalized" is false (the special tokens <|endoftext|>, <|im_start|>,
        ...) are split out of the raw text, leftmost-longest;
     2. the rest is normalized: none, or NFC (Qwen2);
     3. added tokens whose "normalized" is true are split out of the normalized text;
     4. the pre-tokenizer cuts the rest into pieces: Split with the GPT-2 or the Qwen2 pattern
        ("Isolated"), and/or ByteLevel (optional prefix space, optional GPT-2 pattern), which
        maps each byte to its printable stand-in character;
     5. each piece is merged by BPE: the adjacent pair with the lowest merge rank first, the
        leftmost among equals (bytes the vocabulary lacks become unk_token, or are dropped as
        `tokenizers` drops them when there is none).
   The pre-tokenizer patterns are matched by hand-written code, not a regular-expression engine:
     GPT-2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
     Qwen2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|
             \s*[\r\n]+|\s+(?!\S)|\s+
   with \p{L}, \p{N} from Unicode 14 tables and \s the Unicode White_Space characters, as the
   Oniguruma engine in `tokenizers` reads them. Any other pattern, normalizer, pre-tokenizer or
   decoder, a model other than BPE, byte_fallback, dropout, subword prefixes/suffixes, and added
   tokens with lstrip, rstrip or single_word are refused with a message that names them.
   encode never adds BOS/EOS, truncates or pads (the post_processor, truncation and padding
   fields are not applied): it is tokenizers' encode(text, add_special_tokens=False). Text must
   be valid UTF-8. decode skips special tokens (skip_special_tokens=True) and ids without a token,
   and returns the raw bytes (a completion cut inside a character is not repaired).
   The state is read-only after loading: one tokenizer may encode on several threads. */
GRPODEF grpo_result grpo_bpe_tokenizer_load(grpo_tokenizer *tokenizer, const char *path);
GRPODEF grpo_result grpo_bpe_tokenizer_parse(grpo_tokenizer *tokenizer, const char *json, size_t len, const char *source);
/* tokenizer.json from a model directory, with BOS/EOS/PAD from tokenizer_config.json (or
   config.json's ids). vocab_size becomes at least model_vocab_size (0: ignore), so that ids of a
   padded embedding (Qwen2.5: 151936 rows, 151665 tokens) decode to nothing instead of failing. */
GRPODEF grpo_result grpo_hf_tokenizer_load(grpo_tokenizer *tokenizer, const char *directory, int model_vocab_size);

/* 3c. The plain text of Qwen2's ChatML chat template for one turn, with the generation prompt
   (what tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) gives
   for [system, user] without tools):
       <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n
   system NULL leaves out the system turn. Qwen2's and Qwen2.5's own templates put in a default
   system turn when there is none ("You are a helpful assistant." and "You are Qwen, created by
   Alibaba Cloud. You are a helpful assistant."): pass it to get their exact text. Tools, several
   turns and other templates are not covered (there is no Jinja here). Returns the length it
   needs, like snprintf. */
GRPODEF int grpo_chatml_prompt(const char *system, const char *user, char *buffer, size_t size);

/* ---------------------------------------------------------------------------------------
   4. Model configuration. Zero means default; grpo_config_resolve shows the values in force. */
typedef struct {
    int vocab_size;      /* V; default 259, the byte tokenizer's */
    int context_length;  /* longest sequence (prompt + completion); default 256 */
    int d_model;         /* C; default 256 */
    int n_layers;        /* L; default 4 */
    int n_heads;         /* H; default 4; must divide d_model, and d_model/n_heads must be even (RoPE) */
    int n_kv_heads;      /* KVH; default n_heads (no grouping); must divide n_heads (GQA) */
    int d_ff;            /* F, SwiGLU hidden size; default 8*d_model/3 rounded up to a multiple of 32 */
    float rope_theta;    /* RoPE base; default 10000 (Llama 2); Qwen2 uses 1000000 */
    float norm_eps;      /* RMSNorm epsilon; default 1e-5 (Llama); Qwen2 uses 1e-6 */
    int qkv_bias;        /* 1: biases on the Q, K, V projections (Qwen2); default 0 (Llama) */
    int untied_head;     /* 1: a separate output head; default 0: the head is the token embedding */
} grpo_config;

GRPODEF grpo_config grpo_config_resolve(const grpo_config *config);
/* Checks a (resolved or not) config; on error the message names the field. */
GRPODEF grpo_result grpo_config_validate(const grpo_config *config);

/* ---------------------------------------------------------------------------------------
   5. The model. All parameters live in one allocation; these pointers slice it. Weights are
   stored (out, in) like PyTorch's nn.Linear, so a layer computes y = x W^T + b and Hugging
   Face tensors load as they are. Tensors a config does not use are NULL with zero size. */
enum {
    GRPO_TENSOR_TOKEN_EMBEDDING, GRPO_TENSOR_ATTN_NORM, GRPO_TENSOR_WQ, GRPO_TENSOR_BQ,
    GRPO_TENSOR_WK, GRPO_TENSOR_BK, GRPO_TENSOR_WV, GRPO_TENSOR_BV, GRPO_TENSOR_WO,
    GRPO_TENSOR_MLP_NORM, GRPO_TENSOR_W_GATE, GRPO_TENSOR_W_UP, GRPO_TENSOR_W_DOWN,
    GRPO_TENSOR_FINAL_NORM, GRPO_TENSOR_LM_HEAD, GRPO_NUM_TENSORS
};

typedef struct {
    float *token_embedding; /* (V, C) */
    float *attn_norm;       /* (L, C) */
    float *wq;              /* (L, H*D, C) */
    float *bq;              /* (L, H*D)     qkv_bias only */
    float *wk;              /* (L, KVH*D, C) */
    float *bk;              /* (L, KVH*D)   qkv_bias only */
    float *wv;              /* (L, KVH*D, C) */
    float *bv;              /* (L, KVH*D)   qkv_bias only */
    float *wo;              /* (L, C, H*D) */
    float *mlp_norm;        /* (L, C) */
    float *w_gate;          /* (L, F, C) */
    float *w_up;            /* (L, F, C) */
    float *w_down;          /* (L, C, F) */
    float *final_norm;      /* (C) */
    float *lm_head;         /* (V, C)       untied_head only; otherwise the embedding is used */
} grpo_parameters;

typedef struct {
    const char *name;   /* as in grpo_parameters, e.g. "wq" */
    size_t offset;      /* in floats from the start of the parameter block */
    size_t count;       /* number of floats; 0 if the config does not use this tensor */
    int rank;           /* 1, 2 or 3 */
    int shape[3];
    int weight_decay;   /* 1 for matrices; 0 for norms and biases (AdamW decays only matrices) */
} grpo_tensor_info;

/* Activations saved by the forward pass for the backward pass. The forward works on N rows,
   one per valid token (padding takes no work): each sequence is a segment of consecutive rows,
   and a segment may first read the rows of a prefix it shares with other sequences
   (grpo_model_forward_shared), which are then computed once. One allocation, grown when a
   larger batch arrives. */
typedef struct {
    float *residual;     /* (L+1, N, C) residual stream entering each layer; [L] leaves the last */
    float *attn_rstd;    /* (L, N)      1/rms of each row before attention */
    float *attn_in;      /* (L, N, C)   normalised input of attention */
    float *q;            /* (L, N, H*D)   after RoPE */
    float *k;            /* (L, N, KVH*D) after RoPE */
    float *v;            /* (L, N, KVH*D) */
    float *att;          /* (L, att_size) softmax(q k^T / sqrt(D)) per segment, (H, length, prefix + length) */
    float *att_out;      /* (L, N, H*D)   attention-weighted values, before wo */
    float *residual_mid; /* (L, N, C)   residual after attention */
    float *mlp_rstd;     /* (L, N) */
    float *mlp_in;       /* (L, N, C) */
    float *gate;         /* (L, N, F) */
    float *up;           /* (L, N, F) */
    float *hidden;       /* (L, N, F)   silu(gate) * up */
    float *final_rstd;   /* (N) */
    float *final_out;    /* (N, C) */
    float *logits;       /* (N, V)      raw, before the temperature; row_of[b * T + t] is the row of (b, t) */
    int *tokens;         /* (N)         copies of the forward's inputs, for the backward */
    int *targets;        /* (N) */
    int *positions;      /* (N)         each row's position in its sequence (RoPE) */
    int *row_of;         /* (B*T)       the row of the caller's (b, t); -1 for padding */
    int rows;            /* N */
    int n_segments;      /* sequences and shared prefixes */
    int *segments;       /* (n_segments, 4) first row, length, first row of the prefix it reads first (-1: none), prefix length */
    int n_families;      /* a shared prefix and the segments that read it form one family (the backward's unit) */
    int *families;       /* (n_families + 1) first segment of each family */
    size_t *att_offsets; /* (n_segments + 1) where each segment's softmax starts within a layer's att */
    float *row_values;   /* (2, N)      each row's log-prob and entropy before they go to (b, t) */
    float *gemm_pack;    /* the training matmuls' packing buffer (grpo__gemm); not an activation */
    int layers_kept;     /* 0 after a frozen model's forward: the per-layer buffers hold one layer */
} grpo_activations;

/* Scratch for the backward pass, allocated with the gradients. */
typedef struct {
    float *dresidual;    /* (N, C) gradient flowing down the residual stream */
    float *dnormed;      /* (N, C) */
    float *dq;           /* (N, H*D) */
    float *dk;           /* (N, KVH*D) */
    float *dv;           /* (N, KVH*D) */
    float *datt_out;     /* (N, H*D) */
    float *dgate;        /* (N, F) */
    float *dup;          /* (N, F) */
    float *dhidden;      /* (N, F) */
    float *dlogits;      /* (N, V) */
    float *datt;         /* (n_families, KVH, largest segment's length x (prefix + length)) score gradients */
} grpo_gradient_scratch;

typedef struct {
    grpo_config config;            /* resolved */
    int head_size;                 /* D = C / H */
    int frozen;                    /* 1 for a reference model: forward only, no gradients */
    grpo_tensor_info tensors[GRPO_NUM_TENSORS];
    size_t num_parameters;
    float *params_memory;          /* one block of num_parameters floats */
    grpo_parameters params;        /* named slices of params_memory */
    float *grads_memory;           /* same layout; allocated on the first backward */
    grpo_parameters grads;
    float *rope_cos, *rope_sin;    /* (context_length, D/2) */
    /* forward state */
    float *acts_memory; size_t acts_capacity; /* floats */
    int *acts_ints; size_t acts_ints_capacity;
    size_t *acts_offsets; size_t acts_offsets_capacity;
    grpo_activations acts;
    float *scratch_memory; size_t scratch_capacity;
    grpo_gradient_scratch scratch;
    int batch_size, seq_len;       /* B, T of the last forward (the caller's layout); 0 before any */
    float temperature;             /* of the last forward */
} grpo_model;

/* Creates a model with freshly initialised weights: normal(0, 0.02) matrices, output
   projections (wo, w_down) scaled by 1/sqrt(2L), norms 1, biases 0. On failure *model is left
   zeroed and nothing is allocated. */
GRPODEF grpo_result grpo_model_create(grpo_model *model, const grpo_config *config, uint64_t seed);
GRPODEF void grpo_model_destroy(grpo_model *model);
/* The frozen reference model of GRPO's KL penalty: the same config and a copy of the weights,
   no gradients. One call; destroy it like any model. */
GRPODEF grpo_result grpo_model_create_reference(grpo_model *reference, const grpo_model *policy);
/* Copies src's weights into dst (same config), e.g. to refresh a reference model. */
GRPODEF grpo_result grpo_model_copy_weights(grpo_model *dst, const grpo_model *src);
GRPODEF void grpo_model_zero_grad(grpo_model *model);

/* ---------------------------------------------------------------------------------------
   7. Forward and backward over a batch of B sequences of up to T tokens.

   tokens (B, T) are the inputs; targets (B, T) the tokens whose log-probabilities are wanted
   (usually tokens shifted left by one); lengths (B) the valid tokens of each row -- rows are
   right-padded and positions t >= lengths[b] are masked out: their log-prob and entropy are
   0 and they take no gradient. lengths may be NULL (every row is full).
   logprobs (B, T) receives log softmax(logits / temperature)[target]; entropy (B, T), if not
   NULL, the entropy of that distribution. The raw logits stay in model->acts.logits, one row per
   valid token: row model->acts.row_of[b * T + t] for (b, t). */
GRPODEF grpo_result grpo_model_forward(grpo_model *model, const int *tokens, const int *targets,
                                       const int *lengths, int B, int T, float temperature,
                                       float *logprobs, float *entropy);
/* The same forward for rows in groups of group_size consecutive rows (the last group may be
   shorter) that begin with the same prefix_lengths[g] tokens and targets, as the G completions
   of one GRPO prompt do: the shared prefix is computed once per group and each row's own tokens
   attend to it, the same computation with fewer rows (the GRPO step's policy and reference
   forwards). prefix_lengths[g] is 0 (nothing shared) or less than every length of its group;
   rows that differ inside their prefix are an error. grpo_model_backward follows it as usual
   (a prefix position's gradient sums over the rows of its group). */
GRPODEF grpo_result grpo_model_forward_shared(grpo_model *model, const int *tokens, const int *targets,
                                              const int *lengths, int B, int T, int group_size, const int *prefix_lengths,
                                              float temperature, float *logprobs, float *entropy);
/* dlogprobs (B, T) = d(loss)/d(logprobs) of the last forward; adds d(loss)/d(parameters) into
   model->grads (so micro-batches accumulate). The same backward serves SFT and GRPO. */
GRPODEF grpo_result grpo_model_backward(grpo_model *model, const float *dlogprobs);

/* ---------------------------------------------------------------------------------------
   8. Generation: G completions for each of B prompts, as GRPO's rollouts need.

   Each prompt is run through the model once (prefill); its keys and values are shared by the
   G completions of its group. Then all active sequences of the batch decode together, one
   batched pass per new token, each with its own cache of generated keys and values. A
   sequence that stops drops out of the batch. Log-probs of the sampled tokens are those of
   softmax(logits / temperature) before any top-k/top-p filter (SPEC.md section 1: lp_old). */
/* The smallest temperature: below it logits / temperature can overflow float and turn every
   log-prob into NaN (found by fuzzing: 1.7e-43 did). vLLM treats temperatures under 1e-5 as
   greedy; grpo.h refuses them -- set greedy = 1 for that. */
#define GRPO_MIN_TEMPERATURE 1e-5f

#define GRPO_MAX_STOP_STRINGS 64
typedef struct {
    float temperature;        /* default 1.0; else at least GRPO_MIN_TEMPERATURE */
    int top_k;                /* keep the k most likely tokens; 0: no top-k filter */
    float top_p;              /* nucleus: keep the most likely tokens up to this mass; default 1.0 (off); in (0, 1] */
    int greedy;               /* 1: take the most likely token (lp_old still uses the temperature) */
    int max_new_tokens;       /* default (0): the generator's max_new_tokens */
    int eos_id;               /* token that ends a completion; default (0): the tokenizer's eos_id, or
                                 GRPO_BYTE_EOS with no tokenizer; -1: none */
    const char *const *stop_strings; /* a completion ends with the token that completes one of these */
    int n_stop_strings;              /* 0 to GRPO_MAX_STOP_STRINGS; stop_strings must hold that many */
    const grpo_tokenizer *tokenizer; /* needed for stop strings (to see the text of tokens) */
    uint64_t seed;
    /* Each sequence draws from its own random stream, seeded from (seed, prompt key, g), so its
       completion does not depend on the other sequences of the batch. The prompt key is
       prompt_seeds[b] if given (e.g. the prompt's index in the dataset), else b. */
    const uint64_t *prompt_seeds;
} grpo_sampling_config;

typedef struct {
    int max_prompts;          /* B at most; default 8 */
    int max_group_size;       /* G at most; default 8 */
    int max_new_tokens;       /* default min(128, context_length - 1) */
    int share_model_weights;  /* default (0): the generator keeps a copy of the model's matmul weights
                                 packed for decoding (as much memory again as those weights; refreshed
                                 at every grpo_generate: 7-9 ms for config B's 77 MB on 2 cores, 1-2 %
                                 of its generation), which decodes config B 6-14 % faster, with the
                                 same results bit for bit; 1: it reads the model's weights in place */
} grpo_generator_config;

/* The completions of one grpo_generate call; S = n_prompts * group_size sequences, sequence
   s = b * group_size + g. The arrays belong to the generator and stay valid until its next
   grpo_generate or grpo_generator_destroy. */
typedef struct {
    int n_prompts, group_size, n_sequences, max_new_tokens;
    int *tokens;              /* (S, max_new_tokens); 0 after the end (see mask) */
    float *logprobs;          /* (S, max_new_tokens) lp_old of each sampled token; 0 after the end */
    float *mask;              /* (S, max_new_tokens) 1 on completion tokens, the EOS or stop token included */
    int *lengths;             /* (S) completion tokens */
    int *truncated;           /* (S) 1 if max_new_tokens was reached without EOS or a stop string */
} grpo_completions;

typedef struct {
    grpo_generator_config config;  /* resolved */
    grpo_config model_config;      /* of the model it was made for */
    int head_size, max_sequences, n_threads;
    /* The KV cache, laid out for the decode steps' reads: one head's keys or values are
       contiguous, and keys come in blocks of 16 positions stored (D, 16), so a query's scores
       against 16 positions are D multiply-adds of whole vectors, with no reduction per key. */
    float *cache_k;                /* (L, max_sequences, KVH, ceil(max_new_tokens / 16), D, 16) keys of generated tokens */
    float *cache_v;                /* (L, max_sequences, KVH, max_new_tokens, D) values of generated tokens */
    float *prompt_k;               /* (L, max_prompts, KVH, ceil(context_length / 16), D, 16) the prompts' keys */
    float *prompt_v;               /* (L, max_prompts, KVH, context_length, D) the prompts' values */
    float *x, *normed, *q, *k, *v, *att_out, *rstd, *logits; /* per active row */
    float *hidden;                 /* the SwiGLU output, in the packed form the down projection reads */
    float *scores;                 /* (max_sequences * H, context_length + 32) attention scratch */
    float *packed;                 /* the decode matmuls' transposed copy of their input rows */
    float *weights;                /* the model's wq, wk, wv, wo, w_gate, w_up, w_down (each (L, out, in)) and
                                      head (V, C) packed in panels (grpo__pack_panels), copied from the
                                      model by the first decode step of each grpo_generate; NULL if
                                      share_model_weights or in a build without the vector kernel */
    int panel_rows;                /* the panels' height; 0 until that first step packs them */
    float *sample_probs;           /* (n_threads, V) sampler scratch */
    void *sample_candidates;       /* (n_threads, V) */
    float *prefill_logprobs;       /* (max_prompts * context_length) */
    int *row_sequence, *row_token, *row_position, *row_step, *next_rows; /* (max_sequences) each */
    int *prompt_lengths;           /* (max_prompts) of the current call */
    grpo_rng *rngs;                /* (max_sequences) */
    char *tails;                   /* (max_sequences, GRPO__TAIL) last bytes of each completion, for stop strings */
    int *tail_lengths;             /* (max_sequences) */
    grpo_completions completions;
    void *float_memory, *int_memory;
} grpo_generator;

GRPODEF grpo_result grpo_generator_create(grpo_generator *generator, const grpo_model *model,
                                          const grpo_generator_config *config /* may be NULL */);
GRPODEF void grpo_generator_destroy(grpo_generator *generator);
/* prompts (n_prompts, T) right-padded, prompt_lengths (n_prompts) >= 1. Samples group_size
   completions per prompt into generator->completions and points *completions at it. Uses the
   model's forward activations for the prefill (a later forward overwrites them). */
GRPODEF grpo_result grpo_generate(grpo_generator *generator, grpo_model *model, const int *prompts,
                                  const int *prompt_lengths, int n_prompts, int T, int group_size,
                                  const grpo_sampling_config *sampling, const grpo_completions **completions);

/* ---------------------------------------------------------------------------------------
   9. Rewards (SPEC.md section 2). Rule rewards read the completion as bytes (text, len): NUL
   bytes, unterminated or repeated tags, huge inputs and overflowing numbers are ordinary input.
   A reward may abstain by returning NaN ("no opinion"). */

/* 1 if text is <think>...</think>, optional whitespace, <answer>...</answer> and nothing else,
   each tag exactly once and in order; else 0 (DeepSeek-R1's format reward). */
GRPODEF float grpo_reward_format(const char *text, size_t len);
/* The same with open-r1's newlines: <think>\n...\n</think>\n<answer>\n...\n</answer>. */
GRPODEF float grpo_reward_format_strict(const char *text, size_t len);
/* 0.25 for each of "<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>" present exactly once. */
GRPODEF float grpo_reward_tag_count(const char *text, size_t len);
/* 1 if the content of the last <answer>...</answer> equals gold, else 0. Equal: the same after
   trimming white space, or, when both parse as numbers (integers, decimals, fractions a/b,
   optional sign, thousands commas), equal within 1e-6 relative. */
GRPODEF float grpo_reward_accuracy(const char *text, size_t len, const char *gold);
/* TinyZero's countdown reward. gold is "n1 n2 ... nk = target", e.g. "3 5 7 2 = 24". The answer
   must be an expression of + - * / ( ), integers and spaces: 1.0 if it uses each given number
   exactly once and equals the target within 1e-5; 0.1 if an answer is present but wrong,
   malformed or uses the numbers wrongly (division by zero included); 0 with no answer. NaN if
   gold is malformed. The parser is a recursive-descent one with a depth limit, never eval. */
GRPODEF float grpo_reward_countdown(const char *text, size_t len, const char *gold);
/* DAPO's soft overlong punishment for a completion of `tokens` tokens: 0 up to max_tokens -
   buffer, then falling linearly to -1 at max_tokens, -1 beyond. */
GRPODEF float grpo_reward_overlong(int tokens, int max_tokens, int buffer);

typedef enum {
    GRPO_REWARD_FORMAT = 1, GRPO_REWARD_FORMAT_STRICT, GRPO_REWARD_TAG_COUNT, GRPO_REWARD_ACCURACY,
    GRPO_REWARD_COUNTDOWN, GRPO_REWARD_OVERLONG, GRPO_REWARD_CALLBACK
} grpo_reward_kind;

/* A user reward: the completion as a C string (a NUL byte in it ends the string). */
typedef float (*grpo_reward_function)(const char *prompt, const char *completion, const char *gold, void *user);

typedef struct {
    grpo_reward_kind kind;
    float weight;                   /* default 1 */
    const char *name;               /* for metrics "rewards/<name>/mean"; default the kind's name */
    grpo_reward_function function;  /* GRPO_REWARD_CALLBACK */
    void *user;
    int overlong_max_tokens;        /* GRPO_REWARD_OVERLONG: L_max */
    int overlong_buffer;            /* GRPO_REWARD_OVERLONG: L_c, 1 to L_max */
} grpo_reward;

GRPODEF const char *grpo_reward_name(const grpo_reward *reward);
GRPODEF grpo_result grpo_reward_validate(const grpo_reward *rewards, int n_rewards);
/* Scores one completion with every reward: values (n_rewards) receives each reward's value,
   the return value is sum_k weight_k * value_k over the rewards that did not abstain, or NaN if
   all abstained (the completion is then left out of its group's statistics). */
GRPODEF float grpo_reward_completion(const grpo_reward *rewards, int n_rewards, const char *prompt,
                                     const char *completion, size_t completion_len, int completion_tokens,
                                     const char *gold, float *values);

/* ---------------------------------------------------------------------------------------
   10. Advantages and the GRPO loss (SPEC.md sections 3 to 5). */
typedef enum {
    GRPO_SCALE_GROUP = 0,   /* (r - mean_g) / (std_g + 1e-4): DeepSeekMath, the default */
    GRPO_SCALE_BATCH = 1,   /* (r - mean_g) / (std over the batch + 1e-4) */
    GRPO_SCALE_NONE = 2     /* r - mean_g: Dr. GRPO */
} grpo_scale_rewards;

/* rewards (n_groups * G), group by group; a NaN reward is left out of its group's mean and std
   and gets advantage 0. std is the sample one (Bessel, as torch.std) unless population_std;
   a group with fewer than two valid rewards has std 0. Returns the number of groups whose
   valid rewards are all equal: they carry no signal (frac_reward_zero_std). */
GRPODEF int grpo_advantages(const float *rewards, int n_groups, int group_size, grpo_scale_rewards scale,
                            int population_std, float *advantages);

typedef enum {
    GRPO_LOSS_DAPO = 0,     /* sum(mask * l) / active tokens of the whole step: TRL's default */
    GRPO_LOSS_GRPO = 1,     /* (1/N) sum_i (1/|o_i|) sum_t mask * l: DeepSeekMath, R1 */
    GRPO_LOSS_BNPO = 2,     /* sum(mask * l) / sum(mask), per micro-batch, averaged over micro-batches */
    GRPO_LOSS_DR_GRPO = 3   /* sum(mask * l) / (N * L_max): Dr. GRPO */
} grpo_loss_type;

typedef enum {
    GRPO_KL_K3 = 0,             /* exp(d) - d - 1, d = lp_ref - lp (DeepSeekMath eq. 4), default */
    GRPO_KL_K1 = 1,             /* -d */
    GRPO_KL_K2 = 2,             /* d^2 / 2 */
    GRPO_KL_K3_IMPORTANCE = 3   /* rho * k3 with rho differentiable (DeepSeek-V3.2, TRL's
                                   use_bias_correction_kl): its expected gradient is that of
                                   KL(pi_theta || pi_ref), where plain k3's is KL(pi_ref || pi_theta) */
} grpo_kl_estimator;

typedef struct {
    grpo_loss_type loss_type;       /* default GRPO_LOSS_DAPO */
    float epsilon_low;              /* default 0.2 */
    float epsilon_high;             /* default epsilon_low; DAPO's clip-higher uses 0.28 */
    float dual_clip;                /* c > 1 enables dual-clip for negative advantages (verl: 3); 0 off */
    float beta;                     /* KL coefficient; default 0 (TRL): no reference model at all */
    grpo_kl_estimator kl_estimator; /* default k3 */
} grpo_loss_config;

GRPODEF grpo_loss_config grpo_loss_config_resolve(const grpo_loss_config *config);
GRPODEF grpo_result grpo_loss_config_validate(const grpo_loss_config *config);

/* Where one micro-batch stands in the optimisation step, for the token normalisers. */
typedef struct {
    int total_sequences;          /* N of the step (grpo, dr_grpo) */
    double total_tokens;          /* active completion tokens of the step (dapo) */
    int n_micro_batches;          /* bnpo averages the micro-batches' losses */
    int max_completion_tokens;    /* L_max (dr_grpo) */
} grpo_loss_scale;

/* Sums over masked tokens, added to by each call (zero it to start). */
typedef struct {
    double tokens, kl, low_clipped, high_clipped;
} grpo_loss_stats;

/* The GRPO loss of one micro-batch of N sequences x T positions (SPEC.md section 4):
     rho = exp(lp - lp_old); pg = max(-rho A, -clip(rho, 1 - eps_low, 1 + eps_high) A);
     dual-clip: pg = min(pg, c |A|) where A < 0; l = pg + beta * kl(lp_ref, lp);
   aggregated by loss_type (section 5). logprobs, old_logprobs, mask (N, T); ref_logprobs
   (N, T) or NULL when beta = 0; advantages (N). Returns this micro-batch's share of the step's
   loss and writes dlogprobs = d share / d logprobs, ready for grpo_model_backward. */
GRPODEF float grpo_loss(const grpo_loss_config *config, const grpo_loss_scale *scale, const float *logprobs,
                        const float *old_logprobs, const float *ref_logprobs, const float *advantages,
                        const float *mask, int N, int T, float *dlogprobs, grpo_loss_stats *stats);

/* ---------------------------------------------------------------------------------------
   11. Supervised loss: the mean negative log-likelihood over the tokens where mask is 1
   (SFT puts the loss on completion tokens only). Returns the loss and writes
   dlogprobs = -mask / count, ready for grpo_model_backward. mask may be NULL (all tokens). */
GRPODEF float grpo_sft_loss(const float *logprobs, const float *mask, int B, int T, float *dlogprobs);

/* ---------------------------------------------------------------------------------------
   12. AdamW (Loshchilov & Hutter: decoupled weight decay, on matrices only), global
   gradient-norm clipping, and a learning-rate schedule: linear warm-up, then constant or
   cosine decay. The moments m and v share the parameters' layout. */
typedef enum { GRPO_SCHEDULE_CONSTANT = 0, GRPO_SCHEDULE_COSINE = 1 } grpo_schedule;

typedef struct {
    float learning_rate;   /* peak; default 3e-4 */
    float beta1;           /* default 0.9 */
    float beta2;           /* default 0.999 */
    float epsilon;         /* default 1e-8 */
    float weight_decay;    /* default 0 (TRL's); applied to matrices only */
    float max_grad_norm;   /* clip the global L2 norm to this; default 1.0; negative disables */
    int warmup_steps;      /* linear warm-up from lr/warmup to lr; default 0 */
    grpo_schedule schedule;/* after warm-up; default constant */
    int total_steps;       /* cosine reaches min_lr_ratio * lr here; required for cosine */
    float min_lr_ratio;    /* default 0 */
} grpo_adamw_config;

typedef struct {
    grpo_adamw_config config; /* resolved */
    size_t num_parameters;
    float *m, *v;             /* first and second moments, (num_parameters) each, one allocation */
    uint64_t step;            /* updates done so far */
} grpo_adamw;

GRPODEF grpo_adamw_config grpo_adamw_config_resolve(const grpo_adamw_config *config);
GRPODEF grpo_result grpo_adamw_create(grpo_adamw *optimizer, const grpo_model *model,
                                      const grpo_adamw_config *config);
GRPODEF void grpo_adamw_destroy(grpo_adamw *optimizer);
/* The learning rate of update number step (0-based). */
GRPODEF float grpo_adamw_learning_rate(const grpo_adamw_config *config, uint64_t step);
/* Clips the gradients, updates the weights, advances the step. If the gradient norm is NaN or
   Inf the update is refused with GRPO_ERROR_NON_FINITE and nothing changes. grad_norm (the
   norm before clipping) and learning_rate may be NULL. Does not zero the gradients. */
GRPODEF grpo_result grpo_adamw_step(grpo_adamw *optimizer, grpo_model *model,
                                    float *grad_norm, float *learning_rate);

/* ---------------------------------------------------------------------------------------
   13. The GRPO step (SPEC.md section 1): sample G completions per prompt, score them, turn the
   scores into group-relative advantages, then mu times: forward the policy, the loss,
   backward, clip, AdamW. The reference model (beta > 0) is run once per step. */
typedef struct {
    const char *prompt;   /* the text given to the model (apply a template first, e.g. grpo_r1_zero_prompt) */
    const char *gold;     /* the reference answer the rewards compare with */
} grpo_example;

typedef struct {
    int prompts_per_step;          /* B; default 8 */
    int group_size;                /* G; default 8 (TRL) */
    int max_completion_tokens;     /* L_max; default min(128, context_length / 2) */
    int mu;                        /* optimisation passes per rollout batch; default 1 */
    int micro_batch_size;          /* sequences per forward/backward (gradient accumulation); default B*G */
    grpo_scale_rewards scale_rewards;
    int population_std;            /* 1: population std in the advantages; default sample std */
    int mask_truncated_completions;/* 1: truncated completions take no loss (they still count in rewards) */
    int dynamic_sampling;          /* 1 (DAPO): drop groups whose rewards are all equal, sample more prompts */
    int max_sampling_rounds;       /* with dynamic sampling; default 4 */
    grpo_loss_config loss;
    grpo_sampling_config sampling; /* temperature, top-k, top-p, EOS, stop strings; the step sets max_new_tokens,
                                      seed, prompt_seeds and tokenizer */
    grpo_adamw_config optimizer;   /* note: learning_rate defaults to 3e-4; TRL's GRPO uses 1e-6 on large models */
    const grpo_reward *rewards;    /* combined with weights; at least one */
    int n_rewards;
    const grpo_tokenizer *tokenizer; /* required: prompts are encoded and completions decoded with it */
    uint64_t seed;
    int share_model_weights;       /* 1: the generator reads the policy's weights in place instead of keeping
                                      a packed copy (grpo_generator_config): less memory, slower rollouts */
} grpo_trainer_config;

#define GRPO_MAX_REWARDS 16

/* The order in which a run visits its dataset: each epoch a fresh pseudo-random permutation of
   the `size` examples, fixed by (seed, epoch), and a position -- the examples consumed so far,
   over all epochs. These three numbers are the whole state: a checkpoint that keeps them
   resumes the same order exactly (grpo_trainer_save keeps trainer->data; grpo_checkpoint_save
   keeps state->data). A step of the trainer, in three lines:

       grpo_data_order_batch(&trainer.data, dataset, batch, n);   (n = prompts_per_step, or more
       grpo_trainer_step(&trainer, batch, n, &metrics);            with dynamic sampling)
       grpo_data_order_advance(&trainer.data, metrics.examples_used);                           */
typedef struct {
    uint64_t seed;
    uint64_t size;       /* examples in the dataset; 0: not in use */
    uint64_t position;   /* examples consumed so far, over all epochs */
} grpo_data_order;

GRPODEF grpo_data_order grpo_data_order_create(uint64_t seed, uint64_t size);
/* The dataset index of the example `ahead` places after the current position (0: the next one). */
GRPODEF uint64_t grpo_data_order_index(const grpo_data_order *order, uint64_t ahead);
/* batch[i] = dataset[grpo_data_order_index(order, i)] for i < n; the position does not move. */
GRPODEF grpo_result grpo_data_order_batch(const grpo_data_order *order, const grpo_example *dataset,
                                          grpo_example *batch, int n);
GRPODEF void grpo_data_order_advance(grpo_data_order *order, uint64_t consumed);

/* The metrics of one step, named as TRL logs them (SPEC.md section 6). */
typedef struct {
    uint64_t step;
    double reward, reward_std;
    int n_rewards;
    const char *reward_names[GRPO_MAX_REWARDS];
    double reward_means[GRPO_MAX_REWARDS];   /* rewards/<name>/mean over completions that have a value */
    double frac_reward_zero_std;
    double completions_mean_length, completions_min_length, completions_max_length, completions_clipped_ratio;
    double kl;                               /* mean over completion tokens; NaN when beta = 0 (no reference run) */
    double entropy;                          /* mean token entropy of the policy */
    double clip_ratio_low_mean, clip_ratio_high_mean, clip_ratio_region_mean;
    double grad_norm, learning_rate, loss;
    double seconds_generation, seconds_rewards, seconds_reference, seconds_policy, seconds_optimizer, seconds_total;
    int examples_used;                       /* examples consumed from the caller's array (more with dynamic sampling) */
    int sampling_rounds;
} grpo_metrics;

typedef struct {
    grpo_trainer_config config;    /* resolved */
    grpo_model *policy;            /* the caller's model, trained in place */
    grpo_model reference;          /* frozen copy of the policy at creation; only if beta > 0 */
    grpo_adamw optimizer;
    grpo_generator generator;
    uint64_t step;
    int sequences, width;          /* S = B*G rows, and the row width T (context_length) */
    int *prompt_tokens, *prompt_lengths, *tokens, *targets, *lengths, *completion_lengths, *truncated, *example_of_group;
    float *mask, *old_logprobs, *ref_logprobs, *logprobs, *dlogprobs, *entropy, *advantages, *rewards, *reward_values;
    char *text;                    /* one decoded completion */
    size_t text_capacity;
    void *memory;
    /* For refusing a step and resuming a run (issue 9): */
    float *rollback;               /* (3P) weights, AdamW m and v before a step; only when mu > 1, where a
                                      refused later pass must undo the earlier passes' updates */
    grpo_data_order data;          /* the caller's order over its dataset; grpo_trainer_save keeps it */
} grpo_trainer;

GRPODEF grpo_result grpo_trainer_create(grpo_trainer *trainer, grpo_model *policy, const grpo_trainer_config *config);
GRPODEF void grpo_trainer_destroy(grpo_trainer *trainer);
/* One GRPO step on examples[0..]: uses prompts_per_step of them (more with dynamic sampling,
   up to n_examples) and reports how many in metrics->examples_used. A NaN or Inf in the loss,
   the gradients or the updated weights or moments refuses the whole step (GRPO_ERROR_NON_FINITE,
   with a message naming the step and the first offending tensor element): the weights, the
   AdamW state and trainer->step stay as they were, with mu > 1 too. Any other failure leaves
   them as they were as well. */
GRPODEF grpo_result grpo_trainer_step(grpo_trainer *trainer, const grpo_example *examples, int n_examples,
                                      grpo_metrics *metrics);
/* One JSON object on one line (no newline); returns the length it needs, like snprintf. */
GRPODEF int grpo_metrics_json(const grpo_metrics *metrics, char *buffer, size_t size);
/* DeepSeek-R1-Zero's template around a question (SPEC.md section 2); returns the length it
   needs, like snprintf. */
GRPODEF int grpo_r1_zero_prompt(const char *question, char *buffer, size_t size);

/* ---------------------------------------------------------------------------------------
   14. Checkpoints. Little-endian binary, version 2 (version 1 files are still read):

     offset  bytes  field
          0      8  magic "GRPOCKPT"
          8      4  version (uint32) = 2
         12     44  config: vocab_size, context_length, d_model, n_layers, n_heads, n_kv_heads,
                    d_ff (int32 each), rope_theta, norm_eps (float32), qkv_bias, untied_head (int32)
         56      8  num_parameters (uint64), must equal what the config implies
         64      8  step (uint64): the caller's training step; trainer checkpoints: trainer->step
         72      8  rng_state (uint64): the caller's; trainer checkpoints: the trainer's config.seed
         80      4  has_optimizer (uint32, 0 or 1)
         84      8  optimizer_step (uint64), AdamW updates done
         92      4  has_reference (uint32, 0 or 1): the frozen reference model's weights follow   [v2]
         96     24  data order: seed, size, position (uint64 each), see grpo_data_order         [v2]
        120    4*P  parameters (float32), in the order of model->tensors
          .    8*P  AdamW m then v (float32), only if has_optimizer
          .    4*P  reference model parameters (float32), only if has_reference              [v2]
          .      4  CRC-32 (zlib's polynomial) of every byte before it

   Version 1 is the same without the fields marked [v2]: its parameters start at offset 92.
   Saving writes "<path>.tmp", flushes it to disk (fsync), renames it over path and syncs the
   directory, so a crash or a kill at any moment leaves either the old file or the new one.
   Saving refuses NaN or Inf weights or moments (a good checkpoint is never replaced by a
   broken one). Loading checks every field, the exact size, the CRC and that every value is
   finite (and v >= 0), and changes nothing unless all is well. */
typedef struct {
    uint64_t step;        /* the caller's training step */
    uint64_t rng_state;   /* e.g. grpo_rng.state */
    grpo_data_order data; /* the caller's data order; zero if not used */
} grpo_checkpoint_state;

GRPODEF grpo_result grpo_checkpoint_save(const char *path, const grpo_model *model,
                                         const grpo_adamw *optimizer, /* may be NULL */
                                         const grpo_checkpoint_state *state /* may be NULL */);
/* If model is zeroed (never created) it is created from the file's config; otherwise the file's
   config must equal the model's. If optimizer is not NULL the file must hold optimizer state;
   the optimizer's buffers are created if needed and its config is kept. state may be NULL.
   A reference model in the file (a trainer checkpoint) is checked and skipped. */
GRPODEF grpo_result grpo_checkpoint_load(const char *path, grpo_model *model, grpo_adamw *optimizer,
                                         grpo_checkpoint_state *state);

/* Everything a GRPO run needs to continue exactly where it stopped: the policy's weights, the
   AdamW moments and step, the reference model's weights (when beta > 0), trainer->step, the
   seed of the sampling streams and trainer->data. A run stopped after step k and resumed with
   grpo_trainer_load gives bit-identical weights and metrics (timings aside) at every later step
   to a run that never stopped, with the same build, thread count and trainer config. */
GRPODEF grpo_result grpo_trainer_save(const grpo_trainer *trainer, const char *path);
/* Into a trainer created (grpo_trainer_create) with the same config for a policy of the same
   model config. The file must hold optimizer state, and a reference model when beta > 0 (to
   start GRPO from weights saved without one, grpo_checkpoint_load them into the policy before
   creating the trainer). If trainer->data.size is set it must equal the file's. Changes nothing
   unless the whole file is good. */
GRPODEF grpo_result grpo_trainer_load(grpo_trainer *trainer, const char *path);

/* ---------------------------------------------------------------------------------------
   14b. Hugging Face models: config.json and safetensors, read and written, so that a pretrained
   Llama or Qwen2 (Qwen2.5-0.5B, SmolLM2, TinyLlama) can be trained here and handed back.

   A model directory holds config.json and either model.safetensors or the shards named by
   model.safetensors.index.json (model-00001-of-00002.safetensors, ...). Tensors in F32, F16 and
   BF16 are converted to float32 on load. Names map to the tensor table as transformers names them:
     model.embed_tokens.weight                token_embedding (V, C)
     model.layers.{l}.input_layernorm.weight  attn_norm[l] (C)
     model.layers.{l}.self_attn.{q,k,v}_proj.{weight,bias}   wq/bq, wk/bk, wv/bv [l]
     model.layers.{l}.self_attn.o_proj.weight wo[l]
     model.layers.{l}.post_attention_layernorm.weight        mlp_norm[l]
     model.layers.{l}.mlp.{gate,up,down}_proj.weight         w_gate, w_up, w_down [l]
     model.norm.weight                        final_norm (C)
     lm_head.weight                           lm_head (V, C), only with tie_word_embeddings false
   Every header field, dtype, shape and offset is checked (tensors must tile the data exactly, as
   the safetensors library requires); a tensor missing, duplicated, unknown, of the wrong shape or
   holding a NaN/Inf is an error naming it. Features the engine does not implement (rope_scaling,
   sliding-window attention, an attention output bias, MLP biases, activations other than SiLU, a
   head_dim other than hidden_size / num_attention_heads) are refused with a message, never
   silently ignored. Ignored, as transformers ignores them: rotary_emb.inv_freq buffers, and
   lm_head.weight when the head is tied. */
#define GRPO_SAFETENSORS_MAX_HEADER 100000000u /* bytes, the safetensors library's own limit */
#define GRPO_SAFETENSORS_MAX_RANK 8

typedef struct {
    const char *name;        /* NUL-terminated, in the header's string pool */
    char dtype[8];           /* as written: "F32", "F16", "BF16", "I64", ... */
    int element_size;        /* bytes per element */
    int rank;
    int64_t shape[GRPO_SAFETENSORS_MAX_RANK];
    uint64_t count;          /* elements */
    uint64_t begin, end;     /* byte offsets in the file (past the header) */
} grpo_safetensors_tensor;

typedef struct {
    grpo_json header;
    grpo_safetensors_tensor *tensors;
    int n_tensors;
    uint64_t data_start, file_size;
    void *file;                       /* FILE* when opened from a path */
    const unsigned char *memory;      /* the image when parsed from memory */
    const char *source;               /* for messages; the caller's string */
} grpo_safetensors;

/* A safetensors file in memory (size bytes), or on disk. Checks the header completely. */
GRPODEF grpo_result grpo_safetensors_parse(grpo_safetensors *file, const void *bytes, size_t size, const char *source);
GRPODEF grpo_result grpo_safetensors_open(grpo_safetensors *file, const char *path);
GRPODEF void grpo_safetensors_close(grpo_safetensors *file);
/* Index of the tensor called name, or -1. */
GRPODEF int grpo_safetensors_find(const grpo_safetensors *file, const char *name);
/* Reads tensor i (F32, F16 or BF16) into out as float32 (count floats); refuses NaN and Inf. */
GRPODEF grpo_result grpo_safetensors_read(const grpo_safetensors *file, int i, float *out);

typedef struct {
    int context_length;  /* 0: config.json's max_position_embeddings. Smaller saves memory: it sizes
                            the RoPE tables and the trainer's and generator's buffers */
} grpo_hf_options;

/* What config.json says beyond grpo_config, kept so that a save can write it back. */
typedef struct {
    char architecture[32];           /* "LlamaForCausalLM" or "Qwen2ForCausalLM" */
    int max_position_embeddings;
    int bos_token_id, eos_token_id;  /* -1 if absent (eos: the first of a list) */
    char torch_dtype[16];            /* as written, e.g. "bfloat16"; "" if absent */
} grpo_hf_info;

/* Maps config.json (text of len bytes) to a grpo_config; info may be NULL. */
GRPODEF grpo_result grpo_hf_config_parse(const char *text, size_t len, const char *source, const grpo_hf_options *options,
                                         grpo_config *config, grpo_hf_info *info);
/* Creates *model (which must not be created yet) from a model directory; options and info may be
   NULL. On failure *model is left zeroed. */
GRPODEF grpo_result grpo_hf_model_load(grpo_model *model, const char *directory, const grpo_hf_options *options,
                                       grpo_hf_info *info);
/* Writes directory/model.safetensors (float32) and directory/config.json, each to a temporary
   file renamed into place, creating the directory if needed (POSIX). The architecture is
   Qwen2ForCausalLM if the model has Q/K/V biases, else LlamaForCausalLM. info (may be NULL)
   supplies max_position_embeddings and the BOS/EOS ids written to config.json. */
GRPODEF grpo_result grpo_hf_model_save(const char *directory, const grpo_model *model, const grpo_hf_info *info);
/* ---------------------------------------------------------------------------------------
   15. Around GRPO (SPEC.md sections 7 and 8): the rest of R1's pipeline. Supervised steps on
   (prompt, completion) pairs and an SFT trainer, as in R1's cold start and second SFT stage;
   evaluation by sampling, as R1 reports it (pass@1, cons@k, pass@k, greedy apart); rejection
   sampling into SFT data; datasets read from and written to JSONL with TRL's field names. A
   prompt is encoded as the GRPO trainer encodes it (the tokenizer's BOS, if any, then the text),
   so a model taught here sees the same tokens when GRPO and the evaluation sample from it.
   The whole pipeline in outline (examples/sft.c, rejection_sample.c and evaluate.c run its
   steps as commands):
       grpo_dataset_load_jsonl(&cold, "cold_start.jsonl", &sft_options);   SFT data
       grpo_sft_train(&model, &optimizer, &tokenizer, &cold, NULL, &sft_config, NULL);
       ... GRPO (section 13) on the RL prompts ...
       grpo_rejection_sample(&model, &rejection_config, problems, n, &kept, &stats);
       grpo_sft_train(&model, &optimizer, &tokenizer, &kept, NULL, &sft_config, NULL);
       ... GRPO again; grpo_evaluate after each stage ... */
typedef struct {
    const char *prompt;      /* context only: no loss on these tokens */
    const char *completion;  /* the loss is on these tokens and the EOS that follows them */
} grpo_sft_example;

typedef struct {
    double loss;             /* mean negative log-likelihood per completion token (EOS included) */
    int tokens;              /* completion tokens that carried the loss */
    int sequences;
    float grad_norm;         /* before clipping; 0 when only evaluating */
    float learning_rate;     /* of this update; 0 when only evaluating */
} grpo_sft_metrics;

/* One supervised step on a batch of n_examples: forward, grpo_sft_loss over the completion
   tokens (each completion followed by the tokenizer's EOS, if it has one), backward, AdamW.
   With optimizer NULL it only measures the loss (no backward, weights unchanged): an
   evaluation loss. Gradients are zeroed first, so one call is one update. A sequence longer
   than context_length is an error that names it; a non-finite loss is refused
   (GRPO_ERROR_NON_FINITE) with the weights unchanged. Scratch is allocated per call. */
GRPODEF grpo_result grpo_sft_step(grpo_model *model, grpo_adamw *optimizer, const grpo_tokenizer *tokenizer,
                                  const grpo_sft_example *examples, int n_examples, grpo_sft_metrics *metrics);

typedef struct {
    int samples_per_problem;       /* k; default 4 (R1: 4 to 64) */
    int max_completion_tokens;     /* default min(128, context_length / 2), as the GRPO trainer */
    int problems_per_batch;        /* problems decoded together; default 8 */
    grpo_sampling_config sampling; /* zero temperature and top_p mean R1's evaluation setting, 0.6 and 0.95;
                                      greedy = 1 with k = 1 gives greedy accuracy (report it apart).
                                      max_new_tokens, tokenizer and prompt_seeds are set by the evaluation */
    const grpo_tokenizer *tokenizer;  /* required */
    const grpo_reward *correct;    /* a completion is correct when this reward's value is >= 1;
                                      default (NULL): the accuracy reward against the problem's gold */
    const grpo_reward *format;     /* well-formed when its value is >= 1; default (NULL): R1's format reward */
    /* If set, called for every completion in problem order, e.g. to print a few or save them. */
    void (*on_completion)(void *user, int problem, int sample, const char *completion, int correct, int formatted);
    void *user;
    int pass_k;                    /* the k of pass@k, 1 to samples_per_problem; default samples_per_problem */
    int greedy_run;                /* 1: also decode each problem once greedily (a second run, k = 1) and report
                                      greedy_accuracy apart, as R1 does; it is never mixed into pass@1 */
} grpo_eval_config;

typedef struct {
    int n_problems, samples_per_problem;
    double pass_at_1;              /* SPEC.md section 8: (1/n) sum_i c_i / k */
    double cons_at_k;              /* majority vote over each problem's k extracted answers (grpo_majority_answer):
                                      the share of problems whose majority answer is judged correct */
    double pass_at_k;              /* unbiased pass@k for k = pass_k (grpo_pass_at_k) */
    int pass_k;
    double greedy_accuracy;        /* share of problems whose greedy completion is correct; NaN without greedy_run */
    double format_rate;            /* share of all completions that are well-formed */
    double mean_length;            /* completion tokens, mean over all completions */
    double truncated_ratio;        /* share that hit max_completion_tokens without a stop */
    double seconds;                /* the sampled run and, with greedy_run, the greedy one */
} grpo_eval_result;

/* Samples k completions for each problem (prompt and gold, as the trainer takes them) and
   scores them: pass@1, cons@k (majority vote, grpo_majority_answer), pass@k (grpo_pass_at_k),
   format rate, lengths; with greedy_run, a second, greedy run gives greedy accuracy.
   correct_counts (n_problems), if not NULL, receives c_i, the correct completions of problem i.
   Completion j of problem i draws from the random stream (sampling.seed, i, j): the same seed
   gives the same samples whatever problems_per_batch is. on_completion sees the sampled run. */
GRPODEF grpo_result grpo_evaluate(grpo_model *model, const grpo_eval_config *config, const grpo_example *problems,
                                  int n_problems, int *correct_counts, grpo_eval_result *result);
/* pass@1 of SPEC.md section 8 from per-problem counts of correct samples out of k:
   (1/n) sum_i c_i / k. NaN if n < 1, k < 1 or a count is outside [0, k]. */
GRPODEF double grpo_pass_at_1(const int *correct_counts, int n_problems, int k);

/* pass@k of SPEC.md section 8, the unbiased estimator of Chen et al. (2021, the Codex paper):
   for a problem with c of n samples correct, 1 - C(n - c, k) / C(n, k), computed as the
   product 1 - prod_{i = n-c+1..n} (1 - k / i), which needs no binomial coefficients and cannot
   overflow; the mean over problems. pass@1 is grpo_pass_at_1, and pass@n the share of problems
   with at least one correct sample. NaN if n_problems < 1, k < 1, k > n_samples or a count is
   outside [0, n_samples]. */
GRPODEF double grpo_pass_at_k(const int *correct_counts, int n_problems, int n_samples, int k);

/* The answer of a completion as the accuracy reward reads it: the content of the last
   <answer>...</answer>, white space trimmed. Returns 1 with its span text[*start, *end), or 0
   if there is none. */
GRPODEF int grpo_extract_answer(const char *text, size_t len, size_t *start, size_t *end);
/* Whether two (extracted) answers are the same as the accuracy reward decides it: both parse as
   numbers (integers, decimals, fractions a/b, sign, thousands commas) equal within 1e-6
   relative, or the same bytes after trimming white space. */
GRPODEF int grpo_answers_equal(const char *a, size_t a_len, const char *b, size_t b_len);
/* cons@k's majority vote (SPEC.md section 8) over one problem's n extracted answers (NULL where
   a sample gave no answer: it does not vote). Each answer joins the first class, in the order the
   classes appeared, whose first answer equals it (grpo_answers_equal), or starts a new class; the
   class with the most votes wins, and a tie goes to the class that appeared first (the lowest
   sample index). Returns the sample index of the winning class's first
   answer, or -1 if no sample answered (-2 if n > 256 and the scratch could not be allocated).
   grpo_evaluate counts a problem right for cons@k when that sample is judged correct. */
GRPODEF int grpo_majority_answer(const char *const *answers, int n);

/* ---- Datasets with TRL's field names, read from and written to JSON Lines ----
   One JSON object per line, for example
       {"prompt": "What is 2+3?", "completion": "<think>2+3=5</think> <answer>5</answer>", "answer": "5"}
   "prompt" is what the model is given, "completion" the SFT target (SFT data), "answer" the gold
   answer the rewards compare with (RL and evaluation data); other fields are ignored, and the
   field names can be changed. "prompt" may also be TRL's conversational form, a list of
   {"role": ..., "content": ...} messages: it is rendered as ChatML, each message
   "<|im_start|>{role}\n{content}<|im_end|>\n", then the generation prompt
   "<|im_start|>assistant\n" (grpo_chatml_prompt's layout); a conversational "completion" is a
   list of one assistant message, whose content is taken. A line is malformed if it is not JSON,
   not an object, lacks "prompt" (or a required "completion" / "answer"), has one of them of the
   wrong type or holding a NUL character; it is reported as "path:line: ..." naming the field.
   A zeroed grpo_dataset is an empty one; loading, appending and splitting add to it, and a call
   that fails leaves it as it was. Each record's strings share one allocation that the dataset
   owns: change records only through these functions. */
typedef struct {
    char *prompt;            /* the text given to the model, template applied */
    char *completion;        /* NULL if the line had none */
    char *answer;            /* NULL if the line had none */
} grpo_record;

typedef struct {
    grpo_record *records;
    int count;
    int capacity;            /* records allocated */
    int skipped;             /* malformed lines skipped by loads into it (skip_malformed = 1) */
} grpo_dataset;

enum {
    GRPO_TEMPLATE_NONE = 0,  /* the prompt as written */
    GRPO_TEMPLATE_R1_ZERO,   /* grpo_r1_zero_prompt: "A conversation between User and Assistant. ... User: {prompt}. Assistant:" */
    GRPO_TEMPLATE_CHATML     /* grpo_chatml_prompt(system_prompt, prompt): Qwen2's chat layout with the generation prompt */
};

typedef struct {
    const char *prompt_field;       /* default "prompt" */
    const char *completion_field;   /* default "completion" */
    const char *answer_field;       /* default "answer" */
    int template_kind;              /* GRPO_TEMPLATE_*, applied to each string prompt on load; default none */
    const char *system_prompt;      /* the system turn of ChatML (a conversational prompt gets it when it has
                                       none of its own); NULL: none. Refused with GRPO_TEMPLATE_R1_ZERO */
    int require_completion;         /* 1: a line without a completion is malformed (SFT data) */
    int require_answer;             /* 1: a line without an answer is malformed (RL and evaluation data) */
    int skip_malformed;             /* 0 (default): the first malformed line fails the load (GRPO_ERROR_BAD_FILE);
                                       1: each one is skipped, counted in dataset->skipped and passed to on_malformed */
    void (*on_malformed)(void *user, const char *message); /* "path:line: ..." for each skipped line; may be NULL */
    void *user;
    int limit;                      /* read at most this many records; 0: all */
} grpo_dataset_options;

/* Appends the records of a JSONL file (options may be NULL: the defaults). A file that yields no
   record at all (empty, or every line skipped) is an error. */
GRPODEF grpo_result grpo_dataset_load_jsonl(grpo_dataset *dataset, const char *path, const grpo_dataset_options *options);
/* Appends a copy of (prompt, completion, answer); completion and answer may be NULL. */
GRPODEF grpo_result grpo_dataset_append(grpo_dataset *dataset, const char *prompt, const char *completion, const char *answer);
/* Writes one {"prompt", "completion", "answer"} object per line (NULL fields left out), JSON
   escaped, to "<path>.tmp" renamed over path (atomic, as checkpoints). The prompts are written
   as they are held, template applied: load the file back with GRPO_TEMPLATE_NONE. A string that
   is not valid UTF-8 is refused (JSON cannot hold it), naming the record. */
GRPODEF grpo_result grpo_dataset_save_jsonl(const grpo_dataset *dataset, const char *path);
GRPODEF void grpo_dataset_destroy(grpo_dataset *dataset);
/* Appends round(eval_fraction * count) records, chosen by a pseudo-random permutation fixed by
   seed, to eval and the rest to train, each in the original order. With 0 < eval_fraction and at
   least 2 records, eval gets at least 1 and train keeps at least 1. eval_fraction in [0, 1). */
GRPODEF grpo_result grpo_dataset_split(const grpo_dataset *all, double eval_fraction, uint64_t seed,
                                       grpo_dataset *train, grpo_dataset *eval);
/* Views without copying: examples (count) receive (prompt, answer), for GRPO and evaluation, or
   (prompt, completion), for SFT; the strings stay the dataset's. A record without the field
   is an error naming it. */
GRPODEF grpo_result grpo_dataset_examples(const grpo_dataset *dataset, grpo_example *examples);
GRPODEF grpo_result grpo_dataset_sft_examples(const grpo_dataset *dataset, grpo_sft_example *examples);
/* The prompt template of template_kind around text, like snprintf: returns the length it needs,
   or -1 for an unknown kind. */
GRPODEF int grpo_template_apply(int template_kind, const char *system_prompt, const char *text, char *buffer, size_t size);

/* ---- SFT over a dataset: R1's cold start and its second SFT stage (SPEC.md section 7) ----
   The loss is on completion tokens only (grpo_sft_step's). Each epoch visits every example once,
   in the order of grpo_data_order (seed, count) for that epoch. An update takes batch_size *
   accumulation_steps examples (the last of an epoch takes what is left) as micro-batches of
   batch_size, each a forward and a backward; its loss is the mean over all the update's
   completion tokens, so k micro-batches of b give the update one batch of k*b gives (up to
   float rounding). */
typedef struct {
    int step;                /* AdamW updates done (1 after the first) */
    int epoch;               /* 1-based epoch of that update */
    double train_loss;       /* mean per completion token over the updates since the previous log */
    double eval_loss;        /* mean per completion token over the eval set; NaN when not evaluated at this log */
    int tokens;              /* completion tokens (EOS included) trained on since the previous log */
    float grad_norm;         /* of the last update, before clipping */
    float learning_rate;     /* of the last update */
    double seconds;          /* since grpo_sft_train began */
} grpo_sft_log;

typedef struct {
    int batch_size;          /* examples per forward/backward (a micro-batch); default 16 */
    int epochs;              /* default 1 */
    int accumulation_steps;  /* micro-batches per AdamW update; default 1 */
    int eval_every;          /* updates between eval losses; 0 (default): at the end of each epoch; -1: only at
                                the end. The end of training is always evaluated when there is an eval set */
    int log_every;           /* updates between on_log calls (an update that evaluates logs too); default 1 */
    uint64_t seed;           /* of the shuffling */
    void (*on_log)(void *user, const grpo_sft_log *log);
    void *user;
} grpo_sft_config;

/* The AdamW updates grpo_sft_train makes for n_examples (for a cosine schedule's total_steps). */
GRPODEF int grpo_sft_total_steps(int n_examples, const grpo_sft_config *config);
/* Trains model on train's (prompt, completion) records; eval (may be NULL) gives the eval loss.
   Before the first update every example is encoded once to check that it fits the context (an
   error names the record). A non-finite loss or gradient refuses the update and stops training
   with GRPO_ERROR_NON_FINITE; the weights are those of the last good update. final (may be
   NULL) receives the last log. config may be NULL (the defaults). */
GRPODEF grpo_result grpo_sft_train(grpo_model *model, grpo_adamw *optimizer, const grpo_tokenizer *tokenizer,
                                   const grpo_dataset *train, const grpo_dataset *eval, const grpo_sft_config *config,
                                   grpo_sft_log *final);
/* The mean loss per completion token over a dataset's (prompt, completion) records, in batches of
   batch_size (0: 16); no weights change. tokens (may be NULL) receives the count. */
GRPODEF grpo_result grpo_sft_eval_loss(grpo_model *model, const grpo_tokenizer *tokenizer, const grpo_dataset *dataset,
                                       int batch_size, double *loss, int *tokens);
/* One JSON object on one line, TRL's names ("loss", "eval_loss", ...); returns the length it
   needs, like snprintf. */
GRPODEF int grpo_sft_log_json(const grpo_sft_log *log, char *buffer, size_t size);

/* ---- Rejection sampling (SPEC.md section 7, step 3) ----
   k completions per prompt from the model; a completion is kept when its weighted reward
   (grpo_reward_completion) is >= threshold, and each prompt keeps only distinct completions
   (byte for byte), at most max_per_prompt of them, in sample order. Kept completions are
   appended to a dataset as (prompt, completion, answer = the problem's gold), ready for SFT
   (grpo_dataset_save_jsonl, then grpo_sft_train). Completion j of problem i draws from the random
   stream (sampling.seed, i, j), as in grpo_evaluate. */
typedef struct {
    int samples_per_prompt;        /* k; default 8 */
    float threshold;               /* keep when the weighted reward is >= this; default (0): the most the rewards
                                      can give together (every reward at its best: with the default rewards, correct
                                      and well-formed). A callback reward has no known best: set it */
    int max_per_prompt;            /* distinct completions kept per prompt at most; 0: all */
    int max_completion_tokens;     /* default min(128, context_length / 2) */
    grpo_sampling_config sampling; /* temperature, top-p, stop strings, seed (zero: the sampling defaults,
                                      temperature 1); max_new_tokens, tokenizer and prompt_seeds are set here */
    const grpo_tokenizer *tokenizer;  /* required */
    const grpo_reward *rewards;    /* default (NULL): accuracy and format, weight 1 each */
    int n_rewards;
    int prompts_per_batch;         /* prompts decoded together; default 8 */
} grpo_rejection_config;

typedef struct {
    int prompts;                   /* problems sampled */
    int sampled;                   /* completions sampled: prompts * k */
    int passed;                    /* completions whose reward reached the threshold */
    int kept;                      /* appended, after removing duplicates and applying max_per_prompt */
    int prompts_with_any;          /* problems with at least one completion kept */
    double seconds;
} grpo_rejection_result;

/* A passing completion that is not valid UTF-8 or holds a NUL byte cannot be written as JSON
   and is not kept. On failure out is as it was. result may be NULL. */
GRPODEF grpo_result grpo_rejection_sample(grpo_model *model, const grpo_rejection_config *config, const grpo_example *problems,
                                          int n_problems, grpo_dataset *out, grpo_rejection_result *result);


#ifdef __cplusplus
}
#endif
#endif /* GRPO_H_INCLUDED */

/* =======================================================================================
   IMPLEMENTATION
   ======================================================================================= */
#ifdef GRPO_IMPLEMENTATION
#ifndef GRPO_IMPLEMENTATION_DONE
#define GRPO_IMPLEMENTATION_DONE

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#include <sys/stat.h>
int fileno(FILE *stream); /* POSIX; <stdio.h> hides it under -std=c11 */
#define GRPO__HAVE_FSYNC 1
#endif
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) && !defined(GRPO_NO_HUGE_PAGES)
int madvise(void *address, size_t length, int advice); /* Linux; <sys/mman.h> hides it under -std=c11 */
#define GRPO__MADVISE_HUGE_PAGES 14                   /* MADV_HUGEPAGE on these architectures */
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef GRPO_USE_CBLAS
#include <cblas.h>
#endif

#if defined(GRPO_MALLOC) && defined(GRPO_FREE)
#elif !defined(GRPO_MALLOC) && !defined(GRPO_FREE)
#define GRPO_MALLOC(size) malloc(size)
#define GRPO_FREE(pointer) free(pointer)
#else
#error "grpo.h: define both GRPO_MALLOC and GRPO_FREE, or neither"
#endif
#ifndef GRPO_ASSERT
#include <assert.h>
#define GRPO_ASSERT(condition) assert(condition)
#endif

#if defined(_MSC_VER)
#define GRPO__THREAD_LOCAL __declspec(thread)
#else
#define GRPO__THREAD_LOCAL _Thread_local
#endif

/* ---------------------------------------------------------------------------------------
   1. Results */
static GRPO__THREAD_LOCAL char grpo__error_message[512];

GRPODEF const char *grpo_result_string(grpo_result result) {
    switch (result) {
    case GRPO_SUCCESS: return "success";
    case GRPO_ERROR_INVALID_CONFIG: return "invalid config";
    case GRPO_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case GRPO_ERROR_OUT_OF_MEMORY: return "out of memory";
    case GRPO_ERROR_IO: return "input/output error";
    case GRPO_ERROR_BAD_CHECKPOINT: return "bad checkpoint";
    case GRPO_ERROR_NON_FINITE: return "non-finite value";
    case GRPO_ERROR_INVALID_STATE: return "invalid state";
    case GRPO_ERROR_BAD_FILE: return "malformed file";
    case GRPO_ERROR_UNSUPPORTED: return "unsupported feature";
    case GRPO_ERROR_GPU: return "GPU error";
    }
    return "unknown result";
}

GRPODEF const char *grpo_last_error(void) { return grpo__error_message; }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static grpo_result grpo__fail(grpo_result result, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(grpo__error_message, sizeof grpo__error_message, format, args);
    va_end(args);
    return result;
}

GRPODEF grpo_result grpo_set_error(grpo_result result, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(grpo__error_message, sizeof grpo__error_message, format, args);
    va_end(args);
    return result;
}

/* Sizes are multiplied with an overflow check, so that a huge config is refused before any
   allocation rather than wrapping around to a small one. */
static int grpo__mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static int grpo__mul3(size_t a, size_t b, size_t c, size_t *out) {
    size_t ab;
    return grpo__mul(a, b, &ab) && grpo__mul(ab, c, out);
}
static int grpo__add(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

static size_t grpo__memory_limit_bytes = 0;
/* Bytes that a call up the stack has already counted against the cap for the object it is
   building (the trainer plans its optimizer, reference model and buffers, then creates its
   generator, which adds its own). Zero outside such a call. */
static GRPO__THREAD_LOCAL size_t grpo__memory_planned = 0;

GRPODEF void grpo_set_memory_limit(size_t bytes) { grpo__memory_limit_bytes = bytes; }
GRPODEF size_t grpo_memory_limit(void) { return grpo__memory_limit_bytes; }

/* Refuses an object that would hold `bytes` (plus what the caller planned) when that passes the cap. */
static grpo_result grpo__check_memory(const char *what, size_t bytes) {
    size_t limit = grpo__memory_limit_bytes, total;
    if (limit == 0) return GRPO_SUCCESS;
    if (!grpo__add(bytes, grpo__memory_planned, &total) || total > limit)
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: needs %.1f MiB, more than the memory limit of %.1f MiB (grpo_set_memory_limit)",
                          what, (double)bytes / 1048576.0 + (double)grpo__memory_planned / 1048576.0, (double)limit / 1048576.0);
    return GRPO_SUCCESS;
}

/* Asks Linux to back the 2 MB-aligned interior of a large buffer with 2 MB pages (transparent
   huge pages in "madvise" mode, the common default, give them only to buffers that ask). The
   generator streams its packed weights and KV cache, 77 + 30 MB on config B, every decoding
   step; with 4 KB pages each 4 KB of the stream costs a TLB miss. Measured with bench_generate
   against the header without it, alternately (2 threads): config B at B x G = 16 3-18 % faster
   in four pairs, A at 64 1-26 % in three, B at 64 (bound by arithmetic) within the drift; the
   matmuls and attention both gained. The model's own buffers gained nothing measurable (README,
   "Tried and left out"). Advice only: no effect on the results, errors ignored, nothing on
   other systems (define GRPO_NO_HUGE_PAGES to leave it out). Call it before the first write. */
static void grpo__advise_huge_pages(void *memory, size_t bytes) {
#ifdef GRPO__MADVISE_HUGE_PAGES
    uintptr_t huge = (uintptr_t)1 << 21, first = ((uintptr_t)memory + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)memory + bytes) & ~(huge - 1);
    if (memory && end > first) (void)madvise((void *)first, (size_t)(end - first), GRPO__MADVISE_HUGE_PAGES);
#else
    (void)memory, (void)bytes;
#endif
}

static void *grpo__alloc_floats(size_t count) {
    size_t bytes;
    if (count == 0 || !grpo__mul(count, sizeof(float), &bytes)) return NULL;
    return GRPO_MALLOC(bytes);
}

/* ---------------------------------------------------------------------------------------
   2. Random numbers */
GRPODEF grpo_rng grpo_rng_seed(uint64_t seed) {
    grpo_rng rng;
    rng.state = seed;
    return rng;
}

GRPODEF uint64_t grpo_rng_next(grpo_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

GRPODEF float grpo_rng_uniform(grpo_rng *rng) {
    return (float)(grpo_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

GRPODEF float grpo_rng_normal(grpo_rng *rng) {
    /* Box-Muller in double; u1 in (0, 1] so the log is finite. */
    double u1 = ((double)(grpo_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(grpo_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---------------------------------------------------------------------------------------
   2b. JSON and JSON Lines */

/* Reads a whole file (at most max_bytes) into a NUL-terminated buffer. */
static grpo_result grpo__read_file(const char *path, const char *what, size_t max_bytes, char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    FILE *file = fopen(path, "rb");
    if (!file) return grpo__fail(GRPO_ERROR_IO, "%s: cannot open '%s'", what, path);
    size_t capacity = 1 << 16, used = 0, n;
    char *buffer = (char *)GRPO_MALLOC(capacity + 1);
    while (buffer && (n = fread(buffer + used, 1, capacity - used, file)) > 0) {
        used += n;
        if (used > max_bytes) {
            GRPO_FREE(buffer);
            fclose(file);
            return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: '%s' is longer than %zu bytes", what, path, max_bytes);
        }
        if (used == capacity) {
            char *bigger = (char *)GRPO_MALLOC(2 * capacity + 1);
            if (bigger) memcpy(bigger, buffer, used);
            GRPO_FREE(buffer);
            buffer = bigger;
            capacity *= 2;
        }
    }
    int failed = ferror(file);
    fclose(file);
    if (!buffer) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory reading '%s'", what, path);
    if (failed) { GRPO_FREE(buffer); return grpo__fail(GRPO_ERROR_IO, "%s: read error in '%s'", what, path); }
    buffer[used] = '\0';
    *data = buffer;
    *len = used;
    return GRPO_SUCCESS;
}

/* Decodes one UTF-8 sequence at s[0..n) into *code_point; returns its length, or 0 if it is not
   well-formed (overlong, surrogate, above U+10FFFF, truncated), as RFC 3629 defines it. */
static int grpo__utf8_decode(const unsigned char *s, size_t n, uint32_t *code_point) {
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) { *code_point = c; return 1; }
    int length;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) { length = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { length = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { length = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)length > n) return 0;
    for (int i = 1; i < length; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *code_point = cp;
    return length;
}

static int grpo__utf8_encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) { out[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { out[0] = (unsigned char)(0xC0 | (cp >> 6)); out[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12)); out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18)); out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

typedef struct {
    const unsigned char *text;
    size_t len, at;
    const char *source;
    size_t first_line;            /* the line number of text[0] (JSON Lines) */
    grpo_json *json;
    uint32_t capacity;            /* of json->values */
    size_t strings_used;
    uint32_t *seen;               /* hash table for duplicate keys */
    size_t seen_capacity;
} grpo__json_parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static grpo_result grpo__json_error(grpo__json_parser *p, const char *format, ...) {
    size_t line = p->first_line, column = 1;
    for (size_t i = 0; i < p->at && i < p->len; i++) {
        if (p->text[i] == '\n') { line++; column = 1; }
        else if ((p->text[i] & 0xC0) != 0x80) column++; /* columns count characters */
    }
    char message[384];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu:%zu: %s", p->source, line, column, message);
}

static void grpo__json_skip_space(grpo__json_parser *p) {
    while (p->at < p->len) {
        unsigned char c = p->text[p->at];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->at++;
    }
}

static grpo_result grpo__json_push(grpo__json_parser *p, grpo_json_type type, uint32_t *index) {
    grpo_json *json = p->json;
    if (json->n_values == p->capacity) {
        if (p->capacity >= UINT32_MAX / 2) return grpo__json_error(p, "too many values");
        uint32_t capacity = p->capacity ? 2 * p->capacity : 256;
        grpo_json_value *bigger = (grpo_json_value *)GRPO_MALLOC((size_t)capacity * sizeof *bigger);
        if (!bigger) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory for %u JSON values", p->source, capacity);
        if (json->n_values) memcpy(bigger, json->values, (size_t)json->n_values * sizeof *bigger);
        GRPO_FREE(json->values);
        json->values = bigger;
        p->capacity = capacity;
    }
    *index = json->n_values++;
    grpo_json_value *v = &json->values[*index];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->next = json->n_values;
    return GRPO_SUCCESS;
}

static int grpo__hex_digit(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static grpo_result grpo__json_hex4(grpo__json_parser *p, uint32_t *value) {
    *value = 0;
    for (int i = 0; i < 4; i++) {
        int d = p->at < p->len ? grpo__hex_digit(p->text[p->at]) : -1;
        if (d < 0) return grpo__json_error(p, "expected 4 hexadecimal digits after \\u");
        *value = *value * 16 + (uint32_t)d;
        p->at++;
    }
    return GRPO_SUCCESS;
}

/* At an opening quote: decodes the string into the pool; *offset and *length locate it. The pool
   never grows: a decoded string plus its NUL is never longer than its quoted text. */
static grpo_result grpo__json_string(grpo__json_parser *p, uint32_t *offset, uint32_t *length) {
    unsigned char *out = (unsigned char *)p->json->strings + p->strings_used;
    size_t n = 0;
    grpo_result r;
    p->at++; /* the quote */
    for (;;) {
        if (p->at >= p->len) return grpo__json_error(p, "unterminated string");
        unsigned char c = p->text[p->at];
        if (c == '"') { p->at++; break; }
        if (c < 0x20) return grpo__json_error(p, "control character 0x%02x in a string (write it as an escape)", c);
        if (c == '\\') {
            p->at++;
            if (p->at >= p->len) return grpo__json_error(p, "unterminated string");
            unsigned char e = p->text[p->at++];
            switch (e) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case '/': out[n++] = '/'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'u': {
                uint32_t cp, low;
                if ((r = grpo__json_hex4(p, &cp))) return r;
                if (cp >= 0xDC00 && cp <= 0xDFFF) { p->at -= 6; return grpo__json_error(p, "lone low surrogate \\u%04X", cp); }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (p->at + 2 > p->len || p->text[p->at] != '\\' || p->text[p->at + 1] != 'u') {
                        p->at -= 6;
                        return grpo__json_error(p, "high surrogate \\u%04X is not followed by a low surrogate", cp);
                    }
                    p->at += 2;
                    if ((r = grpo__json_hex4(p, &low))) return r;
                    if (low < 0xDC00 || low > 0xDFFF) { p->at -= 12; return grpo__json_error(p, "high surrogate \\u%04X is not followed by a low surrogate", cp); }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                n += (size_t)grpo__utf8_encode(cp, out + n);
                break;
            }
            default: p->at--; return grpo__json_error(p, "unknown escape \\%c", e >= 0x20 && e < 0x7F ? e : '?');
            }
            continue;
        }
        if (c < 0x80) { out[n++] = c; p->at++; continue; }
        uint32_t cp;
        int used = grpo__utf8_decode(p->text + p->at, p->len - p->at, &cp);
        if (!used) return grpo__json_error(p, "invalid UTF-8 in a string");
        memcpy(out + n, p->text + p->at, (size_t)used);
        n += (size_t)used;
        p->at += (size_t)used;
    }
    out[n] = '\0';
    *offset = (uint32_t)p->strings_used;
    *length = (uint32_t)n;
    p->strings_used += n + 1;
    return GRPO_SUCCESS;
}

static grpo_result grpo__json_parse_number(grpo__json_parser *p, grpo_json_value *v) {
    size_t start = p->at;
    int integral = 1;
    if (p->at < p->len && p->text[p->at] == '-') p->at++;
    if (p->at >= p->len || p->text[p->at] < '0' || p->text[p->at] > '9') return grpo__json_error(p, "expected a digit");
    if (p->text[p->at] == '0') {
        p->at++;
        if (p->at < p->len && p->text[p->at] >= '0' && p->text[p->at] <= '9') return grpo__json_error(p, "a number may not have leading zeros");
    } else {
        while (p->at < p->len && p->text[p->at] >= '0' && p->text[p->at] <= '9') p->at++;
    }
    if (p->at < p->len && p->text[p->at] == '.') {
        integral = 0;
        p->at++;
        if (p->at >= p->len || p->text[p->at] < '0' || p->text[p->at] > '9') return grpo__json_error(p, "expected a digit after the decimal point");
        while (p->at < p->len && p->text[p->at] >= '0' && p->text[p->at] <= '9') p->at++;
    }
    if (p->at < p->len && (p->text[p->at] == 'e' || p->text[p->at] == 'E')) {
        integral = 0;
        p->at++;
        if (p->at < p->len && (p->text[p->at] == '+' || p->text[p->at] == '-')) p->at++;
        if (p->at >= p->len || p->text[p->at] < '0' || p->text[p->at] > '9') return grpo__json_error(p, "expected a digit in the exponent");
        while (p->at < p->len && p->text[p->at] >= '0' && p->text[p->at] <= '9') p->at++;
    }
    size_t n = p->at - start;
    const unsigned char *s = p->text + start;
    if (integral) { /* exact, when it fits */
        int negative = s[0] == '-';
        uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
        int fits = 1;
        for (size_t i = (size_t)negative; i < n && fits; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (magnitude > (limit - d) / 10) fits = 0;
            else magnitude = magnitude * 10 + d;
        }
        if (fits) {
            v->is_integer = 1;
            v->integer = negative ? (magnitude == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)magnitude) : (int64_t)magnitude;
        }
    }
    /* strtod reads the C locale's decimal point; swap in the current one */
    char local[64], *copy = n < sizeof local ? local : (char *)GRPO_MALLOC(n + 1);
    if (!copy) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", p->source);
    char point = localeconv()->decimal_point[0];
    for (size_t i = 0; i < n; i++) copy[i] = s[i] == '.' ? point : (char)s[i];
    copy[n] = '\0';
    v->number = strtod(copy, NULL);
    if (copy != local) GRPO_FREE(copy);
    if (!isfinite(v->number)) { p->at = start; return grpo__json_error(p, "number %.*s is beyond the range of a double", (int)(n < 40 ? n : 40), (const char *)s); }
    return GRPO_SUCCESS;
}

static uint32_t grpo__hash_bytes(const void *data, size_t n) {
    const unsigned char *s = (const unsigned char *)data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

/* Refuses an object with two members of the same name: O(members) with a hash table. */
static grpo_result grpo__json_check_keys(grpo__json_parser *p, uint32_t object, size_t object_at) {
    const grpo_json *json = p->json;
    uint32_t count = json->values[object].count;
    if (count < 2) return GRPO_SUCCESS;
    size_t size = 4;
    while (size < 2 * (size_t)count) size *= 2;
    if (size > p->seen_capacity) {
        GRPO_FREE(p->seen);
        p->seen = (uint32_t *)GRPO_MALLOC(size * sizeof(uint32_t));
        p->seen_capacity = p->seen ? size : 0;
        if (!p->seen) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", p->source);
    }
    memset(p->seen, 0, size * sizeof(uint32_t));
    uint32_t member = object + 1;
    for (uint32_t i = 0; i < count; i++, member = json->values[member].next) {
        const grpo_json_value *v = &json->values[member];
        const char *key = json->strings + v->key;
        size_t slot = grpo__hash_bytes(key, v->key_length) & (size - 1);
        while (p->seen[slot]) {
            const grpo_json_value *other = &json->values[p->seen[slot] - 1];
            if (other->key_length == v->key_length && memcmp(json->strings + other->key, key, v->key_length) == 0) {
                p->at = object_at;
                return grpo__json_error(p, "duplicate key \"%.*s\" in this object", (int)(v->key_length < 64 ? v->key_length : 64), key);
            }
            slot = (slot + 1) & (size - 1);
        }
        p->seen[slot] = member + 1;
    }
    return GRPO_SUCCESS;
}

static grpo_result grpo__json_value(grpo__json_parser *p, int depth, uint32_t *index) {
    grpo_result r;
    grpo__json_skip_space(p);
    if (p->at >= p->len) return grpo__json_error(p, "unexpected end of input; expected a value");
    unsigned char c = p->text[p->at];
    if (c == '{' || c == '[') {
        if (depth >= GRPO_JSON_MAX_DEPTH) return grpo__json_error(p, "nested deeper than %d levels", GRPO_JSON_MAX_DEPTH);
        int object = c == '{';
        size_t opened = p->at;
        uint32_t self, count = 0;
        if ((r = grpo__json_push(p, object ? GRPO_JSON_OBJECT : GRPO_JSON_ARRAY, &self))) return r;
        p->at++;
        grpo__json_skip_space(p);
        if (p->at < p->len && p->text[p->at] == (object ? '}' : ']')) {
            p->at++;
        } else {
            for (;;) {
                uint32_t key = 0, key_length = 0, child;
                if (object) {
                    grpo__json_skip_space(p);
                    if (p->at >= p->len || p->text[p->at] != '"') return grpo__json_error(p, "expected a string (a member name)");
                    if ((r = grpo__json_string(p, &key, &key_length))) return r;
                    grpo__json_skip_space(p);
                    if (p->at >= p->len || p->text[p->at] != ':') return grpo__json_error(p, "expected ':' after a member name");
                    p->at++;
                }
                if ((r = grpo__json_value(p, depth + 1, &child))) return r;
                if (object) {
                    grpo_json_value *v = &p->json->values[child];
                    v->is_member = 1;
                    v->key = key;
                    v->key_length = key_length;
                }
                count++;
                grpo__json_skip_space(p);
                if (p->at < p->len && p->text[p->at] == ',') { p->at++; continue; }
                if (p->at < p->len && p->text[p->at] == (object ? '}' : ']')) { p->at++; break; }
                return grpo__json_error(p, object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element");
            }
        }
        grpo_json_value *v = &p->json->values[self];
        v->count = count;
        v->next = p->json->n_values;
        *index = self;
        return object ? grpo__json_check_keys(p, self, opened) : GRPO_SUCCESS;
    }
    if (c == '"') {
        uint32_t offset, length;
        if ((r = grpo__json_string(p, &offset, &length))) return r;
        if ((r = grpo__json_push(p, GRPO_JSON_STRING, index))) return r;
        p->json->values[*index].string = offset;
        p->json->values[*index].length = length;
        return GRPO_SUCCESS;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        grpo_json_value number;
        memset(&number, 0, sizeof number);
        if ((r = grpo__json_parse_number(p, &number))) return r;
        if ((r = grpo__json_push(p, GRPO_JSON_NUMBER, index))) return r;
        grpo_json_value *v = &p->json->values[*index];
        v->number = number.number;
        v->is_integer = number.is_integer;
        v->integer = number.integer;
        return GRPO_SUCCESS;
    }
    static const char *words[3] = {"null", "false", "true"};
    static const grpo_json_type types[3] = {GRPO_JSON_NULL, GRPO_JSON_FALSE, GRPO_JSON_TRUE};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (p->len - p->at >= n && memcmp(p->text + p->at, words[i], n) == 0) {
            p->at += n;
            return grpo__json_push(p, types[i], index);
        }
    }
    if (c >= 0x20 && c < 0x7F) return grpo__json_error(p, "unexpected character '%c'; expected a value", c);
    return grpo__json_error(p, "unexpected byte 0x%02x; expected a value", c);
}

static grpo_result grpo__json_parse(grpo_json *json, const char *text, size_t len, const char *source, size_t first_line) {
    if (!json) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_json_parse: json is NULL");
    memset(json, 0, sizeof *json);
    if (!source) source = "JSON";
    if (!text && len > 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: text is NULL", source);
    if (len > GRPO_JSON_MAX_BYTES) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %zu bytes is longer than the %zu a JSON text may have", source, len, GRPO_JSON_MAX_BYTES);
    grpo__json_parser p;
    memset(&p, 0, sizeof p);
    p.text = (const unsigned char *)text;
    p.len = len;
    p.source = source;
    p.first_line = first_line;
    p.json = json;
    json->strings = (char *)GRPO_MALLOC(len + 1);
    if (!json->strings) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
    uint32_t root;
    grpo_result r = grpo__json_value(&p, 0, &root);
    if (!r) {
        grpo__json_skip_space(&p);
        if (p.at < p.len) r = grpo__json_error(&p, "unexpected text after the JSON value");
    }
    GRPO_FREE(p.seen);
    if (r) { grpo_json_free(json); return r; }
    json->strings_size = p.strings_used;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_json_parse(grpo_json *json, const char *text, size_t len, const char *source) {
    return grpo__json_parse(json, text, len, source, 1);
}

GRPODEF grpo_result grpo_json_parse_file(grpo_json *json, const char *path) {
    if (json) memset(json, 0, sizeof *json);
    if (!path) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_json_parse_file: path is NULL");
    char *text;
    size_t len;
    grpo_result r = grpo__read_file(path, "JSON", GRPO_JSON_MAX_BYTES, &text, &len);
    if (r) return r;
    r = grpo_json_parse(json, text, len, path);
    GRPO_FREE(text);
    return r;
}

GRPODEF void grpo_json_free(grpo_json *json) {
    if (!json) return;
    GRPO_FREE(json->values);
    GRPO_FREE(json->strings);
    memset(json, 0, sizeof *json);
}

GRPODEF const grpo_json_value *grpo_json_get(const grpo_json *json, const grpo_json_value *object, const char *key) {
    if (!json || !object || object->type != GRPO_JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    const grpo_json_value *member = object + 1;
    for (uint32_t i = 0; i < object->count; i++, member = json->values + member->next)
        if (member->key_length == n && memcmp(json->strings + member->key, key, n) == 0) return member;
    return NULL;
}

GRPODEF const grpo_json_value *grpo_json_first(const grpo_json *json, const grpo_json_value *container) {
    (void)json;
    return container ? container + 1 : NULL;
}

GRPODEF const grpo_json_value *grpo_json_next(const grpo_json *json, const grpo_json_value *value) {
    return json->values + value->next;
}

GRPODEF const char *grpo_json_string(const grpo_json *json, const grpo_json_value *value) {
    return value && value->type == GRPO_JSON_STRING ? json->strings + value->string : NULL;
}

GRPODEF const char *grpo_json_key(const grpo_json *json, const grpo_json_value *value) {
    return value && value->is_member ? json->strings + value->key : NULL;
}

GRPODEF grpo_result grpo_jsonl_open(grpo_jsonl_reader *reader, const char *path) {
    if (!reader || !path) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_jsonl_open: reader and path are required");
    memset(reader, 0, sizeof *reader);
    reader->file = fopen(path, "rb");
    if (!reader->file) return grpo__fail(GRPO_ERROR_IO, "cannot open '%s'", path);
    reader->path = path;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_jsonl_next(grpo_jsonl_reader *reader, int *done) {
    if (!reader || !reader->file || !done) return grpo__fail(GRPO_ERROR_INVALID_STATE, "grpo_jsonl_next: the reader is not open");
    *done = 0;
    grpo_json_free(&reader->json);
    FILE *file = (FILE *)reader->file;
    for (;;) {
        size_t n = 0;
        int c = EOF;
        while ((c = fgetc(file)) != EOF && c != '\n') {
            if (n + 1 >= reader->capacity) {
                if (reader->capacity > GRPO_JSON_MAX_BYTES)
                    return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: the line is longer than %zu bytes", reader->path, reader->line + 1, GRPO_JSON_MAX_BYTES);
                size_t capacity = reader->capacity ? 2 * reader->capacity : 4096;
                char *bigger = (char *)GRPO_MALLOC(capacity);
                if (!bigger) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s:%zu: out of memory for the line", reader->path, reader->line + 1);
                if (n) memcpy(bigger, reader->buffer, n);
                GRPO_FREE(reader->buffer);
                reader->buffer = bigger;
                reader->capacity = capacity;
            }
            reader->buffer[n++] = (char)c;
        }
        if (ferror(file)) return grpo__fail(GRPO_ERROR_IO, "%s:%zu: read error", reader->path, reader->line + 1);
        if (c == EOF && n == 0) { *done = 1; return GRPO_SUCCESS; }
        reader->line++;
        if (n > 0 && reader->buffer[n - 1] == '\r') n--;
        size_t blank = 0;
        while (blank < n && (reader->buffer[blank] == ' ' || reader->buffer[blank] == '\t' || reader->buffer[blank] == '\r')) blank++;
        if (blank == n) { if (c == EOF) { *done = 1; return GRPO_SUCCESS; } continue; }
        return grpo__json_parse(&reader->json, reader->buffer, n, reader->path, reader->line);
    }
}

GRPODEF void grpo_jsonl_close(grpo_jsonl_reader *reader) {
    if (!reader) return;
    if (reader->file) fclose((FILE *)reader->file);
    GRPO_FREE(reader->buffer);
    grpo_json_free(&reader->json);
    memset(reader, 0, sizeof *reader);
}

/* ---------------------------------------------------------------------------------------
   3. The byte-level tokenizer */
static grpo_result grpo__byte_encode(const grpo_tokenizer *tokenizer, const char *text, size_t len,
                                     int *ids, int capacity, int *n_ids) {
    (void)tokenizer;
    if (!text && len > 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "byte tokenizer: text is NULL");
    if (len > (size_t)INT32_MAX) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "byte tokenizer: text of %zu bytes is longer than 2^31-1", len);
    if (n_ids) *n_ids = (int)len;
    if ((size_t)capacity < len || (!ids && len > 0))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "byte tokenizer: %zu ids do not fit in capacity %d", len, capacity);
    for (size_t i = 0; i < len; i++) ids[i] = (unsigned char)text[i];
    return GRPO_SUCCESS;
}

static grpo_result grpo__byte_decode(const grpo_tokenizer *tokenizer, const int *ids, int n,
                                     char *text, size_t capacity, size_t *n_bytes) {
    (void)tokenizer;
    size_t needed = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= GRPO_BYTE_VOCAB_SIZE)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "byte tokenizer: ids[%d] = %d is outside the vocabulary [0, %d)", i, ids[i], GRPO_BYTE_VOCAB_SIZE);
        if (ids[i] < 256) needed++;
    }
    if (n_bytes) *n_bytes = needed;
    if (!text || capacity < needed + 1)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "byte tokenizer: %zu bytes and a NUL do not fit in capacity %zu", needed, capacity);
    size_t at = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] < 256) text[at++] = (char)ids[i];
    text[at] = '\0';
    return GRPO_SUCCESS;
}

GRPODEF grpo_tokenizer grpo_byte_tokenizer(void) {
    grpo_tokenizer tokenizer;
    tokenizer.vocab_size = GRPO_BYTE_VOCAB_SIZE;
    tokenizer.bos_id = GRPO_BYTE_BOS;
    tokenizer.eos_id = GRPO_BYTE_EOS;
    tokenizer.pad_id = GRPO_BYTE_PAD;
    tokenizer.state = NULL;
    tokenizer.encode = grpo__byte_encode;
    tokenizer.decode = grpo__byte_decode;
    tokenizer.destroy = NULL;
    return tokenizer;
}

GRPODEF void grpo_tokenizer_destroy(grpo_tokenizer *tokenizer) {
    if (!tokenizer) return;
    if (tokenizer->destroy) tokenizer->destroy(tokenizer);
    memset(tokenizer, 0, sizeof *tokenizer);
}

/* ---------------------------------------------------------------------------------------
   3b. Byte-level BPE (tokenizer.json) */
#define GRPO__MAX_TOKEN_ID (1 << 24) /* ids are below this, as every dimension (section 4) */

/* Unicode character classes and NFC, over the generated tables at the end of the file. */
static size_t grpo__unicode_table(int which, const uint32_t **table);
enum { GRPO__UNICODE_LETTERS, GRPO__UNICODE_NUMBERS, GRPO__UNICODE_COMBINING, GRPO__UNICODE_DECOMPOSITIONS };

/* Binary search in a table of {first, last, ...} rows of `width` numbers; the row or NULL. */
static const uint32_t *grpo__unicode_find(int which, int width, uint32_t c) {
    const uint32_t *table;
    size_t lo = 0, hi = grpo__unicode_table(which, &table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uint32_t *row = table + mid * (size_t)width;
        if (c < row[0]) hi = mid;
        else if (c > row[1]) lo = mid + 1;
        else return row;
    }
    return NULL;
}

static int grpo__unicode_letter(uint32_t c) {
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return grpo__unicode_find(GRPO__UNICODE_LETTERS, 2, c) != NULL;
}
static int grpo__unicode_number(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return grpo__unicode_find(GRPO__UNICODE_NUMBERS, 2, c) != NULL;
}
/* Unicode White_Space, which is what \s matches in the Oniguruma engine `tokenizers` uses */
static int grpo__unicode_space(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
static int grpo__combining_class(uint32_t c) {
    if (c < 0x300) return 0;
    const uint32_t *row = grpo__unicode_find(GRPO__UNICODE_COMBINING, 3, c);
    return row ? (int)row[2] : 0;
}

/* The canonical decomposition row of c ({code point | composes << 31, first, second}), or NULL. */
static const uint32_t *grpo__decomposition(uint32_t c) {
    const uint32_t *table;
    size_t lo = 0, hi = grpo__unicode_table(GRPO__UNICODE_DECOMPOSITIONS, &table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t key = table[mid * 3] & 0x7FFFFFFFu;
        if (c < key) hi = mid;
        else if (c > key) lo = mid + 1;
        else return table + mid * 3;
    }
    return NULL;
}

enum { GRPO__HANGUL_S = 0xAC00, GRPO__HANGUL_L = 0x1100, GRPO__HANGUL_V = 0x1161, GRPO__HANGUL_T = 0x11A7,
       GRPO__HANGUL_LCOUNT = 19, GRPO__HANGUL_VCOUNT = 21, GRPO__HANGUL_TCOUNT = 28, GRPO__HANGUL_NCOUNT = 21 * 28,
       GRPO__HANGUL_SCOUNT = 19 * 21 * 28 };

/* Full canonical decomposition of c appended to out (room for 4 more is guaranteed by the caller
   per level; decompositions are at most 4 code points long). */
static size_t grpo__decompose(uint32_t c, uint32_t *out, size_t n) {
    if (c >= GRPO__HANGUL_S && c < GRPO__HANGUL_S + GRPO__HANGUL_SCOUNT) {
        uint32_t s = c - GRPO__HANGUL_S;
        out[n++] = GRPO__HANGUL_L + s / GRPO__HANGUL_NCOUNT;
        out[n++] = GRPO__HANGUL_V + (s % GRPO__HANGUL_NCOUNT) / GRPO__HANGUL_TCOUNT;
        if (s % GRPO__HANGUL_TCOUNT) out[n++] = GRPO__HANGUL_T + s % GRPO__HANGUL_TCOUNT;
        return n;
    }
    const uint32_t *row = c >= 0xC0 ? grpo__decomposition(c) : NULL;
    if (!row) { out[n++] = c; return n; }
    n = grpo__decompose(row[1], out, n);
    if (row[2]) n = grpo__decompose(row[2], out, n);
    return n;
}

typedef struct { uint32_t first, second, composite; } grpo__composition;

static int grpo__composition_order(const void *a, const void *b) {
    const grpo__composition *x = (const grpo__composition *)a, *y = (const grpo__composition *)b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->second != y->second) return x->second < y->second ? -1 : 1;
    return 0;
}

/* The primary composite of (first, second), or 0. */
static uint32_t grpo__compose(const grpo__composition *pairs, size_t n_pairs, uint32_t first, uint32_t second) {
    if (first >= GRPO__HANGUL_L && first < GRPO__HANGUL_L + GRPO__HANGUL_LCOUNT && second >= GRPO__HANGUL_V && second < GRPO__HANGUL_V + GRPO__HANGUL_VCOUNT)
        return GRPO__HANGUL_S + ((first - GRPO__HANGUL_L) * GRPO__HANGUL_VCOUNT + (second - GRPO__HANGUL_V)) * GRPO__HANGUL_TCOUNT;
    if (first >= GRPO__HANGUL_S && first < GRPO__HANGUL_S + GRPO__HANGUL_SCOUNT && (first - GRPO__HANGUL_S) % GRPO__HANGUL_TCOUNT == 0 &&
        second > GRPO__HANGUL_T && second < GRPO__HANGUL_T + GRPO__HANGUL_TCOUNT)
        return first + (second - GRPO__HANGUL_T);
    size_t lo = 0, hi = n_pairs;
    grpo__composition key = {first, second, 0};
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int order = grpo__composition_order(&key, &pairs[mid]);
        if (order == 0) return pairs[mid].composite;
        if (order < 0) hi = mid;
        else lo = mid + 1;
    }
    return 0;
}

/* The composition pairs, sorted: every primary composite of the decomposition table. */
static grpo__composition *grpo__composition_table(size_t *n) {
    const uint32_t *table;
    size_t rows = grpo__unicode_table(GRPO__UNICODE_DECOMPOSITIONS, &table), count = 0;
    grpo__composition *pairs = (grpo__composition *)GRPO_MALLOC(rows * sizeof *pairs);
    if (!pairs) return NULL;
    for (size_t i = 0; i < rows; i++)
        if (table[i * 3] & 0x80000000u) {
            pairs[count].first = table[i * 3 + 1];
            pairs[count].second = table[i * 3 + 2];
            pairs[count].composite = table[i * 3] & 0x7FFFFFFFu;
            count++;
        }
    qsort(pairs, count, sizeof *pairs, grpo__composition_order);
    *n = count;
    return pairs;
}

/* NFC (Unicode Normalization Form C) of valid UTF-8 text into *out (allocated, *out_len bytes):
   canonical decomposition, canonical ordering, canonical composition (UAX #15). */
static grpo_result grpo__nfc(const grpo__composition *pairs, size_t n_pairs, const unsigned char *text, size_t len,
                             unsigned char **out, size_t *out_len) {
    size_t count = 0, capacity;
    *out = NULL;
    if (!grpo__mul(len, 4, &capacity) || !grpo__add(capacity, 4, &capacity) || capacity > SIZE_MAX / sizeof(uint32_t))
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "NFC: %zu bytes of text is too long", len);
    uint32_t *cps = (uint32_t *)GRPO_MALLOC(capacity * sizeof(uint32_t));
    unsigned char *bytes = (unsigned char *)GRPO_MALLOC(len * 4 / 3 + 8 > len ? len * 4 / 3 + 8 : len + 8);
    if (!cps || !bytes) { GRPO_FREE(cps); GRPO_FREE(bytes); return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "NFC: out of memory"); }
    for (size_t at = 0; at < len;) {
        uint32_t c;
        int used = grpo__utf8_decode(text + at, len - at, &c);
        GRPO_ASSERT(used > 0); /* the caller validated the text */
        at += (size_t)used;
        count = grpo__decompose(c, cps, count); /* each byte yields at most 4 code points: capacity holds */
    }
    /* canonical ordering: a stable insertion sort of each run of non-starters by class */
    for (size_t i = 1; i < count; i++) {
        int k = grpo__combining_class(cps[i]);
        if (k == 0) continue;
        uint32_t c = cps[i];
        size_t j = i;
        while (j > 0 && grpo__combining_class(cps[j - 1]) > k) { cps[j] = cps[j - 1]; j--; }
        cps[j] = c;
    }
    /* composition: a character joins the last starter unless a character between them has a
       combining class >= its own (it is blocked) */
    size_t n = 0, starter = 0;
    int have_starter = 0, last_class = -1;
    for (size_t i = 0; i < count; i++) {
        uint32_t c = cps[i];
        int k = grpo__combining_class(c);
        if (have_starter && (last_class == -1 || last_class < k)) {
            uint32_t composite = grpo__compose(pairs, n_pairs, cps[starter], c);
            if (composite) { cps[starter] = composite; continue; }
        }
        if (k == 0) { have_starter = 1; starter = n; last_class = -1; }
        else last_class = k;
        cps[n++] = c;
    }
    /* NFC is never longer in UTF-8 than 3 bytes per input byte... bound it by re-measuring */
    size_t bytes_needed = 0;
    for (size_t i = 0; i < n; i++) bytes_needed += cps[i] < 0x80 ? 1 : cps[i] < 0x800 ? 2 : cps[i] < 0x10000 ? 3 : 4;
    if (bytes_needed > len * 4 / 3 + 8) {
        GRPO_FREE(bytes);
        bytes = (unsigned char *)GRPO_MALLOC(bytes_needed + 1);
        if (!bytes) { GRPO_FREE(cps); return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "NFC: out of memory"); }
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) at += (size_t)grpo__utf8_encode(cps[i], bytes + at);
    GRPO_FREE(cps);
    *out = bytes;
    *out_len = at;
    return GRPO_SUCCESS;
}

/* ---- the pre-tokenizer patterns, matched by hand */
enum { GRPO__PATTERN_GPT2 = 1, GRPO__PATTERN_QWEN2 = 2 };
static const char grpo__pattern_gpt2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char grpo__pattern_qwen2[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

enum { GRPO__CLASS_LETTER = 1, GRPO__CLASS_NUMBER = 2, GRPO__CLASS_SPACE = 4, GRPO__CLASS_NEWLINE = 8, GRPO__CLASS_END = 16 };

/* The class bits of the character at s[at] (GRPO__CLASS_END past the end); *length its bytes. */
static int grpo__char_class(const unsigned char *s, size_t n, size_t at, uint32_t *c, size_t *length) {
    *c = 0;
    *length = 0;
    if (at >= n) return GRPO__CLASS_END;
    int used = grpo__utf8_decode(s + at, n - at, c);
    GRPO_ASSERT(used > 0);
    *length = (size_t)used;
    if (*c == '\r' || *c == '\n') return GRPO__CLASS_SPACE | GRPO__CLASS_NEWLINE;
    if (grpo__unicode_space(*c)) return GRPO__CLASS_SPACE;
    if (grpo__unicode_letter(*c)) return GRPO__CLASS_LETTER;
    if (grpo__unicode_number(*c)) return GRPO__CLASS_NUMBER;
    return 0;
}

/* End of the run of characters from at whose class has any of the bits in `any` (if want) or
   none of them (if !want). */
static size_t grpo__run(const unsigned char *s, size_t n, size_t at, int bits, int want) {
    uint32_t c;
    size_t length;
    for (;;) {
        int k = grpo__char_class(s, n, at, &c, &length);
        if (k == GRPO__CLASS_END || ((k & bits) != 0) != want) return at;
        at += length;
    }
}

/* \s+(?!\S) and \s+ at a white-space character: the end of the match (with the look-ahead: the
   run less its last character when a non-space follows, or 0 if that leaves nothing). */
static size_t grpo__space_match(const unsigned char *s, size_t n, size_t at, int lookahead) {
    size_t end = grpo__run(s, n, at, GRPO__CLASS_SPACE, 1);
    if (!lookahead || end == n) return end;
    size_t last = end - 1;
    while ((s[last] & 0xC0) == 0x80) last--; /* the start of the run's last character */
    return last > at ? last : 0;
}

/* Lower-case ASCII letter of c as (?i) matches it for the contractions: 's' also for U+017F
   LATIN SMALL LETTER LONG S (which case-folds to s); 0 for anything else. */
static int grpo__fold(uint32_t c, int ignore_case) {
    if (c >= 'a' && c <= 'z') return (int)c;
    if (ignore_case && c >= 'A' && c <= 'Z') return (int)(c + 32);
    if (ignore_case && c == 0x17F) return 's';
    return 0;
}

/* The contractions 's 't 're 've 'm 'll 'd at s[at] == '\'': the end of the match, or 0. */
static size_t grpo__contraction(const unsigned char *s, size_t n, size_t at, int ignore_case) {
    uint32_t c1, c2;
    size_t l1, l2;
    grpo__char_class(s, n, at + 1, &c1, &l1);
    int a = grpo__fold(c1, ignore_case);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return at + 1 + l1;
    if (a != 'r' && a != 'v' && a != 'l') return 0;
    grpo__char_class(s, n, at + 1 + l1, &c2, &l2);
    int b = grpo__fold(c2, ignore_case);
    if (((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l')) return at + 1 + l1 + l2;
    return 0;
}

/* The end of the pattern's match starting exactly at `at` (leftmost alternative first, each
   with the regular expression's backtracking), or 0 if it does not match there. */
static size_t grpo__pattern_match(int pattern, const unsigned char *s, size_t n, size_t at) {
    uint32_t c, c2;
    size_t length, length2;
    int k = grpo__char_class(s, n, at, &c, &length);
    if (k == GRPO__CLASS_END) return 0;
    const int word = GRPO__CLASS_LETTER | GRPO__CLASS_NUMBER | GRPO__CLASS_SPACE;
    if (pattern == GRPO__PATTERN_GPT2) {
        if (c == '\'') { size_t end = grpo__contraction(s, n, at, 0); if (end) return end; }
        int k2 = grpo__char_class(s, n, at + length, &c2, &length2);
        size_t from = (c == ' ' && k2 != GRPO__CLASS_END) ? at + 1 : at; /* " ?" taken if what follows fits */
        int kf = from == at ? k : k2;
        /*  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ */
        if (kf & GRPO__CLASS_LETTER) return grpo__run(s, n, from, GRPO__CLASS_LETTER, 1);
        if (kf & GRPO__CLASS_NUMBER) return grpo__run(s, n, from, GRPO__CLASS_NUMBER, 1);
        if (!(kf & word)) return grpo__run(s, n, from, word, 0);
        /* the space alone did not start any of them: \s+(?!\S) | \s+ */
        if (k & GRPO__CLASS_SPACE) {
            size_t end = grpo__space_match(s, n, at, 1);
            return end ? end : grpo__space_match(s, n, at, 0);
        }
        return 0;
    }
    /* Qwen2 */
    if (c == '\'') { size_t end = grpo__contraction(s, n, at, 1); if (end) return end; }
    int k2 = grpo__char_class(s, n, at + length, &c2, &length2);
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (!(k & (GRPO__CLASS_NEWLINE | GRPO__CLASS_LETTER | GRPO__CLASS_NUMBER)) && (k2 & GRPO__CLASS_LETTER))
        return grpo__run(s, n, at + length, GRPO__CLASS_LETTER, 1);
    if (k & GRPO__CLASS_LETTER) return grpo__run(s, n, at, GRPO__CLASS_LETTER, 1);
    /* \p{N} */
    if (k & GRPO__CLASS_NUMBER) return at + length;
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    size_t from = (c == ' ' && k2 != GRPO__CLASS_END && !(k2 & word)) ? at + 1 : at;
    int kf = from == at ? k : k2;
    if (!(kf & word)) {
        size_t end = grpo__run(s, n, from, word, 0);
        return grpo__run(s, n, end, GRPO__CLASS_NEWLINE, 1);
    }
    if (!(k & GRPO__CLASS_SPACE)) return 0;
    /* \s*[\r\n]+ : the white-space run up to and including its last line break */
    size_t end = grpo__run(s, n, at, GRPO__CLASS_SPACE, 1), last_break = 0;
    for (size_t i = at; i < end; i++)
        if (s[i] == '\r' || s[i] == '\n') last_break = i + 1;
    if (last_break) return last_break;
    /* \s+(?!\S) | \s+ */
    end = grpo__space_match(s, n, at, 1);
    return end ? end : grpo__space_match(s, n, at, 0);
}

/* ---- the tokenizer's data */
typedef struct {
    uint32_t offset, length;       /* of the content to match, in match_bytes */
    int id, normalized, special;
} grpo__added_token;

typedef struct {
    int vocab_size;                /* one past the largest id (or the model's vocabulary) */
    uint32_t *token_offset;        /* (vocab_size + 1): the decoded bytes of each id in token_bytes */
    unsigned char *token_bytes;
    unsigned char *token_kind;     /* (vocab_size): 0 no token, 1 model, 2 added, 3 special added */
    int byte_id[256];              /* the token of each single byte, -1 if the vocabulary lacks it */
    uint64_t *merge_keys;          /* open addressing: (left id << 32 | right id), UINT64_MAX empty */
    uint32_t *merge_rank;
    int32_t *merge_result;
    size_t merge_mask;
    int32_t *lookup;               /* open addressing over model tokens by decoded bytes: id, or -1 */
    size_t lookup_mask;
    grpo__added_token *added;      /* sorted by first byte, then longest first */
    int n_added;
    unsigned char *match_bytes;
    int added_start[257];          /* added tokens with first byte b: added[added_start[b] .. added_start[b+1]) (normalized and not) */
    int nfc;
    grpo__composition *compositions;
    size_t n_compositions;
    int n_splits, split_pattern[4];
    int prefix_space, byte_level_regex;
    int ignore_merges, unk_id, fuse_unk;
} grpo__bpe;

static uint64_t grpo__merge_hash(uint64_t key) { key ^= key >> 29; key *= 0xBF58476D1CE4E5B9ull; return key ^ (key >> 32); }

static int grpo__merge_find(const grpo__bpe *b, int left, int right, uint32_t *rank, int *result) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    for (size_t slot = grpo__merge_hash(key) & b->merge_mask;; slot = (slot + 1) & b->merge_mask) {
        if (b->merge_keys[slot] == UINT64_MAX) return 0;
        if (b->merge_keys[slot] == key) { *rank = b->merge_rank[slot]; *result = b->merge_result[slot]; return 1; }
    }
}

static int grpo__lookup_find(const grpo__bpe *b, const unsigned char *bytes, size_t n) {
    for (size_t slot = grpo__hash_bytes(bytes, n) & b->lookup_mask;; slot = (slot + 1) & b->lookup_mask) {
        int id = b->lookup[slot];
        if (id < 0) return -1;
        uint32_t at = b->token_offset[id], length = b->token_offset[id + 1] - at;
        if (length == n && memcmp(b->token_bytes + at, bytes, n) == 0) return id;
    }
}

static void grpo__bpe_free(grpo__bpe *b) {
    if (!b) return;
    GRPO_FREE(b->token_offset); GRPO_FREE(b->token_bytes); GRPO_FREE(b->token_kind);
    GRPO_FREE(b->merge_keys); GRPO_FREE(b->merge_rank); GRPO_FREE(b->merge_result);
    GRPO_FREE(b->lookup); GRPO_FREE(b->added); GRPO_FREE(b->match_bytes); GRPO_FREE(b->compositions);
    GRPO_FREE(b);
}

static void grpo__bpe_destroy(grpo_tokenizer *tokenizer) {
    grpo__bpe_free((grpo__bpe *)tokenizer->state);
    tokenizer->state = NULL;
}

/* ---- encoding */
typedef struct {
    const grpo__bpe *bpe;
    int *ids;                      /* the caller's buffer */
    int capacity, count;
    /* scratch for one piece's BPE, grown as needed */
    int *symbols;                  /* (4, piece length): id, prev, next, alive */
    struct grpo__merge_entry { uint32_t rank; int position, result; } *heap;
    size_t symbols_capacity, heap_capacity;
    unsigned char *prefixed;       /* " " + piece for ByteLevel's add_prefix_space */
    size_t prefixed_capacity;
    int failed;                    /* out of memory */
} grpo__encoder;

static void grpo__emit(grpo__encoder *e, int id) {
    if (e->count < e->capacity) e->ids[e->count] = id;
    e->count++;
}

static int grpo__grow(void **pointer, size_t *capacity, size_t needed, size_t element) {
    if (needed <= *capacity) return 1;
    size_t n = *capacity ? *capacity : 64;
    while (n < needed) n *= 2;
    void *bigger = GRPO_MALLOC(n * element);
    if (!bigger) return 0;
    GRPO_FREE(*pointer);
    *pointer = bigger;
    *capacity = n;
    return 1;
}

/* min-heap on (rank, position): the lowest rank first, the leftmost among equals, as tokenizers' word.rs */
static int grpo__merge_before(const struct grpo__merge_entry *a, const struct grpo__merge_entry *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->position < b->position;
}
static void grpo__heap_push(struct grpo__merge_entry *heap, size_t *n, struct grpo__merge_entry entry) {
    size_t i = (*n)++;
    while (i > 0 && grpo__merge_before(&entry, &heap[(i - 1) / 2])) { heap[i] = heap[(i - 1) / 2]; i = (i - 1) / 2; }
    heap[i] = entry;
}
static struct grpo__merge_entry grpo__heap_pop(struct grpo__merge_entry *heap, size_t *n) {
    struct grpo__merge_entry top = heap[0], last = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n) break;
        if (child + 1 < *n && grpo__merge_before(&heap[child + 1], &heap[child])) child++;
        if (!grpo__merge_before(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n > 0) heap[i] = last;
    return top;
}

/* BPE over one pre-tokenized piece (raw bytes; each byte is one byte-level character). */
static void grpo__bpe_piece(grpo__encoder *e, const unsigned char *s, size_t n) {
    const grpo__bpe *b = e->bpe;
    if (n == 0) return;
    if (b->ignore_merges) {
        int id = grpo__lookup_find(b, s, n);
        if (id >= 0) { grpo__emit(e, id); return; }
    }
    size_t heap_needed, symbols_needed;
    if (!grpo__mul(n, 4, &symbols_needed) || !grpo__grow((void **)&e->symbols, &e->symbols_capacity, symbols_needed, sizeof(int)) ||
        !grpo__mul(n, 2, &heap_needed) || !grpo__grow((void **)&e->heap, &e->heap_capacity, heap_needed + 8, sizeof *e->heap)) {
        e->failed = 1;
        return;
    }
    /* a doubly linked list of symbols: id, prev, next, alive (n each) */
    int *id = e->symbols, *prev = id + n, *next = prev + n, *alive = next + n;
    int count = 0, pending_unk = 0;
    for (size_t i = 0; i < n; i++) {
        int t = b->byte_id[s[i]];
        if (t >= 0) { id[count++] = t; pending_unk = 0; continue; }
        if (b->unk_id < 0) continue;               /* dropped, as tokenizers drops it */
        if (b->fuse_unk && pending_unk) continue;  /* fused into the previous unk */
        id[count++] = b->unk_id;
        pending_unk = 1;
    }
    for (int i = 0; i < count; i++) { prev[i] = i - 1; next[i] = i + 1 < count ? i + 1 : -1; alive[i] = 1; }
    size_t heap_n = 0;
    for (int i = 0; i + 1 < count; i++) {
        uint32_t rank;
        int result;
        if (grpo__merge_find(b, id[i], id[i + 1], &rank, &result)) {
            struct grpo__merge_entry m = {rank, i, result};
            grpo__heap_push(e->heap, &heap_n, m);
        }
    }
    while (heap_n > 0) {
        struct grpo__merge_entry top = grpo__heap_pop(e->heap, &heap_n);
        int i = top.position;
        if (!alive[i] || next[i] < 0) continue;
        int j = next[i];
        uint32_t rank;
        int result;
        /* an entry is stale if the pair at its position has changed since it was pushed */
        if (!grpo__merge_find(b, id[i], id[j], &rank, &result) || result != top.result) continue;
        id[i] = result;
        alive[j] = 0;
        next[i] = next[j];
        if (next[j] >= 0) prev[next[j]] = i;
        if (heap_n + 2 > e->heap_capacity) { e->failed = 1; return; }
        if (prev[i] >= 0 && grpo__merge_find(b, id[prev[i]], id[i], &rank, &result)) {
            struct grpo__merge_entry m = {rank, prev[i], result};
            grpo__heap_push(e->heap, &heap_n, m);
        }
        if (next[i] >= 0 && grpo__merge_find(b, id[i], id[next[i]], &rank, &result)) {
            struct grpo__merge_entry m = {rank, i, result};
            grpo__heap_push(e->heap, &heap_n, m);
        }
    }
    for (int i = 0; i < count && i >= 0; i = next[i]) grpo__emit(e, id[i]);
}

/* Pre-tokenizer stage `stage` over one piece: the Split stages in order, then ByteLevel. */
static void grpo__pretokenize(grpo__encoder *e, const unsigned char *s, size_t n, int stage) {
    const grpo__bpe *b = e->bpe;
    if (n == 0 || e->failed) return;
    if (stage < b->n_splits) {
        /* "Isolated": every match is a piece, and so is every stretch between matches */
        size_t gap = 0, at = 0;
        while (at < n) {
            size_t end = grpo__pattern_match(b->split_pattern[stage], s, n, at);
            if (end > at) {
                grpo__pretokenize(e, s + gap, at - gap, stage + 1);
                grpo__pretokenize(e, s + at, end - at, stage + 1);
                gap = at = end;
            } else {
                at++;
                while (at < n && (s[at] & 0xC0) == 0x80) at++;
            }
        }
        grpo__pretokenize(e, s + gap, n - gap, stage + 1);
        return;
    }
    if (b->prefix_space && s[0] != ' ') {
        /* prefixed is reused: the piece may not point into it, and it never does (pieces come from
           the text or a normalized copy) */
        if (!grpo__grow((void **)&e->prefixed, &e->prefixed_capacity, n + 1, 1)) { e->failed = 1; return; }
        e->prefixed[0] = ' ';
        memcpy(e->prefixed + 1, s, n);
        s = e->prefixed;
        n++;
    }
    if (!b->byte_level_regex) { grpo__bpe_piece(e, s, n); return; }
    size_t gap = 0, at = 0;
    while (at < n) {
        size_t end = grpo__pattern_match(GRPO__PATTERN_GPT2, s, n, at);
        if (end > at) {
            grpo__bpe_piece(e, s + gap, at - gap);
            grpo__bpe_piece(e, s + at, end - at);
            gap = at = end;
        } else {
            at++;
            while (at < n && (s[at] & 0xC0) == 0x80) at++;
        }
    }
    grpo__bpe_piece(e, s + gap, n - gap);
}

/* The longest added token (of the normalized kind or not) that starts at s[at], or -1. */
static int grpo__added_at(const grpo__bpe *b, const unsigned char *s, size_t n, size_t at, int normalized) {
    for (int i = b->added_start[s[at]]; i < b->added_start[s[at] + 1]; i++) {
        const grpo__added_token *t = &b->added[i];
        if (t->normalized == normalized && t->length <= n - at && memcmp(s + at, b->match_bytes + t->offset, t->length) == 0) return i;
    }
    return -1;
}

/* Splits s by the added tokens of one kind; the stretches between go on to `next`. */
static void grpo__split_added(grpo__encoder *e, const unsigned char *s, size_t n, int normalized) {
    const grpo__bpe *b = e->bpe;
    size_t gap = 0, at = 0;
    while (at < n && !e->failed) {
        int found = b->n_added ? grpo__added_at(b, s, n, at, normalized) : -1;
        if (found < 0) { at++; continue; }
        if (at > gap) {
            if (normalized) grpo__pretokenize(e, s + gap, at - gap, 0);
            else grpo__split_added(e, s + gap, at - gap, 1); /* normalize, then the normalized tokens */
        }
        grpo__emit(e, b->added[found].id);
        at += b->added[found].length;
        gap = at;
    }
    if (n > gap && !e->failed) {
        if (normalized) grpo__pretokenize(e, s + gap, n - gap, 0);
        else grpo__split_added(e, s + gap, n - gap, 1);
    }
}

static grpo_result grpo__bpe_encode(const grpo_tokenizer *tokenizer, const char *text, size_t len, int *ids, int capacity, int *n_ids) {
    const grpo__bpe *b = tokenizer ? (const grpo__bpe *)tokenizer->state : NULL;
    if (!b) return grpo__fail(GRPO_ERROR_INVALID_STATE, "BPE tokenizer: not loaded");
    if (!text && len > 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: text is NULL");
    if (len > (size_t)INT32_MAX) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: text of %zu bytes is longer than 2^31-1", len);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t at = 0; at < len;) {
        uint32_t c;
        int used = grpo__utf8_decode(s + at, len - at, &c);
        if (!used) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: the text is not valid UTF-8 at byte %zu", at);
        at += (size_t)used;
    }
    grpo__encoder e;
    memset(&e, 0, sizeof e);
    e.bpe = b;
    e.ids = ids;
    e.capacity = ids ? capacity : 0;
    /* step 1 splits the raw text; each stretch is normalized in grpo__split_added's second level */
    size_t gap = 0, at = 0;
    while (at < len && !e.failed) {
        int found = b->n_added ? grpo__added_at(b, s, len, at, 0) : -1;
        if (found < 0) { at++; continue; }
        if (at > gap) {
            unsigned char *normal = NULL;
            size_t normal_len = at - gap;
            if (b->nfc && grpo__nfc(b->compositions, b->n_compositions, s + gap, at - gap, &normal, &normal_len)) { e.failed = 1; break; }
            grpo__split_added(&e, normal ? normal : s + gap, normal_len, 1);
            GRPO_FREE(normal);
        }
        grpo__emit(&e, b->added[found].id);
        at += b->added[found].length;
        gap = at;
    }
    if (len > gap && !e.failed) {
        unsigned char *normal = NULL;
        size_t normal_len = len - gap;
        if (b->nfc && grpo__nfc(b->compositions, b->n_compositions, s + gap, len - gap, &normal, &normal_len)) e.failed = 1;
        else grpo__split_added(&e, normal ? normal : s + gap, normal_len, 1);
        GRPO_FREE(normal);
    }
    GRPO_FREE(e.symbols); GRPO_FREE(e.heap); GRPO_FREE(e.prefixed);
    if (e.failed) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "BPE tokenizer: out of memory encoding %zu bytes", len);
    if (n_ids) *n_ids = e.count;
    if (e.count > capacity || (!ids && e.count > 0))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: %d ids do not fit in capacity %d", e.count, capacity);
    return GRPO_SUCCESS;
}

static grpo_result grpo__bpe_decode(const grpo_tokenizer *tokenizer, const int *ids, int n, char *text, size_t capacity, size_t *n_bytes) {
    const grpo__bpe *b = tokenizer ? (const grpo__bpe *)tokenizer->state : NULL;
    if (!b) return grpo__fail(GRPO_ERROR_INVALID_STATE, "BPE tokenizer: not loaded");
    if (n > 0 && !ids) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: ids is NULL");
    size_t needed = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= tokenizer->vocab_size)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: ids[%d] = %d is outside the vocabulary [0, %d)", i, ids[i], tokenizer->vocab_size);
        if (ids[i] < b->vocab_size && b->token_kind[ids[i]] != 3) needed += b->token_offset[ids[i] + 1] - b->token_offset[ids[i]];
    }
    if (n_bytes) *n_bytes = needed;
    if (!text || capacity < needed + 1)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "BPE tokenizer: %zu bytes and a NUL do not fit in capacity %zu", needed, capacity);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] >= b->vocab_size || b->token_kind[ids[i]] == 3) continue;
        uint32_t from = b->token_offset[ids[i]], length = b->token_offset[ids[i] + 1] - from;
        memcpy(text + at, b->token_bytes + from, length);
        at += length;
    }
    text[at] = '\0';
    return GRPO_SUCCESS;
}

GRPODEF int grpo_tokenizer_token_id(const grpo_tokenizer *tokenizer, const char *text) {
    if (!tokenizer || !text) return -1;
    size_t n = strlen(text);
    if (tokenizer->encode == grpo__byte_encode) return n == 1 ? (unsigned char)text[0] : -1;
    const grpo__bpe *b = (const grpo__bpe *)tokenizer->state;
    if (!b || tokenizer->encode != grpo__bpe_encode) return -1;
    for (int i = 0; i < b->n_added; i++)
        if (b->added[i].length == n && !b->added[i].normalized && memcmp(b->match_bytes + b->added[i].offset, text, n) == 0) return b->added[i].id;
    for (int id = 0; id < b->vocab_size; id++) /* added tokens by their content, normalized ones included */
        if (b->token_kind[id] >= 2 && b->token_offset[id + 1] - b->token_offset[id] == n && memcmp(b->token_bytes + b->token_offset[id], text, n) == 0) return id;
    return n ? grpo__lookup_find(b, (const unsigned char *)text, n) : -1;
}

/* ---- loading tokenizer.json */

/* GPT-2's byte-to-unicode map: printable bytes stand for themselves, the others for 256 + k. */
static void grpo__byte_level_alphabet(uint32_t byte_to_char[256], int char_to_byte[324]) {
    int k = 0;
    for (int i = 0; i < 324; i++) char_to_byte[i] = -1;
    for (int byte = 0; byte < 256; byte++) {
        int printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174);
        byte_to_char[byte] = printable ? (uint32_t)byte : (uint32_t)(256 + k++);
        char_to_byte[byte_to_char[byte]] = byte;
    }
}

/* The ByteLevel decoder's bytes for a token string: each character's byte if every character is
   in the alphabet, else the string's own UTF-8 (as tokenizers' decode_chain). 1 if byte-level. */
static int grpo__byte_level_decode(const int char_to_byte[324], const unsigned char *s, size_t n, unsigned char *out, size_t *out_len) {
    size_t at = 0, k = 0;
    while (at < n) {
        uint32_t c;
        int used = grpo__utf8_decode(s + at, n - at, &c);
        if (!used || c >= 324 || char_to_byte[c] < 0) { memcpy(out, s, n); *out_len = n; return 0; }
        out[k++] = (unsigned char)char_to_byte[c];
        at += (size_t)used;
    }
    *out_len = k;
    return 1;
}

typedef struct { const char *bytes; uint32_t length; int id; } grpo__string_slot;

static int grpo__string_find(const grpo__string_slot *slots, size_t mask, const char *bytes, size_t n) {
    for (size_t slot = grpo__hash_bytes(bytes, n) & mask;; slot = (slot + 1) & mask) {
        if (!slots[slot].bytes) return -1;
        if (slots[slot].length == n && memcmp(slots[slot].bytes, bytes, n) == 0) return slots[slot].id;
    }
}

static int grpo__json_is(const grpo_json *json, const grpo_json_value *object, const char *key, const char *value) {
    const char *s = grpo_json_string(json, grpo_json_get(json, object, key));
    return s && strcmp(s, value) == 0;
}

/* A boolean member that must be false (or absent/null) for this tokenizer to be read. */
static grpo_result grpo__refuse_true(const grpo_json *json, const grpo_json_value *object, const char *key, const char *source, const char *where) {
    const grpo_json_value *v = grpo_json_get(json, object, key);
    if (!v || v->type == GRPO_JSON_NULL || v->type == GRPO_JSON_FALSE) return GRPO_SUCCESS;
    if (v->type == GRPO_JSON_TRUE) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: %s.%s is true: not implemented", source, where, key);
    return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %s.%s must be true or false", source, where, key);
}

static grpo_result grpo__bpe_pre_tokenizer(grpo__bpe *b, const grpo_json *json, const grpo_json_value *p, const char *source, int nested) {
    const char *type = grpo_json_string(json, grpo_json_get(json, p, "type"));
    if (!p || p->type == GRPO_JSON_NULL) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer is null; byte-level BPE needs a ByteLevel pre-tokenizer", source);
    if (!type) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: pre_tokenizer has no \"type\"", source);
    if (strcmp(type, "Sequence") == 0 && !nested) {
        const grpo_json_value *list = grpo_json_get(json, p, "pretokenizers");
        if (!list || list->type != GRPO_JSON_ARRAY) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: pre_tokenizer.pretokenizers must be a list", source);
        const grpo_json_value *item = grpo_json_first(json, list);
        for (uint32_t i = 0; i < list->count; i++, item = grpo_json_next(json, item)) {
            grpo_result r = grpo__bpe_pre_tokenizer(b, json, item, source, 1);
            if (r) return r;
        }
        if (b->byte_level_regex < 0) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer has no ByteLevel step; byte-level BPE needs one", source);
        return GRPO_SUCCESS;
    }
    if (b->byte_level_regex >= 0) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer: a %s step after ByteLevel is not implemented", source, type);
    if (strcmp(type, "ByteLevel") == 0) {
        int regex;
        const grpo_json_value *v = grpo_json_get(json, p, "add_prefix_space");
        b->prefix_space = v && v->type == GRPO_JSON_TRUE;
        v = grpo_json_get(json, p, "use_regex");
        regex = !v || v->type != GRPO_JSON_FALSE; /* tokenizers' default is true */
        b->byte_level_regex = regex;
        return GRPO_SUCCESS;
    }
    if (strcmp(type, "Split") == 0) {
        const grpo_json_value *pattern = grpo_json_get(json, p, "pattern");
        const char *regex = grpo_json_string(json, grpo_json_get(json, pattern, "Regex"));
        if (!regex) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer Split: only a {\"Regex\": ...} pattern is implemented", source);
        int which = strcmp(regex, grpo__pattern_gpt2) == 0 ? GRPO__PATTERN_GPT2 : strcmp(regex, grpo__pattern_qwen2) == 0 ? GRPO__PATTERN_QWEN2 : 0;
        if (!which) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer Split pattern \"%.80s\" is not implemented (only GPT-2's and Qwen2's)", source, regex);
        if (!grpo__json_is(json, p, "behavior", "Isolated")) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer Split: only behavior \"Isolated\" is implemented", source);
        grpo_result r = grpo__refuse_true(json, p, "invert", source, "pre_tokenizer Split");
        if (r) return r;
        if (b->n_splits == 4) return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: more than 4 Split steps", source);
        b->split_pattern[b->n_splits++] = which;
        return GRPO_SUCCESS;
    }
    return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: pre_tokenizer \"%.40s\" is not implemented (ByteLevel, Split, Sequence)", source, type);
}

GRPODEF grpo_result grpo_bpe_tokenizer_parse(grpo_tokenizer *tokenizer, const char *text, size_t len, const char *source) {
    if (!tokenizer) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_bpe_tokenizer_parse: tokenizer is NULL");
    memset(tokenizer, 0, sizeof *tokenizer);
    if (!source) source = "tokenizer.json";
    grpo_json json;
    grpo_result r = grpo_json_parse(&json, text, len, source);
    if (r) return r;
    grpo__bpe *b = (grpo__bpe *)GRPO_MALLOC(sizeof *b);
    grpo__string_slot *strings = NULL;
    unsigned char *scratch = NULL;
    if (!b) { grpo_json_free(&json); return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source); }
    memset(b, 0, sizeof *b);
    b->byte_level_regex = -1;
    b->unk_id = -1;
    uint32_t byte_to_char[256];
    int char_to_byte[324];
    grpo__byte_level_alphabet(byte_to_char, char_to_byte);
    const grpo_json_value *root = json.values, *model, *vocab, *merges, *added, *v, *item;
    const char *type;
    size_t strings_mask = 0, total_bytes = 0;
    int max_id = -1;
#define GRPO__BPE_FAIL(code, ...) do { r = grpo__fail(code, __VA_ARGS__); goto done; } while (0)
    if (root->type != GRPO_JSON_OBJECT) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: expected a JSON object", source);
    model = grpo_json_get(&json, root, "model");
    if (!model || model->type != GRPO_JSON_OBJECT) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: \"model\" must be an object", source);
    type = grpo_json_string(&json, grpo_json_get(&json, model, "type"));
    if (type && strcmp(type, "BPE") != 0) GRPO__BPE_FAIL(GRPO_ERROR_UNSUPPORTED, "%s: model type \"%.32s\" is not implemented (only BPE)", source, type);
    if ((r = grpo__refuse_true(&json, model, "byte_fallback", source, "model"))) goto done;
    v = grpo_json_get(&json, model, "dropout");
    if (v && v->type != GRPO_JSON_NULL && !(v->type == GRPO_JSON_NUMBER && v->number == 0.0))
        GRPO__BPE_FAIL(GRPO_ERROR_UNSUPPORTED, "%s: model.dropout is set: BPE dropout is not implemented", source);
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "end_of_word_suffix" : "continuing_subword_prefix";
        v = grpo_json_get(&json, model, key);
        if (v && v->type != GRPO_JSON_NULL && !(v->type == GRPO_JSON_STRING && v->length == 0))
            GRPO__BPE_FAIL(GRPO_ERROR_UNSUPPORTED, "%s: model.%s is set: not implemented", source, key);
    }
    b->ignore_merges = grpo_json_get(&json, model, "ignore_merges") && grpo_json_get(&json, model, "ignore_merges")->type == GRPO_JSON_TRUE;
    b->fuse_unk = grpo_json_get(&json, model, "fuse_unk") && grpo_json_get(&json, model, "fuse_unk")->type == GRPO_JSON_TRUE;
    vocab = grpo_json_get(&json, model, "vocab");
    merges = grpo_json_get(&json, model, "merges");
    if (!vocab || vocab->type != GRPO_JSON_OBJECT) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.vocab must be an object of token -> id", source);
    if (!merges || merges->type != GRPO_JSON_ARRAY) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.merges must be a list", source);
    added = grpo_json_get(&json, root, "added_tokens");
    if (added && added->type != GRPO_JSON_NULL && added->type != GRPO_JSON_ARRAY) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: added_tokens must be a list", source);
    if (added && added->type == GRPO_JSON_NULL) added = NULL;
    /* ids: [0, 2^24) each */
    item = grpo_json_first(&json, vocab);
    for (uint32_t i = 0; i < vocab->count; i++, item = grpo_json_next(&json, item)) {
        if (item->type != GRPO_JSON_NUMBER || !item->is_integer || item->integer < 0 || item->integer >= GRPO__MAX_TOKEN_ID)
            GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.vocab[\"%.64s\"] must be an id from 0 to %d", source, grpo_json_key(&json, item), GRPO__MAX_TOKEN_ID - 1);
        if ((int)item->integer > max_id) max_id = (int)item->integer;
        total_bytes += item->key_length;
    }
    item = grpo_json_first(&json, added);
    for (uint32_t i = 0; added && i < added->count; i++, item = grpo_json_next(&json, item)) {
        const grpo_json_value *id = grpo_json_get(&json, item, "id");
        const grpo_json_value *content = grpo_json_get(&json, item, "content");
        if (item->type != GRPO_JSON_OBJECT || !id || id->type != GRPO_JSON_NUMBER || !id->is_integer || id->integer < 0 ||
            id->integer >= GRPO__MAX_TOKEN_ID || !content || content->type != GRPO_JSON_STRING)
            GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: added_tokens[%u] must have an integer \"id\" (0 to %d) and a string \"content\"", source, i, GRPO__MAX_TOKEN_ID - 1);
        static const char *refused[3] = {"lstrip", "rstrip", "single_word"};
        char where[48];
        snprintf(where, sizeof where, "added_tokens[%u]", i);
        for (int k = 0; k < 3; k++) if ((r = grpo__refuse_true(&json, item, refused[k], source, where))) goto done;
        if ((int)id->integer > max_id) max_id = (int)id->integer;
        total_bytes += 2 * (size_t)content->length; /* the content, and its normalized form */
    }
    if (max_id < 0) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: the vocabulary is empty", source);
    b->vocab_size = max_id + 1;
    b->token_offset = (uint32_t *)GRPO_MALLOC(((size_t)b->vocab_size + 1) * sizeof(uint32_t));
    b->token_kind = (unsigned char *)GRPO_MALLOC((size_t)b->vocab_size);
    b->token_bytes = (unsigned char *)GRPO_MALLOC(total_bytes + 1);
    b->match_bytes = (unsigned char *)GRPO_MALLOC(total_bytes + 1);
    scratch = (unsigned char *)GRPO_MALLOC(total_bytes + 8);
    for (strings_mask = 16; strings_mask < 2 * (size_t)vocab->count; strings_mask *= 2) {}
    strings = (grpo__string_slot *)GRPO_MALLOC(strings_mask * sizeof *strings);
    if (!b->token_offset || !b->token_kind || !b->token_bytes || !b->match_bytes || !scratch || !strings)
        GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory for %d tokens", source, b->vocab_size);
    memset(b->token_kind, 0, (size_t)b->vocab_size);
    memset(strings, 0, strings_mask * sizeof *strings);
    strings_mask--;
    /* the model's tokens: unique ids and strings; the added tokens override an id for decoding */
    item = grpo_json_first(&json, vocab);
    for (uint32_t i = 0; i < vocab->count; i++, item = grpo_json_next(&json, item)) {
        int id = (int)item->integer;
        if (b->token_kind[id]) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.vocab gives id %d to two tokens", source, id);
        b->token_kind[id] = 1;
        const char *key = grpo_json_key(&json, item);
        size_t slot = grpo__hash_bytes(key, item->key_length) & strings_mask;
        while (strings[slot].bytes) slot = (slot + 1) & strings_mask; /* keys are unique: the JSON parser checked */
        strings[slot].bytes = key;
        strings[slot].length = item->key_length;
        strings[slot].id = id;
    }
    item = grpo_json_first(&json, added);
    for (uint32_t i = 0; added && i < added->count; i++, item = grpo_json_next(&json, item)) {
        int id = (int)grpo_json_get(&json, item, "id")->integer;
        const grpo_json_value *special = grpo_json_get(&json, item, "special");
        if (grpo_json_get(&json, item, "content")->length == 0) continue; /* tokenizers ignores empty tokens */
        if (b->token_kind[id] >= 2) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: added_tokens gives id %d twice", source, id);
        b->token_kind[id] = special && special->type == GRPO_JSON_TRUE ? 3 : 2;
    }
    /* the decoded bytes of every id: lengths first, then offsets */
    {
        uint32_t at = 0;
        item = grpo_json_first(&json, vocab);
        for (int id = 0; id < b->vocab_size; id++) b->token_offset[id] = 0;
        for (uint32_t i = 0; i < vocab->count; i++, item = grpo_json_next(&json, item)) {
            int id = (int)item->integer;
            if (b->token_kind[id] != 1) continue;
            size_t n;
            grpo__byte_level_decode(char_to_byte, (const unsigned char *)grpo_json_key(&json, item), item->key_length, scratch, &n);
            b->token_offset[id] = (uint32_t)n;
        }
        item = grpo_json_first(&json, added);
        for (uint32_t i = 0; added && i < added->count; i++, item = grpo_json_next(&json, item)) {
            const grpo_json_value *content = grpo_json_get(&json, item, "content");
            if (content->length == 0) continue;
            size_t n;
            grpo__byte_level_decode(char_to_byte, (const unsigned char *)grpo_json_string(&json, content), content->length, scratch, &n);
            b->token_offset[grpo_json_get(&json, item, "id")->integer] = (uint32_t)n;
        }
        for (int id = 0; id <= b->vocab_size; id++) {
            uint32_t n = id < b->vocab_size ? b->token_offset[id] : 0;
            b->token_offset[id] = at;
            at += n;
        }
        item = grpo_json_first(&json, vocab);
        for (uint32_t i = 0; i < vocab->count; i++, item = grpo_json_next(&json, item)) {
            int id = (int)item->integer;
            size_t n;
            if (b->token_kind[id] == 1)
                grpo__byte_level_decode(char_to_byte, (const unsigned char *)grpo_json_key(&json, item), item->key_length, b->token_bytes + b->token_offset[id], &n);
        }
        item = grpo_json_first(&json, added);
        for (uint32_t i = 0; added && i < added->count; i++, item = grpo_json_next(&json, item)) {
            const grpo_json_value *content = grpo_json_get(&json, item, "content");
            size_t n;
            if (content->length)
                grpo__byte_level_decode(char_to_byte, (const unsigned char *)grpo_json_string(&json, content), content->length,
                                        b->token_bytes + b->token_offset[grpo_json_get(&json, item, "id")->integer], &n);
        }
    }
    /* lookup of byte-level model tokens by their bytes (ignore_merges, grpo_tokenizer_token_id) */
    for (b->lookup_mask = 16; b->lookup_mask < 2 * (size_t)vocab->count; b->lookup_mask *= 2) {}
    b->lookup = (int32_t *)GRPO_MALLOC(b->lookup_mask * sizeof(int32_t));
    if (!b->lookup) GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
    for (size_t i = 0; i < b->lookup_mask; i++) b->lookup[i] = -1;
    b->lookup_mask--;
    item = grpo_json_first(&json, vocab);
    for (uint32_t i = 0; i < vocab->count; i++, item = grpo_json_next(&json, item)) {
        int id = (int)item->integer;
        size_t n;
        if (b->token_kind[id] != 1 || !grpo__byte_level_decode(char_to_byte, (const unsigned char *)grpo_json_key(&json, item), item->key_length, scratch, &n) || n == 0) continue;
        size_t slot = grpo__hash_bytes(scratch, n) & b->lookup_mask;
        while (b->lookup[slot] >= 0) slot = (slot + 1) & b->lookup_mask;
        b->lookup[slot] = id;
    }
    for (int byte = 0; byte < 256; byte++) {
        unsigned char utf8[4];
        int n = grpo__utf8_encode(byte_to_char[byte], utf8);
        b->byte_id[byte] = grpo__string_find(strings, strings_mask, (const char *)utf8, (size_t)n);
    }
    v = grpo_json_get(&json, model, "unk_token");
    if (v && v->type != GRPO_JSON_NULL) {
        if (v->type != GRPO_JSON_STRING) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.unk_token must be a string or null", source);
        b->unk_id = grpo__string_find(strings, strings_mask, grpo_json_string(&json, v), v->length);
        if (b->unk_id < 0) GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.unk_token \"%.64s\" is not in the vocabulary", source, grpo_json_string(&json, v));
    }
    /* merges, "a b" or ["a", "b"]; a pair listed twice keeps its last rank (as tokenizers' HashMap) */
    for (b->merge_mask = 16; b->merge_mask < 2 * (size_t)merges->count; b->merge_mask *= 2) {}
    b->merge_keys = (uint64_t *)GRPO_MALLOC(b->merge_mask * sizeof(uint64_t));
    b->merge_rank = (uint32_t *)GRPO_MALLOC(b->merge_mask * sizeof(uint32_t));
    b->merge_result = (int32_t *)GRPO_MALLOC(b->merge_mask * sizeof(int32_t));
    if (!b->merge_keys || !b->merge_rank || !b->merge_result) GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory for %u merges", source, merges->count);
    for (size_t i = 0; i < b->merge_mask; i++) b->merge_keys[i] = UINT64_MAX;
    b->merge_mask--;
    item = grpo_json_first(&json, merges);
    for (uint32_t i = 0; i < merges->count; i++, item = grpo_json_next(&json, item)) {
        const char *left, *right;
        size_t left_length, right_length;
        if (item->type == GRPO_JSON_STRING) {
            left = grpo_json_string(&json, item);
            const char *space = (const char *)memchr(left, ' ', item->length);
            if (!space || memchr(space + 1, ' ', item->length - (size_t)(space + 1 - left)))
                GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.merges[%u] = \"%.64s\" is not two tokens separated by one space", source, i, left);
            left_length = (size_t)(space - left);
            right = space + 1;
            right_length = item->length - left_length - 1;
        } else if (item->type == GRPO_JSON_ARRAY && item->count == 2 && grpo_json_first(&json, item)->type == GRPO_JSON_STRING &&
                   grpo_json_next(&json, grpo_json_first(&json, item))->type == GRPO_JSON_STRING) {
            const grpo_json_value *a = grpo_json_first(&json, item), *c = grpo_json_next(&json, a);
            left = grpo_json_string(&json, a);
            left_length = a->length;
            right = grpo_json_string(&json, c);
            right_length = c->length;
        } else {
            GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.merges[%u] must be \"a b\" or [\"a\", \"b\"]", source, i);
        }
        int a = grpo__string_find(strings, strings_mask, left, left_length), c = grpo__string_find(strings, strings_mask, right, right_length);
        if (left_length + right_length > total_bytes) a = -1; /* longer than every token: not in the vocabulary */
        if (a >= 0) memcpy(scratch, left, left_length);
        if (a >= 0 && c >= 0) memcpy(scratch + left_length, right, right_length);
        int merged = a >= 0 && c >= 0 ? grpo__string_find(strings, strings_mask, (const char *)scratch, left_length + right_length) : -1;
        if (merged < 0)
            GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: model.merges[%u] (\"%.40s\" + \"%.40s\"): %s is not in the vocabulary", source, i, left, right,
                           a < 0 ? "the first token" : c < 0 ? "the second token" : "the merged token");
        uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)c;
        size_t slot = grpo__merge_hash(key) & b->merge_mask;
        while (b->merge_keys[slot] != UINT64_MAX && b->merge_keys[slot] != key) slot = (slot + 1) & b->merge_mask;
        b->merge_keys[slot] = key;
        b->merge_rank[slot] = i;
        b->merge_result[slot] = merged;
    }
    /* the normalizer */
    v = grpo_json_get(&json, root, "normalizer");
    if (v && v->type != GRPO_JSON_NULL) {
        type = grpo_json_string(&json, grpo_json_get(&json, v, "type"));
        if (!type || strcmp(type, "NFC") != 0)
            GRPO__BPE_FAIL(GRPO_ERROR_UNSUPPORTED, "%s: normalizer \"%.40s\" is not implemented (none or NFC)", source, type ? type : "?");
        b->nfc = 1;
        b->compositions = grpo__composition_table(&b->n_compositions);
        if (!b->compositions) GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
    }
    if ((r = grpo__bpe_pre_tokenizer(b, &json, grpo_json_get(&json, root, "pre_tokenizer"), source, 0))) goto done;
    v = grpo_json_get(&json, root, "decoder");
    if (!v || v->type == GRPO_JSON_NULL || !grpo__json_is(&json, v, "type", "ByteLevel")) {
        type = grpo_json_string(&json, grpo_json_get(&json, v, "type"));
        GRPO__BPE_FAIL(GRPO_ERROR_UNSUPPORTED, "%s: decoder %s%.40s%s is not implemented (only ByteLevel)", source, type ? "\"" : "", type ? type : "null", type ? "\"" : "");
    }
    /* the added tokens to match: by first byte, longest first; normalized ones in normalized form */
    if (added && added->count) {
        b->added = (grpo__added_token *)GRPO_MALLOC(added->count * sizeof *b->added);
        if (!b->added) GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
        uint32_t at = 0;
        item = grpo_json_first(&json, added);
        for (uint32_t i = 0; i < added->count; i++, item = grpo_json_next(&json, item)) {
            const grpo_json_value *content = grpo_json_get(&json, item, "content"), *normalized = grpo_json_get(&json, item, "normalized");
            const grpo_json_value *special = grpo_json_get(&json, item, "special");
            if (content->length == 0) continue;
            grpo__added_token *t = &b->added[b->n_added++];
            t->id = (int)grpo_json_get(&json, item, "id")->integer;
            t->special = special && special->type == GRPO_JSON_TRUE;
            /* tokenizers' default: special tokens are not normalized, the others are */
            t->normalized = normalized && normalized->type != GRPO_JSON_NULL ? normalized->type == GRPO_JSON_TRUE : !t->special;
            const unsigned char *bytes = (const unsigned char *)grpo_json_string(&json, content);
            size_t n = content->length;
            unsigned char *normal = NULL;
            if (t->normalized && b->nfc) {
                if (grpo__nfc(b->compositions, b->n_compositions, bytes, n, &normal, &n)) goto done_nomem;
                bytes = normal;
            }
            if (at + n > total_bytes) { GRPO_FREE(normal); GRPO__BPE_FAIL(GRPO_ERROR_BAD_FILE, "%s: added token %d grows too much under NFC", source, t->id); }
            memcpy(b->match_bytes + at, bytes, n);
            t->offset = at;
            t->length = (uint32_t)n;
            at += (uint32_t)n;
            GRPO_FREE(normal);
        }
        /* counting sort by first byte, longest first within a byte */
        grpo__added_token *sorted = (grpo__added_token *)GRPO_MALLOC((size_t)(b->n_added ? b->n_added : 1) * sizeof *sorted);
        if (!sorted) GRPO__BPE_FAIL(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
        int counts[257] = {0};
        for (int i = 0; i < b->n_added; i++) counts[b->match_bytes[b->added[i].offset] + 1]++;
        for (int c = 0; c < 256; c++) counts[c + 1] += counts[c];
        memcpy(b->added_start, counts, sizeof counts);
        for (int i = 0; i < b->n_added; i++) sorted[counts[b->match_bytes[b->added[i].offset]]++] = b->added[i];
        for (int c = 0; c < 256; c++)
            for (int i = b->added_start[c] + 1; i < b->added_start[c + 1]; i++) {
                grpo__added_token t = sorted[i];
                int j = i;
                while (j > b->added_start[c] && sorted[j - 1].length < t.length) { sorted[j] = sorted[j - 1]; j--; }
                sorted[j] = t;
            }
        GRPO_FREE(b->added);
        b->added = sorted;
    }
    tokenizer->vocab_size = b->vocab_size;
    tokenizer->bos_id = -1;
    tokenizer->eos_id = -1;
    for (int i = 0; i < b->n_added; i++)
        if (b->match_bytes[b->added[i].offset] == '<' && b->added[i].length == 13 && memcmp(b->match_bytes + b->added[i].offset, "<|endoftext|>", 13) == 0)
            tokenizer->eos_id = b->added[i].id;
    tokenizer->pad_id = tokenizer->eos_id;
    tokenizer->state = b;
    tokenizer->encode = grpo__bpe_encode;
    tokenizer->decode = grpo__bpe_decode;
    tokenizer->destroy = grpo__bpe_destroy;
    b = NULL;
    goto done;
done_nomem:
    r = grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source);
done:
#undef GRPO__BPE_FAIL
    grpo__bpe_free(b);
    GRPO_FREE(strings);
    GRPO_FREE(scratch);
    grpo_json_free(&json);
    if (r) memset(tokenizer, 0, sizeof *tokenizer);
    return r;
}

GRPODEF grpo_result grpo_bpe_tokenizer_load(grpo_tokenizer *tokenizer, const char *path) {
    if (tokenizer) memset(tokenizer, 0, sizeof *tokenizer);
    if (!tokenizer || !path) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_bpe_tokenizer_load: tokenizer and path are required");
    char *text;
    size_t len;
    grpo_result r = grpo__read_file(path, "tokenizer", GRPO_JSON_MAX_BYTES, &text, &len);
    if (r) return r;
    r = grpo_bpe_tokenizer_parse(tokenizer, text, len, path);
    GRPO_FREE(text);
    return r;
}

GRPODEF int grpo_chatml_prompt(const char *system, const char *user, char *buffer, size_t size) {
    if (system)
        return snprintf(buffer, size, "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", system, user ? user : "");
    return snprintf(buffer, size, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", user ? user : "");
}

/* ---------------------------------------------------------------------------------------
   4. Configuration */
#define GRPO__DEFAULT(value, fallback) ((value) == 0 ? (fallback) : (value))

GRPODEF grpo_config grpo_config_resolve(const grpo_config *config) {
    grpo_config c = *config;
    c.vocab_size = GRPO__DEFAULT(c.vocab_size, GRPO_BYTE_VOCAB_SIZE);
    c.context_length = GRPO__DEFAULT(c.context_length, 256);
    c.d_model = GRPO__DEFAULT(c.d_model, 256);
    c.n_layers = GRPO__DEFAULT(c.n_layers, 4);
    c.n_heads = GRPO__DEFAULT(c.n_heads, 4);
    c.n_kv_heads = GRPO__DEFAULT(c.n_kv_heads, c.n_heads);
    if (c.d_ff == 0 && c.d_model > 0 && c.d_model <= (1 << 24)) c.d_ff = ((8 * c.d_model / 3) + 31) / 32 * 32;
    c.rope_theta = GRPO__DEFAULT(c.rope_theta, 10000.0f);
    c.norm_eps = GRPO__DEFAULT(c.norm_eps, 1e-5f);
    return c;
}

/* The largest size of any one dimension. Keeping every dimension below 2^24 lets the kernels
   index with int within a row while all products are formed in size_t. */
#define GRPO__MAX_DIMENSION (1 << 24)

static grpo_result grpo__check_dimension(const char *field, int value) {
    if (value <= 0 || value > GRPO__MAX_DIMENSION)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.%s = %d: expected 1 to %d", field, value, GRPO__MAX_DIMENSION);
    return GRPO_SUCCESS;
}

static grpo_result grpo__layout_tensors(grpo_tensor_info *tensors, const grpo_config *c, size_t *total);

GRPODEF grpo_result grpo_config_validate(const grpo_config *config) {
    if (!config) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "config is NULL");
    grpo_config c = grpo_config_resolve(config);
    grpo_result r;
    if ((r = grpo__check_dimension("vocab_size", c.vocab_size))) return r;
    if ((r = grpo__check_dimension("context_length", c.context_length))) return r;
    if ((r = grpo__check_dimension("d_model", c.d_model))) return r;
    if ((r = grpo__check_dimension("n_layers", c.n_layers))) return r;
    if ((r = grpo__check_dimension("n_heads", c.n_heads))) return r;
    if ((r = grpo__check_dimension("n_kv_heads", c.n_kv_heads))) return r;
    if ((r = grpo__check_dimension("d_ff", c.d_ff))) return r;
    if (c.d_model % c.n_heads != 0)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.d_model = %d is not divisible by config.n_heads = %d", c.d_model, c.n_heads);
    if ((c.d_model / c.n_heads) % 2 != 0)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.d_model / config.n_heads = %d: the head size must be even for rotary embeddings", c.d_model / c.n_heads);
    if (c.n_heads % c.n_kv_heads != 0)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.n_heads = %d is not divisible by config.n_kv_heads = %d", c.n_heads, c.n_kv_heads);
    if (!(c.rope_theta > 1.0f) || !isfinite(c.rope_theta))
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.rope_theta = %g: expected a finite number > 1", (double)c.rope_theta);
    if (!(c.norm_eps > 0.0f) || !(c.norm_eps < 1.0f))
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.norm_eps = %g: expected a number in (0, 1)", (double)c.norm_eps);
    if (c.qkv_bias != 0 && c.qkv_bias != 1)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.qkv_bias = %d: expected 0 or 1", c.qkv_bias);
    if (c.untied_head != 0 && c.untied_head != 1)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config.untied_head = %d: expected 0 or 1", c.untied_head);
    grpo_tensor_info tensors[GRPO_NUM_TENSORS];
    size_t total;
    return grpo__layout_tensors(tensors, &c, &total);
}

/* ---------------------------------------------------------------------------------------
   5. The model: the tensor table, one allocation, initialisation */
static void grpo__tensor(grpo_tensor_info *t, const char *name, int rank, size_t d0, size_t d1, size_t d2,
                         int decay, int present, int *ok) {
    t->name = name;
    t->rank = rank;
    t->shape[0] = (int)d0; t->shape[1] = (int)d1; t->shape[2] = (int)d2;
    t->weight_decay = decay;
    size_t count = 0;
    if (present && !grpo__mul3(d0, rank > 1 ? d1 : 1, rank > 2 ? d2 : 1, &count)) *ok = 0;
    t->count = count;
}

/* Fills names, shapes and offsets of every parameter tensor; refuses a config whose parameter
   count overflows size_t (or the float block's byte count). */
static grpo_result grpo__layout_tensors(grpo_tensor_info *tensors, const grpo_config *c, size_t *total) {
    size_t L = (size_t)c->n_layers, C = (size_t)c->d_model, V = (size_t)c->vocab_size, F = (size_t)c->d_ff;
    size_t D = C / (size_t)c->n_heads, QD = (size_t)c->n_heads * D, KD = (size_t)c->n_kv_heads * D;
    int ok = 1, bias = c->qkv_bias != 0;
    grpo__tensor(&tensors[GRPO_TENSOR_TOKEN_EMBEDDING], "token_embedding", 2, V, C, 0, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_ATTN_NORM], "attn_norm", 2, L, C, 0, 0, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_WQ], "wq", 3, L, QD, C, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_BQ], "bq", 2, L, QD, 0, 0, bias, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_WK], "wk", 3, L, KD, C, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_BK], "bk", 2, L, KD, 0, 0, bias, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_WV], "wv", 3, L, KD, C, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_BV], "bv", 2, L, KD, 0, 0, bias, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_WO], "wo", 3, L, C, QD, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_MLP_NORM], "mlp_norm", 2, L, C, 0, 0, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_W_GATE], "w_gate", 3, L, F, C, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_W_UP], "w_up", 3, L, F, C, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_W_DOWN], "w_down", 3, L, C, F, 1, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_FINAL_NORM], "final_norm", 1, C, 0, 0, 0, 1, &ok);
    grpo__tensor(&tensors[GRPO_TENSOR_LM_HEAD], "lm_head", 2, V, C, 0, 1, c->untied_head != 0, &ok);
    size_t offset = 0;
    for (int i = 0; i < GRPO_NUM_TENSORS && ok; i++) {
        tensors[i].offset = offset;
        ok = grpo__add(offset, tensors[i].count, &offset);
    }
    size_t bytes;
    if (!ok || !grpo__mul(offset, sizeof(float), &bytes))
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config: the parameter count overflows size_t (d_model %d, n_layers %d, d_ff %d, vocab_size %d)",
                          c->d_model, c->n_layers, c->d_ff, c->vocab_size);
    *total = offset;
    return GRPO_SUCCESS;
}

static void grpo__point_parameters(grpo_parameters *p, float *memory, const grpo_tensor_info *tensors) {
    float **slots[GRPO_NUM_TENSORS] = {
        &p->token_embedding, &p->attn_norm, &p->wq, &p->bq, &p->wk, &p->bk, &p->wv, &p->bv, &p->wo,
        &p->mlp_norm, &p->w_gate, &p->w_up, &p->w_down, &p->final_norm, &p->lm_head};
    for (int i = 0; i < GRPO_NUM_TENSORS; i++)
        *slots[i] = (memory && tensors[i].count) ? memory + tensors[i].offset : NULL;
}

/* cos/sin tables of rotary embeddings, computed in double so that long contexts stay exact:
   angle(t, i) = t * theta^(-2i/D), for the pair (i, i + D/2) (the "rotate half" layout of
   Hugging Face Llama/Qwen2, not the interleaved one of the original RoFormer). */
static void grpo__rope_tables(float *cos_table, float *sin_table, int T, int D, float theta) {
    int half = D / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double angle = (double)t * pow((double)theta, -2.0 * i / D);
            cos_table[(size_t)t * half + i] = (float)cos(angle);
            sin_table[(size_t)t * half + i] = (float)sin(angle);
        }
}

/* Allocates the parameter block and RoPE tables for a resolved, valid config. */
static grpo_result grpo__model_allocate(grpo_model *model, const grpo_config *config) {
    memset(model, 0, sizeof *model);
    grpo_result r = grpo_config_validate(config);
    if (r) return r;
    model->config = grpo_config_resolve(config);
    model->head_size = model->config.d_model / model->config.n_heads;
    grpo__layout_tensors(model->tensors, &model->config, &model->num_parameters);
    size_t rope_count;
    size_t floats, bytes;
    /* a refusal leaves the model zeroed, as grpo_model_create promises */
    if (!grpo__mul((size_t)model->config.context_length, (size_t)(model->head_size / 2), &rope_count) ||
        !grpo__add(model->num_parameters, 2 * rope_count, &floats) || !grpo__mul(floats, sizeof(float), &bytes)) {
        memset(model, 0, sizeof *model);
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "config: the model's size (weights and rotary tables) overflows size_t");
    }
    if ((r = grpo__check_memory("model", bytes))) {
        memset(model, 0, sizeof *model);
        return r;
    }
    model->params_memory = (float *)grpo__alloc_floats(model->num_parameters);
    model->rope_cos = (float *)grpo__alloc_floats(rope_count);
    model->rope_sin = (float *)grpo__alloc_floats(rope_count);
    if (!model->params_memory || !model->rope_cos || !model->rope_sin) {
        grpo_model_destroy(model);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "model: could not allocate %zu parameters (%.1f MiB)",
                          model->num_parameters, (double)model->num_parameters * 4.0 / 1048576.0);
    }
    grpo__point_parameters(&model->params, model->params_memory, model->tensors);
    grpo__rope_tables(model->rope_cos, model->rope_sin, model->config.context_length, model->head_size, model->config.rope_theta);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_model_create(grpo_model *model, const grpo_config *config, uint64_t seed) {
    if (!model) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_model_create: model is NULL");
    memset(model, 0, sizeof *model);
    grpo_result r = grpo__model_allocate(model, config);
    if (r) return r;
    grpo_rng rng = grpo_rng_seed(seed);
    float projection_scale = 0.02f / sqrtf(2.0f * (float)model->config.n_layers);
    for (int i = 0; i < GRPO_NUM_TENSORS; i++) {
        const grpo_tensor_info *t = &model->tensors[i];
        float *w = model->params_memory + t->offset;
        int is_norm = (i == GRPO_TENSOR_ATTN_NORM || i == GRPO_TENSOR_MLP_NORM || i == GRPO_TENSOR_FINAL_NORM);
        int is_bias = (i == GRPO_TENSOR_BQ || i == GRPO_TENSOR_BK || i == GRPO_TENSOR_BV);
        float scale = (i == GRPO_TENSOR_WO || i == GRPO_TENSOR_W_DOWN) ? projection_scale : 0.02f;
        for (size_t j = 0; j < t->count; j++)
            w[j] = is_norm ? 1.0f : is_bias ? 0.0f : scale * grpo_rng_normal(&rng);
    }
    return GRPO_SUCCESS;
}

GRPODEF void grpo_model_destroy(grpo_model *model) {
    if (!model) return;
    GRPO_FREE(model->params_memory);
    GRPO_FREE(model->grads_memory);
    GRPO_FREE(model->rope_cos);
    GRPO_FREE(model->rope_sin);
    GRPO_FREE(model->acts_memory);
    GRPO_FREE(model->acts_ints);
    GRPO_FREE(model->acts_offsets);
    GRPO_FREE(model->scratch_memory);
    memset(model, 0, sizeof *model);
}

GRPODEF grpo_result grpo_model_copy_weights(grpo_model *dst, const grpo_model *src) {
    if (!dst || !src || !dst->params_memory || !src->params_memory)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_model_copy_weights: both models must be created");
    if (memcmp(&dst->config, &src->config, sizeof dst->config) != 0)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_model_copy_weights: the two models have different configs");
    memcpy(dst->params_memory, src->params_memory, src->num_parameters * sizeof(float));
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_model_create_reference(grpo_model *reference, const grpo_model *policy) {
    if (reference) memset(reference, 0, sizeof *reference);
    if (!reference || !policy || !policy->params_memory)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_model_create_reference: the policy must be created");
    grpo_result r = grpo__model_allocate(reference, &policy->config);
    if (r) return r;
    memcpy(reference->params_memory, policy->params_memory, policy->num_parameters * sizeof(float));
    reference->frozen = 1;
    return GRPO_SUCCESS;
}

GRPODEF void grpo_model_zero_grad(grpo_model *model) {
    if (model && model->grads_memory) memset(model->grads_memory, 0, model->num_parameters * sizeof(float));
}

/* ---------------------------------------------------------------------------------------
   6. Layers, each a forward/backward pair side by side: outputs first, then inputs, then
   sizes. Forwards overwrite their outputs; backwards accumulate (+=) into their gradients. */

/* A vectorisable expf (Cephes' polynomial, relative error ~2e-7 over the clamped range).
   glibc's expf does not vectorise without -ffast-math, and a scalar exp in softmax or SiLU
   costs more than the matmuls around it. Written so that GCC vectorises loops that call it
   under -std=c11 without -ffast-math: the clamp as two selects (fminf/fmaxf and floorf block
   vectorisation there), n = round(x / ln 2) by the 1.5 * 2^23 trick (exact for |n| < 2^22),
   and the 2^n bit pattern through memcpy. */
static inline float grpo__expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n; n is in [-126, 127] (NaN stays NaN through p) */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Dot product. The simd pragma lets the compiler split the sum into vector lanes (it may not
   reorder a float sum on its own without -ffast-math); compiled without OpenMP the pragma is
   ignored and the sum is sequential. Either way the order is fixed: results are deterministic. */
static inline float grpo__dot(const float *a, const float *b, int n) {
    float sum = 0.0f;
    #pragma omp simd reduction(+:sum)
    for (int i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* sum of x[i]^2 in double: fixed chunks of 65536 summed in parallel, each in a fixed (vector
   lane) order, then the chunk sums in order, so the result does not depend on the thread count. */
static double grpo__sum_of_squares(const float *x, size_t n) {
    enum { CHUNK = 65536 };
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    double partial[256], total = 0.0;
    for (size_t c0 = 0; c0 < chunks; c0 += 256) {
        long count = (long)(chunks - c0 < 256 ? chunks - c0 : 256);
        #pragma omp parallel for schedule(static)
        for (long c = 0; c < count; c++) {
            size_t begin = (c0 + (size_t)c) * CHUNK, end = begin + CHUNK < n ? begin + CHUNK : n;
            double sum = 0.0;
            #pragma omp simd reduction(+:sum)
            for (size_t i = begin; i < end; i++) sum += (double)x[i] * x[i];
            partial[c] = sum;
        }
        for (long c = 0; c < count; c++) total += partial[c];
    }
    return total;
}

/* C (M, N) = alpha * op(A) op(B) + beta * C, row-major; op transposes when trans_ is 1.
   The portable path is a cache-blocked loop written so the compiler vectorises the inner
   j loop; it is also the reference the BLAS path is tested against. */
static void grpo__sgemm_portable(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                 const float *A, int lda, const float *B, int ldb, float beta,
                                 float *C, int ldc) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f) for (int j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
    }
    enum { BLOCK_K = 256 };
    for (int k0 = 0; k0 < K; k0 += BLOCK_K) {
        int k1 = k0 + BLOCK_K < K ? k0 + BLOCK_K : K;
        if (!trans_b) {
            /* C[i,:] += a[i,k] * B[k,:]: contiguous rows of B */
            #pragma omp parallel for schedule(static)
            for (int i = 0; i < M; i++) {
                float *c = C + (size_t)i * ldc;
                for (int k = k0; k < k1; k++) {
                    float a = alpha * (trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
                    const float *b = B + (size_t)k * ldb;
                    for (int j = 0; j < N; j++) c[j] += a * b[j];
                }
            }
        } else {
            /* C[i,j] += dot(a[i,:], B[j,:]): contiguous rows of both when A is not transposed */
            #pragma omp parallel for schedule(static)
            for (int i = 0; i < M; i++) {
                float *c = C + (size_t)i * ldc;
                for (int j = 0; j < N; j++) {
                    const float *b = B + (size_t)j * ldb;
                    float sum = 0.0f;
                    if (!trans_a) {
                        sum = grpo__dot(A + (size_t)i * lda + k0, b + k0, k1 - k0);
                    } else {
                        for (int k = k0; k < k1; k++) sum += A[(size_t)k * lda + i] * b[k];
                    }
                    c[j] += alpha * sum;
                }
            }
        }
    }
}

static void grpo__sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
#ifdef GRPO_USE_CBLAS
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    grpo__sgemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

/* y += x, elementwise (residual connections) */
static void grpo__add_into(float *y, const float *x, size_t count) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) y[i] += x[i];
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define GRPO__HAS_GEMM 1 /* grpo__gemm, with the vector kernels below */
static int grpo__gemm(float *C, int ldc, const float *A, size_t a_row, size_t a_k, const float *B, size_t b_k, size_t b_col,
                      int M, int N, int K, int accumulate, float *packed);
#endif

/* out (N, OC) = inp (N, IC) W^T + bias, with W (OC, IC) and bias (OC) or NULL. Where the build
   has the vector kernels, this and the backward's dinp = dout W run through grpo__gemm, with
   pack its GRPO__GEMM_SCRATCH floats (the model's, kept with the activations), and dW +=
   dout^T inp too when no BLAS is linked (OpenBLAS was faster on that one); with
   pack NULL, or without the kernels, they are grpo__sgemm. */
static void grpo__matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                                 int N, int IC, int OC, float *pack) {
#ifdef GRPO__HAS_GEMM
    if (!grpo__gemm(out, OC, inp, (size_t)IC, 1, weight, 1, (size_t)IC, N, OC, IC, 0, pack))
#else
    (void)pack;
#endif
    grpo__sgemm(0, 1, N, OC, IC, 1.0f, inp, IC, weight, IC, 0.0f, out, OC);
    if (bias) {
        #pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) out[(size_t)n * OC + o] += bias[o];
    }
}

/* dinp += dout W;  dweight += dout^T inp;  dbias += column sums of dout. The _set form
   overwrites dinp instead (saves zeroing it first). */
static void grpo__matmul_backward_beta(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                       const float *weight, int N, int IC, int OC, float beta, float *pack) {
#ifdef GRPO__HAS_GEMM
    if (!((beta == 0.0f || beta == 1.0f) && grpo__gemm(dinp, IC, dout, (size_t)OC, 1, weight, (size_t)IC, 1, N, IC, OC, beta == 1.0f, pack)))
#endif
    grpo__sgemm(0, 0, N, IC, OC, 1.0f, dout, OC, weight, IC, beta, dinp, IC);
#if defined(GRPO__HAS_GEMM) && !defined(GRPO_USE_CBLAS) /* OpenBLAS measured faster for dW (README, Performance) */
    if (!grpo__gemm(dweight, IC, dout, 1, (size_t)OC, inp, (size_t)IC, 1, OC, IC, N, 1, pack))
#endif
    grpo__sgemm(1, 0, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dweight, IC);
#ifndef GRPO__HAS_GEMM
    (void)pack;
#endif
    if (dbias) {
        /* each output column summed over rows in a fixed order: deterministic */
        #pragma omp parallel for schedule(static)
        for (int o = 0; o < OC; o++) {
            float sum = 0.0f;
            for (int n = 0; n < N; n++) sum += dout[(size_t)n * OC + o];
            dbias[o] += sum;
        }
    }
}
static void grpo__matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                  const float *inp, const float *weight, int N, int IC, int OC, float *pack) {
    grpo__matmul_backward_beta(dinp, dweight, dbias, dout, inp, weight, N, IC, OC, 1.0f, pack);
}
static void grpo__matmul_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
                                      const float *inp, const float *weight, int N, int IC, int OC, float *pack) {
    grpo__matmul_backward_beta(dinp, dweight, dbias, dout, inp, weight, N, IC, OC, 0.0f, pack);
}

/* Matmul for few rows: out (M, OC) = inp (M, IC) W^T + bias, W (OC, IC) in its stored layout.
   This is decoding's shape: M = the active sequences (1 to a few hundred), W a weight matrix
   read once per step. cblas_sgemm packs W into its own panel layout on every call, which at
   M = 16..64 costs about as much as the arithmetic; this kernel instead packs the few rows of
   inp, transposed, into scratch (IC, M rounded up to the vector width) and streams W once:
   MR rows of W at a time, each W element broadcast against NV vectors of 16 (AVX-512) or 8
   (AVX2) rows of inp, MR x NV accumulators held in registers. Threads split the rows of W
   (output columns) evenly, static, no reductions across threads.
   W comes in one of two layouts. Stored (OC, IC), a tile's MR rows are MR streams through
   memory at a stride of IC floats, which the hardware prefetcher follows badly once W no
   longer fits the cache. Packed in panels (grpo__pack_panels: P rows of W at a time, P the
   tile height for the batch's row count, each panel stored k-major), a tile reads one
   sequential stream, which it prefetches GRPO__PREFETCH_K steps ahead. On config B's weights
   (77 MB, beyond the L3) one core's 16-row tiles ran 69 GFLOP/s stored and 90 packed; the
   generator keeps a packed copy of the model's decode weights, which made config B's
   generation 6-14 % faster (README, Performance).
   Each output is one fused multiply-add chain over k = 0..IC-1 in order, whatever M, the
   blocking or the thread count: a sequence's logits do not depend on which other sequences
   share its batch, and the result is bit-identical for any number of threads. Without
   AVX-512 or AVX2+FMA it is grpo__sgemm. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define GRPO__LANES 16
#define GRPO__ROW_VECTORS 4 /* vectors of rows per block: 64 rows */
typedef __m512 grpo__vector;
#define grpo__vector_load(p) _mm512_loadu_ps(p)
#define grpo__vector_store(p, v) _mm512_storeu_ps(p, v)
#define grpo__vector_splat(x) _mm512_set1_ps(x)
#define grpo__vector_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define grpo__vector_zero() _mm512_setzero_ps()
#define grpo__vector_add(a, b) _mm512_add_ps(a, b)
#define grpo__vector_sub(a, b) _mm512_sub_ps(a, b)
#define grpo__vector_mul(a, b) _mm512_mul_ps(a, b)
#define grpo__vector_div(a, b) _mm512_div_ps(a, b)
#define grpo__vector_sqrt(a) _mm512_sqrt_ps(a)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GRPO__LANES 8
#define GRPO__ROW_VECTORS 2 /* 16 rows */
typedef __m256 grpo__vector;
#define grpo__vector_load(p) _mm256_loadu_ps(p)
#define grpo__vector_store(p, v) _mm256_storeu_ps(p, v)
#define grpo__vector_splat(x) _mm256_set1_ps(x)
#define grpo__vector_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define grpo__vector_zero() _mm256_setzero_ps()
#define grpo__vector_add(a, b) _mm256_add_ps(a, b)
#define grpo__vector_sub(a, b) _mm256_sub_ps(a, b)
#define grpo__vector_mul(a, b) _mm256_mul_ps(a, b)
#define grpo__vector_div(a, b) _mm256_div_ps(a, b)
#define grpo__vector_sqrt(a) _mm256_sqrt_ps(a)
#endif

#ifdef GRPO__LANES
#define GRPO__ROW_BLOCK (GRPO__LANES * GRPO__ROW_VECTORS)
#if defined(__GNUC__)
#define GRPO__ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define GRPO__ALWAYS_INLINE static inline
#endif

/* A mask for the first count (0..LANES) lanes, for loads and stores at the tail of a row:
   masked-off lanes are not touched, so nothing past the end is read. */
#if GRPO__LANES == 16
typedef __mmask16 grpo__lanes;
static inline grpo__lanes grpo__lanes_first(int count) { return (__mmask16)(count >= 16 ? 0xFFFF : (1u << (count < 0 ? 0 : count)) - 1u); }
#define grpo__vector_load_lanes(p, mask) _mm512_maskz_loadu_ps(mask, p)
#define grpo__vector_store_lanes(p, mask, v) _mm512_mask_storeu_ps(p, mask, v)
#else
typedef __m256i grpo__lanes;
static inline grpo__lanes grpo__lanes_first(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define grpo__vector_load_lanes(p, mask) _mm256_maskload_ps(p, mask)
#define grpo__vector_store_lanes(p, mask, v) _mm256_maskstore_ps(p, mask, v)
#endif

/* One tile: tile (MR, NV * LANES) = W[MR rows, 0..IC) x packed[0..IC, NV * LANES columns].
   MR, NV and PANEL are constants at each call site, so the accumulators live in registers.
   PANEL 0: row r of W at w + r * ldw (the stored layout). PANEL 1: element (r, k) at
   w[k * ldw + r], w pointing at the tile's first row inside its panel of ldw rows. */
#define GRPO__PREFETCH_K 64 /* k steps ahead: 1.5 to 4 KB of a panel */
GRPO__ALWAYS_INLINE void grpo__rows_tile(float *tile, const float *w, size_t ldw, const float *packed,
                                         int width, int IC, const int MR, const int NV, const int PANEL) {
    grpo__vector acc[16][GRPO__ROW_VECTORS];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = grpo__vector_zero();
    for (int k = 0; k < IC; k++) {
        const float *xk = packed + (size_t)k * width;
        grpo__vector x[GRPO__ROW_VECTORS];
        for (int v = 0; v < NV; v++) x[v] = grpo__vector_load(xk + v * GRPO__LANES);
        if (PANEL && k + GRPO__PREFETCH_K < IC) { /* the first and last rows' cache lines */
            const float *ahead = w + (size_t)(k + GRPO__PREFETCH_K) * ldw;
            _mm_prefetch((const char *)ahead, _MM_HINT_T0);
            _mm_prefetch((const char *)(ahead + MR - 1), _MM_HINT_T0);
        }
        for (int r = 0; r < MR; r++) {
            grpo__vector wr = grpo__vector_splat(PANEL ? w[(size_t)k * ldw + r] : w[(size_t)r * ldw + k]);
            for (int v = 0; v < NV; v++) acc[r][v] = grpo__vector_fma(wr, x[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) grpo__vector_store(tile + r * GRPO__ROW_BLOCK + v * GRPO__LANES, acc[r][v]);
}

#define GRPO__ROWS_TILE(MR, NV) \
    static void grpo__rows_tile_##MR##x##NV(float *tile, const float *w, size_t ldw, const float *packed, int width, int IC) { \
        grpo__rows_tile(tile, w, ldw, packed, width, IC, MR, NV, 0); }
#define GRPO__PANEL_TILE(MR, NV) \
    static void grpo__panel_tile_##MR##x##NV(float *tile, const float *w, size_t ldw, const float *packed, int width, int IC) { \
        grpo__rows_tile(tile, w, ldw, packed, width, IC, MR, NV, 1); }
typedef void (*grpo__rows_tile_function)(float *, const float *, size_t, const float *, int, int);
#if GRPO__LANES == 16
/* rows of W per tile for NV = 1..4 vectors of inp rows: 16x1, 12x2, 8x3, 6x4 accumulators,
   at most 24 of the 32 vector registers; smaller tiles finish a thread's share of rows.
   Panels of P rows take P-row tiles with as many vectors as the rows need (fewer once
   sequences finish), and 4- and 1-row tiles for the last, shorter panel of a matrix. */
GRPO__ROWS_TILE(16, 1) GRPO__ROWS_TILE(12, 2) GRPO__ROWS_TILE(8, 3) GRPO__ROWS_TILE(6, 4)
GRPO__ROWS_TILE(4, 1) GRPO__ROWS_TILE(4, 2) GRPO__ROWS_TILE(4, 3) GRPO__ROWS_TILE(4, 4)
GRPO__ROWS_TILE(1, 1) GRPO__ROWS_TILE(1, 2) GRPO__ROWS_TILE(1, 3) GRPO__ROWS_TILE(1, 4)
GRPO__PANEL_TILE(16, 1) GRPO__PANEL_TILE(12, 1) GRPO__PANEL_TILE(12, 2) GRPO__PANEL_TILE(8, 1) GRPO__PANEL_TILE(8, 2)
GRPO__PANEL_TILE(8, 3) GRPO__PANEL_TILE(6, 1) GRPO__PANEL_TILE(6, 2) GRPO__PANEL_TILE(6, 3) GRPO__PANEL_TILE(6, 4)
GRPO__PANEL_TILE(4, 1) GRPO__PANEL_TILE(4, 2) GRPO__PANEL_TILE(4, 3) GRPO__PANEL_TILE(4, 4)
GRPO__PANEL_TILE(1, 1) GRPO__PANEL_TILE(1, 2) GRPO__PANEL_TILE(1, 3) GRPO__PANEL_TILE(1, 4)
static const grpo__rows_tile_function grpo__rows_tiles[3][GRPO__ROW_VECTORS] = {
    {grpo__rows_tile_16x1, grpo__rows_tile_12x2, grpo__rows_tile_8x3, grpo__rows_tile_6x4},
    {grpo__rows_tile_4x1, grpo__rows_tile_4x2, grpo__rows_tile_4x3, grpo__rows_tile_4x4},
    {grpo__rows_tile_1x1, grpo__rows_tile_1x2, grpo__rows_tile_1x3, grpo__rows_tile_1x4}};
static const grpo__rows_tile_function grpo__panel_tiles[GRPO__ROW_VECTORS][GRPO__ROW_VECTORS] = { /* [P index][NV - 1] */
    {grpo__panel_tile_16x1, NULL, NULL, NULL},
    {grpo__panel_tile_12x1, grpo__panel_tile_12x2, NULL, NULL},
    {grpo__panel_tile_8x1, grpo__panel_tile_8x2, grpo__panel_tile_8x3, NULL},
    {grpo__panel_tile_6x1, grpo__panel_tile_6x2, grpo__panel_tile_6x3, grpo__panel_tile_6x4}};
static const grpo__rows_tile_function grpo__panel_rest[2][GRPO__ROW_VECTORS] = {
    {grpo__panel_tile_4x1, grpo__panel_tile_4x2, grpo__panel_tile_4x3, grpo__panel_tile_4x4},
    {grpo__panel_tile_1x1, grpo__panel_tile_1x2, grpo__panel_tile_1x3, grpo__panel_tile_1x4}};
static const int grpo__rows_tile_height[3][GRPO__ROW_VECTORS] = {{16, 12, 8, 6}, {4, 4, 4, 4}, {1, 1, 1, 1}};
#else
/* 16 vector registers: 12x1 and 6x2 accumulators */
GRPO__ROWS_TILE(12, 1) GRPO__ROWS_TILE(6, 2) GRPO__ROWS_TILE(4, 1) GRPO__ROWS_TILE(4, 2)
GRPO__ROWS_TILE(1, 1) GRPO__ROWS_TILE(1, 2)
GRPO__PANEL_TILE(12, 1) GRPO__PANEL_TILE(6, 1) GRPO__PANEL_TILE(6, 2) GRPO__PANEL_TILE(4, 1) GRPO__PANEL_TILE(4, 2)
GRPO__PANEL_TILE(1, 1) GRPO__PANEL_TILE(1, 2)
static const grpo__rows_tile_function grpo__rows_tiles[3][GRPO__ROW_VECTORS] = {
    {grpo__rows_tile_12x1, grpo__rows_tile_6x2}, {grpo__rows_tile_4x1, grpo__rows_tile_4x2},
    {grpo__rows_tile_1x1, grpo__rows_tile_1x2}};
static const grpo__rows_tile_function grpo__panel_tiles[GRPO__ROW_VECTORS][GRPO__ROW_VECTORS] = {
    {grpo__panel_tile_12x1, NULL}, {grpo__panel_tile_6x1, grpo__panel_tile_6x2}};
static const grpo__rows_tile_function grpo__panel_rest[2][GRPO__ROW_VECTORS] = {
    {grpo__panel_tile_4x1, grpo__panel_tile_4x2}, {grpo__panel_tile_1x1, grpo__panel_tile_1x2}};
static const int grpo__rows_tile_height[3][GRPO__ROW_VECTORS] = {{12, 6}, {4, 4}, {1, 1}};
#endif
#undef GRPO__ROWS_TILE
#undef GRPO__PANEL_TILE
#endif /* GRPO__LANES */

/* Floats of scratch grpo__matmul_rows needs for M rows, width = max(IC, OC): the packed
   inputs (IC, M rounded up to 16), or, without the vector kernel, SwiGLU's up half (M, OC). */
static size_t grpo__matmul_rows_scratch(int M, int width) {
    return (size_t)width * (size_t)((M + 15) / 16 * 16);
}

/* The panel height P for matmuls of M rows: the tile height the kernel uses for M's first block
   of rows (16 rows or fewer: 16, up to 32: 12, up to 48: 8, more: 6 with AVX-512); 0 without
   the vector kernel. Fewer rows later (sequences that finished) still work, with fewer vectors
   per tile; more rows work too, a block of rows then taking several passes over the panel. */
static int grpo__panel_rows(int M) {
#ifdef GRPO__LANES
    int rows = M < GRPO__ROW_BLOCK ? (M < 1 ? 1 : M) : GRPO__ROW_BLOCK;
    return grpo__rows_tile_height[0][(rows + GRPO__LANES - 1) / GRPO__LANES - 1];
#else
    (void)M;
    return 0;
#endif
}

static void grpo__swiglu_forward(float *hidden, const float *gate, const float *up, size_t count);

/* What grpo__matmul_rows does with each result y = inp W^T: */
enum {
    GRPO__ROWS_STORE,  /* out = y + bias */
    GRPO__ROWS_ADD,    /* out += y: a residual connection (bias must be NULL) */
    GRPO__ROWS_SWIGLU  /* out = silu(inp W^T) * (inp W2^T), SwiGLU's gate and up in one pass, written
                          in the packed input form of the next grpo__matmul_rows (inp = NULL) */
};

#ifdef GRPO__LANES
#if GRPO__LANES == 16
/* Transposes the 16 x 16 block in r[0..15] (row i in r[i]) in 64 shuffles: unpack pairs of
   rows, then pairs of pairs, then 128-bit lanes across groups of four. */
GRPO__ALWAYS_INLINE void grpo__transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));     /* lane L: rows 4i..4i+3 of column 4L */
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)); /* ... of column 4L + 1 */
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int j = 0; j < 4; j++) {
        __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        __m512 u2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44), u3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(u0, u2, 0x88);      /* column j */
        t[4 + j] = _mm512_shuffle_f32x4(u0, u2, 0xDD);  /* column 4 + j */
        t[8 + j] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}
#endif

/* Packs rows [0, padded) of inp (M, IC) into the layout grpo__rows_tile reads (see
   grpo__matmul_rows); rows past M are zero. Called inside a parallel region: the threads
   share the k range. */
static void grpo__rows_pack(float *scratch, const float *inp, int M, int padded, int IC) {
#if GRPO__LANES == 16
    int k_blocks = (IC + 15) / 16;
    #pragma omp for schedule(static)
    for (int kb = 0; kb < k_blocks; kb++) {
        int k0 = kb * 16, count = IC - k0 < 16 ? IC - k0 : 16;
        __mmask16 mask = (__mmask16)((1u << count) - 1u);
        for (int m16 = 0; m16 < padded; m16 += 16) {
            int m0 = m16 / GRPO__ROW_BLOCK * GRPO__ROW_BLOCK, width = padded - m0 < GRPO__ROW_BLOCK ? padded - m0 : GRPO__ROW_BLOCK;
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = m16 + i < M ? _mm512_maskz_loadu_ps(mask, inp + (size_t)(m16 + i) * IC + k0) : _mm512_setzero_ps();
            grpo__transpose16(r);
            float *column = scratch + (size_t)m0 * IC + (size_t)k0 * width + (m16 - m0);
            for (int c = 0; c < count; c++) _mm512_storeu_ps(column + (size_t)c * width, r[c]);
        }
    }
#else
    #pragma omp for schedule(static)
    for (int m = 0; m < padded; m++) {
        int m0 = m / GRPO__ROW_BLOCK * GRPO__ROW_BLOCK, width = padded - m0 < GRPO__ROW_BLOCK ? padded - m0 : GRPO__ROW_BLOCK;
        float *column = scratch + (size_t)m0 * IC + (m - m0);
        const float *x = inp + (size_t)m * IC;
        if (m < M) for (int k = 0; k < IC; k++) column[(size_t)k * width] = x[k];
        else for (int k = 0; k < IC; k++) column[(size_t)k * width] = 0.0f;
    }
#endif
}

/* Writes a tile (height rows of W, `rows` valid inp rows of a block starting at m0) into
   out (M, OC) at column o, per mode. */
static void grpo__rows_store(float *out, const float *tile, const float *bias, int m0, int rows, int o, int height, int OC, int mode) {
#if GRPO__LANES == 16
    __mmask16 mask = (__mmask16)((1u << height) - 1u);
    __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + o) : _mm512_setzero_ps();
    for (int j0 = 0; j0 < rows; j0 += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < height ? _mm512_loadu_ps(tile + i * GRPO__ROW_BLOCK + j0) : _mm512_setzero_ps();
        grpo__transpose16(r);
        int count = rows - j0 < 16 ? rows - j0 : 16;
        for (int c = 0; c < count; c++) {
            float *y = out + (size_t)(m0 + j0 + c) * OC + o;
            __m512 value = mode == GRPO__ROWS_ADD ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, y), r[c]) : _mm512_add_ps(r[c], b);
            _mm512_mask_storeu_ps(y, mask, value);
        }
    }
#else
    for (int j = 0; j < rows; j++) {
        float *y = out + (size_t)(m0 + j) * OC + o;
        const float *t = tile + j;
        if (mode == GRPO__ROWS_ADD) for (int r = 0; r < height; r++) y[r] += t[r * GRPO__ROW_BLOCK];
        else if (bias) for (int r = 0; r < height; r++) y[r] = t[r * GRPO__ROW_BLOCK] + bias[o + r];
        else for (int r = 0; r < height; r++) y[r] = t[r * GRPO__ROW_BLOCK];
    }
#endif
}
#endif /* GRPO__LANES */

#ifdef GRPO__LANES
/* Writes a tile: rows [o, o + height) of W against `cols` packed input rows starting at column
   c0 of the block at row m0 (of `width` columns), `valid` of them real rows, per mode. */
static void grpo__rows_emit(float *out, const float *tile, const float *tile2, const float *bias, int m0, int width,
                            int c0, int cols, int valid, int o, int height, int OC, int mode) {
    if (mode == GRPO__ROWS_SWIGLU) {
        /* the tile is (W rows, inp rows) = the next matmul's packed input rows */
        float *next = out + (size_t)m0 * OC;
        for (int r = 0; r < height; r++) {
            const float *g = tile + r * GRPO__ROW_BLOCK, *u = tile2 + r * GRPO__ROW_BLOCK;
            float *h = next + (size_t)(o + r) * width + c0;
            #pragma omp simd
            for (int j = 0; j < cols; j++) h[j] = g[j] / (1.0f + grpo__expf(-g[j])) * u[j];
        }
    } else {
        grpo__rows_store(out, tile, bias, m0 + c0, valid, o, height, OC, mode);
    }
}
#endif

/* out (M, OC) = inp (M, IC) W^T (+ bias), W (OC, IC), for a few rows M (see above), or as
   mode says. inp NULL: the input is already in scratch in packed form, as a GRPO__ROWS_SWIGLU
   call or an earlier call on the same inp leaves it (row-major (M, IC) in builds without the
   vector kernel). weight2 (OC, IC) is the up projection in GRPO__ROWS_SWIGLU mode, else NULL.
   scratch holds grpo__matmul_rows_scratch(M, max(IC, OC)) floats. panel_rows: 0 for W in its
   stored layout, else weight and weight2 are packed by grpo__pack_panels in panels of that many
   rows, one of grpo__panel_rows' values (only in builds with the vector kernel).
   The _team form is called by every thread of a parallel region (or outside one, by a single
   thread) and ends with a barrier: the decode step runs as one parallel region. */
static void grpo__matmul_rows_team(float *out, const float *inp, const float *weight, const float *weight2,
                                   const float *bias, int M, int IC, int OC, float *scratch, int mode, int panel_rows) {
    if (M <= 0) return;
#ifdef GRPO__LANES
    int padded = (M + GRPO__LANES - 1) / GRPO__LANES * GRPO__LANES;
    /* packed input: block c of up to GRPO__ROW_BLOCK rows starting at row m0 is (IC, width) at
       scratch + m0 * IC; rows past M are zero */
    if (inp) grpo__rows_pack(scratch, inp, M, padded, IC); /* ends with a barrier */
    int threads = 1, thread = 0;
#ifdef _OPENMP
    threads = omp_get_num_threads();
    thread = omp_get_thread_num();
#endif
    float tile[16 * GRPO__ROW_BLOCK], tile2[16 * GRPO__ROW_BLOCK];
    if (panel_rows) {
        /* this thread's panels, each used across all blocks of inp rows while in L1/L2; a
           block takes passes of at most `most` vectors, the widest tile of panel_rows rows */
        int index = 0;
        while (index + 1 < GRPO__ROW_VECTORS && grpo__rows_tile_height[0][index] != panel_rows) index++;
        int most = index + 1, count = (OC + panel_rows - 1) / panel_rows;
        int first = (int)((long long)count * thread / threads), last = (int)((long long)count * (thread + 1) / threads);
        for (int p = first; p < last; p++) {
            int o = p * panel_rows, h = OC - o < panel_rows ? OC - o : panel_rows;
            const float *w = weight + (size_t)o * IC, *w2 = weight2 ? weight2 + (size_t)o * IC : NULL;
            for (int m0 = 0; m0 < padded; m0 += GRPO__ROW_BLOCK) {
                int width = padded - m0 < GRPO__ROW_BLOCK ? padded - m0 : GRPO__ROW_BLOCK, vectors = width / GRPO__LANES;
                for (int v0 = 0; v0 < vectors; v0 += most) {
                    int nv = vectors - v0 < most ? vectors - v0 : most, c0 = v0 * GRPO__LANES, cols = nv * GRPO__LANES;
                    int valid = M - m0 - c0 < cols ? M - m0 - c0 : cols;
                    const float *packed = scratch + (size_t)m0 * IC + c0;
                    for (int r = 0; r < h;) {
                        int height = h == panel_rows ? h : h - r >= 4 ? 4 : 1;
                        grpo__rows_tile_function f = h == panel_rows ? grpo__panel_tiles[index][nv - 1] : grpo__panel_rest[height == 4 ? 0 : 1][nv - 1];
                        f(tile, w + r, (size_t)h, packed, width, IC);
                        if (mode == GRPO__ROWS_SWIGLU) f(tile2, w2 + r, (size_t)h, packed, width, IC);
                        grpo__rows_emit(out, tile, tile2, bias, m0, width, c0, cols, valid, o + r, height, OC, mode);
                        r += height;
                    }
                }
            }
        }
    } else {
        /* this thread's rows of W, in groups of 48 that stay in L2 across blocks of inp rows */
        int first = (int)((long long)OC * thread / threads), last = (int)((long long)OC * (thread + 1) / threads);
        for (int group = first; group < last; group += 48) {
            int group_end = group + 48 < last ? group + 48 : last;
            for (int m0 = 0; m0 < padded; m0 += GRPO__ROW_BLOCK) {
                int width = padded - m0 < GRPO__ROW_BLOCK ? padded - m0 : GRPO__ROW_BLOCK;
                int vectors = width / GRPO__LANES, rows = M - m0 < width ? M - m0 : width;
                const float *packed = scratch + (size_t)m0 * IC;
                for (int o = group; o < group_end;) {
                    int size = 0;
                    while (o + grpo__rows_tile_height[size][vectors - 1] > group_end) size++;
                    int height = grpo__rows_tile_height[size][vectors - 1];
                    grpo__rows_tiles[size][vectors - 1](tile, weight + (size_t)o * IC, (size_t)IC, packed, width, IC);
                    if (mode == GRPO__ROWS_SWIGLU)
                        grpo__rows_tiles[size][vectors - 1](tile2, weight2 + (size_t)o * IC, (size_t)IC, packed, width, IC);
                    grpo__rows_emit(out, tile, tile2, bias, m0, width, 0, width, rows, o, height, OC, mode);
                    o += height;
                }
            }
        }
    }
    #pragma omp barrier
#else
    /* no vector kernel: one thread calls the BLAS or portable matmul (outside a parallel
       region, which is how the decode step runs in these builds, it is itself parallel) */
    (void)panel_rows; /* always 0 here: the generator keeps no packed copy */
    #pragma omp single
    {
        const float *x = inp ? inp : scratch;
        if (mode == GRPO__ROWS_STORE) {
            grpo__matmul_forward(out, x, weight, bias, M, IC, OC, NULL);
        } else if (mode == GRPO__ROWS_ADD) {
            grpo__sgemm(0, 1, M, OC, IC, 1.0f, x, IC, weight, IC, 1.0f, out, OC);
        } else {
            grpo__matmul_forward(out, x, weight, NULL, M, IC, OC, NULL);
            grpo__matmul_forward(scratch, x, weight2, NULL, M, IC, OC, NULL);
            grpo__swiglu_forward(out, out, scratch, (size_t)M * OC);
        }
    }
#endif
}

static void grpo__matmul_rows(float *out, const float *inp, const float *weight, const float *weight2,
                              const float *bias, int M, int IC, int OC, float *scratch, int mode, int panel_rows) {
#ifdef GRPO__LANES
    #pragma omp parallel
    grpo__matmul_rows_team(out, inp, weight, weight2, bias, M, IC, OC, scratch, mode, panel_rows);
#else
    grpo__matmul_rows_team(out, inp, weight, weight2, bias, M, IC, OC, scratch, mode, panel_rows);
#endif
}

#ifdef GRPO__LANES
/* The training matmuls (grpo__matmul_forward and _backward) in builds with the vector kernel:
   C (M, N) = A B, or C += A B, with A's element (i, k) at A[i a_row + k a_k] and B's (k, j) at
   B[k b_k + j b_col], so one routine serves out = inp W^T, dinp = dout W and dW += dout^T inp.
   - Tiles of GRPO__GEMM_ROWS rows by GRPO__GEMM_VECTORS vectors of columns (6 x 64 with
     AVX-512: 24 accumulators in registers), each element of A broadcast against the tile's
     columns of B.
   - B is copied a block at a time (GRPO__GEMM_DEPTH k by GRPO__GEMM_PANELS panels of a tile's
     columns, 256 KB with AVX-512: it stays in L2) into the caller's buffer of GRPO__GEMM_SCRATCH
     floats (the model keeps it with its activations), each panel's rows contiguous (W
     transposed, for the forward). A strip of six rows of A is then used against
     every panel of the block while it is in L1; A is read in place, except dout^T (for dW),
     whose k steps are rows of dout far apart: it is copied a block at a time first.
   - Each output is one fused multiply-add chain over k in order, from 0 (or from C when
     accumulating); between depth blocks the partial sum waits in C, which holds it exactly. So
     the result is the same for any blocking and any number of threads, bit for bit.
   - Why not cblas_sgemm: OpenBLAS packs both operands on every call and zeroes C first when
     beta = 0. Measured on the training shapes of configs A and B (2048 rows, 2 threads), this
     routine ran out = inp W^T and dinp = dout W 0-11 % faster on Zen 4, and config A's train
     step 8-10 % faster. For dW += dout^T inp OpenBLAS's AVX-512 kernels were faster: this
     routine ran it at 0.87-0.97x on Zen 5 (0.83-0.96x on Zen 4 when dout^T was still copied a
     strip per block of columns), so builds that link OpenBLAS keep it for that one (README,
     Performance). */
#define GRPO__GEMM_ROWS 6
#if GRPO__LANES == 16
#define GRPO__GEMM_VECTORS 4
#else
#define GRPO__GEMM_VECTORS 2
#endif
#define GRPO__GEMM_COLUMNS (GRPO__GEMM_VECTORS * GRPO__LANES) /* a tile's columns: one panel */
#define GRPO__GEMM_DEPTH 256 /* k per packed block */
#define GRPO__GEMM_PANELS 4  /* panels per packed block: 256 KB of B with AVX-512, in L2 */
#define GRPO__GEMM_A_ROWS 384 /* rows of a strided A (dout^T) copied per pass: 384 KB, beside B's block in L2 */
#define GRPO__GEMM_SCRATCH (GRPO__GEMM_DEPTH * (GRPO__GEMM_PANELS * GRPO__GEMM_COLUMNS + GRPO__GEMM_A_ROWS)) /* packed B, copied A */

/* One tile: C[MR rows, cols columns] (+)= A[MR rows, k0..k0+depth) x a packed panel (depth,
   GRPO__GEMM_COLUMNS). start: 0 from zero, 1 from C. MR is a constant at each call. */
GRPO__ALWAYS_INLINE void grpo__gemm_tile(float *C, size_t ldc, const float *A, size_t a_row, size_t a_k,
                                         const float *packed, int depth, int cols, int start, const int MR) {
    grpo__vector acc[GRPO__GEMM_ROWS][GRPO__GEMM_VECTORS];
    grpo__lanes mask[GRPO__GEMM_VECTORS];
    for (int v = 0; v < GRPO__GEMM_VECTORS; v++) mask[v] = grpo__lanes_first(cols - v * GRPO__LANES);
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < GRPO__GEMM_VECTORS; v++)
            acc[r][v] = start ? grpo__vector_load_lanes(C + (size_t)r * ldc + v * GRPO__LANES, mask[v]) : grpo__vector_zero();
    for (int k = 0; k < depth; k++) {
        const float *b = packed + (size_t)k * GRPO__GEMM_COLUMNS;
        grpo__vector x[GRPO__GEMM_VECTORS];
        for (int v = 0; v < GRPO__GEMM_VECTORS; v++) x[v] = grpo__vector_load(b + v * GRPO__LANES);
        for (int r = 0; r < MR; r++) {
            grpo__vector a = grpo__vector_splat(A[(size_t)r * a_row + (size_t)k * a_k]);
            for (int v = 0; v < GRPO__GEMM_VECTORS; v++) acc[r][v] = grpo__vector_fma(a, x[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < GRPO__GEMM_VECTORS; v++) grpo__vector_store_lanes(C + (size_t)r * ldc + v * GRPO__LANES, mask[v], acc[r][v]);
}
#define GRPO__GEMM_TILE(MR) \
    static void grpo__gemm_tile_##MR(float *C, size_t ldc, const float *A, size_t a_row, size_t a_k, const float *packed, \
                                     int depth, int cols, int start) { \
        grpo__gemm_tile(C, ldc, A, a_row, a_k, packed, depth, cols, start, MR); }
GRPO__GEMM_TILE(1) GRPO__GEMM_TILE(2) GRPO__GEMM_TILE(3) GRPO__GEMM_TILE(4) GRPO__GEMM_TILE(5) GRPO__GEMM_TILE(6)
#undef GRPO__GEMM_TILE
typedef void (*grpo__gemm_tile_function)(float *, size_t, const float *, size_t, size_t, const float *, int, int, int);
static const grpo__gemm_tile_function grpo__gemm_tiles[GRPO__GEMM_ROWS + 1] = {
    NULL, grpo__gemm_tile_1, grpo__gemm_tile_2, grpo__gemm_tile_3, grpo__gemm_tile_4, grpo__gemm_tile_5, grpo__gemm_tile_6};

/* Columns of panel p in a block `width` columns wide: GRPO__GEMM_COLUMNS but for the last. */
static inline int grpo__gemm_panel_columns(int width, int p) {
    int left = width - p * GRPO__GEMM_COLUMNS;
    return left < GRPO__GEMM_COLUMNS ? left : GRPO__GEMM_COLUMNS;
}

/* B[k0 .. k0 + depth, j0 .. j0 + cols) into one panel (depth, GRPO__GEMM_COLUMNS), columns past
   cols zero. Rows of B (b_col 1) are copied; columns (b_k 1: W read as W^T) are transposed 16 x
   16 at a time where the build has AVX-512. */
static void grpo__gemm_pack(float *panel, const float *B, size_t b_k, size_t b_col, int k0, int depth, int j0, int cols) {
    if (b_col == 1) {
        for (int k = 0; k < depth; k++) {
            float *row = panel + (size_t)k * GRPO__GEMM_COLUMNS;
            memcpy(row, B + (size_t)(k0 + k) * b_k + j0, (size_t)cols * sizeof(float));
            for (int j = cols; j < GRPO__GEMM_COLUMNS; j++) row[j] = 0.0f;
        }
        return;
    }
    int j = 0;
#if GRPO__LANES == 16
    if (b_k == 1)
        for (; j + 16 <= cols; j += 16) {
            int k = 0;
            for (; k + 16 <= depth; k += 16) {
                __m512 r[16];
                for (int t = 0; t < 16; t++) r[t] = _mm512_loadu_ps(B + (size_t)(j0 + j + t) * b_col + (size_t)(k0 + k));
                grpo__transpose16(r);
                for (int t = 0; t < 16; t++) _mm512_storeu_ps(panel + (size_t)(k + t) * GRPO__GEMM_COLUMNS + j, r[t]);
            }
            for (; k < depth; k++)
                for (int t = 0; t < 16; t++) panel[(size_t)k * GRPO__GEMM_COLUMNS + j + t] = B[(size_t)(j0 + j + t) * b_col + (size_t)(k0 + k)];
        }
#endif
    for (; j < GRPO__GEMM_COLUMNS; j++) {
        const float *column = B + (size_t)(j0 + j) * b_col + (size_t)k0 * b_k;
        if (j < cols) for (int k = 0; k < depth; k++) panel[(size_t)k * GRPO__GEMM_COLUMNS + j] = column[(size_t)k * b_k];
        else for (int k = 0; k < depth; k++) panel[(size_t)k * GRPO__GEMM_COLUMNS + j] = 0.0f;
    }
}

/* Rows [m0, m0 + rows) of A, k in [k0, k0 + depth), into copy (rows, depth): row i at
   copy + (i - m0) depth. For A read as dout^T (dW), whose k steps are rows of dout far apart:
   a strip of six rows read in place would keep evicting its own lines from L1. With AVX-512
   and a_row 1 (A is dout^T, so a block of A is a block of dout transposed), 16 x 16 at a time.
   Inside a parallel region: the threads share the blocks of 16 rows; ends with a barrier. */
static void grpo__gemm_copy_a(float *copy, const float *A, size_t a_row, size_t a_k, int m0, int rows, int k0, int depth) {
    #pragma omp for schedule(static)
    for (int i0 = 0; i0 < rows; i0 += 16) {
        int height = rows - i0 < 16 ? rows - i0 : 16, k = 0;
#if GRPO__LANES == 16
        if (a_row == 1 && height == 16)
            for (; k + 16 <= depth; k += 16) {
                __m512 r[16];
                for (int t = 0; t < 16; t++) r[t] = _mm512_loadu_ps(A + (size_t)(k0 + k + t) * a_k + (size_t)(m0 + i0));
                grpo__transpose16(r);
                for (int t = 0; t < 16; t++) _mm512_storeu_ps(copy + (size_t)(i0 + t) * depth + k, r[t]);
            }
#endif
        for (; k < depth; k++)
            for (int t = 0; t < height; t++) copy[(size_t)(i0 + t) * depth + k] = A[(size_t)(m0 + i0 + t) * a_row + (size_t)(k0 + k) * a_k];
    }
}

/* One step of grpo__gemm, inside its parallel region: C[0..M, j0..j0 + a block of B's columns)
   (+)= A[0..M, this k block) B[k0..k0 + depth, those columns), with a pointing at A's k block.
   The threads pack the block of B (a panel each), then share the strips of GRPO__GEMM_ROWS
   rows of A, each strip used against every panel while it is in L1. start: 0 from zero, 1
   from C. Ends with a barrier. */
static void grpo__gemm_block(float *C, int ldc, const float *a, size_t a_row, size_t a_k, const float *B, size_t b_k, size_t b_col,
                             int M, int N, int j0, int k0, int depth, int start, float *packed) {
    const int group = GRPO__GEMM_PANELS * GRPO__GEMM_COLUMNS;
    int width = N - j0 < group ? N - j0 : group, panels = (width + GRPO__GEMM_COLUMNS - 1) / GRPO__GEMM_COLUMNS;
    int strips = (M + GRPO__GEMM_ROWS - 1) / GRPO__GEMM_ROWS;
    #pragma omp for schedule(static)
    for (int p = 0; p < panels; p++)
        grpo__gemm_pack(packed + (size_t)p * depth * GRPO__GEMM_COLUMNS, B, b_k, b_col, k0, depth, j0 + p * GRPO__GEMM_COLUMNS, grpo__gemm_panel_columns(width, p));
    #pragma omp for schedule(static)
    for (int strip = 0; strip < strips; strip++) {
        int i = strip * GRPO__GEMM_ROWS, height = M - i < GRPO__GEMM_ROWS ? M - i : GRPO__GEMM_ROWS;
        for (int p = 0; p < panels; p++)
            grpo__gemm_tiles[height](C + (size_t)i * ldc + j0 + p * GRPO__GEMM_COLUMNS, (size_t)ldc, a + (size_t)i * a_row, a_row, a_k,
                                     packed + (size_t)p * depth * GRPO__GEMM_COLUMNS, depth, grpo__gemm_panel_columns(width, p), start);
    }
}

/* packed: GRPO__GEMM_SCRATCH floats (the model keeps them with its activations); with NULL it
   returns 0, having done nothing, and the caller uses grpo__sgemm. The work goes in blocks of
   GRPO__GEMM_DEPTH k by one block of B's columns (grpo__gemm_block). An A read in place takes
   each block of C's columns through all of k while it is in cache. A strided A (a_k != 1:
   dout^T, for dW) is copied GRPO__GEMM_A_ROWS rows by one k block at a time
   (grpo__gemm_copy_a), and each copy serves every block of B's columns; copying a strip per
   block of columns instead had cost 3.5 % of config B's train step (profiled with this path
   running dW, on Zen 5), the copy this way 1 %. Every C element gets its k
   blocks in order, so the order of the loops changes no bit. */
static int grpo__gemm(float *C, int ldc, const float *A, size_t a_row, size_t a_k, const float *B, size_t b_k, size_t b_col,
                      int M, int N, int K, int accumulate, float *packed) {
    if (!packed) return 0;
    if (M <= 0 || N <= 0) return 1;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
        return 1;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
    int strips = (M + GRPO__GEMM_ROWS - 1) / GRPO__GEMM_ROWS;
    if (threads > strips) threads = strips;
    const int group = GRPO__GEMM_PANELS * GRPO__GEMM_COLUMNS; /* columns per packed block */
    int copied = a_k != 1, chunk = copied ? GRPO__GEMM_A_ROWS : M; /* rows of A per pass */
    float *a_copy = packed + GRPO__GEMM_DEPTH * group;
    #pragma omp parallel num_threads(threads) if (threads > 1)
    for (int m0 = 0; m0 < M; m0 += chunk) {
        int rows = M - m0 < chunk ? M - m0 : chunk;
        if (copied) /* each k block of A copied once, then used against all blocks of B's columns */
            for (int k0 = 0; k0 < K; k0 += GRPO__GEMM_DEPTH) {
                int depth = K - k0 < GRPO__GEMM_DEPTH ? K - k0 : GRPO__GEMM_DEPTH;
                grpo__gemm_copy_a(a_copy, A, a_row, a_k, m0, rows, k0, depth);
                for (int j0 = 0; j0 < N; j0 += group)
                    grpo__gemm_block(C + (size_t)m0 * ldc, ldc, a_copy, (size_t)depth, 1, B, b_k, b_col, rows, N, j0, k0, depth, k0 > 0 || accumulate, packed);
            }
        else /* a block of C's columns through all of k while it is in cache */
            for (int j0 = 0; j0 < N; j0 += group)
                for (int k0 = 0; k0 < K; k0 += GRPO__GEMM_DEPTH) {
                    int depth = K - k0 < GRPO__GEMM_DEPTH ? K - k0 : GRPO__GEMM_DEPTH;
                    grpo__gemm_block(C + (size_t)m0 * ldc, ldc, A + (size_t)m0 * a_row + (size_t)k0 * a_k, a_row, a_k, B, b_k, b_col, rows, N, j0, k0, depth,
                                     k0 > 0 || accumulate, packed);
                }
    }
    return 1;
}
#endif /* GRPO__LANES */

/* W (OC, IC) into panels of P rows: panel p holds rows [P p, P p + h), h = min(P, OC - P p),
   at out + P p IC, element (r, k) at [k h + r]. The same floats at the same offset per panel
   as the stored layout, so a packed copy of several matrices keeps their offsets. Called
   inside a parallel region (or by one thread): the threads share the panels, no barrier. */
static void grpo__pack_panels(float *out, const float *weight, int OC, int IC, int P) {
    int count = (OC + P - 1) / P;
    #pragma omp for schedule(static) nowait
    for (int p = 0; p < count; p++) {
        int first = p * P, h = OC - first < P ? OC - first : P;
        const float *w = weight + (size_t)first * IC;
        float *panel = out + (size_t)first * IC;
        for (int k0 = 0; k0 < IC; k0 += 64) { /* 64 columns of the h rows at a time: stays in L1 */
            int k1 = k0 + 64 < IC ? k0 + 64 : IC;
            for (int r = 0; r < h; r++)
                for (int k = k0; k < k1; k++) panel[(size_t)k * h + r] = w[(size_t)r * IC + k];
        }
    }
}

/* x (N, C) = table[tokens] */
static void grpo__embedding_forward(float *out, const int *tokens, const float *table, int N, int C) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, table + (size_t)tokens[n] * C, (size_t)C * sizeof(float));
}

/* Rows that share a token add into the same table row, so this loop stays serial. */
static void grpo__embedding_backward(float *dtable, const float *dout, const int *tokens, int N, int C) {
    for (int n = 0; n < N; n++) {
        float *row = dtable + (size_t)tokens[n] * C;
        const float *d = dout + (size_t)n * C;
        for (int c = 0; c < C; c++) row[c] += d[c];
    }
}

/* RMSNorm (Zhang & Sennrich 2019), as in Llama: y = x / sqrt(mean(x^2) + eps) * weight. */
static inline float grpo__rmsnorm_row(float *y, const float *x, const float *weight, int C, float eps) {
    float s = 1.0f / sqrtf(grpo__dot(x, x, C) / (float)C + eps);
    for (int c = 0; c < C; c++) y[c] = x[c] * s * weight[c];
    return s;
}
static void grpo__rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight,
                                  int N, int C, float eps) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) rstd[n] = grpo__rmsnorm_row(out + (size_t)n * C, inp + (size_t)n * C, weight, C, eps);
}

/* With x_hat = x * s: dx = s * (dy*w - x_hat * mean(dy*w*x_hat)); dweight += sum_n dy * x_hat. */
static void grpo__rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                                   const float *weight, const float *rstd, int N, int C) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float s = rstd[n], dot = 0.0f;
        for (int c = 0; c < C; c++) dot += dy[c] * weight[c] * x[c] * s;
        dot /= (float)C;
        for (int c = 0; c < C; c++) dx[c] += s * (dy[c] * weight[c] - x[c] * s * dot);
    }
    /* the weight gradient sums over rows: blocks of 64 columns per thread, rows in order (each
       column's sum runs over n = 0..N-1 whatever the thread count), a block's rows contiguous */
    #pragma omp parallel for schedule(static)
    for (int c0 = 0; c0 < C; c0 += 64) {
        int width = C - c0 < 64 ? C - c0 : 64;
        float sum[64] = {0};
        for (int n = 0; n < N; n++) {
            const float *dy = dout + (size_t)n * C + c0, *x = inp + (size_t)n * C + c0;
            float s = rstd[n];
            #pragma omp simd
            for (int c = 0; c < width; c++) sum[c] += dy[c] * x[c] * s;
        }
        for (int c = 0; c < width; c++) dweight[c0 + c] += sum[c];
    }
}

/* Rotary position embeddings (Su et al. 2021), in place on x (B, T, n_heads, D): each pair
   (x_i, x_{i+D/2}) is rotated by the angle of position t. The backward is the rotation by
   the opposite angle (sign = -1), since a rotation's transpose is its inverse. Row r sits at
   position positions[r], or r % T when positions is NULL (a (B, T) batch). */
/* the n_heads heads of one row at position t */
static inline void grpo__rope_row(float *x, const float *cos_table, const float *sin_table, int t, int n_heads, int D, float sign) {
    int half = D / 2;
    const float *cs = cos_table + (size_t)t * half, *sn = sin_table + (size_t)t * half;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * D;
        for (int i = 0; i < half; i++) {
            float a = v[i], b = v[i + half], s = sign * sn[i];
            v[i] = a * cs[i] - b * s;
            v[i + half] = b * cs[i] + a * s;
        }
    }
}
static void grpo__rope_rotate(float *x, const float *cos_table, const float *sin_table, int rows, int T,
                              const int *positions, int n_heads, int D, float sign) {
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < rows; bt++)
        grpo__rope_row(x + (size_t)bt * n_heads * D, cos_table, sin_table, positions ? positions[bt] : bt % T, n_heads, D, sign);
}
static void grpo__rope_forward(float *x, const float *c, const float *s, int B, int T, int nh, int D) {
    grpo__rope_rotate(x, c, s, B * T, T, NULL, nh, D, 1.0f);
}
static void grpo__rope_backward(float *dx, const float *c, const float *s, int B, int T, int nh, int D) {
    grpo__rope_rotate(dx, c, s, B * T, T, NULL, nh, D, -1.0f);
}

/* Causal multi-head attention with grouped-query attention over segments of rows: query head h
   reads key/value head h / (H/KVH). q (N,H,D), k and v (N,KVH,D), out (N,H,D) for N rows.
   Segment s (segments[4s..4s+3] = first row, length, prefix's first row or -1, prefix length)
   is one sequence: its row t attends to the prefix's rows (all of them: the prefix comes
   first) and to its own rows 0..t. Per (segment, head) it is matmuls on blocks of
   GRPO__ATTENTION_BLOCK query rows: S = q k^T * scale against the prefix and against own keys
   [0, t0 + rows) (the causal upper triangle is skipped a block at a time), P = softmax(S) per
   row, out = P v. att keeps P for the backward: segment s's block starts at att_offsets[s],
   (H, length, prefix + length); row t holds P over the prefix, over own keys j <= t, and 0 for
   t < j < t0 + rows; entries right of its block are never written or read. Each (segment,
   head) is one thread's work (a nested BLAS call runs on that thread): deterministic. */
#define GRPO__ATTENTION_BLOCK 64

/* p[j] = softmax(p[0..count)) in place, then zero p[count..end) */
static void grpo__softmax_row(float *p, int count, int end) {
    float maxval = -INFINITY, sum = 0.0f;
    #pragma omp simd reduction(max:maxval)
    for (int j = 0; j < count; j++) maxval = p[j] > maxval ? p[j] : maxval;
    #pragma omp simd reduction(+:sum)
    for (int j = 0; j < count; j++) { p[j] = grpo__expf(p[j] - maxval); sum += p[j]; }
    float inv = 1.0f / sum;
    #pragma omp simd
    for (int j = 0; j < count; j++) p[j] *= inv;
    for (int j = count; j < end; j++) p[j] = 0.0f;
}

static void grpo__attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                                    const int *segments, const size_t *att_offsets, int n_segments, int H, int KVH, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int group = H / KVH, QD = H * D, KD = KVH * D;
    #pragma omp parallel for schedule(static)
    for (int item = 0; item < n_segments * H; item++) {
        const int *seg = segments + 4 * (item / H);
        int h = item % H, first = seg[0], T = seg[1], prefix = seg[2], P = seg[3], width = P + T;
        size_t kv_head = (size_t)(h / group) * D;
        const float *qs = q + (size_t)first * QD + (size_t)h * D;
        const float *ks = k + (size_t)first * KD + kv_head, *vs = v + (size_t)first * KD + kv_head;
        const float *kp = prefix >= 0 ? k + (size_t)prefix * KD + kv_head : NULL, *vp = prefix >= 0 ? v + (size_t)prefix * KD + kv_head : NULL;
        float *a = att + att_offsets[item / H] + (size_t)h * T * width, *o = out + (size_t)first * QD + (size_t)h * D;
        for (int t0 = 0; t0 < T; t0 += GRPO__ATTENTION_BLOCK) {
            int rows = T - t0 < GRPO__ATTENTION_BLOCK ? T - t0 : GRPO__ATTENTION_BLOCK, keys = t0 + rows;
            float *block = a + (size_t)t0 * width;
            if (P > 0) grpo__sgemm(0, 1, rows, P, D, scale, qs + (size_t)t0 * QD, QD, kp, KD, 0.0f, block, width);
            grpo__sgemm(0, 1, rows, keys, D, scale, qs + (size_t)t0 * QD, QD, ks, KD, 0.0f, block + P, width);
            for (int t = 0; t < rows; t++) grpo__softmax_row(block + (size_t)t * width, P + t0 + t + 1, P + keys);
            if (P > 0) grpo__sgemm(0, 0, rows, D, P, 1.0f, block, width, vp, KD, 0.0f, o + (size_t)t0 * QD, QD);
            grpo__sgemm(0, 0, rows, D, keys, 1.0f, block + P, width, vs, KD, P > 0 ? 1.0f : 0.0f, o + (size_t)t0 * QD, QD);
        }
    }
}

/* With dP = dout v^T: dv += P^T dout, dS = P * (dP - rowsum(P * dP)) * scale, dq += dS k,
   dk += dS^T q, against the prefix's rows and the segment's own (a key block t0 of its own is
   read by its query rows t >= t0). One (family, kv head) per iteration -- a family is a
   prefix segment and the segments that read it, all adding into the prefix's dk and dv -- so
   the heads of a group and the readers of a prefix run on one thread: no races,
   deterministic order. scratch holds n_families x KVH blocks of
   grpo__attention_scratch(...) floats. */
static size_t grpo__attention_scratch(const int *segments, int n_segments) {
    size_t largest = 0;
    for (int s = 0; s < n_segments; s++) {
        size_t size = (size_t)segments[4 * s + 1] * (size_t)(segments[4 * s + 1] + segments[4 * s + 3]);
        if (size > largest) largest = size;
    }
    return largest;
}
static void grpo__attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                                     const float *att, const float *q, const float *k, const float *v,
                                     const int *segments, const size_t *att_offsets, int n_segments,
                                     const int *families, int n_families, int H, int KVH, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int group = H / KVH, QD = H * D, KD = KVH * D;
    size_t block_size = grpo__attention_scratch(segments, n_segments);
    #pragma omp parallel for schedule(static)
    for (int item = 0; item < n_families * KVH; item++) {
        int family = item / KVH, kh = item % KVH;
        float *ds = scratch + (size_t)item * block_size;
        size_t kv_head = (size_t)kh * D;
        /* readers first, the prefix (the family's first segment) last: a fixed order */
        for (int si = families[family + 1] - 1; si >= families[family]; si--) {
            const int *seg = segments + 4 * si;
            int first = seg[0], T = seg[1], prefix = seg[2], P = seg[3], width = P + T;
            const float *ks = k + (size_t)first * KD + kv_head, *vs = v + (size_t)first * KD + kv_head;
            float *dks = dk + (size_t)first * KD + kv_head, *dvs = dv + (size_t)first * KD + kv_head;
            const float *kp = P > 0 ? k + (size_t)prefix * KD + kv_head : NULL, *vp = P > 0 ? v + (size_t)prefix * KD + kv_head : NULL;
            float *dkp = P > 0 ? dk + (size_t)prefix * KD + kv_head : NULL, *dvp = P > 0 ? dv + (size_t)prefix * KD + kv_head : NULL;
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                const float *a = att + att_offsets[si] + (size_t)h * T * width;
                const float *dos = dout + (size_t)first * QD + (size_t)h * D, *qs = q + (size_t)first * QD + (size_t)h * D;
                float *dqs = dq + (size_t)first * QD + (size_t)h * D;
                for (int t0 = 0; t0 < T; t0 += GRPO__ATTENTION_BLOCK) {
                    int rows = T - t0 < GRPO__ATTENTION_BLOCK ? T - t0 : GRPO__ATTENTION_BLOCK;
                    float *block = ds + (size_t)t0 * width;
                    const float *p = a + (size_t)t0 * width;
                    const float *dob = dos + (size_t)t0 * QD;
                    /* dP for this block's rows; dv for the prefix, and for the own keys of the
                       block from rows t >= t0 */
                    if (P > 0) {
                        grpo__sgemm(0, 1, rows, P, D, 1.0f, dob, QD, vp, KD, 0.0f, block, width);
                        grpo__sgemm(1, 0, P, D, rows, 1.0f, p, width, dob, QD, 1.0f, dvp, KD);
                    }
                    grpo__sgemm(0, 1, rows, t0 + rows, D, 1.0f, dob, QD, vs, KD, 0.0f, block + P, width);
                    grpo__sgemm(1, 0, rows, D, T - t0, 1.0f, a + (size_t)t0 * width + P + t0, width, dob, QD,
                                1.0f, dvs + (size_t)t0 * KD, KD);
                }
                for (int t = 0; t < T; t++) {
                    const float *p = a + (size_t)t * width;
                    float *d = ds + (size_t)t * width, weighted = 0.0f;
                    int count = P + t + 1, end = (t / GRPO__ATTENTION_BLOCK + 1) * GRPO__ATTENTION_BLOCK;
                    end = P + (end < T ? end : T);
                    #pragma omp simd reduction(+:weighted)
                    for (int j = 0; j < count; j++) weighted += p[j] * d[j];
                    #pragma omp simd
                    for (int j = 0; j < count; j++) d[j] = p[j] * (d[j] - weighted) * scale;
                    for (int j = count; j < end; j++) d[j] = 0.0f;
                }
                for (int t0 = 0; t0 < T; t0 += GRPO__ATTENTION_BLOCK) {
                    int rows = T - t0 < GRPO__ATTENTION_BLOCK ? T - t0 : GRPO__ATTENTION_BLOCK;
                    const float *block = ds + (size_t)t0 * width;
                    if (P > 0) {
                        grpo__sgemm(0, 0, rows, D, P, 1.0f, block, width, kp, KD, 1.0f, dqs + (size_t)t0 * QD, QD);
                        grpo__sgemm(1, 0, P, D, rows, 1.0f, block, width, qs + (size_t)t0 * QD, QD, 1.0f, dkp, KD);
                    }
                    grpo__sgemm(0, 0, rows, D, t0 + rows, 1.0f, block + P, width, ks, KD, 1.0f, dqs + (size_t)t0 * QD, QD);
                    grpo__sgemm(1, 0, rows, D, T - t0, 1.0f, ds + (size_t)t0 * width + P + t0, width, qs + (size_t)t0 * QD, QD,
                                1.0f, dks + (size_t)t0 * KD, KD);
                }
            }
        }
    }
}

/* SwiGLU (Shazeer 2020): hidden = silu(gate) * up, silu(x) = x * sigmoid(x). */
static void grpo__swiglu_forward(float *hidden, const float *gate, const float *up, size_t count) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) {
        float g = gate[i];
        hidden[i] = g / (1.0f + grpo__expf(-g)) * up[i];
    }
}

/* silu'(g) = sigmoid(g) * (1 + g * (1 - sigmoid(g))). Overwrites dgate and dup. */
static void grpo__swiglu_backward(float *dgate, float *dup, const float *dhidden, const float *gate,
                                  const float *up, size_t count) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) {
        float g = gate[i], sig = 1.0f / (1.0f + grpo__expf(-g));
        dup[i] = dhidden[i] * g * sig;
        dgate[i] = dhidden[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
    }
}

/* Log-probability of each target under softmax(logits / temperature), and the entropy of that
   distribution, over rows n = b*T + t. Rows with t >= lengths[b] are padding: 0 for both. */
static void grpo__logprob_forward(float *logprobs, float *entropy, const float *logits, const int *targets,
                                  const int *lengths, int N, int T, int V, float temperature) {
    float inv_t = 1.0f / temperature;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        if (n % T >= lengths[n / T]) { logprobs[n] = 0.0f; if (entropy) entropy[n] = 0.0f; continue; }
        const float *z = logits + (size_t)n * V;
        float maxval = -INFINITY;
        for (int j = 0; j < V; j++) if (z[j] > maxval) maxval = z[j];
        float sum = 0.0f, weighted = 0.0f;
        for (int j = 0; j < V; j++) {
            float shifted = (z[j] - maxval) * inv_t, e = grpo__expf(shifted);
            sum += e;
            weighted += e * shifted;
        }
        float log_z = logf(sum);
        logprobs[n] = (z[targets[n]] - maxval) * inv_t - log_z;
        /* H = -sum p log p = log Z - sum p * shifted */
        if (entropy) entropy[n] = log_z - weighted / sum;
    }
}

/* d lp / d z_j = (1[j = y] - softmax_j(z / T)) / T.  Overwrites dlogits. */
static void grpo__logprob_backward(float *dlogits, const float *dlogprobs, const float *logits, const int *targets,
                                   const int *lengths, int N, int T, int V, float temperature) {
    float inv_t = 1.0f / temperature;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        float *dz = dlogits + (size_t)n * V;
        if (n % T >= lengths[n / T] || dlogprobs[n] == 0.0f) { memset(dz, 0, (size_t)V * sizeof(float)); continue; }
        const float *z = logits + (size_t)n * V;
        float maxval = -INFINITY;
        for (int j = 0; j < V; j++) if (z[j] > maxval) maxval = z[j];
        float sum = 0.0f;
        for (int j = 0; j < V; j++) { dz[j] = grpo__expf((z[j] - maxval) * inv_t); sum += dz[j]; }
        float g = dlogprobs[n] * inv_t, scale = -g / sum;
        for (int j = 0; j < V; j++) dz[j] *= scale;
        dz[targets[n]] += g;
    }
}

/* ---------------------------------------------------------------------------------------
   7. The whole model */

/* The bytes a model holds now: weights, rotary tables, gradients, activations, scratch. Each
   part was allocated, so the sum fits in size_t. */
static size_t grpo__model_bytes(const grpo_model *model) {
    size_t rope = (size_t)model->config.context_length * (size_t)(model->head_size / 2);
    size_t floats = model->num_parameters * (model->grads_memory ? 2 : 1) + 2 * rope + model->acts_capacity + model->scratch_capacity;
    return floats * sizeof(float) + model->acts_ints_capacity * sizeof(int) + model->acts_offsets_capacity * sizeof(size_t);
}

/* Refuses growing a model's buffer from `held` to `wanted` floats (or ints) when the model as a
   whole would pass the memory cap. */
static grpo_result grpo__check_model_growth(const grpo_model *model, const char *what, size_t held, size_t wanted) {
    size_t bytes;
    if (wanted <= held) return GRPO_SUCCESS;
    if (!grpo__mul(wanted - held, sizeof(float), &bytes) || !grpo__add(bytes, grpo__model_bytes(model), &bytes))
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: the model's size overflows size_t", what);
    return grpo__check_memory(what, bytes);
}

/* Lays out the forward's buffers for N rows, an att block of att_size floats per layer, B*T
   caller positions and n_segments segments, growing the allocations when needed. The
   segment table (segments, families, att_offsets) is filled by the caller afterwards. */
static grpo_result grpo__ensure_activations(grpo_model *model, size_t N, size_t att_size, size_t positions, int n_segments, int keep) {
    const grpo_config *c = &model->config;
    /* without keep (a frozen model's forward: no backward follows) one layer's buffers serve
       every layer, and two residual rows alternate */
    size_t L = keep ? (size_t)c->n_layers : 1, C = (size_t)c->d_model, V = (size_t)c->vocab_size, F = (size_t)c->d_ff;
    size_t D = (size_t)model->head_size, QD = (size_t)c->n_heads * D, KD = (size_t)c->n_kv_heads * D;
    size_t sizes[19], total = 0;
    int ok = grpo__mul3(keep ? L + 1 : 2, N, C, &sizes[0]) && grpo__mul(L, N, &sizes[1]) && grpo__mul3(L, N, C, &sizes[2]) &&
             grpo__mul3(L, N, QD, &sizes[3]) && grpo__mul3(L, N, KD, &sizes[4]) && grpo__mul3(L, N, KD, &sizes[5]) &&
             grpo__mul(L, att_size, &sizes[6]) && grpo__mul3(L, N, QD, &sizes[7]) &&
             grpo__mul3(L, N, C, &sizes[8]) && grpo__mul(L, N, &sizes[9]) && grpo__mul3(L, N, C, &sizes[10]) &&
             grpo__mul3(L, N, F, &sizes[11]) && grpo__mul3(L, N, F, &sizes[12]) && grpo__mul3(L, N, F, &sizes[13]) &&
             grpo__mul(N, 1, &sizes[14]) && grpo__mul(N, C, &sizes[15]) && grpo__mul(N, V, &sizes[16]) && grpo__mul(N, 2, &sizes[17]);
#ifdef GRPO__HAS_GEMM
    sizes[18] = GRPO__GEMM_SCRATCH;
#else
    sizes[18] = 0;
#endif
    for (int i = 0; i < 19 && ok; i++) ok = grpo__add(total, sizes[i], &total);
    size_t ints = 0, bytes = 0;
    /* tokens, targets, positions (N each), row_of (B*T), segments (4 per), families (one per segment + 1) */
    ok = ok && grpo__mul(N, 3, &ints) && grpo__add(ints, positions, &ints) && grpo__add(ints, 5 * (size_t)n_segments + 1, &ints);
    ok = ok && grpo__mul(total, sizeof(float), &bytes);
    if (!ok) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "forward: activations for %zu rows overflow size_t", N);
    grpo_result r;
    size_t grown = (total > model->acts_capacity ? total - model->acts_capacity : 0) +
                   (ints > model->acts_ints_capacity ? ints - model->acts_ints_capacity : 0); /* int and float are 4 bytes */
    if ((r = grpo__check_model_growth(model, "forward: activations", 0, grown))) return r;
    if (total > model->acts_capacity) {
        float *memory = (float *)grpo__alloc_floats(total);
        if (!memory) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "forward: could not allocate %.1f MiB of activations for %zu tokens", (double)bytes / 1048576.0, N);
        GRPO_FREE(model->acts_memory);
        model->acts_memory = memory;
        model->acts_capacity = total;
    }
    if (ints > model->acts_ints_capacity) {
        int *memory = (int *)GRPO_MALLOC(ints * sizeof(int));
        if (!memory) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "forward: could not allocate token buffers for %zu tokens", N);
        GRPO_FREE(model->acts_ints);
        model->acts_ints = memory;
        model->acts_ints_capacity = ints;
    }
    if ((size_t)n_segments + 1 > model->acts_offsets_capacity) {
        size_t *memory = (size_t *)GRPO_MALLOC(((size_t)n_segments + 1) * sizeof(size_t));
        if (!memory) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "forward: could not allocate the table of %d sequences", n_segments);
        GRPO_FREE(model->acts_offsets);
        model->acts_offsets = memory;
        model->acts_offsets_capacity = (size_t)n_segments + 1;
    }
    float **slots[19] = {&model->acts.residual, &model->acts.attn_rstd, &model->acts.attn_in, &model->acts.q,
                         &model->acts.k, &model->acts.v, &model->acts.att, &model->acts.att_out,
                         &model->acts.residual_mid, &model->acts.mlp_rstd, &model->acts.mlp_in, &model->acts.gate,
                         &model->acts.up, &model->acts.hidden, &model->acts.final_rstd, &model->acts.final_out,
                         &model->acts.logits, &model->acts.row_values, &model->acts.gemm_pack};
    float *at = model->acts_memory;
    for (int i = 0; i < 19; i++) { *slots[i] = at; at += sizes[i]; }
    if (!sizes[18]) model->acts.gemm_pack = NULL;
    int *n = model->acts_ints;
    model->acts.tokens = n; n += N;
    model->acts.targets = n; n += N;
    model->acts.positions = n; n += N;
    model->acts.row_of = n; n += positions;
    model->acts.segments = n; n += 4 * (size_t)n_segments;
    model->acts.families = n;
    model->acts.att_offsets = model->acts_offsets;
    model->acts.rows = (int)N;
    model->acts.n_segments = n_segments;
    return GRPO_SUCCESS;
}

static grpo_result grpo__check_forward(const grpo_model *model, const int *tokens, const int *targets, const int *lengths,
                                       int B, int T, float temperature, const float *logprobs) {
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "forward: the model is not created");
    if (!tokens || !targets || !logprobs) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: tokens, targets and logprobs must not be NULL");
    const grpo_config *c = &model->config;
    if (B <= 0 || T <= 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: B = %d, T = %d: expected both > 0", B, T);
    if (T > c->context_length) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: T = %d is longer than config.context_length = %d", T, c->context_length);
    if (!(temperature >= GRPO_MIN_TEMPERATURE) || !isfinite(temperature))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: temperature = %g: expected a finite number >= %g", (double)temperature, (double)GRPO_MIN_TEMPERATURE);
    if ((size_t)B * (size_t)T > GRPO__MAX_DIMENSION)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: B * T = %zu rows: expected at most %d", (size_t)B * (size_t)T, GRPO__MAX_DIMENSION);
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T;
        if (len < 0 || len > T) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: lengths[%d] = %d: expected 0 to T = %d", b, len, T);
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)b * T + t;
            if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: tokens[b=%d, t=%d] = %d is outside the vocabulary [0, %d)", b, t, tokens[i], c->vocab_size);
            if (t < len && (targets[i] < 0 || targets[i] >= c->vocab_size))
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward: targets[b=%d, t=%d] = %d is outside the vocabulary [0, %d)", b, t, targets[i], c->vocab_size);
        }
    }
    return GRPO_SUCCESS;
}

/* Builds the rows and segments of a forward over (B, T) with lengths, groups of group_size rows
   sharing prefix_lengths[g] leading tokens (group_size 0: nothing shared), then runs it. keep:
   every layer's activations stay (for a backward, or for generation's prompt cache); without
   it, a frozen model's forward, one layer's worth of buffers is reused layer after layer. */
static grpo_result grpo__forward(grpo_model *model, const int *tokens, const int *targets, const int *lengths,
                                 int B, int T, int group_size, const int *prefix_lengths, float temperature,
                                 float *logprobs, float *entropy, int keep) {
    const grpo_config *c = &model->config;
    int H = c->n_heads;
    /* count rows, segments and the att block */
    size_t N = 0, att_size = 0;
    int n_segments = 0;
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T, shared = 0;
        if (group_size > 0) {
            int g = b / group_size;
            shared = prefix_lengths[g];
            if (b % group_size == 0 && shared > 0) { N += (size_t)shared; att_size += (size_t)H * shared * shared; n_segments++; }
        }
        if (len - shared > 0) { N += (size_t)(len - shared); att_size += (size_t)H * (len - shared) * len; n_segments++; }
    }
    if (N == 0) N = 1; /* every row empty: one dummy row keeps the buffers valid */
    /* A forward that fails from here on leaves no activations a backward could use. */
    model->batch_size = 0;
    grpo_result r = grpo__ensure_activations(model, N, att_size, (size_t)B * T, n_segments, keep);
    if (r) return r;
    grpo_activations *a = &model->acts;
    model->batch_size = B;
    model->seq_len = T;
    model->temperature = temperature;
    /* rows in order: per group its prefix (once), then each sequence's own tokens */
    int row = 0, segment = 0, n_families = 0, prefix_row = -1, prefix_length = 0;
    a->att_offsets[0] = 0;
    for (int b = 0; b < B; b++) {
        int len = lengths ? lengths[b] : T, shared = 0;
        if (group_size > 0 && b % group_size == 0) {
            shared = prefix_lengths[b / group_size];
            prefix_row = -1;
            prefix_length = 0;
            if (shared > 0) {
                prefix_row = row;
                prefix_length = shared;
                for (int t = 0; t < shared; t++, row++) {
                    a->tokens[row] = tokens[(size_t)b * T + t];
                    a->targets[row] = targets[(size_t)b * T + t];
                    a->positions[row] = t;
                }
                int *seg = a->segments + 4 * segment;
                seg[0] = prefix_row; seg[1] = shared; seg[2] = -1; seg[3] = 0;
                a->att_offsets[segment + 1] = a->att_offsets[segment] + (size_t)H * shared * shared;
                a->families[n_families++] = segment;
                segment++;
            }
        } else if (group_size > 0) {
            shared = prefix_length;
        }
        for (int t = 0; t < T; t++) a->row_of[(size_t)b * T + t] = t < shared ? prefix_row + t : -1;
        if (len - shared > 0) {
            int own = len - shared;
            int *seg = a->segments + 4 * segment;
            seg[0] = row; seg[1] = own; seg[2] = shared > 0 ? prefix_row : -1; seg[3] = shared;
            a->att_offsets[segment + 1] = a->att_offsets[segment] + (size_t)H * own * len;
            if (shared == 0) a->families[n_families++] = segment;
            segment++;
            for (int t = shared; t < len; t++, row++) {
                a->tokens[row] = tokens[(size_t)b * T + t];
                a->targets[row] = targets[(size_t)b * T + t];
                a->positions[row] = t;
                a->row_of[(size_t)b * T + t] = row;
            }
        }
    }
    a->families[n_families] = segment;
    a->n_families = n_families;
    if (row == 0) { /* every row empty: the dummy row, with nothing to attend to */
        a->tokens[0] = 0; a->targets[0] = 0; a->positions[0] = 0;
        memset(a->att_out, 0, (size_t)(keep ? c->n_layers : 1) * c->n_heads * model->head_size * sizeof(float));
    }

    int C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers;
    int KVH = c->n_kv_heads, D = model->head_size, QD = H * D, KD = KVH * D, rows = (int)N;
    size_t layer_att = a->att_offsets[n_segments];
    const grpo_parameters *p = &model->params;
    grpo__embedding_forward(a->residual, a->tokens, p->token_embedding, rows, C);
    a->layers_kept = keep;
    for (int l = 0; l < L; l++) {
        size_t at = keep ? (size_t)l : 0; /* this layer's slot */
        float *x = a->residual + (size_t)(keep ? l : l % 2) * N * C, *x_mid = a->residual_mid + at * N * C;
        float *x_next = a->residual + (size_t)(keep ? l + 1 : (l + 1) % 2) * N * C;
        float *attn_in = a->attn_in + at * N * C, *mlp_in = a->mlp_in + at * N * C;
        float *q = a->q + at * N * QD, *k = a->k + at * N * KD, *v = a->v + at * N * KD;
        float *att = a->att + at * layer_att, *att_out = a->att_out + at * N * QD;
        float *gate = a->gate + at * N * F, *up = a->up + at * N * F, *hidden = a->hidden + at * N * F;

        grpo__rmsnorm_forward(attn_in, a->attn_rstd + at * N, x, p->attn_norm + (size_t)l * C, rows, C, c->norm_eps);
        grpo__matmul_forward(q, attn_in, p->wq + (size_t)l * QD * C, p->bq ? p->bq + (size_t)l * QD : NULL, rows, C, QD, a->gemm_pack);
        grpo__matmul_forward(k, attn_in, p->wk + (size_t)l * KD * C, p->bk ? p->bk + (size_t)l * KD : NULL, rows, C, KD, a->gemm_pack);
        grpo__matmul_forward(v, attn_in, p->wv + (size_t)l * KD * C, p->bv ? p->bv + (size_t)l * KD : NULL, rows, C, KD, a->gemm_pack);
        grpo__rope_rotate(q, model->rope_cos, model->rope_sin, rows, 1, a->positions, H, D, 1.0f);
        grpo__rope_rotate(k, model->rope_cos, model->rope_sin, rows, 1, a->positions, KVH, D, 1.0f);
        grpo__attention_forward(att_out, att, q, k, v, a->segments, a->att_offsets, n_segments, H, KVH, D);
        grpo__matmul_forward(x_mid, att_out, p->wo + (size_t)l * C * QD, NULL, rows, QD, C, a->gemm_pack);
        grpo__add_into(x_mid, x, (size_t)N * C);

        grpo__rmsnorm_forward(mlp_in, a->mlp_rstd + at * N, x_mid, p->mlp_norm + (size_t)l * C, rows, C, c->norm_eps);
        grpo__matmul_forward(gate, mlp_in, p->w_gate + (size_t)l * F * C, NULL, rows, C, F, a->gemm_pack);
        grpo__matmul_forward(up, mlp_in, p->w_up + (size_t)l * F * C, NULL, rows, C, F, a->gemm_pack);
        grpo__swiglu_forward(hidden, gate, up, (size_t)N * F);
        grpo__matmul_forward(x_next, hidden, p->w_down + (size_t)l * C * F, NULL, rows, F, C, a->gemm_pack);
        grpo__add_into(x_next, x_mid, (size_t)N * C);
    }
    const float *head = p->lm_head ? p->lm_head : p->token_embedding;
    grpo__rmsnorm_forward(a->final_out, a->final_rstd, a->residual + (size_t)(keep ? L : L % 2) * N * C, p->final_norm, rows, C, c->norm_eps);
    grpo__matmul_forward(a->logits, a->final_out, head, NULL, rows, C, V, a->gemm_pack);
    /* log-probs of every row (the rows are all valid), then to the caller's (b, t) */
    float *row_logprobs = a->row_values, *row_entropy = a->row_values + N;
    grpo__logprob_forward(row_logprobs, entropy ? row_entropy : NULL, a->logits, a->targets, &rows, rows, rows, V, temperature);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        int at = a->row_of[i];
        logprobs[i] = at >= 0 ? row_logprobs[at] : 0.0f;
        if (entropy) entropy[i] = at >= 0 ? row_entropy[at] : 0.0f;
    }
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_model_forward(grpo_model *model, const int *tokens, const int *targets,
                                       const int *lengths, int B, int T, float temperature,
                                       float *logprobs, float *entropy) {
    grpo_result r = grpo__check_forward(model, tokens, targets, lengths, B, T, temperature, logprobs);
    if (r) return r;
    return grpo__forward(model, tokens, targets, lengths, B, T, 0, NULL, temperature, logprobs, entropy, !model->frozen);
}

GRPODEF grpo_result grpo_model_forward_shared(grpo_model *model, const int *tokens, const int *targets,
                                              const int *lengths, int B, int T, int group_size, const int *prefix_lengths,
                                              float temperature, float *logprobs, float *entropy) {
    grpo_result r = grpo__check_forward(model, tokens, targets, lengths, B, T, temperature, logprobs);
    if (r) return r;
    if (group_size < 1 || !prefix_lengths)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward_shared: group_size = %d, prefix_lengths %s: expected group_size >= 1 and prefix_lengths", group_size, prefix_lengths ? "set" : "NULL");
    for (int g = 0; g * group_size < B; g++) {
        int first = g * group_size, shared = prefix_lengths[g];
        for (int b = first; b < B && b < first + group_size; b++) {
            int len = lengths ? lengths[b] : T;
            if (shared < 0 || (shared > 0 && shared >= len))
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward_shared: prefix_lengths[%d] = %d: expected 0 to the group's shortest length - 1 (row %d has %d tokens)", g, shared, b, len);
            for (int t = 0; t < shared; t++) {
                size_t i = (size_t)b * T + t, i0 = (size_t)first * T + t;
                if (tokens[i] != tokens[i0] || targets[i] != targets[i0])
                    return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "forward_shared: row %d differs from row %d of its group at position %d, inside the shared prefix of %d tokens", b, first, t, shared);
            }
        }
    }
    return grpo__forward(model, tokens, targets, lengths, B, T, group_size, prefix_lengths, temperature, logprobs, entropy, !model->frozen);
}

static grpo_result grpo__ensure_gradients(grpo_model *model) {
    grpo_result r;
    if (!model->grads_memory && (r = grpo__check_model_growth(model, "backward: gradients", 0, model->num_parameters))) return r;
    if (!model->grads_memory) {
        model->grads_memory = (float *)grpo__alloc_floats(model->num_parameters);
        if (!model->grads_memory) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "backward: could not allocate gradients for %zu parameters", model->num_parameters);
        memset(model->grads_memory, 0, model->num_parameters * sizeof(float));
        grpo__point_parameters(&model->grads, model->grads_memory, model->tensors);
    }
    const grpo_config *c = &model->config;
    size_t N = (size_t)model->acts.rows, C = (size_t)c->d_model, V = (size_t)c->vocab_size, F = (size_t)c->d_ff;
    size_t QD = (size_t)c->n_heads * model->head_size, KD = (size_t)c->n_kv_heads * model->head_size;
    size_t widths[10] = {C, C, QD, KD, KD, QD, F, F, F, V}, total = 0, width_sum = 0, datt = 0;
    for (int i = 0; i < 10; i++) width_sum += widths[i];
    int ok = grpo__mul(N, width_sum, &total) &&
             grpo__mul3((size_t)model->acts.n_families, (size_t)c->n_kv_heads, grpo__attention_scratch(model->acts.segments, model->acts.n_segments), &datt) &&
             grpo__add(total, datt, &total) && grpo__add(total, 2 * N, &total);
    if (!ok) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "backward: scratch size overflows size_t");
    if ((r = grpo__check_model_growth(model, "backward: scratch", model->scratch_capacity, total))) return r;
    if (total > model->scratch_capacity) {
        float *memory = (float *)grpo__alloc_floats(total);
        if (!memory) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "backward: could not allocate %.1f MiB of scratch", (double)total * 4.0 / 1048576.0);
        GRPO_FREE(model->scratch_memory);
        model->scratch_memory = memory;
        model->scratch_capacity = total;
    }
    float **slots[10] = {&model->scratch.dresidual, &model->scratch.dnormed, &model->scratch.dq, &model->scratch.dk,
                         &model->scratch.dv, &model->scratch.datt_out, &model->scratch.dgate, &model->scratch.dup,
                         &model->scratch.dhidden, &model->scratch.dlogits};
    float *at = model->scratch_memory;
    for (int i = 0; i < 10; i++) { *slots[i] = at; at += N * widths[i]; }
    model->scratch.datt = at;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_model_backward(grpo_model *model, const float *dlogprobs) {
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "backward: the model is not created");
    if (model->frozen) return grpo__fail(GRPO_ERROR_INVALID_STATE, "backward: this is a frozen reference model; it has no gradients");
    if (model->batch_size == 0 || !model->acts.layers_kept) return grpo__fail(GRPO_ERROR_INVALID_STATE, "backward: call grpo_model_forward first");
    if (!dlogprobs) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "backward: dlogprobs is NULL");
    grpo_result r = grpo__ensure_gradients(model);
    if (r) return r;
    const grpo_config *c = &model->config;
    const grpo_activations *a = &model->acts;
    int N = a->rows, C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers;
    int H = c->n_heads, KVH = c->n_kv_heads, D = model->head_size, QD = H * D, KD = KVH * D;
    size_t layer_att = a->att_offsets[a->n_segments];
    const grpo_parameters *p = &model->params;
    grpo_parameters *g = &model->grads;
    grpo_gradient_scratch *s = &model->scratch;

    /* d loss / d log-prob of each row: a shared prefix row gathers its positions in every
       sequence of its group, in the caller's order (deterministic) */
    float *row_dlogprobs = s->datt_out;
    memset(row_dlogprobs, 0, (size_t)N * sizeof(float));
    for (size_t i = 0; i < (size_t)model->batch_size * model->seq_len; i++)
        if (a->row_of[i] >= 0) row_dlogprobs[a->row_of[i]] += dlogprobs[i];
    grpo__logprob_backward(s->dlogits, row_dlogprobs, a->logits, a->targets, &N, N, N, V, model->temperature);

    const float *head = p->lm_head ? p->lm_head : p->token_embedding;
    float *dhead = p->lm_head ? g->lm_head : g->token_embedding;
    grpo__matmul_backward_set(s->dnormed, dhead, NULL, s->dlogits, a->final_out, head, N, C, V, a->gemm_pack);
    memset(s->dresidual, 0, (size_t)N * C * sizeof(float));
    grpo__rmsnorm_backward(s->dresidual, g->final_norm, s->dnormed, a->residual + (size_t)L * N * C, p->final_norm, a->final_rstd, N, C);

    for (int l = L - 1; l >= 0; l--) {
        const float *x = a->residual + (size_t)l * N * C, *x_mid = a->residual_mid + (size_t)l * N * C;
        const float *attn_in = a->attn_in + (size_t)l * N * C, *mlp_in = a->mlp_in + (size_t)l * N * C;
        const float *q = a->q + (size_t)l * N * QD, *k = a->k + (size_t)l * N * KD, *v = a->v + (size_t)l * N * KD;
        const float *att = a->att + (size_t)l * layer_att, *att_out = a->att_out + (size_t)l * N * QD;
        const float *gate = a->gate + (size_t)l * N * F, *up = a->up + (size_t)l * N * F, *hidden = a->hidden + (size_t)l * N * F;

        /* MLP: x_next = x_mid + w_down(swiglu(w_gate(n), w_up(n))), n = rmsnorm(x_mid).
           dresidual holds d x_next and, by the skip connection, d x_mid as well. */
        grpo__matmul_backward_set(s->dhidden, g->w_down + (size_t)l * C * F, NULL, s->dresidual, hidden, p->w_down + (size_t)l * C * F, N, F, C, a->gemm_pack);
        grpo__swiglu_backward(s->dgate, s->dup, s->dhidden, gate, up, (size_t)N * F);
        grpo__matmul_backward_set(s->dnormed, g->w_gate + (size_t)l * F * C, NULL, s->dgate, mlp_in, p->w_gate + (size_t)l * F * C, N, C, F, a->gemm_pack);
        grpo__matmul_backward(s->dnormed, g->w_up + (size_t)l * F * C, NULL, s->dup, mlp_in, p->w_up + (size_t)l * F * C, N, C, F, a->gemm_pack);
        grpo__rmsnorm_backward(s->dresidual, g->mlp_norm + (size_t)l * C, s->dnormed, x_mid, p->mlp_norm + (size_t)l * C, a->mlp_rstd + (size_t)l * N, N, C);

        /* Attention: x_mid = x + wo(attention(rope(wq n), rope(wk n), wv n)), n = rmsnorm(x). */
        grpo__matmul_backward_set(s->datt_out, g->wo + (size_t)l * C * QD, NULL, s->dresidual, att_out, p->wo + (size_t)l * C * QD, N, QD, C, a->gemm_pack);
        memset(s->dq, 0, (size_t)N * QD * sizeof(float));
        memset(s->dk, 0, (size_t)N * KD * sizeof(float));
        memset(s->dv, 0, (size_t)N * KD * sizeof(float));
        grpo__attention_backward(s->dq, s->dk, s->dv, s->datt, s->datt_out, att, q, k, v, a->segments, a->att_offsets, a->n_segments,
                                 a->families, a->n_families, H, KVH, D);
        grpo__rope_rotate(s->dq, model->rope_cos, model->rope_sin, N, 1, a->positions, H, D, -1.0f);
        grpo__rope_rotate(s->dk, model->rope_cos, model->rope_sin, N, 1, a->positions, KVH, D, -1.0f);
        grpo__matmul_backward_set(s->dnormed, g->wq + (size_t)l * QD * C, g->bq ? g->bq + (size_t)l * QD : NULL, s->dq, attn_in, p->wq + (size_t)l * QD * C, N, C, QD, a->gemm_pack);
        grpo__matmul_backward(s->dnormed, g->wk + (size_t)l * KD * C, g->bk ? g->bk + (size_t)l * KD : NULL, s->dk, attn_in, p->wk + (size_t)l * KD * C, N, C, KD, a->gemm_pack);
        grpo__matmul_backward(s->dnormed, g->wv + (size_t)l * KD * C, g->bv ? g->bv + (size_t)l * KD : NULL, s->dv, attn_in, p->wv + (size_t)l * KD * C, N, C, KD, a->gemm_pack);
        grpo__rmsnorm_backward(s->dresidual, g->attn_norm + (size_t)l * C, s->dnormed, x, p->attn_norm + (size_t)l * C, a->attn_rstd + (size_t)l * N, N, C);
    }
    grpo__embedding_backward(g->token_embedding, s->dresidual, a->tokens, N, C);
    return GRPO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
   8. Generation */

#define GRPO__KEY_BLOCK 16 /* positions per block of the key cache (see grpo_generator) */

/* splitmix64's finaliser: a good 64-bit mix, used to derive independent stream seeds. */
static uint64_t grpo__mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The random stream of completion g of the prompt with key prompt_key. */
static grpo_rng grpo__sequence_rng(uint64_t seed, uint64_t prompt_key, int g) {
    return grpo_rng_seed(grpo__mix64(grpo__mix64(seed) ^ grpo__mix64(prompt_key + 0x632BE59BD9B4E019ull)) + (uint64_t)g * 0x9E3779B97F4A7C15ull);
}

typedef struct { float p; int index; } grpo__candidate;

/* Most likely first; ties by token id, so the order (and the sample) is deterministic. */
static int grpo__candidate_order(const void *a, const void *b) {
    const grpo__candidate *x = (const grpo__candidate *)a, *y = (const grpo__candidate *)b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->index - y->index;
}

/* Draws one token from softmax(logits / temperature), filtered by top-k then top-p as in
   Hugging Face's warpers (top-p acts on the distribution renormalised after top-k), or the
   argmax when greedy. *logprob receives the unfiltered log-prob of the token: lp_old.
   probs and candidates are scratch of V entries. One uniform number is drawn per call. */
static int grpo__sample_token(const float *logits, int V, const grpo_sampling_config *s, grpo_rng *rng,
                              float *probs, grpo__candidate *candidates, float *logprob) {
    float inv_t = 1.0f / s->temperature, maxval = logits[0];
    int argmax = 0;
    for (int j = 1; j < V; j++) if (logits[j] > maxval) { maxval = logits[j]; argmax = j; }
    float sum = 0.0f;
    for (int j = 0; j < V; j++) { probs[j] = grpo__expf((logits[j] - maxval) * inv_t); sum += probs[j]; }
    float u = grpo_rng_uniform(rng);
    int token = argmax;
    if (!s->greedy) {
        int filtered = (s->top_k > 0 && s->top_k < V) || s->top_p < 1.0f;
        if (!filtered) {
            float target = u * sum, cumulative = 0.0f;
            token = -1;
            for (int j = 0; j < V && token < 0; j++) {
                cumulative += probs[j];
                if (target < cumulative) token = j;
            }
            if (token < 0) for (token = V - 1; token > 0 && probs[token] == 0.0f; token--) {} /* rounding at the top end */
        } else {
            for (int j = 0; j < V; j++) { candidates[j].p = probs[j]; candidates[j].index = j; }
            qsort(candidates, (size_t)V, sizeof *candidates, grpo__candidate_order);
            int kept = (s->top_k > 0 && s->top_k < V) ? s->top_k : V;
            float mass = 0.0f;
            for (int i = 0; i < kept; i++) mass += candidates[i].p;
            if (s->top_p < 1.0f) {
                /* keep the most likely tokens until their mass reaches top_p (at least one) */
                float cumulative = 0.0f, limit = s->top_p * mass;
                for (int i = 0; i < kept; i++) {
                    cumulative += candidates[i].p;
                    if (cumulative >= limit) { kept = i + 1; break; }
                }
                mass = 0.0f;
                for (int i = 0; i < kept; i++) mass += candidates[i].p;
            }
            float target = u * mass, cumulative = 0.0f;
            token = candidates[kept - 1].index;
            for (int i = 0; i < kept; i++) {
                cumulative += candidates[i].p;
                if (target < cumulative) { token = candidates[i].index; break; }
            }
        }
    }
    *logprob = (logits[token] - maxval) * inv_t - logf(sum);
    return token;
}

static grpo_generator_config grpo__generator_config_resolve(const grpo_generator_config *config, const grpo_config *model) {
    grpo_generator_config c;
    memset(&c, 0, sizeof c);
    if (config) c = *config;
    c.max_prompts = GRPO__DEFAULT(c.max_prompts, 8);
    c.max_group_size = GRPO__DEFAULT(c.max_group_size, 8);
    c.max_new_tokens = GRPO__DEFAULT(c.max_new_tokens, model->context_length - 1 < 128 ? model->context_length - 1 : 128);
    return c;
}

GRPODEF void grpo_generator_destroy(grpo_generator *generator) {
    if (!generator) return;
    GRPO_FREE(generator->float_memory);
    GRPO_FREE(generator->int_memory);
    memset(generator, 0, sizeof *generator);
}

/* The decode step's weight matrices: wq, wk, wv, wo, w_gate, w_up, w_down (each `count` = L
   matrices of (out, in)) and the head (V, C). With packed NULL they are the model's; else they
   are laid out one after another from packed, the generator's copy (grpo_generator.weights).
   Returns the floats of all of them. */
typedef struct { const float *weight; int out, in, count; } grpo__decode_matrix;
enum { GRPO__DECODE_MATRICES = 8 };
static size_t grpo__decode_matrices(const grpo_model *model, const float *packed, grpo__decode_matrix m[GRPO__DECODE_MATRICES]) {
    const grpo_config *c = &model->config;
    const grpo_parameters *p = &model->params;
    int C = c->d_model, F = c->d_ff, L = c->n_layers, QD = c->n_heads * model->head_size, KD = c->n_kv_heads * model->head_size;
    const grpo__decode_matrix shapes[GRPO__DECODE_MATRICES] = {
        {p->wq, QD, C, L}, {p->wk, KD, C, L}, {p->wv, KD, C, L}, {p->wo, C, QD, L}, {p->w_gate, F, C, L},
        {p->w_up, F, C, L}, {p->w_down, C, F, L}, {p->lm_head ? p->lm_head : p->token_embedding, c->vocab_size, C, 1}};
    size_t total = 0;
    for (int i = 0; i < GRPO__DECODE_MATRICES; i++) {
        m[i] = shapes[i];
        if (packed) m[i].weight = packed + total;
        total += (size_t)m[i].count * m[i].out * m[i].in;
    }
    return total;
}

GRPODEF grpo_result grpo_generator_create(grpo_generator *generator, const grpo_model *model,
                                          const grpo_generator_config *config) {
    if (!generator || !model || !model->params_memory)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_generator_create: the model must be created");
    memset(generator, 0, sizeof *generator);
    const grpo_config *m = &model->config;
    grpo_generator_config c = grpo__generator_config_resolve(config, m);
    if (c.max_prompts < 1 || c.max_prompts > GRPO__MAX_DIMENSION)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "generator.max_prompts = %d: expected 1 to %d", c.max_prompts, GRPO__MAX_DIMENSION);
    if (c.max_group_size < 1 || c.max_group_size > GRPO__MAX_DIMENSION)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "generator.max_group_size = %d: expected 1 to %d", c.max_group_size, GRPO__MAX_DIMENSION);
    if (c.max_new_tokens < 1 || c.max_new_tokens >= m->context_length)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "generator.max_new_tokens = %d: expected 1 to context_length - 1 = %d", c.max_new_tokens, m->context_length - 1);
    if (c.share_model_weights != 0 && c.share_model_weights != 1)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "generator.share_model_weights = %d: expected 0 (keep a packed copy) or 1 (read the model's weights)", c.share_model_weights);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    size_t L = (size_t)m->n_layers, C = (size_t)m->d_model, V = (size_t)m->vocab_size, F = (size_t)m->d_ff;
    size_t D = (size_t)model->head_size, QD = (size_t)m->n_heads * D, KD = (size_t)m->n_kv_heads * D, T = (size_t)m->context_length;
    size_t S = 0, cache = 0, scores = 0, floats = 0, ints = 0, prefill = 0, prompt_cache = 0;
    int ok = grpo__mul((size_t)c.max_prompts, (size_t)c.max_group_size, &S) && S <= GRPO__MAX_DIMENSION &&
             grpo__mul3(L * S, (size_t)(c.max_new_tokens + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK * GRPO__KEY_BLOCK, KD, &cache) &&
             grpo__mul3(S, (size_t)m->n_heads, T + 2 * GRPO__KEY_BLOCK, &scores) && grpo__mul((size_t)c.max_prompts, T, &prefill) &&
             grpo__mul3(L * (size_t)c.max_prompts, (T + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK * GRPO__KEY_BLOCK, KD, &prompt_cache);
    /* per-row buffers: x, normed, q, k, v, att_out, rstd, logits; hidden is in packed form */
    size_t row_floats = C + C + QD + KD + KD + QD + 1 + V;
    size_t sampler = (size_t)threads * V, widest = C > QD ? (C > F ? C : F) : (QD > F ? QD : F);
    size_t packed = ok ? grpo__matmul_rows_scratch((int)S, (int)widest) : 0;
    ok = ok && grpo__mul(S, row_floats, &floats) && grpo__add(floats, 2 * cache, &floats) && grpo__add(floats, scores, &floats) &&
         grpo__add(floats, packed, &floats) && grpo__add(floats, 2 * prompt_cache, &floats) &&
         grpo__add(floats, grpo__matmul_rows_scratch((int)S, (int)F), &floats) &&
         grpo__add(floats, sampler * 3, &floats) /* probs + candidates (8 bytes each) */ && grpo__add(floats, prefill, &floats);
    size_t rng_ints = S * 2 /* grpo_rng is 8 bytes */, out_ints = 0;
    ok = ok && grpo__mul(S, (size_t)c.max_new_tokens, &out_ints);
    /* ints: row_sequence, row_token, row_position, row_step, next_rows, lengths, truncated (S each),
       prompt_lengths, tail_lengths, rngs, tokens; floats also hold completion logprobs and mask */
    ok = ok && grpo__add(floats, 2 * out_ints, &floats);
    /* the packed decode weights: every matmul of a layer, and the head */
    size_t weights = 0;
#ifdef GRPO__LANES
    grpo__decode_matrix matrices[GRPO__DECODE_MATRICES];
    if (!c.share_model_weights) weights = grpo__decode_matrices(model, NULL, matrices) + 16; /* + 16: aligned to 64 bytes */
#endif
    ok = ok && grpo__add(floats, weights, &floats);
    ints = 7 * S + (size_t)c.max_prompts + S + rng_ints + out_ints;
    size_t tail_bytes = S * GRPO__TAIL;
    size_t float_bytes, int_bytes;
    ok = ok && grpo__mul(floats, sizeof(float), &float_bytes) && grpo__mul(ints, sizeof(int), &int_bytes) && grpo__add(int_bytes, tail_bytes + 16, &int_bytes);
    if (!ok || float_bytes > SIZE_MAX - int_bytes) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "generator: buffers for %d prompts x %d completions x %d new tokens overflow size_t", c.max_prompts, c.max_group_size, c.max_new_tokens);
    grpo_result r = grpo__check_memory("generator", float_bytes + int_bytes);
    if (r) return r;
    generator->float_memory = GRPO_MALLOC(float_bytes);
    grpo__advise_huge_pages(generator->float_memory, float_bytes); /* before the memset: pages come at first touch */
    if (generator->float_memory) memset(generator->float_memory, 0, float_bytes); /* the cache's unused tail lanes are read (then ignored) */
    generator->int_memory = GRPO_MALLOC(int_bytes);
    if (!generator->float_memory || !generator->int_memory) {
        grpo_generator_destroy(generator);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "generator: could not allocate %.1f MiB (KV cache for %zu sequences x %d tokens)",
                          (double)(float_bytes + int_bytes) / 1048576.0, S, c.max_new_tokens);
    }
    generator->config = c;
    generator->model_config = *m;
    generator->head_size = model->head_size;
    generator->max_sequences = (int)S;
    generator->n_threads = threads;
    float *f = (float *)generator->float_memory;
#define GRPO__TAKE(pointer, count) (pointer = f, f += (count))
    GRPO__TAKE(generator->cache_k, cache);
    GRPO__TAKE(generator->cache_v, cache);
    GRPO__TAKE(generator->prompt_k, prompt_cache);
    GRPO__TAKE(generator->prompt_v, prompt_cache);
    GRPO__TAKE(generator->x, S * C);
    GRPO__TAKE(generator->normed, S * C);
    GRPO__TAKE(generator->q, S * QD);
    GRPO__TAKE(generator->k, S * KD);
    GRPO__TAKE(generator->v, S * KD);
    GRPO__TAKE(generator->att_out, S * QD);
    GRPO__TAKE(generator->hidden, grpo__matmul_rows_scratch((int)S, (int)F));
    GRPO__TAKE(generator->rstd, S);
    GRPO__TAKE(generator->logits, S * V);
    GRPO__TAKE(generator->scores, scores);
    GRPO__TAKE(generator->packed, packed);
    GRPO__TAKE(generator->sample_probs, sampler);
    generator->sample_candidates = f; f += 2 * sampler;
    GRPO__TAKE(generator->prefill_logprobs, prefill);
    GRPO__TAKE(generator->completions.logprobs, out_ints);
    GRPO__TAKE(generator->completions.mask, out_ints);
    if (weights) generator->weights = (float *)(((uintptr_t)f + 63) & ~(uintptr_t)63);
#undef GRPO__TAKE
    int *n = (int *)generator->int_memory;
    generator->row_sequence = n; n += S;
    generator->row_token = n; n += S;
    generator->row_position = n; n += S;
    generator->row_step = n; n += S;
    generator->next_rows = n; n += S;
    generator->completions.lengths = n; n += S;
    generator->completions.truncated = n; n += S;
    generator->prompt_lengths = n; n += c.max_prompts;
    generator->tail_lengths = n; n += S;
    generator->completions.tokens = n; n += out_ints;
    generator->rngs = (grpo_rng *)(void *)(((uintptr_t)n + 7) & ~(uintptr_t)7); /* 8-byte aligned */
    generator->tails = (char *)(generator->rngs + S);
    return GRPO_SUCCESS;
}

/* Copies the model's decode weights into gen->weights in panels of P rows (see grpo_generator),
   by every thread of a parallel region; no barrier at the end. */
static void grpo__decode_pack_weights(grpo_generator *gen, const grpo_model *model, int P) {
    grpo__decode_matrix from[GRPO__DECODE_MATRICES];
    grpo__decode_matrices(model, NULL, from);
    float *to = gen->weights;
    for (int m = 0; m < GRPO__DECODE_MATRICES; m++)
        for (int l = 0; l < from[m].count; l++, to += (size_t)from[m].out * from[m].in)
            grpo__pack_panels(to, from[m].weight + (size_t)l * from[m].out * from[m].in, from[m].out, from[m].in, P);
}

/* After the prefill forward of n_prompts prompts (T tokens per row): keeps their lengths and
   copies their keys and values into the generator's prompt cache, in the layouts the decode
   steps read (see grpo_generator). */
static void grpo__decode_prefill(grpo_generator *gen, const grpo_model *model, int n_prompts, int T, const int *prompt_lengths) {
    const grpo_config *c = &model->config;
    int L = c->n_layers, KVH = c->n_kv_heads, D = model->head_size, KD = KVH * D, context = c->context_length;
    size_t rows = (size_t)model->acts.rows, max_prompts = (size_t)gen->config.max_prompts;
    size_t blocks = (size_t)(context + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK;
    memcpy(gen->prompt_lengths, prompt_lengths, (size_t)n_prompts * sizeof(int));
    gen->panel_rows = 0; /* the model's weights may have changed since the last call: pack again */
    #pragma omp parallel for collapse(3) schedule(static)
    for (int l = 0; l < L; l++)
        for (int b = 0; b < n_prompts; b++)
            for (int kvh = 0; kvh < KVH; kvh++) {
                /* the prompt's rows are consecutive in the forward (row_of of its first token on) */
                size_t first = (size_t)model->acts.row_of[(size_t)b * T];
                const float *k = model->acts.k + ((size_t)l * rows + first) * KD + (size_t)kvh * D;
                const float *v = model->acts.v + ((size_t)l * rows + first) * KD + (size_t)kvh * D;
                size_t head = ((size_t)l * max_prompts + b) * KVH + kvh;
                float *kb = gen->prompt_k + head * blocks * D * GRPO__KEY_BLOCK;
                float *vb = gen->prompt_v + head * context * D;
                for (int t = 0; t < prompt_lengths[b]; t++) {
                    float *key = kb + ((size_t)(t / GRPO__KEY_BLOCK) * D) * GRPO__KEY_BLOCK + t % GRPO__KEY_BLOCK;
                    for (int d = 0; d < D; d++) key[(size_t)d * GRPO__KEY_BLOCK] = k[(size_t)t * KD + d];
                    memcpy(vb + (size_t)t * D, v + (size_t)t * KD, (size_t)D * sizeof(float));
                }
            }
}

/* Attention scores against keys stored in blocks of GRPO__KEY_BLOCK positions, each block
   (D, GRPO__KEY_BLOCK): score[j] = scale * sum_d q[d] key_j[d] for j < n. Writes whole blocks
   (up to GRPO__KEY_BLOCK - 1 floats past n). Each score is a sum over d in order. */
#ifdef GRPO__LANES
#define GRPO__BLOCK_VECTORS (GRPO__KEY_BLOCK / GRPO__LANES)
/* NB blocks at a time, their sums in registers across d (NB chains hide the FMA latency). */
GRPO__ALWAYS_INLINE void grpo__key_blocks(float *score, const float *q, float scale, const float *blocks, int D, const int NB) {
    grpo__vector acc[4][GRPO__BLOCK_VECTORS];
    for (int b = 0; b < NB; b++)
        for (int v = 0; v < GRPO__BLOCK_VECTORS; v++) acc[b][v] = grpo__vector_zero();
    size_t block_size = (size_t)D * GRPO__KEY_BLOCK;
    for (int d = 0; d < D; d++) {
        grpo__vector qd = grpo__vector_splat(q[d] * scale);
        const float *k = blocks + (size_t)d * GRPO__KEY_BLOCK;
        for (int b = 0; b < NB; b++)
            for (int v = 0; v < GRPO__BLOCK_VECTORS; v++)
                acc[b][v] = grpo__vector_fma(qd, grpo__vector_load(k + b * block_size + v * GRPO__LANES), acc[b][v]);
    }
    for (int b = 0; b < NB; b++)
        for (int v = 0; v < GRPO__BLOCK_VECTORS; v++) grpo__vector_store(score + b * GRPO__KEY_BLOCK + v * GRPO__LANES, acc[b][v]);
}
static void grpo__key_scores(float *score, const float *q, float scale, const float *blocks, int n, int D) {
    int count = (n + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK, b = 0;
    size_t block_size = (size_t)D * GRPO__KEY_BLOCK;
    for (; b + 4 <= count; b += 4) grpo__key_blocks(score + b * GRPO__KEY_BLOCK, q, scale, blocks + b * block_size, D, 4);
    if (count - b == 3) grpo__key_blocks(score + b * GRPO__KEY_BLOCK, q, scale, blocks + b * block_size, D, 3);
    else if (count - b == 2) grpo__key_blocks(score + b * GRPO__KEY_BLOCK, q, scale, blocks + b * block_size, D, 2);
    else if (count - b == 1) grpo__key_blocks(score + b * GRPO__KEY_BLOCK, q, scale, blocks + b * block_size, D, 1);
}

/* out (D) += sum_j weight[j] * values[j] for values (n, D) contiguous: four vectors of out at a
   time in registers, positions in order. */
static void grpo__weighted_values(float *out, const float *weight, const float *values, int n, int D) {
    for (int d0 = 0; d0 < D; d0 += 4 * GRPO__LANES) {
        grpo__lanes mask[4];
        grpo__vector acc[4];
        for (int v = 0; v < 4; v++) {
            mask[v] = grpo__lanes_first(D - d0 - v * GRPO__LANES);
            acc[v] = grpo__vector_load_lanes(out + d0 + v * GRPO__LANES, mask[v]);
        }
        const float *value = values + d0;
        for (int j = 0; j < n; j++, value += D) {
            grpo__vector a = grpo__vector_splat(weight[j]);
            for (int v = 0; v < 4; v++) acc[v] = grpo__vector_fma(a, grpo__vector_load_lanes(value + v * GRPO__LANES, mask[v]), acc[v]);
        }
        for (int v = 0; v < 4; v++) grpo__vector_store_lanes(out + d0 + v * GRPO__LANES, mask[v], acc[v]);
    }
}
#else
static void grpo__key_scores(float *score, const float *q, float scale, const float *blocks, int n, int D) {
    int count = (n + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK;
    for (int b = 0; b < count; b++) {
        float *s = score + b * GRPO__KEY_BLOCK;
        const float *block = blocks + (size_t)b * D * GRPO__KEY_BLOCK;
        for (int j = 0; j < GRPO__KEY_BLOCK; j++) s[j] = 0.0f;
        for (int d = 0; d < D; d++) {
            float qd = q[d] * scale;
            for (int j = 0; j < GRPO__KEY_BLOCK; j++) s[j] += qd * block[(size_t)d * GRPO__KEY_BLOCK + j];
        }
    }
}
static void grpo__weighted_values(float *out, const float *weight, const float *values, int n, int D) {
    for (int j = 0; j < n; j++)
        for (int d = 0; d < D; d++) out[d] += weight[j] * values[(size_t)j * D + d];
}
#endif

/* Softmax attention of one query q (D) over n_prompt positions of its prompt and n_own of its
   own generated tokens, keys in blocks (grpo__key_scores), values (positions, D). score is
   scratch of n_prompt + n_own + 2 * GRPO__KEY_BLOCK floats. */
static void grpo__decode_attend(float *out, float *score, const float *q, int D, float scale,
                                const float *prompt_k, const float *prompt_v, int n_prompt,
                                const float *own_k, const float *own_v, int n_own) {
    int n = n_prompt + n_own;
    grpo__key_scores(score, q, scale, prompt_k, n_prompt, D);
    grpo__key_scores(score + n_prompt, q, scale, own_k, n_own, D); /* after: overwrites the prompt's tail block */
    grpo__softmax_row(score, n, n);
    for (int d = 0; d < D; d++) out[d] = 0.0f;
    grpo__weighted_values(out, score, prompt_v, n_prompt, D);
    grpo__weighted_values(out, score + n_prompt, own_v, n_own, D);
}

/* One decoding pass for n active rows: row i feeds token row_token[i] of sequence
   row_sequence[i] at position row_position[i], which is its row_step[i]-th generated token.
   Its keys and values go into the sequence's cache; it attends to its prompt's keys and values
   (put in the prompt cache by grpo__decode_prefill, prompt b = sequence / G) and to its own
   generated ones. Writes logits (n, V). The matmuls are grpo__matmul_rows, with residual adds
   and SwiGLU fused in. grpo__decode_team is the step's work, run by every thread of one parallel
   region (or, in builds without the vector kernel, by one thread outside any, its matmuls then
   parallel themselves): worksharing loops and barriers instead of a fork and join per layer
   and per matmul. */
static void grpo__decode_team(grpo_generator *gen, const grpo_model *model, int n, int G) {
    const grpo_config *c = &model->config;
    const grpo_parameters *p = &model->params;
    int C = c->d_model, V = c->vocab_size, F = c->d_ff, L = c->n_layers, H = c->n_heads, KVH = c->n_kv_heads;
    int D = model->head_size, QD = H * D, KD = KVH * D, group = H / KVH, max_new = gen->config.max_new_tokens;
    int context = c->context_length, new_blocks = (max_new + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK;
    int context_blocks = (context + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK;
    size_t S = (size_t)gen->max_sequences, max_prompts = (size_t)gen->config.max_prompts;
    float scale = 1.0f / sqrtf((float)D);
    /* the matmuls' weights: the generator's packed copy or the model's. The first step after a
       prefill packs the copy, in panels of the tile height for this step's rows. */
    int panels = 0;
    if (gen->weights) {
        panels = gen->panel_rows;
        if (!panels) {
            panels = grpo__panel_rows(n);
            grpo__decode_pack_weights(gen, model, panels);
            #pragma omp barrier
            #pragma omp master
            gen->panel_rows = panels; /* every thread has read the old value: it is before the barrier */
        }
    }
    grpo__decode_matrix matrices[GRPO__DECODE_MATRICES];
    grpo__decode_matrices(model, panels ? gen->weights : NULL, matrices);
    const float *wq = matrices[0].weight, *wk = matrices[1].weight, *wv = matrices[2].weight, *wo = matrices[3].weight;
    const float *w_gate = matrices[4].weight, *w_up = matrices[5].weight, *w_down = matrices[6].weight, *lm_head = matrices[7].weight;
    /* q, k and v read the same normalised rows: packed once (builds without the kernel pass them again) */
#ifdef GRPO__LANES
    const float *packed_again = NULL;
#else
    const float *packed_again = gen->normed;
#endif
    #pragma omp for schedule(static)
    for (int i = 0; i < n; i++)
        memcpy(gen->x + (size_t)i * C, p->token_embedding + (size_t)gen->row_token[i] * C, (size_t)C * sizeof(float));
    for (int l = 0; l < L; l++) {
        #pragma omp for schedule(static)
        for (int i = 0; i < n; i++)
            gen->rstd[i] = grpo__rmsnorm_row(gen->normed + (size_t)i * C, gen->x + (size_t)i * C, p->attn_norm + (size_t)l * C, C, c->norm_eps);
        grpo__matmul_rows_team(gen->q, gen->normed, wq + (size_t)l * QD * C, NULL, p->bq ? p->bq + (size_t)l * QD : NULL, n, C, QD, gen->packed, GRPO__ROWS_STORE, panels);
        grpo__matmul_rows_team(gen->k, packed_again, wk + (size_t)l * KD * C, NULL, p->bk ? p->bk + (size_t)l * KD : NULL, n, C, KD, gen->packed, GRPO__ROWS_STORE, panels);
        grpo__matmul_rows_team(gen->v, packed_again, wv + (size_t)l * KD * C, NULL, p->bv ? p->bv + (size_t)l * KD : NULL, n, C, KD, gen->packed, GRPO__ROWS_STORE, panels);
        /* RoPE on q and k, row by row */
        size_t own_k_size = (size_t)new_blocks * D * GRPO__KEY_BLOCK, own_v_size = (size_t)max_new * D;
        size_t prompt_k_size = (size_t)context_blocks * D * GRPO__KEY_BLOCK, prompt_v_size = (size_t)context * D;
        float *layer_k = gen->cache_k + (size_t)l * S * KVH * own_k_size, *layer_v = gen->cache_v + (size_t)l * S * KVH * own_v_size;
        const float *layer_prompt_k = gen->prompt_k + (size_t)l * max_prompts * KVH * prompt_k_size;
        const float *layer_prompt_v = gen->prompt_v + (size_t)l * max_prompts * KVH * prompt_v_size;
        #pragma omp for schedule(static)
        for (int i = 0; i < n; i++) {
            grpo__rope_row(gen->q + (size_t)i * QD, model->rope_cos, model->rope_sin, gen->row_position[i], H, D, 1.0f);
            grpo__rope_row(gen->k + (size_t)i * KD, model->rope_cos, model->rope_sin, gen->row_position[i], KVH, D, 1.0f);
        }
        /* per (row, kv head): its key and value into the sequence's cache (keys in blocks), then
           attention for the kv head's query heads; the next unit's cache is prefetched into L2 */
        #pragma omp for schedule(static)
        for (int unit = 0; unit < n * KVH; unit++) {
            int i = unit / KVH, kvh = unit % KVH, step = gen->row_step[i];
#ifdef GRPO__LANES
            if (unit + 1 < n * KVH) {
                int next_i = (unit + 1) / KVH, next_len = gen->row_step[next_i] + 1;
                size_t next = (size_t)gen->row_sequence[next_i] * KVH + (unit + 1) % KVH;
                const char *pk = (const char *)(layer_k + next * own_k_size), *pv = (const char *)(layer_v + next * own_v_size);
                size_t kbytes = (size_t)((next_len + GRPO__KEY_BLOCK - 1) / GRPO__KEY_BLOCK) * D * GRPO__KEY_BLOCK * sizeof(float);
                size_t vbytes = (size_t)next_len * D * sizeof(float);
                for (size_t o = 0; o < kbytes; o += 64) _mm_prefetch(pk + o, _MM_HINT_T1);
                for (size_t o = 0; o < vbytes; o += 64) _mm_prefetch(pv + o, _MM_HINT_T1);
            }
#endif
            int sequence = gen->row_sequence[i], b = sequence / G;
            size_t own = (size_t)sequence * KVH + kvh, prompt = (size_t)b * KVH + kvh;
            float *key = layer_k + own * own_k_size + ((size_t)(step / GRPO__KEY_BLOCK) * D) * GRPO__KEY_BLOCK + step % GRPO__KEY_BLOCK;
            const float *k = gen->k + (size_t)i * KD + (size_t)kvh * D;
            for (int d = 0; d < D; d++) key[(size_t)d * GRPO__KEY_BLOCK] = k[d];
            memcpy(layer_v + own * own_v_size + (size_t)step * D, gen->v + (size_t)i * KD + (size_t)kvh * D, (size_t)D * sizeof(float));
            for (int h = kvh * group; h < (kvh + 1) * group; h++)
                grpo__decode_attend(gen->att_out + (size_t)i * QD + (size_t)h * D, gen->scores + ((size_t)i * H + h) * (context + 2 * GRPO__KEY_BLOCK),
                                    gen->q + (size_t)i * QD + (size_t)h * D, D, scale,
                                    layer_prompt_k + prompt * prompt_k_size, layer_prompt_v + prompt * prompt_v_size, gen->prompt_lengths[b],
                                    layer_k + own * own_k_size, layer_v + own * own_v_size, step + 1);
        }
        grpo__matmul_rows_team(gen->x, gen->att_out, wo + (size_t)l * C * QD, NULL, NULL, n, QD, C, gen->packed, GRPO__ROWS_ADD, panels);
        #pragma omp for schedule(static)
        for (int i = 0; i < n; i++)
            gen->rstd[i] = grpo__rmsnorm_row(gen->normed + (size_t)i * C, gen->x + (size_t)i * C, p->mlp_norm + (size_t)l * C, C, c->norm_eps);
        grpo__matmul_rows_team(gen->hidden, gen->normed, w_gate + (size_t)l * F * C, w_up + (size_t)l * F * C, NULL, n, C, F, gen->packed, GRPO__ROWS_SWIGLU, panels);
        grpo__matmul_rows_team(gen->x, NULL, w_down + (size_t)l * C * F, NULL, NULL, n, F, C, gen->hidden, GRPO__ROWS_ADD, panels);
    }
    #pragma omp for schedule(static)
    for (int i = 0; i < n; i++)
        gen->rstd[i] = grpo__rmsnorm_row(gen->normed + (size_t)i * C, gen->x + (size_t)i * C, p->final_norm, C, c->norm_eps);
    grpo__matmul_rows_team(gen->logits, gen->normed, lm_head, NULL, NULL, n, C, V, gen->packed, GRPO__ROWS_STORE, panels);
}

static void grpo__decode_step(grpo_generator *gen, const grpo_model *model, int n, int G) {
#ifdef GRPO__LANES
    #pragma omp parallel
    grpo__decode_team(gen, model, n, G);
#else
    grpo__decode_team(gen, model, n, G);
#endif
}

/* Does text (the completion's last bytes) end inside the window of the newest token with one of
   the stop strings? Only windows that include new bytes are searched, so a stop string is found
   once, at the token that completes it. */
static int grpo__ends_with_stop(const char *tail, int tail_length, int new_bytes, const grpo_sampling_config *s) {
    for (int k = 0; k < s->n_stop_strings; k++) {
        int len = (int)strlen(s->stop_strings[k]);
        int first = tail_length - new_bytes - len + 1; /* earliest start that overlaps the new bytes */
        if (first < 0) first = 0;
        for (int start = first; start + len <= tail_length; start++)
            if (memcmp(tail + start, s->stop_strings[k], (size_t)len) == 0) return 1;
    }
    return 0;
}

static grpo_result grpo__sampling_resolve(grpo_sampling_config *s, const grpo_generator *gen, int vocab_size) {
    if (s->temperature != 0.0f && (!(s->temperature >= GRPO_MIN_TEMPERATURE) || isinf(s->temperature)))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.temperature = %g: expected 0 (the default 1.0) or a finite number >= %g (for greedy decoding set greedy = 1)",
                          (double)s->temperature, (double)GRPO_MIN_TEMPERATURE);
    s->temperature = GRPO__DEFAULT(s->temperature, 1.0f);
    if (isnan(s->top_p) || s->top_p < 0.0f || s->top_p > 1.0f)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.top_p = %g: expected a number in (0, 1] (0 means the default 1.0)", (double)s->top_p);
    s->top_p = GRPO__DEFAULT(s->top_p, 1.0f);
    if (s->top_k < 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.top_k = %d: expected >= 0 (0: no top-k filter)", s->top_k);
    if (s->greedy != 0 && s->greedy != 1) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.greedy = %d: expected 0 or 1", s->greedy);
    s->max_new_tokens = GRPO__DEFAULT(s->max_new_tokens, gen->config.max_new_tokens);
    if (s->max_new_tokens < 1 || s->max_new_tokens > gen->config.max_new_tokens)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.max_new_tokens = %d: expected 1 to the generator's max_new_tokens = %d", s->max_new_tokens, gen->config.max_new_tokens);
    if (s->eos_id == 0) s->eos_id = s->tokenizer ? s->tokenizer->eos_id : GRPO_BYTE_EOS;
    if (s->eos_id < -1 || s->eos_id >= vocab_size)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.eos_id = %d: expected -1 (none) or a token id below vocab_size = %d", s->eos_id, vocab_size);
    if (s->n_stop_strings < 0 || s->n_stop_strings > GRPO_MAX_STOP_STRINGS || (s->n_stop_strings > 0 && !s->stop_strings))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.n_stop_strings = %d with stop_strings %s: expected 0 to %d strings, and stop_strings set if any",
                          s->n_stop_strings, s->stop_strings ? "set" : "NULL", GRPO_MAX_STOP_STRINGS);
    if (s->n_stop_strings > 0 && (!s->tokenizer || !s->tokenizer->decode))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling: stop strings need sampling.tokenizer to see the text of tokens");
    for (int k = 0; k < s->n_stop_strings; k++) {
        size_t len = s->stop_strings[k] ? strlen(s->stop_strings[k]) : 0;
        if (len == 0 || len > GRPO__TAIL / 2)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sampling.stop_strings[%d]: expected 1 to %d bytes, got %zu", k, GRPO__TAIL / 2, len);
    }
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_generate(grpo_generator *gen, grpo_model *model, const int *prompts,
                                  const int *prompt_lengths, int n_prompts, int T, int group_size,
                                  const grpo_sampling_config *sampling, const grpo_completions **completions) {
    if (!gen || !gen->float_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "generate: the generator is not created");
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "generate: the model is not created");
    if (memcmp(&gen->model_config, &model->config, sizeof model->config) != 0)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: the generator was made for a model of another config");
    if (!prompts || !prompt_lengths || !sampling || !completions)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: prompts, prompt_lengths, sampling and completions must not be NULL");
    const grpo_config *c = &model->config;
    if (n_prompts < 1 || n_prompts > gen->config.max_prompts)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: %d prompts: expected 1 to the generator's max_prompts = %d", n_prompts, gen->config.max_prompts);
    if (group_size < 1 || group_size > gen->config.max_group_size)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: group_size = %d: expected 1 to the generator's max_group_size = %d", group_size, gen->config.max_group_size);
    if (T < 1 || T > c->context_length)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: prompt width T = %d: expected 1 to context_length = %d", T, c->context_length);
    grpo_sampling_config s = *sampling;
    grpo_result r = grpo__sampling_resolve(&s, gen, c->vocab_size);
    if (r) return r;
    for (int b = 0; b < n_prompts; b++) {
        int len = prompt_lengths[b];
        if (len < 1 || len > T)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: prompt %d has length %d: expected 1 to T = %d (an empty prompt has no next-token distribution)", b, len, T);
        if (len + s.max_new_tokens > c->context_length)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: prompt %d has %d tokens; with max_new_tokens = %d that exceeds context_length = %d", b, len, s.max_new_tokens, c->context_length);
        for (int t = 0; t < len; t++)
            if (prompts[(size_t)b * T + t] < 0 || prompts[(size_t)b * T + t] >= c->vocab_size)
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: prompt %d, token %d is %d, outside the vocabulary [0, %d)", b, t, prompts[(size_t)b * T + t], c->vocab_size);
    }
    /* padding positions may hold anything; the prefill forward needs valid ids there */
    int *clean = (int *)GRPO_MALLOC((size_t)n_prompts * T * sizeof(int));
    if (!clean) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "generate: could not allocate the prompt copy");
    for (int b = 0; b < n_prompts; b++)
        for (int t = 0; t < T; t++) clean[(size_t)b * T + t] = t < prompt_lengths[b] ? prompts[(size_t)b * T + t] : 0;
    /* the prefill keeps every layer's keys and values, even on a frozen model */
    r = grpo__check_forward(model, clean, clean, prompt_lengths, n_prompts, T, s.temperature, gen->prefill_logprobs);
    if (!r) r = grpo__forward(model, clean, clean, prompt_lengths, n_prompts, T, 0, NULL, s.temperature, gen->prefill_logprobs, NULL, 1);
    GRPO_FREE(clean);
    if (r) return r;
    grpo__decode_prefill(gen, model, n_prompts, T, prompt_lengths);

    int S = n_prompts * group_size, V = c->vocab_size, max_new = s.max_new_tokens;
    grpo_completions *out = &gen->completions;
    out->n_prompts = n_prompts;
    out->group_size = group_size;
    out->n_sequences = S;
    out->max_new_tokens = max_new;
    memset(out->tokens, 0, (size_t)S * max_new * sizeof(int));
    memset(out->logprobs, 0, (size_t)S * max_new * sizeof(float));
    memset(out->mask, 0, (size_t)S * max_new * sizeof(float));
    for (int i = 0; i < S; i++) {
        int b = i / group_size;
        gen->rngs[i] = grpo__sequence_rng(s.seed, s.prompt_seeds ? s.prompt_seeds[b] : (uint64_t)b, i % group_size);
        gen->row_sequence[i] = i;
        gen->tail_lengths[i] = 0;
        out->lengths[i] = 0;
        out->truncated[i] = 0;
    }
    grpo_result failure = GRPO_SUCCESS;
    int n = S;
    for (int step = 0; step < max_new && n > 0; step++) {
        /* sample the next token of every active row; rows are independent */
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            int thread = 0;
#ifdef _OPENMP
            thread = omp_get_thread_num();
#endif
            int sequence = gen->row_sequence[i], b = sequence / group_size;
            const float *logits = step == 0 ? model->acts.logits + (size_t)model->acts.row_of[(size_t)b * T + prompt_lengths[b] - 1] * V : gen->logits + (size_t)i * V;
            float lp;
            int token = grpo__sample_token(logits, V, &s, &gen->rngs[sequence], gen->sample_probs + (size_t)thread * V,
                                           (grpo__candidate *)gen->sample_candidates + (size_t)thread * V, &lp);
            size_t at = (size_t)sequence * max_new + step;
            out->tokens[at] = token;
            out->logprobs[at] = lp;
            out->mask[at] = 1.0f;
            out->lengths[sequence] = step + 1;
            gen->row_token[i] = token;
        }
        /* which rows stop here: EOS, a stop string, or the length limit */
        int next = 0;
        for (int i = 0; i < n; i++) {
            int sequence = gen->row_sequence[i], token = gen->row_token[i], stop = token == s.eos_id;
            if (!stop && s.n_stop_strings > 0) {
                char piece[GRPO__TAIL];
                size_t bytes = 0;
                if (s.tokenizer->decode(s.tokenizer, &token, 1, piece, sizeof piece, &bytes) != GRPO_SUCCESS) {
                    failure = grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "generate: the tokenizer could not decode token %d (%s)", token, grpo_last_error());
                    break;
                }
                /* keep the newest GRPO__TAIL bytes; a piece is shorter than that (decode's capacity) */
                char *tail = gen->tails + (size_t)sequence * GRPO__TAIL;
                int have = gen->tail_lengths[sequence], add = (int)bytes;
                if (have + add > GRPO__TAIL) {
                    int drop = have + add - GRPO__TAIL;
                    memmove(tail, tail + drop, (size_t)(have - drop));
                    have -= drop;
                }
                memcpy(tail + have, piece, (size_t)add);
                have += add;
                gen->tail_lengths[sequence] = have;
                stop = grpo__ends_with_stop(tail, have, add, &s);
            }
            if (!stop && step + 1 == max_new) out->truncated[sequence] = 1;
            if (!stop && step + 1 < max_new) {
                int b = sequence / group_size;
                gen->next_rows[next] = sequence;
                gen->row_token[next] = token;
                gen->row_position[next] = prompt_lengths[b] + step;
                gen->row_step[next] = step;
                next++;
            }
        }
        if (failure) break;
        memcpy(gen->row_sequence, gen->next_rows, (size_t)next * sizeof(int));
        n = next;
        if (n > 0) grpo__decode_step(gen, model, n, group_size);
    }
    if (failure) return failure;
    *completions = out;
    return GRPO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
   9. Rewards */

/* First occurrence of needle in text[from, len), or -1. */
static long grpo__find(const char *text, size_t len, size_t from, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0 || len < n) return -1;
    for (size_t i = from; i + n <= len; i++)
        if (text[i] == needle[0] && memcmp(text + i, needle, n) == 0) return (long)i;
    return -1;
}

/* Last occurrence of needle that starts before `before`, or -1. */
static long grpo__find_last(const char *text, size_t before, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = before; i-- > 0;)
        if (text[i] == needle[0] && memcmp(text + i, needle, n) == 0) return (long)i;
    return -1;
}

static size_t grpo__count(const char *text, size_t len, const char *needle) {
    size_t count = 0, n = strlen(needle);
    for (long at = grpo__find(text, len, 0, needle); at >= 0; at = grpo__find(text, len, (size_t)at + n, needle)) count++;
    return count;
}

static int grpo__is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Positions of the four tags if each occurs exactly once, in order, <think> first and
   </answer> last; 0 otherwise. */
static int grpo__format_tags(const char *text, size_t len, long *think_close, long *answer_open, long *answer_close) {
    static const char *tags[4] = {"<think>", "</think>", "<answer>", "</answer>"};
    for (int i = 0; i < 4; i++) if (grpo__count(text, len, tags[i]) != 1) return 0;
    long think_open = grpo__find(text, len, 0, "<think>");
    *think_close = grpo__find(text, len, 0, "</think>");
    *answer_open = grpo__find(text, len, 0, "<answer>");
    *answer_close = grpo__find(text, len, 0, "</answer>");
    if (think_open != 0 || *think_close < 7 || *answer_open < *think_close + 8 || *answer_close < *answer_open + 8) return 0;
    return (size_t)*answer_close + 9 == len;
}

GRPODEF float grpo_reward_format(const char *text, size_t len) {
    long think_close, answer_open, answer_close;
    if (!text || !grpo__format_tags(text, len, &think_close, &answer_open, &answer_close)) return 0.0f;
    for (long i = think_close + 8; i < answer_open; i++) if (!grpo__is_space(text[i])) return 0.0f;
    return 1.0f;
}

GRPODEF float grpo_reward_format_strict(const char *text, size_t len) {
    long think_close, answer_open, answer_close;
    if (!text || !grpo__format_tags(text, len, &think_close, &answer_open, &answer_close)) return 0.0f;
    /* <think>\n .* \n</think>\n<answer>\n .* \n</answer> */
    int ok = len > 8 && text[7] == '\n' && think_close >= 9 && text[think_close - 1] == '\n' &&
             text[think_close + 8] == '\n' && answer_open == think_close + 9 && text[answer_open + 8] == '\n' &&
             answer_close >= answer_open + 10 && text[answer_close - 1] == '\n';
    return ok ? 1.0f : 0.0f;
}

GRPODEF float grpo_reward_tag_count(const char *text, size_t len) {
    static const char *tags[4] = {"<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"};
    float reward = 0.0f;
    for (int i = 0; i < 4 && text; i++) if (grpo__count(text, len, tags[i]) == 1) reward += 0.25f;
    return reward;
}

/* The content of the last <answer>...</answer>: 1 and its span, or 0 if there is none. */
static int grpo__answer_span(const char *text, size_t len, size_t *start, size_t *end) {
    if (!text) return 0;
    long close = grpo__find_last(text, len >= 9 ? len - 8 : 0, "</answer>");
    if (close < 0) return 0;
    long open = grpo__find_last(text, (size_t)close >= 7 ? (size_t)close - 7 : 0, "<answer>");
    if (open < 0) return 0;
    *start = (size_t)open + 8;
    *end = (size_t)close;
    return 1;
}

static void grpo__trim(const char *text, size_t *start, size_t *end) {
    while (*start < *end && grpo__is_space(text[*start])) (*start)++;
    while (*end > *start && grpo__is_space(text[*end - 1])) (*end)--;
}

/* An unsigned integer with optional thousands commas ("1,234,567"); the first group has 1-3
   digits when commas are used. Advances *at; 0 if there are no digits or the commas are off. */
static int grpo__parse_digits(const char *s, size_t end, size_t *at, double *value, int allow_commas) {
    size_t i = *at, group = 0;
    int digits = 0, commas = 0;
    double v = 0.0;
    while (i < end) {
        if (s[i] >= '0' && s[i] <= '9') { v = v * 10.0 + (s[i] - '0'); digits++; group++; i++; }
        else if (allow_commas && s[i] == ',' && digits > 0 && i + 1 < end && s[i + 1] >= '0' && s[i + 1] <= '9') {
            if ((commas == 0 && group > 3) || (commas > 0 && group != 3)) return 0;
            commas++; group = 0; i++;
        } else break;
    }
    if (digits == 0 || (commas > 0 && group != 3)) return 0;
    *at = i;
    *value = v;
    return 1;
}

/* A number in s[start, end) as a whole: [sign] digits[.digits] | [sign].digits | [sign] a/b.
   0 if it is not one, or if it overflows. */
static int grpo__parse_number(const char *s, size_t start, size_t end, double *out) {
    size_t i = start;
    double sign = 1.0, value = 0.0;
    if (i < end && (s[i] == '+' || s[i] == '-')) { if (s[i] == '-') sign = -1.0; i++; }
    if (i == end) return 0; /* empty, or a lone sign: not the number 0 */
    int has_integer = s[i] != '.';
    if (has_integer && (!grpo__parse_digits(s, end, &i, &value, 1) || !isfinite(value))) return 0;
    if (has_integer && i < end && s[i] == '/') {
        double denominator;
        i++;
        /* an overflowing denominator would turn the fraction into 0: not a number */
        if (!grpo__parse_digits(s, end, &i, &denominator, 1) || i != end || denominator == 0.0 || !isfinite(denominator)) return 0;
        value /= denominator;
    } else if (i < end && s[i] == '.') {
        i++;
        double scale = 1.0, fraction = 0.0;
        size_t first = i;
        while (i < end && s[i] >= '0' && s[i] <= '9') { fraction = fraction * 10.0 + (s[i] - '0'); scale *= 10.0; i++; }
        if (!has_integer && i == first) return 0; /* a lone "." */
        if (!isfinite(scale) || !isfinite(fraction)) return 0; /* beyond a double's digits: 1e-401 is not 0 */
        value += fraction / scale;
    }
    if (i != end || !isfinite(value)) return 0;
    *out = sign * value;
    return 1;
}

/* The accuracy reward's equality of a[a_start, a_end) and b[b_start, b_end), both trimmed here. */
static int grpo__answers_equal(const char *a, size_t a_start, size_t a_end, const char *b, size_t b_start, size_t b_end) {
    grpo__trim(a, &a_start, &a_end);
    grpo__trim(b, &b_start, &b_end);
    double x, y;
    if (grpo__parse_number(a, a_start, a_end, &x) && grpo__parse_number(b, b_start, b_end, &y)) {
        double scale = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
        return fabs(x - y) <= 1e-6 * scale;
    }
    return a_end - a_start == b_end - b_start && memcmp(a + a_start, b + b_start, a_end - a_start) == 0;
}

GRPODEF float grpo_reward_accuracy(const char *text, size_t len, const char *gold) {
    size_t start, end;
    if (!gold || !grpo__answer_span(text, len, &start, &end)) return 0.0f;
    return grpo__answers_equal(text, start, end, gold, 0, strlen(gold)) ? 1.0f : 0.0f;
}

GRPODEF int grpo_extract_answer(const char *text, size_t len, size_t *start, size_t *end) {
    size_t s, e;
    if (!start || !end || !grpo__answer_span(text, len, &s, &e)) return 0;
    grpo__trim(text, &s, &e);
    *start = s;
    *end = e;
    return 1;
}

GRPODEF int grpo_answers_equal(const char *a, size_t a_len, const char *b, size_t b_len) {
    if (!a || !b) return 0;
    return grpo__answers_equal(a, 0, a_len, b, 0, b_len);
}

/* Countdown expressions: a recursive-descent parser and evaluator over doubles. */
enum { GRPO__MAX_LITERALS = 64, GRPO__MAX_DEPTH = 64 };
typedef struct {
    const char *s;
    size_t at, end;
    int depth, failed, divided_by_zero, n_literals;
    double literals[GRPO__MAX_LITERALS];
} grpo__expression;

static void grpo__skip_spaces(grpo__expression *e) { while (e->at < e->end && e->s[e->at] == ' ') e->at++; }
static double grpo__parse_sum(grpo__expression *e);

static double grpo__parse_factor(grpo__expression *e) {
    grpo__skip_spaces(e);
    if (e->failed || e->at >= e->end) { e->failed = 1; return 0.0; }
    if (++e->depth > GRPO__MAX_DEPTH) { e->failed = 1; return 0.0; }
    double value = 0.0;
    char c = e->s[e->at];
    if (c == '-' || c == '+') {
        e->at++;
        value = grpo__parse_factor(e);
        if (c == '-') value = -value;
    } else if (c == '(') {
        e->at++;
        value = grpo__parse_sum(e);
        grpo__skip_spaces(e);
        if (e->at < e->end && e->s[e->at] == ')') e->at++;
        else e->failed = 1;
    } else if (c >= '0' && c <= '9') {
        int digits = 0;
        while (e->at < e->end && e->s[e->at] >= '0' && e->s[e->at] <= '9') { value = value * 10.0 + (e->s[e->at] - '0'); e->at++; digits++; }
        if (digits > 15 || e->n_literals == GRPO__MAX_LITERALS) e->failed = 1; /* beyond exact doubles, or absurdly many */
        else e->literals[e->n_literals++] = value;
    } else {
        e->failed = 1;
    }
    e->depth--;
    return value;
}

static double grpo__parse_product(grpo__expression *e) {
    double value = grpo__parse_factor(e);
    for (;;) {
        grpo__skip_spaces(e);
        if (e->failed || e->at >= e->end || (e->s[e->at] != '*' && e->s[e->at] != '/')) return value;
        char op = e->s[e->at++];
        double right = grpo__parse_factor(e);
        if (op == '*') value *= right;
        else if (right == 0.0) e->divided_by_zero = 1;
        else value /= right;
    }
}

static double grpo__parse_sum(grpo__expression *e) {
    if (++e->depth > GRPO__MAX_DEPTH) { e->failed = 1; return 0.0; }
    double value = grpo__parse_product(e);
    for (;;) {
        grpo__skip_spaces(e);
        if (e->failed || e->at >= e->end || (e->s[e->at] != '+' && e->s[e->at] != '-')) break;
        char op = e->s[e->at++];
        double right = grpo__parse_product(e);
        value = op == '+' ? value + right : value - right;
    }
    e->depth--;
    return value;
}

static int grpo__compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

GRPODEF float grpo_reward_countdown(const char *text, size_t len, const char *gold) {
    /* gold: "n1 n2 ... = target" */
    double numbers[GRPO__MAX_LITERALS], target;
    int n_numbers = 0;
    if (!gold) return NAN;
    size_t at = 0, gold_len = strlen(gold);
    for (;;) {
        while (at < gold_len && grpo__is_space(gold[at])) at++;
        if (at < gold_len && gold[at] == '=') break;
        if (n_numbers == GRPO__MAX_LITERALS || !grpo__parse_digits(gold, gold_len, &at, &numbers[n_numbers], 0)) return NAN;
        n_numbers++;
    }
    at++;
    while (at < gold_len && grpo__is_space(gold[at])) at++;
    int negative = at < gold_len && gold[at] == '-';
    if (negative) at++;
    if (n_numbers == 0 || !grpo__parse_digits(gold, gold_len, &at, &target, 0)) return NAN;
    while (at < gold_len && grpo__is_space(gold[at])) at++;
    if (at != gold_len) return NAN;
    if (negative) target = -target;

    size_t start, end;
    if (!grpo__answer_span(text, len, &start, &end)) return 0.0f;
    grpo__trim(text, &start, &end);
    grpo__expression e;
    memset(&e, 0, sizeof e);
    e.s = text; e.at = start; e.end = end;
    double value = grpo__parse_sum(&e);
    grpo__skip_spaces(&e);
    if (e.failed || e.at != e.end || e.divided_by_zero || !isfinite(value) || e.n_literals != n_numbers) return 0.1f;
    qsort(e.literals, (size_t)e.n_literals, sizeof(double), grpo__compare_doubles);
    qsort(numbers, (size_t)n_numbers, sizeof(double), grpo__compare_doubles);
    for (int i = 0; i < n_numbers; i++) if (e.literals[i] != numbers[i]) return 0.1f;
    return fabs(value - target) < 1e-5 ? 1.0f : 0.1f;
}

GRPODEF float grpo_reward_overlong(int tokens, int max_tokens, int buffer) {
    if (buffer <= 0 || buffer > max_tokens) return NAN;
    int start = max_tokens - buffer;
    if (tokens <= start) return 0.0f;
    if (tokens <= max_tokens) return (float)(start - tokens) / (float)buffer;
    return -1.0f;
}

GRPODEF const char *grpo_reward_name(const grpo_reward *reward) {
    if (reward->name) return reward->name;
    switch (reward->kind) {
    case GRPO_REWARD_FORMAT: return "format";
    case GRPO_REWARD_FORMAT_STRICT: return "format_strict";
    case GRPO_REWARD_TAG_COUNT: return "tag_count";
    case GRPO_REWARD_ACCURACY: return "accuracy";
    case GRPO_REWARD_COUNTDOWN: return "countdown";
    case GRPO_REWARD_OVERLONG: return "overlong";
    case GRPO_REWARD_CALLBACK: return "user";
    }
    return "unknown";
}

GRPODEF grpo_result grpo_reward_validate(const grpo_reward *rewards, int n_rewards) {
    if (n_rewards < 1 || !rewards) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards: expected at least one reward, got %d", n_rewards);
    if (n_rewards > GRPO_MAX_REWARDS) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards: %d rewards: expected at most GRPO_MAX_REWARDS = %d", n_rewards, GRPO_MAX_REWARDS);
    for (int k = 0; k < n_rewards; k++) {
        const grpo_reward *r = &rewards[k];
        if (r->kind < GRPO_REWARD_FORMAT || r->kind > GRPO_REWARD_CALLBACK)
            return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards[%d].kind = %d is not a grpo_reward_kind", k, (int)r->kind);
        if (!isfinite(r->weight)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards[%d].weight is not finite", k);
        if (r->kind == GRPO_REWARD_CALLBACK && !r->function) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards[%d]: a callback reward needs .function", k);
        if (r->kind == GRPO_REWARD_OVERLONG && (r->overlong_max_tokens < 1 || r->overlong_buffer < 1 || r->overlong_buffer > r->overlong_max_tokens))
            return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rewards[%d]: overlong needs 1 <= overlong_buffer (%d) <= overlong_max_tokens (%d)", k, r->overlong_buffer, r->overlong_max_tokens);
    }
    return GRPO_SUCCESS;
}

GRPODEF float grpo_reward_completion(const grpo_reward *rewards, int n_rewards, const char *prompt,
                                     const char *completion, size_t completion_len, int completion_tokens,
                                     const char *gold, float *values) {
    double total = 0.0;
    int opinions = 0;
    for (int k = 0; k < n_rewards; k++) {
        const grpo_reward *r = &rewards[k];
        float v = NAN;
        switch (r->kind) {
        case GRPO_REWARD_FORMAT: v = grpo_reward_format(completion, completion_len); break;
        case GRPO_REWARD_FORMAT_STRICT: v = grpo_reward_format_strict(completion, completion_len); break;
        case GRPO_REWARD_TAG_COUNT: v = grpo_reward_tag_count(completion, completion_len); break;
        case GRPO_REWARD_ACCURACY: v = grpo_reward_accuracy(completion, completion_len, gold); break;
        case GRPO_REWARD_COUNTDOWN: v = grpo_reward_countdown(completion, completion_len, gold); break;
        case GRPO_REWARD_OVERLONG: v = grpo_reward_overlong(completion_tokens, r->overlong_max_tokens, r->overlong_buffer); break;
        case GRPO_REWARD_CALLBACK: v = r->function(prompt, completion, gold, r->user); break;
        }
        if (values) values[k] = v;
        if (!isnan(v)) { total += (double)(r->weight == 0.0f ? 1.0f : r->weight) * v; opinions++; }
    }
    return opinions ? (float)total : NAN;
}

/* ---------------------------------------------------------------------------------------
   10. Advantages and the GRPO loss */
GRPODEF int grpo_advantages(const float *rewards, int n_groups, int group_size, grpo_scale_rewards scale,
                            int population_std, float *advantages) {
    const double eps_std = 1e-4;
    int zero_std = 0;
    double batch_sum = 0.0, batch_sq = 0.0;
    int batch_n = 0;
    for (int i = 0; i < n_groups * group_size; i++)
        if (!isnan(rewards[i])) { batch_sum += rewards[i]; batch_n++; }
    double batch_mean = batch_n ? batch_sum / batch_n : 0.0;
    for (int i = 0; i < n_groups * group_size; i++)
        if (!isnan(rewards[i])) batch_sq += (rewards[i] - batch_mean) * (rewards[i] - batch_mean);
    int batch_dof = population_std ? batch_n : batch_n - 1;
    double batch_std = batch_dof > 0 ? sqrt(batch_sq / batch_dof) : 0.0;
    for (int g = 0; g < n_groups; g++) {
        const float *r = rewards + (size_t)g * group_size;
        float *a = advantages + (size_t)g * group_size;
        double sum = 0.0, sq = 0.0;
        int n = 0, all_equal = 1;
        float first = NAN;
        for (int i = 0; i < group_size; i++) {
            if (isnan(r[i])) continue;
            if (n == 0) first = r[i];
            else if (r[i] != first) all_equal = 0;
            sum += r[i];
            n++;
        }
        double mean = n ? sum / n : 0.0;
        for (int i = 0; i < group_size; i++) if (!isnan(r[i])) sq += (r[i] - mean) * (r[i] - mean);
        int dof = population_std ? n : n - 1;
        double std = dof > 0 ? sqrt(sq / dof) : 0.0;
        if (all_equal) zero_std++;
        for (int i = 0; i < group_size; i++) {
            if (isnan(r[i])) { a[i] = 0.0f; continue; }
            double centred = r[i] - mean;
            a[i] = (float)(scale == GRPO_SCALE_NONE ? centred : scale == GRPO_SCALE_BATCH ? centred / (batch_std + eps_std) : centred / (std + eps_std));
        }
    }
    return zero_std;
}

GRPODEF grpo_loss_config grpo_loss_config_resolve(const grpo_loss_config *config) {
    grpo_loss_config c = *config;
    c.epsilon_low = GRPO__DEFAULT(c.epsilon_low, 0.2f);
    c.epsilon_high = GRPO__DEFAULT(c.epsilon_high, c.epsilon_low);
    return c;
}

GRPODEF grpo_result grpo_loss_config_validate(const grpo_loss_config *config) {
    grpo_loss_config c = grpo_loss_config_resolve(config);
    if ((unsigned)c.loss_type > GRPO_LOSS_DR_GRPO) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.loss_type = %d is not a grpo_loss_type", (int)c.loss_type);
    if ((unsigned)c.kl_estimator > GRPO_KL_K3_IMPORTANCE) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.kl_estimator = %d is not a grpo_kl_estimator", (int)c.kl_estimator);
    if (!(c.epsilon_low > 0.0f && c.epsilon_low < 1.0f)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.epsilon_low = %g: expected (0, 1)", (double)c.epsilon_low);
    if (!(c.epsilon_high > 0.0f) || !isfinite(c.epsilon_high)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.epsilon_high = %g: expected a finite number > 0", (double)c.epsilon_high);
    if (!(c.dual_clip == 0.0f || (c.dual_clip > 1.0f && isfinite(c.dual_clip)))) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.dual_clip = %g: expected 0 (off) or a finite c > 1", (double)c.dual_clip);
    if (!(c.beta >= 0.0f) || !isfinite(c.beta)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "loss.beta = %g: expected a finite number >= 0", (double)c.beta);
    return GRPO_SUCCESS;
}

GRPODEF float grpo_loss(const grpo_loss_config *config, const grpo_loss_scale *scale, const float *logprobs,
                        const float *old_logprobs, const float *ref_logprobs, const float *advantages,
                        const float *mask, int N, int T, float *dlogprobs, grpo_loss_stats *stats) {
    grpo_loss_config c = grpo_loss_config_resolve(config);
    int use_kl = c.beta > 0.0f && ref_logprobs;
    double micro_tokens = 0.0;
    for (size_t i = 0; i < (size_t)N * T; i++) micro_tokens += mask[i];
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        double length = 0.0;
        for (int t = 0; t < T; t++) length += mask[(size_t)i * T + t];
        /* the weight of one token of this sequence in the step's loss */
        double weight = 0.0;
        switch (c.loss_type) {
        case GRPO_LOSS_GRPO: weight = length > 0.0 ? 1.0 / (length * scale->total_sequences) : 0.0; break;
        case GRPO_LOSS_BNPO: weight = micro_tokens > 0.0 ? 1.0 / (micro_tokens * scale->n_micro_batches) : 0.0; break;
        case GRPO_LOSS_DAPO: weight = scale->total_tokens > 0.0 ? 1.0 / scale->total_tokens : 0.0; break;
        case GRPO_LOSS_DR_GRPO: weight = 1.0 / ((double)scale->total_sequences * scale->max_completion_tokens); break;
        }
        double A = advantages[i];
        for (int t = 0; t < T; t++) {
            size_t k = (size_t)i * T + t;
            if (mask[k] == 0.0f) { dlogprobs[k] = 0.0f; continue; }
            double lp = logprobs[k], rho = exp(lp - old_logprobs[k]);
            double clipped = rho < 1.0 - c.epsilon_low ? 1.0 - c.epsilon_low : rho > 1.0 + c.epsilon_high ? 1.0 + c.epsilon_high : rho;
            double unclipped_loss = -rho * A, clipped_loss = -clipped * A;
            /* the max of the two; on a tie the unclipped branch, whose gradient is -rho A */
            double pg = unclipped_loss >= clipped_loss ? unclipped_loss : clipped_loss;
            double dpg = unclipped_loss >= clipped_loss ? -rho * A : 0.0;
            if (c.dual_clip > 0.0f && A < 0.0 && pg > -c.dual_clip * A) { pg = -c.dual_clip * A; dpg = 0.0; }
            double l = pg, dl = dpg, kl = 0.0;
            if (use_kl) {
                double d = ref_logprobs[k] - lp, dkl;
                switch (c.kl_estimator) {
                case GRPO_KL_K1: kl = -d; dkl = 1.0; break;
                case GRPO_KL_K2: kl = 0.5 * d * d; dkl = -d; break;
                case GRPO_KL_K3_IMPORTANCE: {
                    double k3 = exp(d) - d - 1.0;
                    kl = rho * k3;
                    dkl = rho * k3 + rho * (1.0 - exp(d)); /* d(rho k3)/d lp, rho = exp(lp - lp_old) */
                    break;
                }
                default: kl = exp(d) - d - 1.0; dkl = 1.0 - exp(d); break;
                }
                l += c.beta * kl;
                dl += c.beta * dkl;
            }
            double w = weight * mask[k];
            total += w * l;
            dlogprobs[k] = (float)(w * dl);
            if (stats) {
                stats->tokens += mask[k];
                stats->kl += mask[k] * kl;
                if (rho < 1.0 - c.epsilon_low && A < 0.0) stats->low_clipped += mask[k];
                if (rho > 1.0 + c.epsilon_high && A > 0.0) stats->high_clipped += mask[k];
            }
        }
    }
    return (float)total;
}

/* ---------------------------------------------------------------------------------------
   11. Supervised loss */
GRPODEF float grpo_sft_loss(const float *logprobs, const float *mask, int B, int T, float *dlogprobs) {
    size_t N = (size_t)B * T;
    double count = 0.0, sum = 0.0;
    for (size_t i = 0; i < N; i++) {
        float m = mask ? mask[i] : 1.0f;
        count += m;
        sum -= (double)m * logprobs[i];
    }
    float inv = count > 0.0 ? (float)(1.0 / count) : 0.0f;
    if (dlogprobs)
        for (size_t i = 0; i < N; i++) dlogprobs[i] = -(mask ? mask[i] : 1.0f) * inv;
    return count > 0.0 ? (float)(sum / count) : 0.0f;
}

/* ---------------------------------------------------------------------------------------
   12. AdamW */
GRPODEF grpo_adamw_config grpo_adamw_config_resolve(const grpo_adamw_config *config) {
    grpo_adamw_config c = *config;
    c.learning_rate = GRPO__DEFAULT(c.learning_rate, 3e-4f);
    c.beta1 = GRPO__DEFAULT(c.beta1, 0.9f);
    c.beta2 = GRPO__DEFAULT(c.beta2, 0.999f);
    c.epsilon = GRPO__DEFAULT(c.epsilon, 1e-8f);
    c.max_grad_norm = GRPO__DEFAULT(c.max_grad_norm, 1.0f);
    return c;
}

static grpo_result grpo__adamw_validate(const grpo_adamw_config *c) {
    if (!(c->learning_rate > 0.0f) || !isfinite(c->learning_rate))
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.learning_rate = %g: expected a finite number > 0", (double)c->learning_rate);
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.beta1 = %g: expected [0, 1)", (double)c->beta1);
    if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.beta2 = %g: expected [0, 1)", (double)c->beta2);
    if (!(c->epsilon > 0.0f)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.epsilon = %g: expected > 0", (double)c->epsilon);
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.weight_decay = %g: expected a finite number >= 0", (double)c->weight_decay);
    if (isnan(c->max_grad_norm)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.max_grad_norm is NaN");
    if (c->warmup_steps < 0) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.warmup_steps = %d: expected >= 0", c->warmup_steps);
    if (c->schedule != GRPO_SCHEDULE_CONSTANT && c->schedule != GRPO_SCHEDULE_COSINE)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.schedule = %d: expected GRPO_SCHEDULE_CONSTANT or GRPO_SCHEDULE_COSINE", (int)c->schedule);
    if (c->schedule == GRPO_SCHEDULE_COSINE && c->total_steps <= c->warmup_steps)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.total_steps = %d: the cosine schedule needs total_steps > warmup_steps = %d", c->total_steps, c->warmup_steps);
    if (!(c->min_lr_ratio >= 0.0f && c->min_lr_ratio <= 1.0f)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "adamw.min_lr_ratio = %g: expected [0, 1]", (double)c->min_lr_ratio);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_adamw_create(grpo_adamw *optimizer, const grpo_model *model, const grpo_adamw_config *config) {
    if (!optimizer || !model || !model->params_memory)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_adamw_create: the model must be created");
    memset(optimizer, 0, sizeof *optimizer);
    grpo_adamw_config zero;
    memset(&zero, 0, sizeof zero);
    grpo_adamw_config c = grpo_adamw_config_resolve(config ? config : &zero);
    grpo_result r = grpo__adamw_validate(&c);
    if (r) return r;
    size_t count;
    if (!grpo__mul(model->num_parameters, 2, &count) || count > SIZE_MAX / sizeof(float)) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "adamw: state size overflows");
    if ((r = grpo__check_memory("adamw: moments", count * sizeof(float)))) return r;
    optimizer->m = (float *)grpo__alloc_floats(count);
    if (!optimizer->m) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "adamw: could not allocate the moments of %zu parameters", model->num_parameters);
    memset(optimizer->m, 0, count * sizeof(float));
    optimizer->v = optimizer->m + model->num_parameters;
    optimizer->num_parameters = model->num_parameters;
    optimizer->config = c;
    return GRPO_SUCCESS;
}

GRPODEF void grpo_adamw_destroy(grpo_adamw *optimizer) {
    if (!optimizer) return;
    GRPO_FREE(optimizer->m); /* v lives in the same block */
    memset(optimizer, 0, sizeof *optimizer);
}

GRPODEF float grpo_adamw_learning_rate(const grpo_adamw_config *config, uint64_t step) {
    grpo_adamw_config c = grpo_adamw_config_resolve(config);
    if ((uint64_t)c.warmup_steps > step) return c.learning_rate * (float)(step + 1) / (float)c.warmup_steps;
    if (c.schedule == GRPO_SCHEDULE_CONSTANT) return c.learning_rate;
    double progress = (double)(step - (uint64_t)c.warmup_steps) / (double)(c.total_steps - c.warmup_steps);
    if (progress > 1.0) progress = 1.0;
    double min_lr = (double)c.min_lr_ratio * c.learning_rate;
    return (float)(min_lr + (c.learning_rate - min_lr) * 0.5 * (1.0 + cos(3.141592653589793 * progress)));
}

/* Names element i of a tensor by its indices, e.g. "wq[1][3][7]" (layer 1, row 3, column 7). */
static void grpo__element_name(const grpo_tensor_info *t, size_t i, char *text, size_t size) {
    if (t->rank == 3) {
        size_t rows = (size_t)t->shape[1], columns = (size_t)t->shape[2];
        snprintf(text, size, "%s[%zu][%zu][%zu]", t->name, i / (rows * columns), i / columns % rows, i % columns);
    } else if (t->rank == 2) {
        snprintf(text, size, "%s[%zu][%zu]", t->name, i / (size_t)t->shape[1], i % (size_t)t->shape[1]);
    } else {
        snprintf(text, size, "%s[%zu]", t->name, i);
    }
}

/* The coefficients of one AdamW update, the same for every element. */
typedef struct { float clip, lr, beta1, beta2, eps, correction1, correction2; } grpo__adamw_factors;

/* The AdamW update of one element. The check pass and the update pass both call this, so the
   values checked are the values written. */
static inline void grpo__adamw_update(const grpo__adamw_factors *f, float decay, float w, float g, float m, float v,
                                      float *w_new, float *m_new, float *v_new) {
    float gi = g * f->clip;
    float mi = f->beta1 * m + (1.0f - f->beta1) * gi;
    float vi = f->beta2 * v + (1.0f - f->beta2) * gi * gi;
    float m_hat = mi / f->correction1, v_hat = vi / f->correction2;
    *w_new = w - f->lr * (m_hat / (sqrtf(v_hat) + f->eps) + decay * w);
    *m_new = mi;
    *v_new = vi;
}

/* 1 when all three are finite; branch-free, so that the check pass vectorises. */
static inline int grpo__finite3(float a, float b, float c) {
    return (fabsf(a) <= FLT_MAX) & (fabsf(b) <= FLT_MAX) & (fabsf(c) <= FLT_MAX);
}

GRPODEF grpo_result grpo_adamw_step(grpo_adamw *optimizer, grpo_model *model, float *grad_norm, float *learning_rate) {
    if (!optimizer || !optimizer->m || !model || !model->params_memory)
        return grpo__fail(GRPO_ERROR_INVALID_STATE, "adamw step: the optimizer and the model must be created");
    if (optimizer->num_parameters != model->num_parameters)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "adamw step: the optimizer was made for %zu parameters, the model has %zu", optimizer->num_parameters, model->num_parameters);
    if (!model->grads_memory)
        return grpo__fail(GRPO_ERROR_INVALID_STATE, "adamw step: the model has no gradients yet (call grpo_model_backward first)");
    const grpo_adamw_config *c = &optimizer->config;
    char element[96];
    /* The global norm in double, in a fixed order, so it is deterministic and exact enough
       to compare against PyTorch's clip_grad_norm_. */
    double norm = sqrt(grpo__sum_of_squares(model->grads_memory, model->num_parameters));
    if (grad_norm) *grad_norm = (float)norm;
    if (!isfinite(norm)) {
        for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
            const float *g = model->grads_memory + model->tensors[t].offset;
            for (size_t i = 0; i < model->tensors[t].count; i++)
                if (!isfinite(g[i])) {
                    grpo__element_name(&model->tensors[t], i, element, sizeof element);
                    return grpo__fail(GRPO_ERROR_NON_FINITE, "adamw step %llu refused: the gradient of %s is %g; weights and optimizer state are unchanged",
                                      (unsigned long long)optimizer->step, element, (double)g[i]);
                }
        }
        return grpo__fail(GRPO_ERROR_NON_FINITE, "adamw step %llu refused: the gradient norm overflows; weights and optimizer state are unchanged", (unsigned long long)optimizer->step);
    }
    /* torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) when that is below 1 */
    grpo__adamw_factors f;
    f.clip = 1.0f;
    if (c->max_grad_norm > 0.0f && norm > c->max_grad_norm) f.clip = (float)(c->max_grad_norm / (norm + 1e-6));
    f.lr = grpo_adamw_learning_rate(c, optimizer->step);
    if (learning_rate) *learning_rate = f.lr;
    uint64_t t = optimizer->step + 1;
    /* bias corrections in double, as PyTorch computes them */
    f.correction1 = (float)(1.0 - pow((double)c->beta1, (double)t));
    f.correction2 = (float)(1.0 - pow((double)c->beta2, (double)t));
    f.beta1 = c->beta1, f.beta2 = c->beta2, f.eps = c->epsilon;

    /* Finite gradients can still make non-finite weights or moments (a huge learning rate, a
       gradient whose square overflows v, a weight that was already NaN), so every new value is
       checked before anything is written. The check must cost much less than the update, whose
       sqrt and divisions dominate: it computes m and v exactly, and for the weight only a bound
       without sqrt or division, |w| + lr (|m| / (c1 eps) + decay |w|), since the Adam ratio
       m_hat / (sqrt(v_hat) + eps) is at most |m_hat| / eps. In training the bound is some 30
       orders of magnitude below FLT_MAX; only a tensor where it is not is computed exactly
       (the same function as the update, so the values checked are the values written). */
    int bad = 0;
    float ratio_bound = (float)(1.0 / ((double)f.correction1 * (double)f.eps)), limit = FLT_MAX / 4.0f;
    for (int k = 0; k < GRPO_NUM_TENSORS && !bad; k++) {
        const grpo_tensor_info *info = &model->tensors[k];
        float decay = info->weight_decay ? c->weight_decay : 0.0f;
        const float *w = model->params_memory + info->offset, *grad = model->grads_memory + info->offset;
        const float *m = optimizer->m + info->offset, *v = optimizer->v + info->offset;
        float clip = f.clip, beta1 = f.beta1, beta2 = f.beta2, lr = f.lr;
        long count = (long)info->count;
        int suspect = 0;
        #pragma omp parallel for schedule(static) reduction(|:suspect)
        for (long i = 0; i < count; i++) {
            float gi = grad[i] * clip;
            float mi = beta1 * m[i] + (1.0f - beta1) * gi;
            float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
            float bound = fabsf(w[i]) + lr * (fabsf(mi) * ratio_bound + decay * fabsf(w[i]));
            suspect |= !((fabsf(mi) <= FLT_MAX) & (vi >= 0.0f) & (vi <= FLT_MAX) & (bound <= limit));
        }
        if (!suspect) continue;
        #pragma omp parallel for schedule(static) reduction(|:bad)
        for (long i = 0; i < count; i++) {
            float w_new, m_new, v_new;
            grpo__adamw_update(&f, decay, w[i], grad[i], m[i], v[i], &w_new, &m_new, &v_new);
            bad |= !grpo__finite3(w_new, m_new, v_new) | !(v_new >= 0.0f);
        }
    }
    if (bad) {
        /* find the first offending element, in tensor order, and say what went wrong */
        for (int k = 0; k < GRPO_NUM_TENSORS; k++) {
            const grpo_tensor_info *info = &model->tensors[k];
            float decay = info->weight_decay ? c->weight_decay : 0.0f;
            const float *w = model->params_memory + info->offset, *grad = model->grads_memory + info->offset;
            const float *m = optimizer->m + info->offset, *v = optimizer->v + info->offset;
            for (size_t i = 0; i < info->count; i++) {
                float w_new, m_new, v_new;
                grpo__adamw_update(&f, decay, w[i], grad[i], m[i], v[i], &w_new, &m_new, &v_new);
                if (grpo__finite3(w_new, m_new, v_new) && v_new >= 0.0f) continue;
                grpo__element_name(info, i, element, sizeof element);
                const char *what = !grpo__finite3(w[i], m[i], v[i]) ? "is already non-finite" : v[i] < 0.0f ? "has a negative v" : "would become non-finite";
                return grpo__fail(GRPO_ERROR_NON_FINITE, "adamw step %llu refused: %s %s (weight %g -> %g, gradient %g, m %g -> %g, v %g -> %g, learning rate %g); weights and optimizer state are unchanged",
                                  (unsigned long long)optimizer->step, element, what, (double)w[i], (double)w_new, (double)grad[i],
                                  (double)m[i], (double)m_new, (double)v[i], (double)v_new, (double)f.lr);
            }
        }
        return grpo__fail(GRPO_ERROR_NON_FINITE, "adamw step %llu refused: a non-finite update; weights and optimizer state are unchanged", (unsigned long long)optimizer->step);
    }
    optimizer->step = t;
    for (int k = 0; k < GRPO_NUM_TENSORS; k++) {
        const grpo_tensor_info *info = &model->tensors[k];
        float decay = info->weight_decay ? c->weight_decay : 0.0f;
        float *w = model->params_memory + info->offset, *grad = model->grads_memory + info->offset;
        float *m = optimizer->m + info->offset, *v = optimizer->v + info->offset;
        long count = (long)info->count;
        #pragma omp parallel for schedule(static)
        for (long i0 = 0; i0 < count; i0 += 4096) {
            long i = i0, end = i0 + 4096 < count ? i0 + 4096 : count;
#ifdef GRPO__LANES
            float clip = f.clip, beta1 = f.beta1, beta2 = f.beta2, correction1 = f.correction1, correction2 = f.correction2, lr = f.lr, eps = f.eps;
            /* the same operations in the same order as the scalar loop, a vector at a time
               (sqrtf does not vectorise under -std=c11: errno); grpo__adamw_update for the tail */
            grpo__vector vclip = grpo__vector_splat(clip), vb1 = grpo__vector_splat(beta1), vb2 = grpo__vector_splat(beta2);
            grpo__vector va1 = grpo__vector_splat(1.0f - beta1), va2 = grpo__vector_splat(1.0f - beta2);
            grpo__vector vc1 = grpo__vector_splat(correction1), vc2 = grpo__vector_splat(correction2);
            grpo__vector vlr = grpo__vector_splat(lr), veps = grpo__vector_splat(eps), vdecay = grpo__vector_splat(decay);
            for (; i + GRPO__LANES <= end; i += GRPO__LANES) {
                grpo__vector gi = grpo__vector_mul(grpo__vector_load(grad + i), vclip);
                grpo__vector mi = grpo__vector_add(grpo__vector_mul(vb1, grpo__vector_load(m + i)), grpo__vector_mul(va1, gi));
                grpo__vector vi = grpo__vector_add(grpo__vector_mul(vb2, grpo__vector_load(v + i)), grpo__vector_mul(grpo__vector_mul(va2, gi), gi));
                grpo__vector_store(m + i, mi);
                grpo__vector_store(v + i, vi);
                grpo__vector m_hat = grpo__vector_div(mi, vc1), v_hat = grpo__vector_div(vi, vc2), wi = grpo__vector_load(w + i);
                grpo__vector step = grpo__vector_add(grpo__vector_div(m_hat, grpo__vector_add(grpo__vector_sqrt(v_hat), veps)), grpo__vector_mul(vdecay, wi));
                grpo__vector_store(w + i, grpo__vector_sub(wi, grpo__vector_mul(vlr, step)));
            }
#endif
            for (; i < end; i++) grpo__adamw_update(&f, decay, w[i], grad[i], m[i], v[i], &w[i], &m[i], &v[i]);
        }
    }
    return GRPO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
   13. The GRPO step */
static double grpo__now(void) {
#if defined(_OPENMP)
    return omp_get_wtime();
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

GRPODEF int grpo_r1_zero_prompt(const char *question, char *buffer, size_t size) {
    return snprintf(buffer, size,
                    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
                    "The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
                    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, "
                    "i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: %s. Assistant:",
                    question ? question : "");
}

/* A pseudo-random permutation of [0, n) for each key, evaluated one index at a time: a
   6-round Feistel network on the smallest even number of bits b with 2^b >= n, and
   cycle-walking (an output >= n is permuted again until it lands in [0, n); fewer than 4 rounds
   of walking on average, as 2^b < 4n). No permutation is stored, so a data order is three numbers. */
static uint64_t grpo__permute(uint64_t index, uint64_t n, uint64_t key) {
    int bits = 2;
    while (bits < 64 && (1ull << bits) < n) bits += 2;
    int half = bits / 2;
    uint64_t mask = half == 32 ? 0xFFFFFFFFull : (1ull << half) - 1, x = index;
    do {
        uint64_t left = x >> half, right = x & mask;
        for (uint64_t round = 0; round < 6; round++) {
            uint64_t next = left ^ (grpo__mix64(right ^ grpo__mix64(key + round)) & mask);
            left = right;
            right = next;
        }
        x = (left << half) | right;
    } while (x >= n);
    return x;
}

GRPODEF grpo_data_order grpo_data_order_create(uint64_t seed, uint64_t size) {
    grpo_data_order order;
    order.seed = seed;
    order.size = size;
    order.position = 0;
    return order;
}

GRPODEF uint64_t grpo_data_order_index(const grpo_data_order *order, uint64_t ahead) {
    if (!order || order->size == 0) return 0;
    uint64_t at = order->position + ahead, epoch = at / order->size;
    return grpo__permute(at % order->size, order->size, grpo__mix64(order->seed ^ grpo__mix64(epoch + 0x5851F42D4C957F2Dull)));
}

GRPODEF grpo_result grpo_data_order_batch(const grpo_data_order *order, const grpo_example *dataset, grpo_example *batch, int n) {
    if (!order || order->size == 0 || !dataset || !batch || n < 0)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_data_order_batch: an order over a non-empty dataset, the dataset and a batch are required");
    for (int i = 0; i < n; i++) batch[i] = dataset[grpo_data_order_index(order, (uint64_t)i)];
    return GRPO_SUCCESS;
}

GRPODEF void grpo_data_order_advance(grpo_data_order *order, uint64_t consumed) {
    if (order) order->position += consumed;
}

GRPODEF void grpo_trainer_destroy(grpo_trainer *trainer) {
    if (!trainer) return;
    GRPO_FREE(trainer->rollback);
    grpo_model_destroy(&trainer->reference);
    grpo_adamw_destroy(&trainer->optimizer);
    grpo_generator_destroy(&trainer->generator);
    GRPO_FREE(trainer->memory);
    GRPO_FREE(trainer->text);
    memset(trainer, 0, sizeof *trainer);
}

GRPODEF grpo_result grpo_trainer_create(grpo_trainer *trainer, grpo_model *policy, const grpo_trainer_config *config) {
    if (!trainer || !policy || !policy->params_memory || !config)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_trainer_create: a created policy and a config are required");
    memset(trainer, 0, sizeof *trainer);
    grpo_trainer_config c = *config;
    const grpo_config *m = &policy->config;
    c.prompts_per_step = GRPO__DEFAULT(c.prompts_per_step, 8);
    c.group_size = GRPO__DEFAULT(c.group_size, 8);
    c.max_completion_tokens = GRPO__DEFAULT(c.max_completion_tokens, m->context_length / 2 < 128 ? m->context_length / 2 : 128);
    c.mu = GRPO__DEFAULT(c.mu, 1);
    c.max_sampling_rounds = c.dynamic_sampling ? GRPO__DEFAULT(c.max_sampling_rounds, 4) : 1;
    c.loss = grpo_loss_config_resolve(&c.loss);
    grpo_result r;
    if (c.prompts_per_step < 1 || c.prompts_per_step > 1024) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.prompts_per_step = %d: expected 1 to 1024", c.prompts_per_step);
    if (c.group_size < 1 || c.group_size > 65536) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.group_size = %d: expected 1 to 65536", c.group_size);
    /* the default after the range checks: B * G of unchecked values can overflow int (fuzzing found it) */
    c.micro_batch_size = GRPO__DEFAULT(c.micro_batch_size, c.prompts_per_step * c.group_size);
    if (c.mu < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.mu = %d: expected >= 1", c.mu);
    if (c.micro_batch_size < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.micro_batch_size = %d: expected >= 1", c.micro_batch_size);
    if ((unsigned)c.scale_rewards > GRPO_SCALE_NONE) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.scale_rewards = %d is not a grpo_scale_rewards", (int)c.scale_rewards);
    if (c.max_sampling_rounds < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.max_sampling_rounds = %d: expected >= 1", c.max_sampling_rounds);
    if (c.share_model_weights != 0 && c.share_model_weights != 1)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.share_model_weights = %d: expected 0 (the generator keeps a packed copy) or 1", c.share_model_weights);
    if (!c.tokenizer || !c.tokenizer->encode || !c.tokenizer->decode) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.tokenizer is required");
    if (c.tokenizer->vocab_size > m->vocab_size) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.tokenizer has %d tokens, the model's vocabulary %d", c.tokenizer->vocab_size, m->vocab_size);
    if (c.n_rewards > GRPO_MAX_REWARDS) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "trainer.n_rewards = %d: at most %d", c.n_rewards, GRPO_MAX_REWARDS);
    if ((r = grpo_reward_validate(c.rewards, c.n_rewards))) return r;
    if ((r = grpo_loss_config_validate(&c.loss))) return r;
    trainer->policy = policy;
    int S = c.prompts_per_step * c.group_size, T = m->context_length, B = c.prompts_per_step;
    size_t ST = (size_t)S * T;
    size_t ints = (size_t)B * T + B + 2 * ST + 4 * (size_t)S + B;
    size_t floats = 6 * ST + 2 * (size_t)S + (size_t)S * (c.n_rewards > 0 ? c.n_rewards : 1);
    /* Everything the trainer will own, counted against the memory cap before anything is
       allocated: its buffers, the AdamW moments (2P), the reference model (P + rotary tables)
       when beta > 0; the generator adds its own size when it is created. */
    size_t rope = (size_t)m->context_length * (size_t)(policy->head_size / 2), own = 0, planned = 0, text_capacity = 0;
    size_t weights = policy->num_parameters * sizeof(float), moments = 0, reference = 0, rollback = 0; /* weights fit: they exist */
    int ok = grpo__add(ints, floats, &own) && grpo__mul(own, sizeof(float), &own) &&
             grpo__mul((size_t)(c.max_completion_tokens > 0 ? c.max_completion_tokens : 1), 16, &text_capacity) &&
             grpo__add(own, ++text_capacity, &planned) && grpo__mul(weights, 2, &moments) && grpo__add(planned, moments, &planned) &&
             (c.loss.beta <= 0.0f || (grpo__add(weights, 2 * rope * sizeof(float), &reference) && grpo__add(planned, reference, &planned))) &&
             (c.mu <= 1 || (grpo__mul(weights, 3, &rollback) && grpo__add(planned, rollback, &planned))); /* the rollback copy */
    if (!ok) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "trainer: buffers for %d sequences x %d tokens overflow size_t", S, T);
    if ((r = grpo__check_memory("trainer (buffers, optimizer, reference model)", planned))) return r;
    grpo_generator_config gc = {c.prompts_per_step, c.group_size, c.max_completion_tokens, c.share_model_weights};
    grpo__memory_planned = planned;
    r = grpo_generator_create(&trainer->generator, policy, &gc);
    grpo__memory_planned = 0;
    if (r) return r;
    if ((r = grpo_adamw_create(&trainer->optimizer, policy, &c.optimizer))) { grpo_trainer_destroy(trainer); return r; }
    if (c.loss.beta > 0.0f && (r = grpo_model_create_reference(&trainer->reference, policy))) { grpo_trainer_destroy(trainer); return r; }
    trainer->memory = GRPO_MALLOC(own);
    trainer->text_capacity = text_capacity;
    trainer->text = (char *)GRPO_MALLOC(trainer->text_capacity);
    if (c.mu > 1) trainer->rollback = (float *)grpo__alloc_floats(3 * policy->num_parameters);
    if (!trainer->memory || !trainer->text || (c.mu > 1 && !trainer->rollback)) {
        grpo_trainer_destroy(trainer);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "trainer: could not allocate the step's buffers for %d sequences x %d tokens", S, T);
    }
    int *n = (int *)trainer->memory;
    trainer->prompt_tokens = n; n += (size_t)B * T;
    trainer->prompt_lengths = n; n += B;
    trainer->tokens = n; n += ST;
    trainer->targets = n; n += ST;
    trainer->lengths = n; n += S;
    trainer->completion_lengths = n; n += S;
    trainer->truncated = n; n += S;
    trainer->example_of_group = n; n += B;
    n += S; /* spare */
    float *f = (float *)n;
    trainer->mask = f; f += ST;
    trainer->old_logprobs = f; f += ST;
    trainer->ref_logprobs = f; f += ST;
    trainer->logprobs = f; f += ST;
    trainer->dlogprobs = f; f += ST;
    trainer->entropy = f; f += ST;
    trainer->advantages = f; f += S;
    trainer->rewards = f; f += S;
    trainer->reward_values = f;
    trainer->config = c;
    trainer->sequences = S;
    trainer->width = T;
    return GRPO_SUCCESS;
}

/* Decodes one completion into trainer->text (NUL-terminated; *len bytes), growing it if needed. */
static grpo_result grpo__decode_completion(grpo_trainer *t, const int *tokens, int n, size_t *len) {
    const grpo_tokenizer *tok = t->config.tokenizer;
    grpo_result r = tok->decode(tok, tokens, n, t->text, t->text_capacity, len);
    if (r == GRPO_SUCCESS) return r;
    if (*len + 1 <= t->text_capacity) return r; /* a real decode error */
    char *bigger = (char *)GRPO_MALLOC(*len + 1);
    if (!bigger) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "trainer: could not allocate %zu bytes for a completion", *len + 1);
    GRPO_FREE(t->text);
    t->text = bigger;
    t->text_capacity = *len + 1;
    return tok->decode(tok, tokens, n, t->text, t->text_capacity, len);
}

/* The message of a refused step whose loss is not finite: names the first non-finite input of
   the loss (a log-prob of the policy or of the reference model, an advantage) and, for a
   log-prob, the first non-finite weight of that model. */
static grpo_result grpo__refuse_loss(const grpo_trainer *t, int pass, int micro_batch, int first, int rows, int T, float loss) {
    char cause[200] = "", element[96] = "";
    const float *mask = t->mask + (size_t)first * T;
    const struct { const char *name; const float *values; const grpo_model *model; } inputs[3] = {
        {"the policy's log-prob", t->logprobs + (size_t)first * T, t->policy},
        {"the reference model's log-prob", t->config.loss.beta > 0.0f ? t->ref_logprobs + (size_t)first * T : NULL, &t->reference},
        {"the old policy's log-prob", t->old_logprobs + (size_t)first * T, NULL}};
    for (int k = 0; k < 3 && !cause[0]; k++) {
        if (!inputs[k].values) continue;
        for (size_t i = 0; i < (size_t)rows * T && !cause[0]; i++) {
            if (mask[i] == 0.0f || isfinite(inputs[k].values[i])) continue;
            snprintf(cause, sizeof cause, ": %s of sequence %d, token %d is %g", inputs[k].name, first + (int)(i / (size_t)T), (int)(i % (size_t)T), (double)inputs[k].values[i]);
            const grpo_model *model = inputs[k].model;
            for (int j = 0; model && model->params_memory && j < GRPO_NUM_TENSORS && !element[0]; j++) {
                const float *w = model->params_memory + model->tensors[j].offset;
                for (size_t e = 0; e < model->tensors[j].count; e++)
                    if (!isfinite(w[e])) { grpo__element_name(&model->tensors[j], e, element, sizeof element); break; }
            }
        }
    }
    for (int i = 0; i < rows && !cause[0]; i++)
        if (!isfinite(t->advantages[first + i])) snprintf(cause, sizeof cause, ": the advantage of sequence %d is %g", first + i, (double)t->advantages[first + i]);
    return grpo__fail(GRPO_ERROR_NON_FINITE, "step %llu refused (pass %d of mu = %d): the loss of micro-batch %d is %g%s%s%s; weights and optimizer state are unchanged",
                      (unsigned long long)t->step, pass + 1, t->config.mu, micro_batch, (double)loss, cause,
                      element[0] ? ", and the first non-finite weight of that model is " : "", element);
}

GRPODEF grpo_result grpo_trainer_step(grpo_trainer *t, const grpo_example *examples, int n_examples, grpo_metrics *metrics) {
    if (!t || !t->memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "trainer step: the trainer is not created");
    if (!examples || n_examples < 1) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "trainer step: no examples");
    const grpo_trainer_config *c = &t->config;
    grpo_model *policy = t->policy;
    const grpo_tokenizer *tok = c->tokenizer;
    int B = c->prompts_per_step, G = c->group_size, W = t->width, L_max = c->max_completion_tokens, K = c->n_rewards;
    grpo_metrics m;
    memset(&m, 0, sizeof m);
    m.step = t->step;
    double start = grpo__now(), clock0;

    /* 1. Rollouts and rewards, round by round: with dynamic sampling a group whose rewards are
       all equal is dropped and more prompts are sampled, at most max_sampling_rounds times. */
    int kept = 0, used = 0, zero_std_groups = 0, groups_scored = 0;
    double reward_sums[GRPO_MAX_REWARDS] = {0}, reward_counts[GRPO_MAX_REWARDS] = {0};
    while (kept < B && used < n_examples && m.sampling_rounds < c->max_sampling_rounds) {
        int last_round = m.sampling_rounds + 1 == c->max_sampling_rounds || used + (B - kept) >= n_examples;
        int n = B - kept < n_examples - used ? B - kept : n_examples - used;
        /* encode the prompts: BOS (if the tokenizer has one), then the text */
        int widest = 1;
        for (int i = 0; i < n; i++) {
            const char *text = examples[used + i].prompt ? examples[used + i].prompt : "";
            int *row = t->prompt_tokens + (size_t)i * W, count = 0, offset = tok->bos_id >= 0 ? 1 : 0;
            if (offset) row[0] = tok->bos_id;
            grpo_result r = tok->encode(tok, text, strlen(text), row + offset, W - offset, &count);
            if (r || count + offset + L_max > policy->config.context_length)
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "trainer step: example %d's prompt is %d tokens; with max_completion_tokens %d it does not fit context_length %d",
                                  used + i, count + offset, L_max, policy->config.context_length);
            t->prompt_lengths[i] = count + offset;
            if (count + offset > widest) widest = count + offset;
        }
        /* prompt rows are packed with the widest prompt as their width */
        for (int i = 1; i < n; i++) memmove(t->prompt_tokens + (size_t)i * widest, t->prompt_tokens + (size_t)i * W, (size_t)widest * sizeof(int));
        uint64_t seeds[1024]; /* each prompt's random stream follows its example index */
        for (int i = 0; i < n; i++) seeds[i] = (uint64_t)(used + i);
        grpo_sampling_config sampling = c->sampling;
        sampling.max_new_tokens = L_max;
        sampling.tokenizer = tok;
        sampling.seed = grpo__mix64(c->seed ^ grpo__mix64(t->step * 1000003ull + (uint64_t)m.sampling_rounds));
        sampling.prompt_seeds = seeds;
        const grpo_completions *out;
        clock0 = grpo__now();
        grpo_result r = grpo_generate(&t->generator, policy, t->prompt_tokens, t->prompt_lengths, n, widest, G, &sampling, &out);
        m.seconds_generation += grpo__now() - clock0;
        if (r) return r;
        m.sampling_rounds++;
        clock0 = grpo__now();
        for (int i = 0; i < n; i++) {
            int slot = kept * G;
            for (int g = 0; g < G; g++) {
                int s = i * G + g, length = out->lengths[s];
                const int *completion = out->tokens + (size_t)s * out->max_new_tokens;
                size_t bytes = 0;
                if ((r = grpo__decode_completion(t, completion, length, &bytes))) return r;
                float *values = t->reward_values + (size_t)(slot + g) * (K > 0 ? K : 1);
                t->rewards[slot + g] = grpo_reward_completion(c->rewards, K, examples[used + i].prompt, t->text, bytes, length,
                                                              examples[used + i].gold, values);
                /* the sequence: prompt, then completion; inputs predict the next token */
                int P = t->prompt_lengths[i], total = P + length;
                int *row = t->tokens + (size_t)(slot + g) * W, *target = t->targets + (size_t)(slot + g) * W;
                float *mask = t->mask + (size_t)(slot + g) * W;
                memcpy(row, t->prompt_tokens + (size_t)i * widest, (size_t)P * sizeof(int));
                memcpy(row + P, completion, (size_t)length * sizeof(int));
                for (int x = 0; x < W; x++) {
                    target[x] = x + 1 < total ? row[x + 1] : 0;
                    mask[x] = (x >= P - 1 && x < total - 1 && !(c->mask_truncated_completions && out->truncated[s])) ? 1.0f : 0.0f;
                }
                for (int x = total; x < W; x++) row[x] = 0;
                t->lengths[slot + g] = total - 1;
                t->completion_lengths[slot + g] = length;
                t->truncated[slot + g] = out->truncated[s];
            }
            /* a group whose valid rewards are all equal carries no signal */
            int zero = 1, valid = 0;
            float first = 0.0f;
            for (int g = 0; g < G; g++) {
                float v = t->rewards[slot + g];
                if (isnan(v)) continue;
                if (valid++ == 0) first = v;
                else if (v != first) zero = 0;
            }
            groups_scored++;
            zero_std_groups += zero;
            for (int g = 0; g < G; g++)
                for (int k = 0; k < K; k++) {
                    float v = t->reward_values[(size_t)(slot + g) * K + k];
                    if (!isnan(v)) { reward_sums[k] += v; reward_counts[k] += 1.0; }
                }
            if (c->dynamic_sampling && zero && !last_round) continue; /* dropped: the slot is reused */
            t->example_of_group[kept] = used + i;
            kept++;
        }
        m.seconds_rewards += grpo__now() - clock0;
        used += n;
    }
    m.examples_used = used;
    if (kept == 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "trainer step: no group could be sampled from %d examples", n_examples);
    int S = kept * G;

    /* 2. Advantages, and the metrics of the rollouts */
    grpo_advantages(t->rewards, kept, G, c->scale_rewards, c->population_std, t->advantages);
    double sum = 0.0, sq = 0.0, lengths = 0.0, tokens_total = 0.0;
    int n_valid = 0;
    m.completions_min_length = 1e30;
    for (int s = 0; s < S; s++) {
        if (!isnan(t->rewards[s])) { sum += t->rewards[s]; n_valid++; }
        double len = t->completion_lengths[s];
        lengths += len;
        if (len < m.completions_min_length) m.completions_min_length = len;
        if (len > m.completions_max_length) m.completions_max_length = len;
        m.completions_clipped_ratio += t->truncated[s];
    }
    m.reward = n_valid ? sum / n_valid : NAN;
    for (int s = 0; s < S; s++) if (!isnan(t->rewards[s])) sq += (t->rewards[s] - m.reward) * (t->rewards[s] - m.reward);
    m.reward_std = n_valid > 1 ? sqrt(sq / (n_valid - 1)) : 0.0;
    m.frac_reward_zero_std = groups_scored ? (double)zero_std_groups / groups_scored : 0.0;
    m.completions_mean_length = lengths / S;
    m.completions_clipped_ratio /= S;
    m.n_rewards = K;
    for (int k = 0; k < K; k++) {
        m.reward_names[k] = grpo_reward_name(&c->rewards[k]);
        m.reward_means[k] = reward_counts[k] > 0 ? reward_sums[k] / reward_counts[k] : NAN;
    }
    for (size_t i = 0; i < (size_t)S * W; i++) tokens_total += t->mask[i];
    int T = 1; /* the step's width: the longest input row */
    for (int s = 0; s < S; s++) if (t->lengths[s] > T) T = t->lengths[s];
    int mb = c->micro_batch_size < S ? c->micro_batch_size : S, n_micro = (S + mb - 1) / mb;
    /* rows are W wide in the buffers; forward wants (rows, T): repack to width T */
    for (int s = 1; s < S; s++) {
        memmove(t->tokens + (size_t)s * T, t->tokens + (size_t)s * W, (size_t)T * sizeof(int));
        memmove(t->targets + (size_t)s * T, t->targets + (size_t)s * W, (size_t)T * sizeof(int));
        memmove(t->mask + (size_t)s * T, t->mask + (size_t)s * W, (size_t)T * sizeof(float));
    }
    float temperature = c->sampling.temperature > 0.0f ? c->sampling.temperature : 1.0f;
    /* The G sequences of a group begin with the same prompt: when micro-batches hold whole
       groups, the forwards compute the prompt once per group (grpo_model_forward_shared). The
       prefix stops before the prompt's last token, whose target is each completion's first. */
    int shared = mb % G == 0, prefix_lengths[1024];
    for (int g = 0; shared && g < kept; g++) {
        int s0 = g * G, prompt = t->lengths[s0] + 1 - t->completion_lengths[s0];
        prefix_lengths[g] = prompt - 1;
    }
#define GRPO__STEP_FORWARD(model, first, rows, out, entropy)                                                            \
    (shared ? grpo_model_forward_shared(model, t->tokens + (size_t)(first) * T, t->targets + (size_t)(first) * T,     \
                                        t->lengths + (first), rows, T, G, prefix_lengths + (first) / G, temperature,  \
                                        out, entropy)                                                                 \
            : grpo_model_forward(model, t->tokens + (size_t)(first) * T, t->targets + (size_t)(first) * T,            \
                                 t->lengths + (first), rows, T, temperature, out, entropy))

    /* 3. The reference model's log-probs, once per step */
    grpo_result r = GRPO_SUCCESS;
    clock0 = grpo__now();
    if (c->loss.beta > 0.0f)
        for (int first = 0; first < S; first += mb) {
            int rows = S - first < mb ? S - first : mb;
            size_t at = (size_t)first * T;
            if ((r = GRPO__STEP_FORWARD(&t->reference, first, rows, t->ref_logprobs + at, NULL))) return r;
        }
    m.seconds_reference = grpo__now() - clock0;

    /* 4. mu passes of forward, loss, backward, AdamW over the same rollouts. lp_old is the
       first pass's log-probs: the policy that sampled, before any update of this step.
       A failure in any pass (a non-finite loss, gradient or update) refuses the whole step:
       with mu > 1 the weights and AdamW state are put back as they were before pass 0. */
    grpo_loss_scale scale = {S, tokens_total, n_micro, L_max};
    grpo_loss_stats stats;
    memset(&stats, 0, sizeof stats);
    double loss_total = 0.0, entropy_sum = 0.0;
    uint64_t optimizer_step = t->optimizer.step;
    size_t P = policy->num_parameters;
    if (t->rollback) {
        memcpy(t->rollback, policy->params_memory, P * sizeof(float));
        memcpy(t->rollback + P, t->optimizer.m, 2 * P * sizeof(float)); /* m and v are one block */
    }
    int pass;
    for (pass = 0; pass < c->mu && !r; pass++) {
        clock0 = grpo__now();
        grpo_model_zero_grad(policy);
        double pass_loss = 0.0;
        for (int first = 0; first < S && !r; first += mb) {
            int rows = S - first < mb ? S - first : mb;
            size_t at = (size_t)first * T;
            if ((r = GRPO__STEP_FORWARD(policy, first, rows, t->logprobs + at, pass == 0 ? t->entropy + at : NULL))) break;
            if (pass == 0) memcpy(t->old_logprobs + at, t->logprobs + at, (size_t)rows * T * sizeof(float));
            float part = grpo_loss(&c->loss, &scale, t->logprobs + at, t->old_logprobs + at, c->loss.beta > 0.0f ? t->ref_logprobs + at : NULL,
                                   t->advantages + first, t->mask + at, rows, T, t->dlogprobs + at, &stats);
            if (!isfinite(part)) {
                r = grpo__refuse_loss(t, pass, first / mb, first, rows, T, part);
                break;
            }
            pass_loss += part;
            r = grpo_model_backward(policy, t->dlogprobs + at);
        }
        if (r) break;
        m.seconds_policy += grpo__now() - clock0;
        clock0 = grpo__now();
        float norm, lr;
        if ((r = grpo_adamw_step(&t->optimizer, policy, &norm, &lr))) {
            if (r == GRPO_ERROR_NON_FINITE) {
                char detail[sizeof grpo__error_message];
                memcpy(detail, grpo__error_message, sizeof detail);
                r = grpo__fail(r, "step %llu refused (pass %d of mu = %d): %s", (unsigned long long)t->step, pass + 1, c->mu, detail);
            }
            break;
        }
        m.seconds_optimizer += grpo__now() - clock0;
        m.grad_norm += norm / c->mu;
        m.learning_rate = lr;
        loss_total += pass_loss / c->mu;
    }
    if (r) {
        if (t->rollback && t->optimizer.step != optimizer_step) {
            memcpy(policy->params_memory, t->rollback, P * sizeof(float));
            memcpy(t->optimizer.m, t->rollback + P, 2 * P * sizeof(float));
            t->optimizer.step = optimizer_step;
        }
        return r;
    }
#undef GRPO__STEP_FORWARD
    for (size_t i = 0; i < (size_t)S * T; i++) entropy_sum += t->mask[i] * t->entropy[i];
    double token_passes = stats.tokens > 0.0 ? stats.tokens : 1.0;
    m.loss = loss_total;
    m.entropy = tokens_total > 0.0 ? entropy_sum / tokens_total : 0.0;
    m.kl = c->loss.beta > 0.0f ? stats.kl / token_passes : NAN;
    m.clip_ratio_low_mean = stats.low_clipped / token_passes;
    m.clip_ratio_high_mean = stats.high_clipped / token_passes;
    m.clip_ratio_region_mean = (stats.low_clipped + stats.high_clipped) / token_passes;
    m.seconds_total = grpo__now() - start;
    t->step++;
    if (metrics) *metrics = m;
    return GRPO_SUCCESS;
}

/* Appends to a buffer like snprintf: never writes past size, counts what it would need. */
typedef struct { char *buffer; size_t size; int total; } grpo__text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void grpo__appendf(grpo__text *text, const char *format, ...) {
    size_t at = (size_t)text->total;
    int room = text->buffer && at < text->size;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(room ? text->buffer + at : NULL, room ? text->size - at : 0, format, args);
    va_end(args);
    if (n > 0) text->total += n;
}

/* A number as JSON: NaN and Inf have no JSON form, so they are written as null. */
static void grpo__json_number(grpo__text *text, const char *name, double value) {
    if (isfinite(value)) grpo__appendf(text, ", \"%s\": %.6g", name, value);
    else grpo__appendf(text, ", \"%s\": null", name);
}

GRPODEF int grpo_metrics_json(const grpo_metrics *m, char *buffer, size_t size) {
    grpo__text text = {buffer, size, 0};
    if (buffer && size) buffer[0] = '\0';
    grpo__appendf(&text, "{\"step\": %llu", (unsigned long long)m->step);
    grpo__json_number(&text, "reward", m->reward);
    grpo__json_number(&text, "reward_std", m->reward_std);
    for (int k = 0; k < m->n_rewards && k < GRPO_MAX_REWARDS; k++) {
        char name[96];
        snprintf(name, sizeof name, "rewards/%.80s/mean", m->reward_names[k] ? m->reward_names[k] : "unnamed");
        grpo__json_number(&text, name, m->reward_means[k]);
    }
    const struct { const char *name; double value; } fields[] = {
        {"frac_reward_zero_std", m->frac_reward_zero_std}, {"completions/mean_length", m->completions_mean_length},
        {"completions/min_length", m->completions_min_length}, {"completions/max_length", m->completions_max_length},
        {"completions/clipped_ratio", m->completions_clipped_ratio}, {"kl", m->kl}, {"entropy", m->entropy},
        {"clip_ratio/low_mean", m->clip_ratio_low_mean}, {"clip_ratio/high_mean", m->clip_ratio_high_mean},
        {"clip_ratio/region_mean", m->clip_ratio_region_mean}, {"grad_norm", m->grad_norm},
        {"learning_rate", m->learning_rate}, {"loss", m->loss}, {"seconds/generation", m->seconds_generation},
        {"seconds/rewards", m->seconds_rewards}, {"seconds/reference_forward", m->seconds_reference},
        {"seconds/policy_forward_backward", m->seconds_policy}, {"seconds/optimizer", m->seconds_optimizer},
        {"seconds/total", m->seconds_total}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) grpo__json_number(&text, fields[i].name, fields[i].value);
    grpo__appendf(&text, ", \"examples_used\": %d, \"sampling_rounds\": %d}", m->examples_used, m->sampling_rounds);
    return text.total;
}

/* ---------------------------------------------------------------------------------------
   14. Checkpoints */
#define GRPO__CHECKPOINT_MAGIC "GRPOCKPT"
#define GRPO__CHECKPOINT_VERSION 2u
#define GRPO__CHECKPOINT_HEADER_V1 92u  /* bytes before the parameters, version 1 */
#define GRPO__CHECKPOINT_HEADER 120u    /* version 2 */

/* CRC-32 with zlib's polynomial (0xEDB88320 reflected), so Python's zlib.crc32 checks a file. */
static uint32_t grpo__crc32(uint32_t crc, const void *data, size_t len) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static int grpo__little_endian(void) {
    uint16_t one = 1;
    return *(unsigned char *)&one == 1;
}

typedef struct {
    FILE *file;
    const char *path;
    uint32_t crc;
    int failed;
} grpo__writer;

static void grpo__write(grpo__writer *w, const void *data, size_t bytes) {
    if (w->failed || bytes == 0) return;
    if (fwrite(data, 1, bytes, w->file) != bytes) { w->failed = 1; return; }
    w->crc = grpo__crc32(w->crc, data, bytes);
}

/* Finds the first value of a parameter-shaped block (count = the model's parameters) that is
   not finite, or negative where `nonnegative`; names it as "wq[1][3][7]". */
static int grpo__find_bad_value(const grpo_tensor_info *tensors, const float *values, int nonnegative,
                                char *element, size_t size, float *value) {
    for (int t = 0; t < GRPO_NUM_TENSORS; t++) {
        const float *x = values + tensors[t].offset;
        for (size_t i = 0; i < tensors[t].count; i++)
            if (!isfinite(x[i]) || (nonnegative && x[i] < 0.0f)) {
                grpo__element_name(&tensors[t], i, element, size);
                *value = x[i];
                return 1;
            }
    }
    return 0;
}

/* After a rename, the directory entry must reach the disk too for the new file to survive a
   power cut (a killed process needs no more than the rename). Best effort. */
static void grpo__sync_directory(const char *path) {
#ifdef GRPO__HAVE_FSYNC
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) + 1 : 0;
    char *directory = (char *)GRPO_MALLOC(n + 2);
    if (!directory) return;
    if (n) memcpy(directory, path, n);
    else directory[n++] = '.';
    directory[n] = '\0';
    FILE *d = fopen(directory, "r");
    if (d) { (void)fsync(fileno(d)); fclose(d); }
    GRPO_FREE(directory);
#else
    (void)path;
#endif
}

/* What one checkpoint holds; the writer's view of a model, an optimizer and a trainer. */
typedef struct {
    const grpo_model *model;
    const float *moments;       /* (2P) AdamW m then v, or NULL */
    uint64_t optimizer_step;
    const float *reference;     /* (P) the reference model's weights, or NULL */
    uint64_t step, rng_state;
    grpo_data_order data;
} grpo__checkpoint_contents;

static grpo_result grpo__checkpoint_write(const char *path, const grpo__checkpoint_contents *k) {
    const grpo_model *model = k->model;
    if (!grpo__little_endian()) return grpo__fail(GRPO_ERROR_IO, "checkpoint save: the format is little-endian and this machine is not");
    if (k->data.size == 0 && k->data.position != 0) /* the loader would refuse it */
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "checkpoint save: data order at position %llu over a dataset of 0 examples ('%s' is unchanged)",
                          (unsigned long long)k->data.position, path);
    /* a NaN saved is a run lost at the next resume: refuse, and keep the previous file */
    const struct { const char *what; const float *values; int nonnegative; } blocks[4] = {
        {"weight", model->params_memory, 0}, {"AdamW m of", k->moments, 0},
        {"AdamW v of", k->moments ? k->moments + model->num_parameters : NULL, 1}, {"reference weight", k->reference, 0}};
    for (int b = 0; b < 4; b++) {
        char element[96];
        float value;
        if (blocks[b].values && grpo__find_bad_value(model->tensors, blocks[b].values, blocks[b].nonnegative, element, sizeof element, &value))
            return grpo__fail(GRPO_ERROR_NON_FINITE, "checkpoint save: %s %s is %g; refusing to save it ('%s' is unchanged)", blocks[b].what, element, (double)value, path);
    }
    size_t path_len = strlen(path);
    char *temporary = (char *)GRPO_MALLOC(path_len + 5);
    if (!temporary) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "checkpoint save: out of memory");
    memcpy(temporary, path, path_len);
    memcpy(temporary + path_len, ".tmp", 5);
    grpo__writer w = {fopen(temporary, "wb"), path, 0, 0};
    if (!w.file) {
        grpo_result r = grpo__fail(GRPO_ERROR_IO, "checkpoint save: cannot open '%s' for writing", temporary);
        GRPO_FREE(temporary);
        return r;
    }
    const grpo_config *c = &model->config;
    uint32_t version = GRPO__CHECKPOINT_VERSION;
    int32_t ints[7] = {c->vocab_size, c->context_length, c->d_model, c->n_layers, c->n_heads, c->n_kv_heads, c->d_ff};
    int32_t flags[2] = {c->qkv_bias, c->untied_head};
    uint64_t count = model->num_parameters;
    uint32_t has_optimizer = k->moments ? 1u : 0u, has_reference = k->reference ? 1u : 0u;
    uint64_t data[3] = {k->data.seed, k->data.size, k->data.position};
    grpo__write(&w, GRPO__CHECKPOINT_MAGIC, 8);
    grpo__write(&w, &version, 4);
    grpo__write(&w, ints, sizeof ints);
    grpo__write(&w, &c->rope_theta, 4);
    grpo__write(&w, &c->norm_eps, 4);
    grpo__write(&w, flags, sizeof flags);
    grpo__write(&w, &count, 8);
    grpo__write(&w, &k->step, 8);
    grpo__write(&w, &k->rng_state, 8);
    grpo__write(&w, &has_optimizer, 4);
    grpo__write(&w, &k->optimizer_step, 8);
    grpo__write(&w, &has_reference, 4);
    grpo__write(&w, data, sizeof data);
    grpo__write(&w, model->params_memory, model->num_parameters * sizeof(float));
    if (k->moments) grpo__write(&w, k->moments, 2 * model->num_parameters * sizeof(float));
    if (k->reference) grpo__write(&w, k->reference, model->num_parameters * sizeof(float));
    uint32_t crc = w.crc;
    grpo__write(&w, &crc, 4);
    if (fflush(w.file) != 0) w.failed = 1;
#ifdef GRPO__HAVE_FSYNC
    if (!w.failed && fsync(fileno(w.file)) != 0) w.failed = 1; /* the data is on disk before the rename */
#endif
    if (fclose(w.file) != 0) w.failed = 1;
    if (w.failed) {
        remove(temporary);
        grpo_result r = grpo__fail(GRPO_ERROR_IO, "checkpoint save: writing '%s' failed (disk full?); '%s' is unchanged", temporary, path);
        GRPO_FREE(temporary);
        return r;
    }
    if (rename(temporary, path) != 0) {
        remove(temporary);
        grpo_result r = grpo__fail(GRPO_ERROR_IO, "checkpoint save: cannot rename '%s' to '%s'", temporary, path);
        GRPO_FREE(temporary);
        return r;
    }
    GRPO_FREE(temporary);
    grpo__sync_directory(path);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_checkpoint_save(const char *path, const grpo_model *model, const grpo_adamw *optimizer,
                                         const grpo_checkpoint_state *state) {
    if (!path || !model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "checkpoint save: path and a created model are required");
    if (optimizer && (!optimizer->m || optimizer->num_parameters != model->num_parameters))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "checkpoint save: the optimizer does not belong to this model");
    grpo__checkpoint_contents k;
    memset(&k, 0, sizeof k);
    k.model = model;
    k.moments = optimizer ? optimizer->m : NULL;
    k.optimizer_step = optimizer ? optimizer->step : 0;
    if (state) { k.step = state->step; k.rng_state = state->rng_state; k.data = state->data; }
    return grpo__checkpoint_write(path, &k);
}

GRPODEF grpo_result grpo_trainer_save(const grpo_trainer *trainer, const char *path) {
    if (!trainer || !trainer->memory || !trainer->policy || !path)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "trainer save: a created trainer and a path are required");
    grpo__checkpoint_contents k;
    memset(&k, 0, sizeof k);
    k.model = trainer->policy;
    k.moments = trainer->optimizer.m;
    k.optimizer_step = trainer->optimizer.step;
    k.reference = trainer->reference.params_memory; /* NULL when beta = 0 */
    k.step = trainer->step;
    k.rng_state = trainer->config.seed;
    k.data = trainer->data;
    return grpo__checkpoint_write(path, &k);
}

typedef struct {
    FILE *file;
    const char *path;
    uint64_t offset, size;
    uint32_t crc;
} grpo__reader;

/* Reads one named field; a short read names the field and where the file ended. */
static grpo_result grpo__read(grpo__reader *r, const char *field, void *data, size_t bytes) {
    if (r->size - r->offset < bytes)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': truncated in field '%s' (needs bytes %llu to %llu, the file has %llu)",
                          r->path, field, (unsigned long long)r->offset, (unsigned long long)(r->offset + bytes), (unsigned long long)r->size);
    if (bytes && fread(data, 1, bytes, r->file) != bytes)
        return grpo__fail(GRPO_ERROR_IO, "checkpoint '%s': read error in field '%s'", r->path, field);
    r->crc = grpo__crc32(r->crc, data, bytes);
    r->offset += bytes;
    return GRPO_SUCCESS;
}

/* Reads `count` floats that are not wanted: they are covered by the CRC, so they stream through. */
static grpo_result grpo__skip(grpo__reader *r, const char *field, uint64_t count) {
    float buffer[1024];
    grpo_result e = GRPO_SUCCESS;
    for (uint64_t left = count; left > 0 && !e;) {
        size_t n = left < 1024 ? (size_t)left : 1024;
        e = grpo__read(r, field, buffer, n * 4);
        left -= n;
    }
    return e;
}

/* A checkpoint read into fresh buffers; the caller's objects change only after all is checked. */
typedef struct {
    uint32_t version, has_optimizer, has_reference;
    uint64_t step, rng_state, optimizer_step;
    grpo_data_order data;
    grpo_model model;    /* the file's weights in a new model */
    float *moments;      /* (2P) AdamW m then v, if wanted */
    float *reference;    /* (P) if wanted */
} grpo__loaded;

static void grpo__loaded_free(grpo__loaded *k) {
    grpo_model_destroy(&k->model);
    GRPO_FREE(k->moments);
    GRPO_FREE(k->reference);
    k->moments = k->reference = NULL;
}

/* Reads and checks a whole checkpoint. existing: a model whose config the file must match (or
   NULL). want_moments / want_reference: 1 to load that block (the file must have it), 0 to
   check and skip it. On failure nothing stays allocated. */
static grpo_result grpo__checkpoint_read(grpo__reader *r, const grpo_model *existing, int want_moments, int want_reference, grpo__loaded *k) {
    char magic[8];
    int32_t ints[7], flags[2];
    float theta, eps;
    uint64_t count, data[3] = {0, 0, 0};
    grpo_result e;
    memset(k, 0, sizeof *k);
    if ((e = grpo__read(r, "magic", magic, 8))) return e;
    if (memcmp(magic, GRPO__CHECKPOINT_MAGIC, 8) != 0)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'magic' is not \"GRPOCKPT\": not a grpo.h checkpoint", r->path);
    if ((e = grpo__read(r, "version", &k->version, 4))) return e;
    if (k->version != 1 && k->version != 2)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'version' is %u, this grpo.h reads versions 1 and 2", r->path, k->version);
    static const char *int_names[7] = {"vocab_size", "context_length", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff"};
    for (int i = 0; i < 7; i++)
        if ((e = grpo__read(r, int_names[i], &ints[i], 4))) return e;
    if ((e = grpo__read(r, "rope_theta", &theta, 4))) return e;
    if ((e = grpo__read(r, "norm_eps", &eps, 4))) return e;
    if ((e = grpo__read(r, "qkv_bias", &flags[0], 4))) return e;
    if ((e = grpo__read(r, "untied_head", &flags[1], 4))) return e;
    grpo_config config;
    memset(&config, 0, sizeof config);
    config.vocab_size = ints[0]; config.context_length = ints[1]; config.d_model = ints[2]; config.n_layers = ints[3];
    config.n_heads = ints[4]; config.n_kv_heads = ints[5]; config.d_ff = ints[6];
    config.rope_theta = theta; config.norm_eps = eps; config.qkv_bias = flags[0]; config.untied_head = flags[1];
    /* every stored field must be explicit: a zero would silently become a default */
    for (int i = 0; i < 7; i++)
        if (ints[i] <= 0) return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field '%s' is %d, expected > 0", r->path, int_names[i], ints[i]);
    if (grpo_config_validate(&config) != GRPO_SUCCESS) {
        char message[sizeof grpo__error_message];
        memcpy(message, grpo__error_message, sizeof message);
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': its config is invalid: %s", r->path, message);
    }
    config = grpo_config_resolve(&config);
    if ((e = grpo__read(r, "num_parameters", &count, 8))) return e;
    grpo_tensor_info tensors[GRPO_NUM_TENSORS];
    size_t expected;
    grpo__layout_tensors(tensors, &config, &expected);
    if (count != expected)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'num_parameters' is %llu, but its config implies %zu", r->path, (unsigned long long)count, expected);
    if ((e = grpo__read(r, "step", &k->step, 8))) return e;
    if ((e = grpo__read(r, "rng_state", &k->rng_state, 8))) return e;
    if ((e = grpo__read(r, "has_optimizer", &k->has_optimizer, 4))) return e;
    if (k->has_optimizer > 1) return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'has_optimizer' is %u, expected 0 or 1", r->path, k->has_optimizer);
    if ((e = grpo__read(r, "optimizer_step", &k->optimizer_step, 8))) return e;
    if (k->version >= 2) {
        if ((e = grpo__read(r, "has_reference", &k->has_reference, 4))) return e;
        if (k->has_reference > 1) return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'has_reference' is %u, expected 0 or 1", r->path, k->has_reference);
        static const char *data_names[3] = {"data_seed", "data_size", "data_position"};
        for (int i = 0; i < 3; i++)
            if ((e = grpo__read(r, data_names[i], &data[i], 8))) return e;
        if (data[1] == 0 && data[2] != 0)
            return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': field 'data_position' is %llu for a data order over no examples", r->path, (unsigned long long)data[2]);
    }
    k->data.seed = data[0]; k->data.size = data[1]; k->data.position = data[2];
    if (want_moments && !k->has_optimizer) return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': it holds no optimizer state, and the caller asked for it", r->path);
    if (want_reference && !k->has_reference)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': it holds no reference model, and the trainer has beta > 0 (to start GRPO from these weights, "
                          "load them with grpo_checkpoint_load before grpo_trainer_create)", r->path);
    if (existing && existing->params_memory && memcmp(&config, &existing->config, sizeof config) != 0)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': its config (d_model %d, n_layers %d, n_heads %d, n_kv_heads %d, d_ff %d, vocab %d, context %d) does not match the model's (d_model %d, n_layers %d, n_heads %d, n_kv_heads %d, d_ff %d, vocab %d, context %d)",
                          r->path, config.d_model, config.n_layers, config.n_heads, config.n_kv_heads, config.d_ff, config.vocab_size, config.context_length,
                          existing->config.d_model, existing->config.n_layers, existing->config.n_heads, existing->config.n_kv_heads, existing->config.d_ff, existing->config.vocab_size, existing->config.context_length);
    /* the exact size is known now: refuse a short or long file before allocating anything */
    if (count > (UINT64_MAX - 1024) / 16) /* 16 bytes per parameter at most: the sum below cannot wrap */
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': %llu parameters is more than any file can hold", r->path, (unsigned long long)count);
    uint64_t blocks = 1u + (k->has_optimizer ? 2u : 0u) + k->has_reference, payload = count * 4u * blocks;
    if (r->size != r->offset + payload + 4u)
        return grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': the file has %llu bytes, its header implies %llu (%s)",
                          r->path, (unsigned long long)r->size, (unsigned long long)(r->offset + payload + 4u),
                          r->size < r->offset + payload + 4u ? "truncated" : "trailing bytes");
    /* the memory cap covers everything this load allocates at once */
    size_t rope = (size_t)config.context_length * (size_t)(config.d_model / config.n_heads / 2), floats = (size_t)count + 2 * rope, bytes;
    if (want_moments) floats += 2 * (size_t)count;
    if (want_reference) floats += (size_t)count;
    if (!grpo__mul(floats, sizeof(float), &bytes)) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "checkpoint '%s': its size overflows size_t", r->path);
    if ((e = grpo__check_memory("checkpoint load", bytes))) return e;

    if ((e = grpo__model_allocate(&k->model, &config))) return e;
    if (want_moments) k->moments = (float *)grpo__alloc_floats((size_t)count * 2);
    if (want_reference) k->reference = (float *)grpo__alloc_floats((size_t)count);
    if ((want_moments && !k->moments) || (want_reference && !k->reference)) {
        grpo__loaded_free(k);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "checkpoint '%s': cannot allocate the optimizer state or the reference model (%llu parameters)", r->path, (unsigned long long)count);
    }
    e = grpo__read(r, "parameters", k->model.params_memory, (size_t)count * 4);
    if (!e && k->has_optimizer) e = k->moments ? grpo__read(r, "optimizer moments", k->moments, (size_t)count * 8) : grpo__skip(r, "optimizer moments", count * 2);
    if (!e && k->has_reference) e = k->reference ? grpo__read(r, "reference parameters", k->reference, (size_t)count * 4) : grpo__skip(r, "reference parameters", count);
    uint32_t computed = r->crc, stored = 0;
    if (!e) e = grpo__read(r, "crc32", &stored, 4);
    if (!e && stored != computed)
        e = grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': CRC-32 mismatch (stored %08x, computed %08x): the file is corrupt", r->path, stored, computed);
    /* a file with a good CRC can still hold NaN or Inf (written by other software, or by an old
       grpo.h): it would poison every later step, so it is refused here and named */
    const struct { const char *what; const float *values; int nonnegative; } checks[4] = {
        {"parameter", k->model.params_memory, 0}, {"AdamW m of", k->moments, 0},
        {"AdamW v of", k->moments ? k->moments + count : NULL, 1}, {"reference parameter", k->reference, 0}};
    for (int b = 0; b < 4 && !e; b++) {
        char element[96];
        float value;
        if (checks[b].values && grpo__find_bad_value(k->model.tensors, checks[b].values, checks[b].nonnegative, element, sizeof element, &value))
            e = grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "checkpoint '%s': %s %s is %g%s", r->path, checks[b].what, element, (double)value,
                           checks[b].nonnegative && isfinite(value) ? ", expected >= 0" : "");
    }
    if (e) grpo__loaded_free(k);
    return e;
}

/* Opens a checkpoint for grpo__checkpoint_read. */
static grpo_result grpo__reader_open(grpo__reader *r, const char *path, const char *who) {
    memset(r, 0, sizeof *r);
    r->path = path;
    if (!grpo__little_endian()) return grpo__fail(GRPO_ERROR_IO, "%s: the format is little-endian and this machine is not", who);
    r->file = fopen(path, "rb");
    if (!r->file) return grpo__fail(GRPO_ERROR_IO, "%s: cannot open '%s'", who, path);
    long size = -1;
    if (fseek(r->file, 0, SEEK_END) == 0) size = ftell(r->file);
    if (size < 0 || fseek(r->file, 0, SEEK_SET) != 0) {
        fclose(r->file);
        r->file = NULL;
        return grpo__fail(GRPO_ERROR_IO, "%s: cannot size '%s' (not a regular file?)", who, path);
    }
    r->size = (uint64_t)size;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_checkpoint_load(const char *path, grpo_model *model, grpo_adamw *optimizer,
                                         grpo_checkpoint_state *state) {
    if (!path || !model) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "checkpoint load: path and model are required");
    grpo__reader r;
    grpo__loaded k;
    grpo_result e = grpo__reader_open(&r, path, "checkpoint load");
    if (e) return e;
    e = grpo__checkpoint_read(&r, model, optimizer != NULL, 0, &k);
    fclose(r.file);
    if (e) return e;
    size_t count = k.model.num_parameters;
    if (model->params_memory) {
        memcpy(model->params_memory, k.model.params_memory, count * sizeof(float));
        grpo_model_destroy(&k.model);
    } else {
        *model = k.model;
    }
    if (optimizer) {
        if (optimizer->m && optimizer->num_parameters == count) {
            memcpy(optimizer->m, k.moments, count * 2 * sizeof(float));
            GRPO_FREE(k.moments);
        } else {
            grpo_adamw_config kept = optimizer->m ? optimizer->config : grpo_adamw_config_resolve(&optimizer->config);
            GRPO_FREE(optimizer->m);
            optimizer->m = k.moments;
            optimizer->v = k.moments + count;
            optimizer->num_parameters = count;
            optimizer->config = kept;
        }
        optimizer->step = k.optimizer_step;
    }
    if (state) { state->step = k.step; state->rng_state = k.rng_state; state->data = k.data; }
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_trainer_load(grpo_trainer *trainer, const char *path) {
    if (!trainer || !trainer->memory || !trainer->policy || !trainer->policy->params_memory || !path)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "trainer load: a created trainer and a path are required");
    int want_reference = trainer->reference.params_memory != NULL;
    grpo__reader r;
    grpo__loaded k;
    grpo_result e = grpo__reader_open(&r, path, "trainer load");
    if (e) return e;
    e = grpo__checkpoint_read(&r, trainer->policy, 1, want_reference, &k);
    fclose(r.file);
    if (e) return e;
    if (trainer->data.size != 0 && k.data.size != 0 && trainer->data.size != k.data.size) {
        e = grpo__fail(GRPO_ERROR_BAD_CHECKPOINT, "trainer load: checkpoint '%s' orders a dataset of %llu examples, trainer->data one of %llu",
                       path, (unsigned long long)k.data.size, (unsigned long long)trainer->data.size);
        grpo__loaded_free(&k);
        return e;
    }
    size_t count = k.model.num_parameters;
    memcpy(trainer->policy->params_memory, k.model.params_memory, count * sizeof(float));
    memcpy(trainer->optimizer.m, k.moments, 2 * count * sizeof(float));
    trainer->optimizer.step = k.optimizer_step;
    if (want_reference) memcpy(trainer->reference.params_memory, k.reference, count * sizeof(float));
    trainer->step = k.step;
    trainer->config.seed = k.rng_state;
    if (k.data.size != 0) trainer->data = k.data;
    grpo__loaded_free(&k);
    return GRPO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
   14b. Hugging Face models: safetensors, config.json */

/* Seeks to an absolute offset; long is 32 bits on some platforms, hence the Windows call. */
static int grpo__seek(FILE *file, uint64_t offset) {
#if defined(_MSC_VER)
    return _fseeki64(file, (__int64)offset, SEEK_SET) == 0;
#else
    if (offset > (uint64_t)LONG_MAX) return 0;
    return fseek(file, (long)offset, SEEK_SET) == 0;
#endif
}

static uint64_t grpo__read_u64_le(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static float grpo__half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) bits = sign;
        else { /* subnormal: normalise it */
            int shift = 0;
            while (!(mantissa & 0x400)) { mantissa <<= 1; shift++; }
            mantissa &= 0x3FF;
            bits = sign | ((uint32_t)(127 - 15 + 1 - shift) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static int grpo__tensor_order(const void *a, const void *b) {
    const grpo_safetensors_tensor *x = *(const grpo_safetensors_tensor *const *)a, *y = *(const grpo_safetensors_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Reads a JSON integer in [0, 2^63) from v; field names it. */
static grpo_result grpo__json_uint(const grpo_json_value *v, const char *source, const char *field, uint64_t *out) {
    if (!v || v->type != GRPO_JSON_NUMBER || !v->is_integer || v->integer < 0)
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %s: expected a non-negative integer", source, field);
    *out = (uint64_t)v->integer;
    return GRPO_SUCCESS;
}

/* Checks the JSON header (header_len bytes) of a file of file_size bytes. */
static grpo_result grpo__safetensors_header(grpo_safetensors *st, const char *text, size_t header_len, uint64_t file_size) {
    const char *source = st->source;
    grpo_result r = grpo_json_parse(&st->header, text, header_len, source);
    if (r) return r;
    const grpo_json *json = &st->header;
    const grpo_json_value *root = json->values;
    if (root->type != GRPO_JSON_OBJECT) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: the header is not a JSON object", source);
    st->data_start = 8 + (uint64_t)header_len;
    st->file_size = file_size;
    uint64_t data_size = file_size - st->data_start;
    st->tensors = (grpo_safetensors_tensor *)GRPO_MALLOC((root->count ? root->count : 1) * sizeof(grpo_safetensors_tensor));
    grpo_safetensors_tensor **order = (grpo_safetensors_tensor **)GRPO_MALLOC((root->count ? root->count : 1) * sizeof(void *));
    if (!st->tensors || !order) { GRPO_FREE(order); return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory", source); }
    static const struct { const char *name; int size; } dtypes[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
        {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    const grpo_json_value *member = grpo_json_first(json, root);
    char field[160];
    for (uint32_t i = 0; i < root->count; i++, member = grpo_json_next(json, member)) {
        const char *name = grpo_json_key(json, member);
        if (member->key_length != strlen(name)) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: a tensor name holds a NUL byte", source); goto done; }
        if (strcmp(name, "__metadata__") == 0) {
            if (member->type != GRPO_JSON_OBJECT) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: __metadata__ is not an object", source); goto done; }
            const grpo_json_value *m = grpo_json_first(json, member);
            for (uint32_t k = 0; k < member->count; k++, m = grpo_json_next(json, m))
                if (m->type != GRPO_JSON_STRING) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: __metadata__.%.64s is not a string", source, grpo_json_key(json, m)); goto done; }
            continue;
        }
        grpo_safetensors_tensor *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        t->name = name;
        if (member->type != GRPO_JSON_OBJECT) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' is not an object", source, name); goto done; }
        const grpo_json_value *dtype = grpo_json_get(json, member, "dtype"), *shape = grpo_json_get(json, member, "shape");
        const grpo_json_value *offsets = grpo_json_get(json, member, "data_offsets");
        if (member->count != 3 || !dtype || !shape || !offsets) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' must have exactly the fields dtype, shape and data_offsets", source, name);
            goto done;
        }
        const char *dtype_name = grpo_json_string(json, dtype);
        for (size_t d = 0; dtype_name && d < sizeof dtypes / sizeof dtypes[0]; d++)
            if (strcmp(dtype_name, dtypes[d].name) == 0) { strcpy(t->dtype, dtypes[d].name); t->element_size = dtypes[d].size; }
        if (!t->element_size) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': unknown dtype %s%.16s%s", source, name, dtype_name ? "\"" : "", dtype_name ? dtype_name : "(not a string)", dtype_name ? "\"" : ""); goto done; }
        if (shape->type != GRPO_JSON_ARRAY || shape->count > GRPO_SAFETENSORS_MAX_RANK) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': shape must be an array of at most %d integers", source, name, GRPO_SAFETENSORS_MAX_RANK);
            goto done;
        }
        t->rank = (int)shape->count;
        uint64_t count = 1;
        const grpo_json_value *dim = grpo_json_first(json, shape);
        for (int d = 0; d < t->rank; d++, dim = grpo_json_next(json, dim)) {
            uint64_t n = 0;
            snprintf(field, sizeof field, "tensor '%.100s': shape[%d]", name, d);
            if ((r = grpo__json_uint(dim, source, field, &n))) goto done;
            if (n != 0 && count > UINT64_MAX / n) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': its element count overflows", source, name); goto done; }
            count *= n;
            t->shape[d] = (int64_t)n;
        }
        t->count = count;
        if (offsets->type != GRPO_JSON_ARRAY || offsets->count != 2) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': data_offsets must be [begin, end]", source, name);
            goto done;
        }
        const grpo_json_value *first = grpo_json_first(json, offsets);
        snprintf(field, sizeof field, "tensor '%.100s': data_offsets", name);
        if ((r = grpo__json_uint(first, source, field, &t->begin)) || (r = grpo__json_uint(grpo_json_next(json, first), source, field, &t->end))) goto done;
        if (t->begin > t->end || t->end > data_size) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': data_offsets [%llu, %llu] are not within the %llu data bytes", source, name,
                           (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)data_size);
            goto done;
        }
        if (count > UINT64_MAX / (uint64_t)t->element_size || t->end - t->begin != count * (uint64_t)t->element_size) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s': %llu bytes between its offsets, but its shape and dtype %s need %llu",
                           source, name, (unsigned long long)(t->end - t->begin), t->dtype, (unsigned long long)count * (unsigned long long)t->element_size);
            goto done;
        }
        t->begin += st->data_start;
        t->end += st->data_start;
        order[st->n_tensors] = t;
        st->n_tensors++;
    }
    /* the tensors must tile the data exactly: no gap, no overlap, nothing after the last */
    qsort(order, (size_t)st->n_tensors, sizeof *order, grpo__tensor_order);
    uint64_t expected = st->data_start;
    for (int i = 0; i < st->n_tensors; i++) {
        if (order[i]->begin != expected) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' starts at data byte %llu, but the previous tensor ends at %llu (%s)", source, order[i]->name,
                           (unsigned long long)(order[i]->begin - st->data_start), (unsigned long long)(expected - st->data_start),
                           order[i]->begin < expected ? "they overlap" : "a gap");
            goto done;
        }
        expected = order[i]->end;
    }
    if (expected != file_size)
        r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: the tensors cover %llu data bytes, the file has %llu", source,
                       (unsigned long long)(expected - st->data_start), (unsigned long long)data_size);
done:
    GRPO_FREE(order);
    return r;
}

/* Checks the 8-byte header length against the file size. */
static grpo_result grpo__safetensors_length(const unsigned char *prefix, uint64_t file_size, const char *source, size_t *header_len) {
    if (file_size < 8) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %llu bytes is too short for a safetensors file (8-byte header length first)", source, (unsigned long long)file_size);
    uint64_t n = grpo__read_u64_le(prefix);
    if (n > GRPO_SAFETENSORS_MAX_HEADER) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: header length %llu is over the %u bytes allowed", source, (unsigned long long)n, GRPO_SAFETENSORS_MAX_HEADER);
    if (n > file_size - 8) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: header length %llu runs past the end of the %llu-byte file", source, (unsigned long long)n, (unsigned long long)file_size);
    if (n < 2) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: header length %llu is too short for a JSON object", source, (unsigned long long)n);
    *header_len = (size_t)n;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_safetensors_parse(grpo_safetensors *st, const void *bytes, size_t size, const char *source) {
    if (!st) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_safetensors_parse: file is NULL");
    memset(st, 0, sizeof *st);
    st->source = source ? source : "safetensors";
    if (!bytes && size) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: bytes is NULL", st->source);
    size_t header_len = 0;
    grpo_result r = grpo__safetensors_length((const unsigned char *)bytes, size, st->source, &header_len);
    if (!r) r = grpo__safetensors_header(st, (const char *)bytes + 8, header_len, size);
    if (r) { grpo_safetensors_close(st); return r; }
    st->memory = (const unsigned char *)bytes;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_safetensors_open(grpo_safetensors *st, const char *path) {
    if (!st || !path) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_safetensors_open: file and path are required");
    memset(st, 0, sizeof *st);
    st->source = path;
    FILE *file = fopen(path, "rb");
    if (!file) return grpo__fail(GRPO_ERROR_IO, "cannot open '%s'", path);
    st->file = file;
    unsigned char prefix[8] = {0};
    uint64_t size = 0;
    grpo_result r = GRPO_SUCCESS;
#if defined(_MSC_VER)
    if (_fseeki64(file, 0, SEEK_END) != 0 || (size = (uint64_t)_ftelli64(file)) == (uint64_t)-1) r = grpo__fail(GRPO_ERROR_IO, "cannot size '%s'", path);
#else
    long end;
    if (fseek(file, 0, SEEK_END) != 0 || (end = ftell(file)) < 0) r = grpo__fail(GRPO_ERROR_IO, "cannot size '%s'", path);
    else size = (uint64_t)end;
#endif
    size_t header_len = 0;
    char *header = NULL;
    if (!r && (!grpo__seek(file, 0) || fread(prefix, 1, size < 8 ? (size_t)size : 8, file) != (size < 8 ? (size_t)size : 8)))
        r = grpo__fail(GRPO_ERROR_IO, "read error in '%s'", path);
    if (!r) r = grpo__safetensors_length(prefix, size, path, &header_len);
    if (!r && !(header = (char *)GRPO_MALLOC(header_len))) r = grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: out of memory for the header", path);
    if (!r && fread(header, 1, header_len, file) != header_len) r = grpo__fail(GRPO_ERROR_IO, "read error in '%s'", path);
    if (!r) r = grpo__safetensors_header(st, header, header_len, size);
    GRPO_FREE(header);
    if (r) grpo_safetensors_close(st);
    return r;
}

GRPODEF void grpo_safetensors_close(grpo_safetensors *st) {
    if (!st) return;
    if (st->file) fclose((FILE *)st->file);
    grpo_json_free(&st->header);
    GRPO_FREE(st->tensors);
    memset(st, 0, sizeof *st);
}

GRPODEF int grpo_safetensors_find(const grpo_safetensors *st, const char *name) {
    for (int i = 0; st && name && i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return i;
    return -1;
}

GRPODEF grpo_result grpo_safetensors_read(const grpo_safetensors *st, int i, float *out) {
    if (!st || i < 0 || i >= st->n_tensors || !out) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_safetensors_read: bad arguments");
    if (!grpo__little_endian()) return grpo__fail(GRPO_ERROR_IO, "%s: safetensors is little-endian and this machine is not", st->source);
    const grpo_safetensors_tensor *t = &st->tensors[i];
    int f32 = strcmp(t->dtype, "F32") == 0, f16 = strcmp(t->dtype, "F16") == 0, bf16 = strcmp(t->dtype, "BF16") == 0;
    if (!f32 && !f16 && !bf16)
        return grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: tensor '%.100s' has dtype %s; grpo.h reads F32, F16 and BF16", st->source, t->name, t->dtype);
    FILE *file = (FILE *)st->file;
    if (file && !grpo__seek(file, t->begin)) return grpo__fail(GRPO_ERROR_IO, "%s: cannot seek to tensor '%.100s'", st->source, t->name);
    unsigned char buffer[1 << 16];
    size_t done = 0, count = (size_t)t->count;
    while (done < count) {
        size_t n = (sizeof buffer) / (size_t)t->element_size;
        if (n > count - done) n = count - done;
        const unsigned char *bytes = st->memory ? st->memory + t->begin + done * (size_t)t->element_size : buffer;
        if (file && fread(buffer, (size_t)t->element_size, n, file) != n)
            return grpo__fail(GRPO_ERROR_IO, "%s: read error in tensor '%.100s'", st->source, t->name);
        float *o = out + done;
        if (f32) memcpy(o, bytes, n * 4);
        else if (bf16) for (size_t j = 0; j < n; j++) { uint32_t bits = (uint32_t)(bytes[2 * j] | (bytes[2 * j + 1] << 8)) << 16; memcpy(&o[j], &bits, 4); }
        else for (size_t j = 0; j < n; j++) o[j] = grpo__half_to_float((uint16_t)(bytes[2 * j] | (bytes[2 * j + 1] << 8)));
        for (size_t j = 0; j < n; j++)
            if (!isfinite(o[j]))
                return grpo__fail(GRPO_ERROR_NON_FINITE, "%s: tensor '%.100s' element %zu is %g", st->source, t->name, done + j, (double)o[j]);
        done += n;
    }
    return GRPO_SUCCESS;
}

/* ---- config.json */

static grpo_result grpo__hf_int(const grpo_json *json, const char *source, const char *key, int required, int fallback, int *out) {
    const grpo_json_value *v = grpo_json_get(json, json->values, key);
    if (!v || v->type == GRPO_JSON_NULL) {
        if (required) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"%s\" is missing", source, key);
        *out = fallback;
        return GRPO_SUCCESS;
    }
    if (v->type != GRPO_JSON_NUMBER || !v->is_integer || v->integer < 1 || v->integer > GRPO__MAX_DIMENSION)
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"%s\" must be an integer from 1 to %d", source, key, GRPO__MAX_DIMENSION);
    *out = (int)v->integer;
    return GRPO_SUCCESS;
}

static grpo_result grpo__hf_float(const grpo_json *json, const char *source, const char *key, double fallback, double *out) {
    const grpo_json_value *v = grpo_json_get(json, json->values, key);
    if (!v || v->type == GRPO_JSON_NULL) { *out = fallback; return GRPO_SUCCESS; }
    if (v->type != GRPO_JSON_NUMBER) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"%s\" must be a number", source, key);
    *out = v->number;
    return GRPO_SUCCESS;
}

/* -1: absent or null; otherwise 0/1 (JSON false/true); -2: not a boolean */
static int grpo__hf_bool(const grpo_json *json, const char *key) {
    const grpo_json_value *v = grpo_json_get(json, json->values, key);
    if (!v || v->type == GRPO_JSON_NULL) return -1;
    return v->type == GRPO_JSON_TRUE ? 1 : v->type == GRPO_JSON_FALSE ? 0 : -2;
}

static int grpo__hf_token_id(const grpo_json *json, const char *key) {
    const grpo_json_value *v = grpo_json_get(json, json->values, key);
    if (v && v->type == GRPO_JSON_ARRAY && v->count > 0) v = grpo_json_first(json, v);
    if (v && v->type == GRPO_JSON_NUMBER && v->is_integer && v->integer >= 0 && v->integer < GRPO__MAX_DIMENSION) return (int)v->integer;
    return -1;
}

GRPODEF grpo_result grpo_hf_config_parse(const char *text, size_t len, const char *source, const grpo_hf_options *options,
                                         grpo_config *config, grpo_hf_info *info) {
    if (!config) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_hf_config_parse: config is NULL");
    if (!source) source = "config.json";
    grpo_json json;
    grpo_result r = grpo_json_parse(&json, text, len, source);
    if (r) return r;
    grpo_hf_info found;
    memset(&found, 0, sizeof found);
    grpo_config c;
    memset(&c, 0, sizeof c);
    const grpo_json_value *root = json.values, *v;
    int qwen2 = 0, flag;
    double eps, theta;
    if (root->type != GRPO_JSON_OBJECT) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: expected a JSON object", source); goto done; }
    /* the architecture: architectures[0] if given, else model_type */
    v = grpo_json_get(&json, root, "architectures");
    const char *architecture = NULL, *model_type = grpo_json_string(&json, grpo_json_get(&json, root, "model_type"));
    if (v && v->type != GRPO_JSON_NULL) {
        if (v->type != GRPO_JSON_ARRAY || v->count != 1 || !(architecture = grpo_json_string(&json, grpo_json_first(&json, v)))) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"architectures\" must be a list of one name", source);
            goto done;
        }
    } else if (model_type) {
        architecture = strcmp(model_type, "llama") == 0 ? "LlamaForCausalLM" : strcmp(model_type, "qwen2") == 0 ? "Qwen2ForCausalLM" : model_type;
    } else {
        r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: neither \"architectures\" nor \"model_type\" says what model this is", source);
        goto done;
    }
    if (strcmp(architecture, "Qwen2ForCausalLM") == 0) qwen2 = 1;
    else if (strcmp(architecture, "LlamaForCausalLM") != 0) {
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: architecture \"%.64s\" is not supported; grpo.h reads LlamaForCausalLM and Qwen2ForCausalLM", source, architecture);
        goto done;
    }
    if (model_type && strcmp(model_type, qwen2 ? "qwen2" : "llama") != 0) {
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: model_type \"%.64s\" does not match architecture %s", source, model_type, architecture);
        goto done;
    }
    strcpy(found.architecture, architecture);
    if ((r = grpo__hf_int(&json, source, "hidden_size", 1, 0, &c.d_model)) ||
        (r = grpo__hf_int(&json, source, "num_hidden_layers", 1, 0, &c.n_layers)) ||
        (r = grpo__hf_int(&json, source, "num_attention_heads", 1, 0, &c.n_heads)) ||
        (r = grpo__hf_int(&json, source, "num_key_value_heads", 0, c.n_heads, &c.n_kv_heads)) ||
        (r = grpo__hf_int(&json, source, "intermediate_size", 1, 0, &c.d_ff)) ||
        (r = grpo__hf_int(&json, source, "vocab_size", 1, 0, &c.vocab_size)) ||
        (r = grpo__hf_int(&json, source, "max_position_embeddings", 1, 0, &found.max_position_embeddings)))
        goto done;
    if ((r = grpo__hf_float(&json, source, "rms_norm_eps", 1e-6, &eps)) || (r = grpo__hf_float(&json, source, "rope_theta", 10000.0, &theta))) goto done;
    if (!(eps > 0.0 && eps < 1.0)) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"rms_norm_eps\" = %g: expected a number in (0, 1)", source, eps); goto done; }
    if (!(theta > 1.0 && theta < 1e30)) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"rope_theta\" = %g: expected a number > 1", source, theta); goto done; }
    c.norm_eps = (float)eps;
    c.rope_theta = (float)theta;
    flag = grpo__hf_bool(&json, "tie_word_embeddings");
    if (flag == -2) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"tie_word_embeddings\" must be true or false", source); goto done; }
    c.untied_head = flag == 1 ? 0 : 1; /* both LlamaConfig and Qwen2Config default to false (untied) */
    c.qkv_bias = qwen2;
    /* what the engine does not implement is refused, not ignored */
    v = grpo_json_get(&json, root, "rope_scaling");
    if (v && v->type != GRPO_JSON_NULL) {
        const char *kind = grpo_json_string(&json, grpo_json_get(&json, v, "rope_type"));
        if (!kind) kind = grpo_json_string(&json, grpo_json_get(&json, v, "type"));
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: rope_scaling (%.32s) is not implemented; grpo.h has plain RoPE only", source, kind ? kind : "of unknown type");
        goto done;
    }
    const char *activation = grpo_json_string(&json, grpo_json_get(&json, root, "hidden_act"));
    v = grpo_json_get(&json, root, "hidden_act");
    if (v && v->type != GRPO_JSON_NULL && (!activation || strcmp(activation, "silu") != 0)) {
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: hidden_act \"%.32s\" is not implemented; grpo.h has SwiGLU with silu", source, activation ? activation : "?");
        goto done;
    }
    if (!qwen2 && (flag = grpo__hf_bool(&json, "attention_bias")) != -1 && flag != 0) {
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: attention_bias is not false: a Llama with biases (also on o_proj) is not implemented", source);
        goto done;
    }
    if ((flag = grpo__hf_bool(&json, "mlp_bias")) != -1 && flag != 0) { r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: mlp_bias is not false: MLP biases are not implemented", source); goto done; }
    if ((flag = grpo__hf_bool(&json, "use_sliding_window")) != -1 && flag != 0) { r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: use_sliding_window is not false: sliding-window attention is not implemented", source); goto done; }
    double dropout;
    if ((r = grpo__hf_float(&json, source, "attention_dropout", 0.0, &dropout))) goto done;
    if (dropout != 0.0) { r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: attention_dropout = %g: dropout is not implemented", source, dropout); goto done; }
    v = grpo_json_get(&json, root, "head_dim");
    if (v && v->type != GRPO_JSON_NULL && (!v->is_integer || c.d_model % c.n_heads != 0 || v->integer != c.d_model / c.n_heads)) {
        r = grpo__fail(GRPO_ERROR_UNSUPPORTED, "%s: head_dim differs from hidden_size / num_attention_heads; grpo.h needs them equal", source);
        goto done;
    }
    c.context_length = found.max_position_embeddings;
    if (options && options->context_length) {
        if (options->context_length < 1 || options->context_length > found.max_position_embeddings) {
            r = grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "options.context_length = %d: expected 1 to max_position_embeddings = %d", options->context_length, found.max_position_embeddings);
            goto done;
        }
        c.context_length = options->context_length;
    }
    found.bos_token_id = grpo__hf_token_id(&json, "bos_token_id");
    found.eos_token_id = grpo__hf_token_id(&json, "eos_token_id");
    const char *dtype = grpo_json_string(&json, grpo_json_get(&json, root, "torch_dtype"));
    if (dtype && strlen(dtype) < sizeof found.torch_dtype) strcpy(found.torch_dtype, dtype);
    if (grpo_config_validate(&c) != GRPO_SUCCESS) {
        char message[sizeof grpo__error_message];
        memcpy(message, grpo__error_message, sizeof message);
        r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %s", source, message);
        goto done;
    }
    *config = c;
    if (info) *info = found;
done:
    grpo_json_free(&json);
    return r;
}

/* ---- the model directory */

static char *grpo__path_join(const char *directory, const char *name) {
    size_t a = strlen(directory), b = strlen(name);
    char *path = (char *)GRPO_MALLOC(a + b + 2);
    if (!path) return NULL;
    memcpy(path, directory, a);
    size_t at = a;
    if (a > 0 && directory[a - 1] != '/') path[at++] = '/';
    memcpy(path + at, name, b + 1);
    return path;
}

static int grpo__file_exists(const char *path) {
    FILE *file = fopen(path, "rb");
    if (file) fclose(file);
    return file != NULL;
}

/* Maps a transformers tensor name to a tensor of the table and a layer: 0 if it is one the model
   has, 1 if it is to be ignored, -1 if it is unknown. */
static int grpo__hf_name(const char *name, const grpo_config *c, int *tensor, int *layer) {
    static const struct { const char *suffix; int tensor; } per_layer[] = {
        {"input_layernorm.weight", GRPO_TENSOR_ATTN_NORM}, {"self_attn.q_proj.weight", GRPO_TENSOR_WQ},
        {"self_attn.q_proj.bias", GRPO_TENSOR_BQ}, {"self_attn.k_proj.weight", GRPO_TENSOR_WK},
        {"self_attn.k_proj.bias", GRPO_TENSOR_BK}, {"self_attn.v_proj.weight", GRPO_TENSOR_WV},
        {"self_attn.v_proj.bias", GRPO_TENSOR_BV}, {"self_attn.o_proj.weight", GRPO_TENSOR_WO},
        {"post_attention_layernorm.weight", GRPO_TENSOR_MLP_NORM}, {"mlp.gate_proj.weight", GRPO_TENSOR_W_GATE},
        {"mlp.up_proj.weight", GRPO_TENSOR_W_UP}, {"mlp.down_proj.weight", GRPO_TENSOR_W_DOWN}};
    *layer = 0;
    if (strcmp(name, "model.embed_tokens.weight") == 0) { *tensor = GRPO_TENSOR_TOKEN_EMBEDDING; return 0; }
    if (strcmp(name, "model.norm.weight") == 0) { *tensor = GRPO_TENSOR_FINAL_NORM; return 0; }
    if (strcmp(name, "lm_head.weight") == 0) { *tensor = GRPO_TENSOR_LM_HEAD; return c->untied_head ? 0 : 1; }
    if (strncmp(name, "model.layers.", 13) != 0) return -1;
    const char *s = name + 13;
    long l = 0;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '.')) return -1;
    while (*s >= '0' && *s <= '9') { l = l * 10 + (*s++ - '0'); if (l >= c->n_layers) return -1; }
    if (*s++ != '.') return -1;
    *layer = (int)l;
    if (strcmp(s, "self_attn.rotary_emb.inv_freq") == 0) return 1;
    for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++)
        if (strcmp(s, per_layer[i].suffix) == 0) {
            *tensor = per_layer[i].tensor;
            if ((*tensor == GRPO_TENSOR_BQ || *tensor == GRPO_TENSOR_BK || *tensor == GRPO_TENSOR_BV) && !c->qkv_bias) return -1;
            return 0;
        }
    return -1;
}

/* The transformers name of tensor (table index) in layer l. */
static void grpo__hf_tensor_name(char *out, size_t size, int tensor, int layer) {
    static const char *names[GRPO_NUM_TENSORS] = {
        "model.embed_tokens.weight", "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias",
        "self_attn.k_proj.weight", "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
        "self_attn.o_proj.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
        "mlp.down_proj.weight", "model.norm.weight", "lm_head.weight"};
    if (tensor == GRPO_TENSOR_TOKEN_EMBEDDING || tensor == GRPO_TENSOR_FINAL_NORM || tensor == GRPO_TENSOR_LM_HEAD)
        snprintf(out, size, "%s", names[tensor]);
    else
        snprintf(out, size, "model.layers.%d.%s", layer, names[tensor]);
}

static int grpo__hf_per_layer(int tensor) {
    return !(tensor == GRPO_TENSOR_TOKEN_EMBEDDING || tensor == GRPO_TENSOR_FINAL_NORM || tensor == GRPO_TENSOR_LM_HEAD);
}

#define GRPO__HF_MAX_SHARDS 4096

typedef struct {
    grpo_safetensors shards[GRPO__HF_MAX_SHARDS];
    char *paths[GRPO__HF_MAX_SHARDS]; /* each shard's path; shards[s].source points at it */
    int n_shards;
    unsigned char *loaded;            /* (GRPO_NUM_TENSORS, L) tensors filled so far */
} grpo__hf_files;

/* Opens model.safetensors, or the shards model.safetensors.index.json names, and checks that the
   index and the shards agree tensor by tensor. */
static grpo_result grpo__hf_open_weights(grpo__hf_files *f, const char *directory) {
    char *path = grpo__path_join(directory, "model.safetensors");
    if (!path) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    if (grpo__file_exists(path)) {
        f->paths[0] = path;
        f->n_shards = 1;
        return grpo_safetensors_open(&f->shards[0], path);
    }
    GRPO_FREE(path);
    char *index_path = grpo__path_join(directory, "model.safetensors.index.json");
    if (!index_path) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    grpo_result r;
    if (!grpo__file_exists(index_path)) {
        r = grpo__fail(GRPO_ERROR_IO, "%s: no model.safetensors or model.safetensors.index.json (grpo.h does not read pytorch_model.bin)", directory);
        GRPO_FREE(index_path);
        return r;
    }
    grpo_json index;
    const grpo_json_value *weight_map = NULL, *entry;
    r = grpo_json_parse_file(&index, index_path);
    if (!r) {
        weight_map = grpo_json_get(&index, index.values, "weight_map");
        if (!weight_map || weight_map->type != GRPO_JSON_OBJECT)
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"weight_map\" must be an object of tensor name -> file name", index_path);
    }
    /* open each distinct shard once, in order of first mention */
    entry = grpo_json_first(&index, weight_map);
    for (uint32_t i = 0; !r && i < weight_map->count; i++, entry = grpo_json_next(&index, entry)) {
        const char *file = grpo_json_string(&index, entry);
        if (!file || entry->length == 0 || entry->length != strlen(file) || strchr(file, '/') || strchr(file, '\\') ||
            strcmp(file, ".") == 0 || strcmp(file, "..") == 0) {
            r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: weight_map[\"%.100s\"] must be a plain file name in the same directory", index_path, grpo_json_key(&index, entry));
            break;
        }
        int s = 0;
        while (s < f->n_shards && strcmp(strrchr(f->paths[s], '/') + 1, file) != 0) s++;
        if (s < f->n_shards) continue;
        if (f->n_shards == GRPO__HF_MAX_SHARDS) { r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: more than %d shards", index_path, GRPO__HF_MAX_SHARDS); break; }
        /* join with an explicit '/' so that the file name is always after the last one */
        size_t a = strlen(directory), b = strlen(file);
        char *shard_path = (char *)GRPO_MALLOC(a + b + 2);
        if (!shard_path) { r = grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory"); break; }
        memcpy(shard_path, directory, a);
        shard_path[a] = '/';
        memcpy(shard_path + a + 1, file, b + 1);
        f->paths[f->n_shards++] = shard_path;
        r = grpo_safetensors_open(&f->shards[f->n_shards - 1], shard_path);
    }
    /* every tensor the index names is in its shard, and every tensor of a shard is in the index */
    entry = grpo_json_first(&index, weight_map);
    for (uint32_t i = 0; !r && i < weight_map->count; i++, entry = grpo_json_next(&index, entry)) {
        const char *file = grpo_json_string(&index, entry), *tensor = grpo_json_key(&index, entry);
        for (int s = 0; !r && s < f->n_shards; s++)
            if (strcmp(strrchr(f->paths[s], '/') + 1, file) == 0 && grpo_safetensors_find(&f->shards[s], tensor) < 0)
                r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: the index puts tensor '%.100s' in this shard, which does not hold it", f->paths[s], tensor);
    }
    for (int s = 0; !r && s < f->n_shards; s++)
        for (int t = 0; !r && t < f->shards[s].n_tensors; t++) {
            const char *listed = grpo_json_string(&index, grpo_json_get(&index, weight_map, f->shards[s].tensors[t].name));
            if (!listed || strcmp(listed, strrchr(f->paths[s], '/') + 1) != 0)
                r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' is in this shard but the index %s", f->paths[s],
                               f->shards[s].tensors[t].name, listed ? "puts it in another" : "does not list it");
        }
    grpo_json_free(&index);
    GRPO_FREE(index_path);
    return r;
}

static grpo_result grpo__hf_load(grpo_model *model, const char *directory, grpo__hf_files *f,
                                 const grpo_hf_options *options, grpo_hf_info *info) {
    char *path = grpo__path_join(directory, "config.json"), *text = NULL;
    if (!path) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    size_t len;
    grpo_config config;
    grpo_result r = grpo__read_file(path, "config", GRPO_JSON_MAX_BYTES, &text, &len);
    if (!r) r = grpo_hf_config_parse(text, len, path, options, &config, info);
    GRPO_FREE(text);
    GRPO_FREE(path);
    if (r || (r = grpo__hf_open_weights(f, directory))) return r;
    /* create the model, then fill every tensor exactly once */
    if ((r = grpo__model_allocate(model, &config))) return r;
    const grpo_config *c = &model->config;
    size_t flags = (size_t)GRPO_NUM_TENSORS * (size_t)c->n_layers;
    f->loaded = (unsigned char *)GRPO_MALLOC(flags);
    if (!f->loaded) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    memset(f->loaded, 0, flags);
    for (int s = 0; s < f->n_shards; s++)
        for (int i = 0; i < f->shards[s].n_tensors; i++) {
            const grpo_safetensors_tensor *t = &f->shards[s].tensors[i];
            const char *source = f->paths[s];
            int tensor = 0, layer = 0, kind = grpo__hf_name(t->name, c, &tensor, &layer);
            if (kind < 0)
                return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: unexpected tensor '%.100s' for a %s with %d layers%s", source, t->name,
                                  info->architecture, c->n_layers, c->qkv_bias ? "" : " and no Q/K/V biases");
            if (kind == 1) continue;
            const grpo_tensor_info *table = &model->tensors[tensor];
            int per_layer = grpo__hf_per_layer(tensor), rank = table->rank - per_layer;
            /* the expected shape: the table's without the layer dimension */
            long long expected[2] = {table->shape[per_layer], rank > 1 ? table->shape[per_layer + 1] : 0};
            if (t->rank != rank || t->shape[0] != expected[0] || (rank == 2 && t->shape[1] != expected[1]))
                return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' has shape [%lld%s%lld] (rank %d), expected [%lld%s%lld]", source, t->name,
                                  t->rank > 0 ? (long long)t->shape[0] : 0LL, t->rank > 1 ? ", " : "", t->rank > 1 ? (long long)t->shape[1] : 0LL, t->rank,
                                  expected[0], rank > 1 ? ", " : "", rank > 1 ? expected[1] : 0LL);
            unsigned char *flag = &f->loaded[(size_t)tensor * c->n_layers + layer];
            if (*flag) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%.100s' appears twice", source, t->name);
            *flag = 1;
            size_t slice = table->count / (per_layer ? (size_t)c->n_layers : 1);
            if ((r = grpo_safetensors_read(&f->shards[s], i, model->params_memory + table->offset + (size_t)layer * slice))) return r;
        }
    char name[160];
    for (int tensor = 0; tensor < GRPO_NUM_TENSORS; tensor++) {
        if (model->tensors[tensor].count == 0) continue;
        for (int layer = 0; layer < (grpo__hf_per_layer(tensor) ? c->n_layers : 1); layer++)
            if (!f->loaded[(size_t)tensor * c->n_layers + layer]) {
                grpo__hf_tensor_name(name, sizeof name, tensor, layer);
                return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: tensor '%s' is missing", directory, name);
            }
    }
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_hf_model_load(grpo_model *model, const char *directory, const grpo_hf_options *options, grpo_hf_info *info) {
    if (!model || !directory) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_hf_model_load: model and directory are required");
    memset(model, 0, sizeof *model);
    if (!directory[0]) directory = "."; /* shard paths are joined as directory/name */
    grpo__hf_files *f = (grpo__hf_files *)GRPO_MALLOC(sizeof *f);
    if (!f) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    memset(f, 0, sizeof *f);
    grpo_hf_info found;
    memset(&found, 0, sizeof found);
    grpo_result r = grpo__hf_load(model, directory, f, options, &found);
    for (int s = 0; s < f->n_shards; s++) {
        grpo_safetensors_close(&f->shards[s]);
        GRPO_FREE(f->paths[s]);
    }
    GRPO_FREE(f->loaded);
    GRPO_FREE(f);
    if (r) { grpo_model_destroy(model); return r; }
    if (info) *info = found;
    return GRPO_SUCCESS;
}

/* ---- saving */

/* Opens "<path>.tmp" for writing into *file; grpo__commit_file renames it over path once all
   is written. A NULL path is a failed allocation upstream: out of memory, not an I/O error. */
static grpo_result grpo__open_temporary(const char *path, FILE **file, char **temporary) {
    *file = NULL;
    *temporary = NULL;
    if (!path) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory for a file name");
    size_t n = strlen(path);
    *temporary = (char *)GRPO_MALLOC(n + 5);
    if (!*temporary) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory for the name of '%s.tmp'", path);
    memcpy(*temporary, path, n);
    memcpy(*temporary + n, ".tmp", 5);
    *file = fopen(*temporary, "wb");
    if (*file) return GRPO_SUCCESS;
    grpo_result r = grpo__fail(GRPO_ERROR_IO, "cannot open '%s' for writing", *temporary);
    GRPO_FREE(*temporary);
    *temporary = NULL;
    return r;
}

static grpo_result grpo__commit_file(FILE *file, char *temporary, const char *path, int failed) {
    if (fflush(file) != 0) failed = 1;
#ifdef GRPO__HAVE_FSYNC
    if (!failed && fsync(fileno(file)) != 0) failed = 1;
#endif
    if (fclose(file) != 0) failed = 1;
    grpo_result r = GRPO_SUCCESS;
    if (failed) r = grpo__fail(GRPO_ERROR_IO, "writing '%s' failed (disk full?); '%s' is unchanged", temporary, path);
    else if (rename(temporary, path) != 0) r = grpo__fail(GRPO_ERROR_IO, "cannot rename '%s' to '%s'", temporary, path);
    if (r) remove(temporary);
    GRPO_FREE(temporary);
    return r;
}

/* The shortest decimal that reads back as the same float, so that config.json says 1e-06 rather
   than 9.99999997e-07. */
static void grpo__shortest_float(char *out, size_t size, float value) {
    if (value == floorf(value) && fabsf(value) < 1e15f) { snprintf(out, size, "%.1f", (double)value); return; }
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(out, size, "%.*g", digits, (double)value);
        if ((float)strtod(out, NULL) == value) break;
    }
    if (!strchr(out, '.') && !strchr(out, 'e') && !strchr(out, 'n') && strlen(out) + 2 < size) strcat(out, ".0");
}

GRPODEF grpo_result grpo_hf_model_save(const char *directory, const grpo_model *model, const grpo_hf_info *info) {
    if (!directory || !model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_hf_model_save: a directory and a created model are required");
    if (!grpo__little_endian()) return grpo__fail(GRPO_ERROR_IO, "grpo_hf_model_save: safetensors is little-endian and this machine is not");
#ifdef GRPO__HAVE_FSYNC
    if (mkdir(directory, 0777) != 0 && errno != EEXIST) return grpo__fail(GRPO_ERROR_IO, "cannot create the directory '%s'", directory);
#endif
    const grpo_config *c = &model->config;
    /* the header: every tensor, per layer, in table order, tiling the data */
    size_t header_capacity = 256 + (size_t)(GRPO_NUM_TENSORS * (c->n_layers + 1)) * 192, at = 0;
    char *header = (char *)GRPO_MALLOC(header_capacity);
    if (!header) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    at += (size_t)snprintf(header + at, header_capacity - at, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t offset = 0;
    char name[160];
    for (int tensor = 0; tensor < GRPO_NUM_TENSORS; tensor++) {
        const grpo_tensor_info *t = &model->tensors[tensor];
        if (t->count == 0) continue;
        int per_layer = grpo__hf_per_layer(tensor), rank = t->rank - per_layer;
        size_t slice = t->count / (per_layer ? (size_t)c->n_layers : 1);
        for (int layer = 0; layer < (per_layer ? c->n_layers : 1); layer++) {
            grpo__hf_tensor_name(name, sizeof name, tensor, layer);
            if (rank == 2)
                at += (size_t)snprintf(header + at, header_capacity - at, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%llu,%llu]}",
                                       name, t->shape[per_layer], t->shape[per_layer + 1], (unsigned long long)offset, (unsigned long long)(offset + slice * 4));
            else
                at += (size_t)snprintf(header + at, header_capacity - at, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}",
                                       name, t->shape[per_layer], (unsigned long long)offset, (unsigned long long)(offset + slice * 4));
            offset += slice * 4;
        }
    }
    at += (size_t)snprintf(header + at, header_capacity - at, "}");
    while (at % 8 != 0) header[at++] = ' '; /* the data starts 8-byte aligned, as the safetensors library writes it */
    GRPO_ASSERT(at < header_capacity);
    char *path = grpo__path_join(directory, "model.safetensors"), *temporary = NULL;
    FILE *file;
    grpo_result r = grpo__open_temporary(path, &file, &temporary);
    if (r) {
        GRPO_FREE(path); GRPO_FREE(header);
        return r;
    }
    unsigned char length[8];
    for (int i = 0; i < 8; i++) length[i] = (unsigned char)((uint64_t)at >> (8 * i));
    int failed = fwrite(length, 1, 8, file) != 8 || fwrite(header, 1, at, file) != at;
    GRPO_FREE(header);
    for (int tensor = 0; tensor < GRPO_NUM_TENSORS && !failed; tensor++) {
        const grpo_tensor_info *t = &model->tensors[tensor];
        if (t->count) failed = fwrite(model->params_memory + t->offset, sizeof(float), t->count, file) != t->count;
    }
    r = grpo__commit_file(file, temporary, path, failed);
    GRPO_FREE(path);
    if (r) return r;

    /* config.json, as transformers' save_pretrained writes it (the keys that matter) */
    int qwen2 = c->qkv_bias != 0;
    char eps[32], theta[32], text[2048];
    grpo__shortest_float(eps, sizeof eps, c->norm_eps);
    grpo__shortest_float(theta, sizeof theta, c->rope_theta);
    int max_positions = info && info->max_position_embeddings >= c->context_length ? info->max_position_embeddings : c->context_length;
    int n = snprintf(text, sizeof text,
                     "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n"
                     "  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"vocab_size\": %d,\n"
                     "  \"max_position_embeddings\": %d,\n  \"rms_norm_eps\": %s,\n  \"rope_theta\": %s,\n  \"rope_scaling\": null,\n"
                     "  \"hidden_act\": \"silu\",\n  \"tie_word_embeddings\": %s,\n  \"attention_dropout\": 0.0,\n%s"
                     "  \"torch_dtype\": \"float32\"",
                     qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM", qwen2 ? "qwen2" : "llama", c->d_model, c->d_ff, c->n_layers,
                     c->n_heads, c->n_kv_heads, c->vocab_size, max_positions, eps, theta, c->untied_head ? "false" : "true",
                     qwen2 ? "  \"use_sliding_window\": false,\n" : "  \"attention_bias\": false,\n  \"mlp_bias\": false,\n");
    if (info && info->bos_token_id >= 0) n += snprintf(text + n, sizeof text - (size_t)n, ",\n  \"bos_token_id\": %d", info->bos_token_id);
    if (info && info->eos_token_id >= 0) n += snprintf(text + n, sizeof text - (size_t)n, ",\n  \"eos_token_id\": %d", info->eos_token_id);
    n += snprintf(text + n, sizeof text - (size_t)n, "\n}\n");
    path = grpo__path_join(directory, "config.json");
    if ((r = grpo__open_temporary(path, &file, &temporary))) {
        GRPO_FREE(path);
        return r;
    }
    failed = fwrite(text, 1, (size_t)n, file) != (size_t)n;
    r = grpo__commit_file(file, temporary, path, failed);
    GRPO_FREE(path);
    return r;
}


/* ---- the tokenizer of a model directory */

/* A token named in tokenizer_config.json: a string, {"content": string, ...}, or null (-1). */
static grpo_result grpo__special_token(const grpo_tokenizer *tokenizer, const grpo_json *json, const char *key, const char *source, int *id) {
    const grpo_json_value *v = grpo_json_get(json, json->values, key);
    if (v && v->type == GRPO_JSON_OBJECT) v = grpo_json_get(json, v, "content");
    if (!v || v->type == GRPO_JSON_NULL) return GRPO_SUCCESS;
    const char *text = grpo_json_string(json, v);
    if (!text) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: \"%s\" must be a token's text or null", source, key);
    *id = grpo_tokenizer_token_id(tokenizer, text);
    if (*id < 0) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: %s \"%.64s\" is not a token of tokenizer.json", source, key, text);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_hf_tokenizer_load(grpo_tokenizer *tokenizer, const char *directory, int model_vocab_size) {
    if (tokenizer) memset(tokenizer, 0, sizeof *tokenizer);
    if (!tokenizer || !directory) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_hf_tokenizer_load: tokenizer and directory are required");
    char *path = grpo__path_join(directory, "tokenizer.json");
    if (!path) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "out of memory");
    grpo_result r = grpo_bpe_tokenizer_load(tokenizer, path);
    GRPO_FREE(path);
    if (r) return r;
    /* BOS/EOS/PAD: tokenizer_config.json's names if it has them, else config.json's ids */
    int bos = -1, eos = -1, pad = -1, have_config = 0;
    path = grpo__path_join(directory, "tokenizer_config.json");
    if (path && grpo__file_exists(path)) {
        grpo_json json;
        r = grpo_json_parse_file(&json, path);
        if (!r && json.values->type != GRPO_JSON_OBJECT) r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: expected a JSON object", path);
        if (!r) r = grpo__special_token(tokenizer, &json, "bos_token", path, &bos);
        if (!r) r = grpo__special_token(tokenizer, &json, "eos_token", path, &eos);
        if (!r) r = grpo__special_token(tokenizer, &json, "pad_token", path, &pad);
        have_config = !r && grpo_json_get(&json, json.values, "eos_token") != NULL;
        grpo_json_free(&json);
    }
    GRPO_FREE(path);
    if (!r && !have_config) {
        path = grpo__path_join(directory, "config.json");
        if (path && grpo__file_exists(path)) {
            grpo_json json;
            r = grpo_json_parse_file(&json, path);
            if (!r && json.values->type == GRPO_JSON_OBJECT) {
                bos = grpo__hf_token_id(&json, "bos_token_id");
                eos = grpo__hf_token_id(&json, "eos_token_id");
                pad = grpo__hf_token_id(&json, "pad_token_id");
            }
            grpo_json_free(&json);
        }
        GRPO_FREE(path);
    }
    if (r) { grpo_tokenizer_destroy(tokenizer); return r; }
    if (eos >= 0) tokenizer->eos_id = eos;
    tokenizer->bos_id = bos;
    tokenizer->pad_id = pad >= 0 ? pad : tokenizer->eos_id;
    if (model_vocab_size > tokenizer->vocab_size) tokenizer->vocab_size = model_vocab_size;
    if (tokenizer->eos_id >= tokenizer->vocab_size || tokenizer->bos_id >= tokenizer->vocab_size) {
        grpo_tokenizer_destroy(tokenizer);
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s: the BOS/EOS ids are outside the vocabulary", directory);
    }
    return GRPO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
   Unicode tables for the BPE tokenizer (section 3b): letters and numbers for the pre-tokenizer
   patterns, combining classes and canonical decompositions for NFC. */
/* BEGIN GENERATED UNICODE TABLES */
/* Generated by tools/unicode_tables.py from Python's unicodedata, Unicode 14.0.0. Do not edit. */
static const uint32_t grpo__unicode_letters[648][2] = {
    {65,90},{97,122},{170,170},{181,181},{186,186},{192,214},{216,246},{248,705},
    {710,721},{736,740},{748,748},{750,750},{880,884},{886,887},{890,893},{895,895},
    {902,902},{904,906},{908,908},{910,929},{931,1013},{1015,1153},{1162,1327},{1329,1366},
    {1369,1369},{1376,1416},{1488,1514},{1519,1522},{1568,1610},{1646,1647},{1649,1747},{1749,1749},
    {1765,1766},{1774,1775},{1786,1788},{1791,1791},{1808,1808},{1810,1839},{1869,1957},{1969,1969},
    {1994,2026},{2036,2037},{2042,2042},{2048,2069},{2074,2074},{2084,2084},{2088,2088},{2112,2136},
    {2144,2154},{2160,2183},{2185,2190},{2208,2249},{2308,2361},{2365,2365},{2384,2384},{2392,2401},
    {2417,2432},{2437,2444},{2447,2448},{2451,2472},{2474,2480},{2482,2482},{2486,2489},{2493,2493},
    {2510,2510},{2524,2525},{2527,2529},{2544,2545},{2556,2556},{2565,2570},{2575,2576},{2579,2600},
    {2602,2608},{2610,2611},{2613,2614},{2616,2617},{2649,2652},{2654,2654},{2674,2676},{2693,2701},
    {2703,2705},{2707,2728},{2730,2736},{2738,2739},{2741,2745},{2749,2749},{2768,2768},{2784,2785},
    {2809,2809},{2821,2828},{2831,2832},{2835,2856},{2858,2864},{2866,2867},{2869,2873},{2877,2877},
    {2908,2909},{2911,2913},{2929,2929},{2947,2947},{2949,2954},{2958,2960},{2962,2965},{2969,2970},
    {2972,2972},{2974,2975},{2979,2980},{2984,2986},{2990,3001},{3024,3024},{3077,3084},{3086,3088},
    {3090,3112},{3114,3129},{3133,3133},{3160,3162},{3165,3165},{3168,3169},{3200,3200},{3205,3212},
    {3214,3216},{3218,3240},{3242,3251},{3253,3257},{3261,3261},{3293,3294},{3296,3297},{3313,3314},
    {3332,3340},{3342,3344},{3346,3386},{3389,3389},{3406,3406},{3412,3414},{3423,3425},{3450,3455},
    {3461,3478},{3482,3505},{3507,3515},{3517,3517},{3520,3526},{3585,3632},{3634,3635},{3648,3654},
    {3713,3714},{3716,3716},{3718,3722},{3724,3747},{3749,3749},{3751,3760},{3762,3763},{3773,3773},
    {3776,3780},{3782,3782},{3804,3807},{3840,3840},{3904,3911},{3913,3948},{3976,3980},{4096,4138},
    {4159,4159},{4176,4181},{4186,4189},{4193,4193},{4197,4198},{4206,4208},{4213,4225},{4238,4238},
    {4256,4293},{4295,4295},{4301,4301},{4304,4346},{4348,4680},{4682,4685},{4688,4694},{4696,4696},
    {4698,4701},{4704,4744},{4746,4749},{4752,4784},{4786,4789},{4792,4798},{4800,4800},{4802,4805},
    {4808,4822},{4824,4880},{4882,4885},{4888,4954},{4992,5007},{5024,5109},{5112,5117},{5121,5740},
    {5743,5759},{5761,5786},{5792,5866},{5873,5880},{5888,5905},{5919,5937},{5952,5969},{5984,5996},
    {5998,6000},{6016,6067},{6103,6103},{6108,6108},{6176,6264},{6272,6276},{6279,6312},{6314,6314},
    {6320,6389},{6400,6430},{6480,6509},{6512,6516},{6528,6571},{6576,6601},{6656,6678},{6688,6740},
    {6823,6823},{6917,6963},{6981,6988},{7043,7072},{7086,7087},{7098,7141},{7168,7203},{7245,7247},
    {7258,7293},{7296,7304},{7312,7354},{7357,7359},{7401,7404},{7406,7411},{7413,7414},{7418,7418},
    {7424,7615},{7680,7957},{7960,7965},{7968,8005},{8008,8013},{8016,8023},{8025,8025},{8027,8027},
    {8029,8029},{8031,8061},{8064,8116},{8118,8124},{8126,8126},{8130,8132},{8134,8140},{8144,8147},
    {8150,8155},{8160,8172},{8178,8180},{8182,8188},{8305,8305},{8319,8319},{8336,8348},{8450,8450},
    {8455,8455},{8458,8467},{8469,8469},{8473,8477},{8484,8484},{8486,8486},{8488,8488},{8490,8493},
    {8495,8505},{8508,8511},{8517,8521},{8526,8526},{8579,8580},{11264,11492},{11499,11502},{11506,11507},
    {11520,11557},{11559,11559},{11565,11565},{11568,11623},{11631,11631},{11648,11670},{11680,11686},{11688,11694},
    {11696,11702},{11704,11710},{11712,11718},{11720,11726},{11728,11734},{11736,11742},{11823,11823},{12293,12294},
    {12337,12341},{12347,12348},{12353,12438},{12445,12447},{12449,12538},{12540,12543},{12549,12591},{12593,12686},
    {12704,12735},{12784,12799},{13312,19903},{19968,42124},{42192,42237},{42240,42508},{42512,42527},{42538,42539},
    {42560,42606},{42623,42653},{42656,42725},{42775,42783},{42786,42888},{42891,42954},{42960,42961},{42963,42963},
    {42965,42969},{42994,43009},{43011,43013},{43015,43018},{43020,43042},{43072,43123},{43138,43187},{43250,43255},
    {43259,43259},{43261,43262},{43274,43301},{43312,43334},{43360,43388},{43396,43442},{43471,43471},{43488,43492},
    {43494,43503},{43514,43518},{43520,43560},{43584,43586},{43588,43595},{43616,43638},{43642,43642},{43646,43695},
    {43697,43697},{43701,43702},{43705,43709},{43712,43712},{43714,43714},{43739,43741},{43744,43754},{43762,43764},
    {43777,43782},{43785,43790},{43793,43798},{43808,43814},{43816,43822},{43824,43866},{43868,43881},{43888,44002},
    {44032,55203},{55216,55238},{55243,55291},{63744,64109},{64112,64217},{64256,64262},{64275,64279},{64285,64285},
    {64287,64296},{64298,64310},{64312,64316},{64318,64318},{64320,64321},{64323,64324},{64326,64433},{64467,64829},
    {64848,64911},{64914,64967},{65008,65019},{65136,65140},{65142,65276},{65313,65338},{65345,65370},{65382,65470},
    {65474,65479},{65482,65487},{65490,65495},{65498,65500},{65536,65547},{65549,65574},{65576,65594},{65596,65597},
    {65599,65613},{65616,65629},{65664,65786},{66176,66204},{66208,66256},{66304,66335},{66349,66368},{66370,66377},
    {66384,66421},{66432,66461},{66464,66499},{66504,66511},{66560,66717},{66736,66771},{66776,66811},{66816,66855},
    {66864,66915},{66928,66938},{66940,66954},{66956,66962},{66964,66965},{66967,66977},{66979,66993},{66995,67001},
    {67003,67004},{67072,67382},{67392,67413},{67424,67431},{67456,67461},{67463,67504},{67506,67514},{67584,67589},
    {67592,67592},{67594,67637},{67639,67640},{67644,67644},{67647,67669},{67680,67702},{67712,67742},{67808,67826},
    {67828,67829},{67840,67861},{67872,67897},{67968,68023},{68030,68031},{68096,68096},{68112,68115},{68117,68119},
    {68121,68149},{68192,68220},{68224,68252},{68288,68295},{68297,68324},{68352,68405},{68416,68437},{68448,68466},
    {68480,68497},{68608,68680},{68736,68786},{68800,68850},{68864,68899},{69248,69289},{69296,69297},{69376,69404},
    {69415,69415},{69424,69445},{69488,69505},{69552,69572},{69600,69622},{69635,69687},{69745,69746},{69749,69749},
    {69763,69807},{69840,69864},{69891,69926},{69956,69956},{69959,69959},{69968,70002},{70006,70006},{70019,70066},
    {70081,70084},{70106,70106},{70108,70108},{70144,70161},{70163,70187},{70272,70278},{70280,70280},{70282,70285},
    {70287,70301},{70303,70312},{70320,70366},{70405,70412},{70415,70416},{70419,70440},{70442,70448},{70450,70451},
    {70453,70457},{70461,70461},{70480,70480},{70493,70497},{70656,70708},{70727,70730},{70751,70753},{70784,70831},
    {70852,70853},{70855,70855},{71040,71086},{71128,71131},{71168,71215},{71236,71236},{71296,71338},{71352,71352},
    {71424,71450},{71488,71494},{71680,71723},{71840,71903},{71935,71942},{71945,71945},{71948,71955},{71957,71958},
    {71960,71983},{71999,71999},{72001,72001},{72096,72103},{72106,72144},{72161,72161},{72163,72163},{72192,72192},
    {72203,72242},{72250,72250},{72272,72272},{72284,72329},{72349,72349},{72368,72440},{72704,72712},{72714,72750},
    {72768,72768},{72818,72847},{72960,72966},{72968,72969},{72971,73008},{73030,73030},{73056,73061},{73063,73064},
    {73066,73097},{73112,73112},{73440,73458},{73648,73648},{73728,74649},{74880,75075},{77712,77808},{77824,78894},
    {82944,83526},{92160,92728},{92736,92766},{92784,92862},{92880,92909},{92928,92975},{92992,92995},{93027,93047},
    {93053,93071},{93760,93823},{93952,94026},{94032,94032},{94099,94111},{94176,94177},{94179,94179},{94208,100343},
    {100352,101589},{101632,101640},{110576,110579},{110581,110587},{110589,110590},{110592,110882},{110928,110930},{110948,110951},
    {110960,111355},{113664,113770},{113776,113788},{113792,113800},{113808,113817},{119808,119892},{119894,119964},{119966,119967},
    {119970,119970},{119973,119974},{119977,119980},{119982,119993},{119995,119995},{119997,120003},{120005,120069},{120071,120074},
    {120077,120084},{120086,120092},{120094,120121},{120123,120126},{120128,120132},{120134,120134},{120138,120144},{120146,120485},
    {120488,120512},{120514,120538},{120540,120570},{120572,120596},{120598,120628},{120630,120654},{120656,120686},{120688,120712},
    {120714,120744},{120746,120770},{120772,120779},{122624,122654},{123136,123180},{123191,123197},{123214,123214},{123536,123565},
    {123584,123627},{124896,124902},{124904,124907},{124909,124910},{124912,124926},{124928,125124},{125184,125251},{125259,125259},
    {126464,126467},{126469,126495},{126497,126498},{126500,126500},{126503,126503},{126505,126514},{126516,126519},{126521,126521},
    {126523,126523},{126530,126530},{126535,126535},{126537,126537},{126539,126539},{126541,126543},{126545,126546},{126548,126548},
    {126551,126551},{126553,126553},{126555,126555},{126557,126557},{126559,126559},{126561,126562},{126564,126564},{126567,126570},
    {126572,126578},{126580,126583},{126585,126588},{126590,126590},{126592,126601},{126603,126619},{126625,126627},{126629,126633},
    {126635,126651},{131072,173791},{173824,177976},{177984,178205},{178208,183969},{183984,191456},{194560,195101},{196608,201546},
};
static const uint32_t grpo__unicode_numbers[134][2] = {
    {48,57},{178,179},{185,185},{188,190},{1632,1641},{1776,1785},{1984,1993},{2406,2415},
    {2534,2543},{2548,2553},{2662,2671},{2790,2799},{2918,2927},{2930,2935},{3046,3058},{3174,3183},
    {3192,3198},{3302,3311},{3416,3422},{3430,3448},{3558,3567},{3664,3673},{3792,3801},{3872,3891},
    {4160,4169},{4240,4249},{4969,4988},{5870,5872},{6112,6121},{6128,6137},{6160,6169},{6470,6479},
    {6608,6618},{6784,6793},{6800,6809},{6992,7001},{7088,7097},{7232,7241},{7248,7257},{8304,8304},
    {8308,8313},{8320,8329},{8528,8578},{8581,8585},{9312,9371},{9450,9471},{10102,10131},{11517,11517},
    {12295,12295},{12321,12329},{12344,12346},{12690,12693},{12832,12841},{12872,12879},{12881,12895},{12928,12937},
    {12977,12991},{42528,42537},{42726,42735},{43056,43061},{43216,43225},{43264,43273},{43472,43481},{43504,43513},
    {43600,43609},{44016,44025},{65296,65305},{65799,65843},{65856,65912},{65930,65931},{66273,66299},{66336,66339},
    {66369,66369},{66378,66378},{66513,66517},{66720,66729},{67672,67679},{67705,67711},{67751,67759},{67835,67839},
    {67862,67867},{68028,68029},{68032,68047},{68050,68095},{68160,68168},{68221,68222},{68253,68255},{68331,68335},
    {68440,68447},{68472,68479},{68521,68527},{68858,68863},{68912,68921},{69216,69246},{69405,69414},{69457,69460},
    {69573,69579},{69714,69743},{69872,69881},{69942,69951},{70096,70105},{70113,70132},{70384,70393},{70736,70745},
    {70864,70873},{71248,71257},{71360,71369},{71472,71483},{71904,71922},{72016,72025},{72784,72812},{73040,73049},
    {73120,73129},{73664,73684},{74752,74862},{92768,92777},{92864,92873},{93008,93017},{93019,93025},{93824,93846},
    {119520,119539},{119648,119672},{120782,120831},{123200,123209},{123632,123641},{125127,125135},{125264,125273},{126065,126123},
    {126125,126127},{126129,126132},{126209,126253},{126255,126269},{127232,127244},{130032,130041},
};
/* canonical combining classes: {first, last, class} */
static const uint32_t grpo__unicode_combining[382][3] = {
    {768,788,230},{789,789,232},{790,793,220},{794,794,232},{795,795,216},{796,800,220},
    {801,802,202},{803,806,220},{807,808,202},{809,819,220},{820,824,1},{825,828,220},
    {829,836,230},{837,837,240},{838,838,230},{839,841,220},{842,844,230},{845,846,220},
    {848,850,230},{851,854,220},{855,855,230},{856,856,232},{857,858,220},{859,859,230},
    {860,860,233},{861,862,234},{863,863,233},{864,865,234},{866,866,233},{867,879,230},
    {1155,1159,230},{1425,1425,220},{1426,1429,230},{1430,1430,220},{1431,1433,230},{1434,1434,222},
    {1435,1435,220},{1436,1441,230},{1442,1447,220},{1448,1449,230},{1450,1450,220},{1451,1452,230},
    {1453,1453,222},{1454,1454,228},{1455,1455,230},{1456,1456,10},{1457,1457,11},{1458,1458,12},
    {1459,1459,13},{1460,1460,14},{1461,1461,15},{1462,1462,16},{1463,1463,17},{1464,1464,18},
    {1465,1466,19},{1467,1467,20},{1468,1468,21},{1469,1469,22},{1471,1471,23},{1473,1473,24},
    {1474,1474,25},{1476,1476,230},{1477,1477,220},{1479,1479,18},{1552,1559,230},{1560,1560,30},
    {1561,1561,31},{1562,1562,32},{1611,1611,27},{1612,1612,28},{1613,1613,29},{1614,1614,30},
    {1615,1615,31},{1616,1616,32},{1617,1617,33},{1618,1618,34},{1619,1620,230},{1621,1622,220},
    {1623,1627,230},{1628,1628,220},{1629,1630,230},{1631,1631,220},{1648,1648,35},{1750,1756,230},
    {1759,1762,230},{1763,1763,220},{1764,1764,230},{1767,1768,230},{1770,1770,220},{1771,1772,230},
    {1773,1773,220},{1809,1809,36},{1840,1840,230},{1841,1841,220},{1842,1843,230},{1844,1844,220},
    {1845,1846,230},{1847,1849,220},{1850,1850,230},{1851,1852,220},{1853,1853,230},{1854,1854,220},
    {1855,1857,230},{1858,1858,220},{1859,1859,230},{1860,1860,220},{1861,1861,230},{1862,1862,220},
    {1863,1863,230},{1864,1864,220},{1865,1866,230},{2027,2033,230},{2034,2034,220},{2035,2035,230},
    {2045,2045,220},{2070,2073,230},{2075,2083,230},{2085,2087,230},{2089,2093,230},{2137,2139,220},
    {2200,2200,230},{2201,2203,220},{2204,2207,230},{2250,2254,230},{2255,2259,220},{2260,2273,230},
    {2275,2275,220},{2276,2277,230},{2278,2278,220},{2279,2280,230},{2281,2281,220},{2282,2284,230},
    {2285,2287,220},{2288,2288,27},{2289,2289,28},{2290,2290,29},{2291,2293,230},{2294,2294,220},
    {2295,2296,230},{2297,2298,220},{2299,2303,230},{2364,2364,7},{2381,2381,9},{2385,2385,230},
    {2386,2386,220},{2387,2388,230},{2492,2492,7},{2509,2509,9},{2558,2558,230},{2620,2620,7},
    {2637,2637,9},{2748,2748,7},{2765,2765,9},{2876,2876,7},{2893,2893,9},{3021,3021,9},
    {3132,3132,7},{3149,3149,9},{3157,3157,84},{3158,3158,91},{3260,3260,7},{3277,3277,9},
    {3387,3388,9},{3405,3405,9},{3530,3530,9},{3640,3641,103},{3642,3642,9},{3656,3659,107},
    {3768,3769,118},{3770,3770,9},{3784,3787,122},{3864,3865,220},{3893,3893,220},{3895,3895,220},
    {3897,3897,216},{3953,3953,129},{3954,3954,130},{3956,3956,132},{3962,3965,130},{3968,3968,130},
    {3970,3971,230},{3972,3972,9},{3974,3975,230},{4038,4038,220},{4151,4151,7},{4153,4154,9},
    {4237,4237,220},{4957,4959,230},{5908,5909,9},{5940,5940,9},{6098,6098,9},{6109,6109,230},
    {6313,6313,228},{6457,6457,222},{6458,6458,230},{6459,6459,220},{6679,6679,230},{6680,6680,220},
    {6752,6752,9},{6773,6780,230},{6783,6783,220},{6832,6836,230},{6837,6842,220},{6843,6844,230},
    {6845,6845,220},{6847,6848,220},{6849,6850,230},{6851,6852,220},{6853,6857,230},{6858,6858,220},
    {6859,6862,230},{6964,6964,7},{6980,6980,9},{7019,7019,230},{7020,7020,220},{7021,7027,230},
    {7082,7083,9},{7142,7142,7},{7154,7155,9},{7223,7223,7},{7376,7378,230},{7380,7380,1},
    {7381,7385,220},{7386,7387,230},{7388,7391,220},{7392,7392,230},{7394,7400,1},{7405,7405,220},
    {7412,7412,230},{7416,7417,230},{7616,7617,230},{7618,7618,220},{7619,7625,230},{7626,7626,220},
    {7627,7628,230},{7629,7629,234},{7630,7630,214},{7631,7631,220},{7632,7632,202},{7633,7669,230},
    {7670,7670,232},{7671,7672,228},{7673,7673,220},{7674,7674,218},{7675,7675,230},{7676,7676,233},
    {7677,7677,220},{7678,7678,230},{7679,7679,220},{8400,8401,230},{8402,8403,1},{8404,8407,230},
    {8408,8410,1},{8411,8412,230},{8417,8417,230},{8421,8422,1},{8423,8423,230},{8424,8424,220},
    {8425,8425,230},{8426,8427,1},{8428,8431,220},{8432,8432,230},{11503,11505,230},{11647,11647,9},
    {11744,11775,230},{12330,12330,218},{12331,12331,228},{12332,12332,232},{12333,12333,222},{12334,12335,224},
    {12441,12442,8},{42607,42607,230},{42612,42621,230},{42654,42655,230},{42736,42737,230},{43014,43014,9},
    {43052,43052,9},{43204,43204,9},{43232,43249,230},{43307,43309,220},{43347,43347,9},{43443,43443,7},
    {43456,43456,9},{43696,43696,230},{43698,43699,230},{43700,43700,220},{43703,43704,230},{43710,43711,230},
    {43713,43713,230},{43766,43766,9},{44013,44013,9},{64286,64286,26},{65056,65062,230},{65063,65069,220},
    {65070,65071,230},{66045,66045,220},{66272,66272,220},{66422,66426,230},{68109,68109,220},{68111,68111,230},
    {68152,68152,230},{68153,68153,1},{68154,68154,220},{68159,68159,9},{68325,68325,230},{68326,68326,220},
    {68900,68903,230},{69291,69292,230},{69446,69447,220},{69448,69450,230},{69451,69451,220},{69452,69452,230},
    {69453,69456,220},{69506,69506,230},{69507,69507,220},{69508,69508,230},{69509,69509,220},{69702,69702,9},
    {69744,69744,9},{69759,69759,9},{69817,69817,9},{69818,69818,7},{69888,69890,230},{69939,69940,9},
    {70003,70003,7},{70080,70080,9},{70090,70090,7},{70197,70197,9},{70198,70198,7},{70377,70377,7},
    {70378,70378,9},{70459,70460,7},{70477,70477,9},{70502,70508,230},{70512,70516,230},{70722,70722,9},
    {70726,70726,7},{70750,70750,230},{70850,70850,9},{70851,70851,7},{71103,71103,9},{71104,71104,7},
    {71231,71231,9},{71350,71350,9},{71351,71351,7},{71467,71467,9},{71737,71737,9},{71738,71738,7},
    {71997,71998,9},{72003,72003,7},{72160,72160,9},{72244,72244,9},{72263,72263,9},{72345,72345,9},
    {72767,72767,9},{73026,73026,7},{73028,73029,9},{73111,73111,9},{92912,92916,1},{92976,92982,230},
    {94192,94193,6},{113822,113822,1},{119141,119142,216},{119143,119145,1},{119149,119149,226},{119150,119154,216},
    {119163,119170,220},{119173,119177,230},{119178,119179,220},{119210,119213,230},{119362,119364,230},{122880,122886,230},
    {122888,122904,230},{122907,122913,230},{122915,122916,230},{122918,122922,230},{123184,123190,230},{123566,123566,230},
    {123628,123631,230},{125136,125142,220},{125252,125257,230},{125258,125258,7},
};
/* canonical decompositions, by code point: {code point, first, second or 0}; the code point
   has bit 31 set when the pair composes back to it (a primary composite) */
static const uint32_t grpo__unicode_decompositions[2061][3] = {
    {0x800000C0,65,768},{0x800000C1,65,769},{0x800000C2,65,770},{0x800000C3,65,771},{0x800000C4,65,776},{0x800000C5,65,778},
    {0x800000C7,67,807},{0x800000C8,69,768},{0x800000C9,69,769},{0x800000CA,69,770},{0x800000CB,69,776},{0x800000CC,73,768},
    {0x800000CD,73,769},{0x800000CE,73,770},{0x800000CF,73,776},{0x800000D1,78,771},{0x800000D2,79,768},{0x800000D3,79,769},
    {0x800000D4,79,770},{0x800000D5,79,771},{0x800000D6,79,776},{0x800000D9,85,768},{0x800000DA,85,769},{0x800000DB,85,770},
    {0x800000DC,85,776},{0x800000DD,89,769},{0x800000E0,97,768},{0x800000E1,97,769},{0x800000E2,97,770},{0x800000E3,97,771},
    {0x800000E4,97,776},{0x800000E5,97,778},{0x800000E7,99,807},{0x800000E8,101,768},{0x800000E9,101,769},{0x800000EA,101,770},
    {0x800000EB,101,776},{0x800000EC,105,768},{0x800000ED,105,769},{0x800000EE,105,770},{0x800000EF,105,776},{0x800000F1,110,771},
    {0x800000F2,111,768},{0x800000F3,111,769},{0x800000F4,111,770},{0x800000F5,111,771},{0x800000F6,111,776},{0x800000F9,117,768},
    {0x800000FA,117,769},{0x800000FB,117,770},{0x800000FC,117,776},{0x800000FD,121,769},{0x800000FF,121,776},{0x80000100,65,772},
    {0x80000101,97,772},{0x80000102,65,774},{0x80000103,97,774},{0x80000104,65,808},{0x80000105,97,808},{0x80000106,67,769},
    {0x80000107,99,769},{0x80000108,67,770},{0x80000109,99,770},{0x8000010A,67,775},{0x8000010B,99,775},{0x8000010C,67,780},
    {0x8000010D,99,780},{0x8000010E,68,780},{0x8000010F,100,780},{0x80000112,69,772},{0x80000113,101,772},{0x80000114,69,774},
    {0x80000115,101,774},{0x80000116,69,775},{0x80000117,101,775},{0x80000118,69,808},{0x80000119,101,808},{0x8000011A,69,780},
    {0x8000011B,101,780},{0x8000011C,71,770},{0x8000011D,103,770},{0x8000011E,71,774},{0x8000011F,103,774},{0x80000120,71,775},
    {0x80000121,103,775},{0x80000122,71,807},{0x80000123,103,807},{0x80000124,72,770},{0x80000125,104,770},{0x80000128,73,771},
    {0x80000129,105,771},{0x8000012A,73,772},{0x8000012B,105,772},{0x8000012C,73,774},{0x8000012D,105,774},{0x8000012E,73,808},
    {0x8000012F,105,808},{0x80000130,73,775},{0x80000134,74,770},{0x80000135,106,770},{0x80000136,75,807},{0x80000137,107,807},
    {0x80000139,76,769},{0x8000013A,108,769},{0x8000013B,76,807},{0x8000013C,108,807},{0x8000013D,76,780},{0x8000013E,108,780},
    {0x80000143,78,769},{0x80000144,110,769},{0x80000145,78,807},{0x80000146,110,807},{0x80000147,78,780},{0x80000148,110,780},
    {0x8000014C,79,772},{0x8000014D,111,772},{0x8000014E,79,774},{0x8000014F,111,774},{0x80000150,79,779},{0x80000151,111,779},
    {0x80000154,82,769},{0x80000155,114,769},{0x80000156,82,807},{0x80000157,114,807},{0x80000158,82,780},{0x80000159,114,780},
    {0x8000015A,83,769},{0x8000015B,115,769},{0x8000015C,83,770},{0x8000015D,115,770},{0x8000015E,83,807},{0x8000015F,115,807},
    {0x80000160,83,780},{0x80000161,115,780},{0x80000162,84,807},{0x80000163,116,807},{0x80000164,84,780},{0x80000165,116,780},
    {0x80000168,85,771},{0x80000169,117,771},{0x8000016A,85,772},{0x8000016B,117,772},{0x8000016C,85,774},{0x8000016D,117,774},
    {0x8000016E,85,778},{0x8000016F,117,778},{0x80000170,85,779},{0x80000171,117,779},{0x80000172,85,808},{0x80000173,117,808},
    {0x80000174,87,770},{0x80000175,119,770},{0x80000176,89,770},{0x80000177,121,770},{0x80000178,89,776},{0x80000179,90,769},
    {0x8000017A,122,769},{0x8000017B,90,775},{0x8000017C,122,775},{0x8000017D,90,780},{0x8000017E,122,780},{0x800001A0,79,795},
    {0x800001A1,111,795},{0x800001AF,85,795},{0x800001B0,117,795},{0x800001CD,65,780},{0x800001CE,97,780},{0x800001CF,73,780},
    {0x800001D0,105,780},{0x800001D1,79,780},{0x800001D2,111,780},{0x800001D3,85,780},{0x800001D4,117,780},{0x800001D5,220,772},
    {0x800001D6,252,772},{0x800001D7,220,769},{0x800001D8,252,769},{0x800001D9,220,780},{0x800001DA,252,780},{0x800001DB,220,768},
    {0x800001DC,252,768},{0x800001DE,196,772},{0x800001DF,228,772},{0x800001E0,550,772},{0x800001E1,551,772},{0x800001E2,198,772},
    {0x800001E3,230,772},{0x800001E6,71,780},{0x800001E7,103,780},{0x800001E8,75,780},{0x800001E9,107,780},{0x800001EA,79,808},
    {0x800001EB,111,808},{0x800001EC,490,772},{0x800001ED,491,772},{0x800001EE,439,780},{0x800001EF,658,780},{0x800001F0,106,780},
    {0x800001F4,71,769},{0x800001F5,103,769},{0x800001F8,78,768},{0x800001F9,110,768},{0x800001FA,197,769},{0x800001FB,229,769},
    {0x800001FC,198,769},{0x800001FD,230,769},{0x800001FE,216,769},{0x800001FF,248,769},{0x80000200,65,783},{0x80000201,97,783},
    {0x80000202,65,785},{0x80000203,97,785},{0x80000204,69,783},{0x80000205,101,783},{0x80000206,69,785},{0x80000207,101,785},
    {0x80000208,73,783},{0x80000209,105,783},{0x8000020A,73,785},{0x8000020B,105,785},{0x8000020C,79,783},{0x8000020D,111,783},
    {0x8000020E,79,785},{0x8000020F,111,785},{0x80000210,82,783},{0x80000211,114,783},{0x80000212,82,785},{0x80000213,114,785},
    {0x80000214,85,783},{0x80000215,117,783},{0x80000216,85,785},{0x80000217,117,785},{0x80000218,83,806},{0x80000219,115,806},
    {0x8000021A,84,806},{0x8000021B,116,806},{0x8000021E,72,780},{0x8000021F,104,780},{0x80000226,65,775},{0x80000227,97,775},
    {0x80000228,69,807},{0x80000229,101,807},{0x8000022A,214,772},{0x8000022B,246,772},{0x8000022C,213,772},{0x8000022D,245,772},
    {0x8000022E,79,775},{0x8000022F,111,775},{0x80000230,558,772},{0x80000231,559,772},{0x80000232,89,772},{0x80000233,121,772},
    {0x340,768,0},{0x341,769,0},{0x343,787,0},{0x344,776,769},{0x374,697,0},{0x37E,59,0},
    {0x80000385,168,769},{0x80000386,913,769},{0x387,183,0},{0x80000388,917,769},{0x80000389,919,769},{0x8000038A,921,769},
    {0x8000038C,927,769},{0x8000038E,933,769},{0x8000038F,937,769},{0x80000390,970,769},{0x800003AA,921,776},{0x800003AB,933,776},
    {0x800003AC,945,769},{0x800003AD,949,769},{0x800003AE,951,769},{0x800003AF,953,769},{0x800003B0,971,769},{0x800003CA,953,776},
    {0x800003CB,965,776},{0x800003CC,959,769},{0x800003CD,965,769},{0x800003CE,969,769},{0x800003D3,978,769},{0x800003D4,978,776},
    {0x80000400,1045,768},{0x80000401,1045,776},{0x80000403,1043,769},{0x80000407,1030,776},{0x8000040C,1050,769},{0x8000040D,1048,768},
    {0x8000040E,1059,774},{0x80000419,1048,774},{0x80000439,1080,774},{0x80000450,1077,768},{0x80000451,1077,776},{0x80000453,1075,769},
    {0x80000457,1110,776},{0x8000045C,1082,769},{0x8000045D,1080,768},{0x8000045E,1091,774},{0x80000476,1140,783},{0x80000477,1141,783},
    {0x800004C1,1046,774},{0x800004C2,1078,774},{0x800004D0,1040,774},{0x800004D1,1072,774},{0x800004D2,1040,776},{0x800004D3,1072,776},
    {0x800004D6,1045,774},{0x800004D7,1077,774},{0x800004DA,1240,776},{0x800004DB,1241,776},{0x800004DC,1046,776},{0x800004DD,1078,776},
    {0x800004DE,1047,776},{0x800004DF,1079,776},{0x800004E2,1048,772},{0x800004E3,1080,772},{0x800004E4,1048,776},{0x800004E5,1080,776},
    {0x800004E6,1054,776},{0x800004E7,1086,776},{0x800004EA,1256,776},{0x800004EB,1257,776},{0x800004EC,1069,776},{0x800004ED,1101,776},
    {0x800004EE,1059,772},{0x800004EF,1091,772},{0x800004F0,1059,776},{0x800004F1,1091,776},{0x800004F2,1059,779},{0x800004F3,1091,779},
    {0x800004F4,1063,776},{0x800004F5,1095,776},{0x800004F8,1067,776},{0x800004F9,1099,776},{0x80000622,1575,1619},{0x80000623,1575,1620},
    {0x80000624,1608,1620},{0x80000625,1575,1621},{0x80000626,1610,1620},{0x800006C0,1749,1620},{0x800006C2,1729,1620},{0x800006D3,1746,1620},
    {0x80000929,2344,2364},{0x80000931,2352,2364},{0x80000934,2355,2364},{0x958,2325,2364},{0x959,2326,2364},{0x95A,2327,2364},
    {0x95B,2332,2364},{0x95C,2337,2364},{0x95D,2338,2364},{0x95E,2347,2364},{0x95F,2351,2364},{0x800009CB,2503,2494},
    {0x800009CC,2503,2519},{0x9DC,2465,2492},{0x9DD,2466,2492},{0x9DF,2479,2492},{0xA33,2610,2620},{0xA36,2616,2620},
    {0xA59,2582,2620},{0xA5A,2583,2620},{0xA5B,2588,2620},{0xA5E,2603,2620},{0x80000B48,2887,2902},{0x80000B4B,2887,2878},
    {0x80000B4C,2887,2903},{0xB5C,2849,2876},{0xB5D,2850,2876},{0x80000B94,2962,3031},{0x80000BCA,3014,3006},{0x80000BCB,3015,3006},
    {0x80000BCC,3014,3031},{0x80000C48,3142,3158},{0x80000CC0,3263,3285},{0x80000CC7,3270,3285},{0x80000CC8,3270,3286},{0x80000CCA,3270,3266},
    {0x80000CCB,3274,3285},{0x80000D4A,3398,3390},{0x80000D4B,3399,3390},{0x80000D4C,3398,3415},{0x80000DDA,3545,3530},{0x80000DDC,3545,3535},
    {0x80000DDD,3548,3530},{0x80000DDE,3545,3551},{0xF43,3906,4023},{0xF4D,3916,4023},{0xF52,3921,4023},{0xF57,3926,4023},
    {0xF5C,3931,4023},{0xF69,3904,4021},{0xF73,3953,3954},{0xF75,3953,3956},{0xF76,4018,3968},{0xF78,4019,3968},
    {0xF81,3953,3968},{0xF93,3986,4023},{0xF9D,3996,4023},{0xFA2,4001,4023},{0xFA7,4006,4023},{0xFAC,4011,4023},
    {0xFB9,3984,4021},{0x80001026,4133,4142},{0x80001B06,6917,6965},{0x80001B08,6919,6965},{0x80001B0A,6921,6965},{0x80001B0C,6923,6965},
    {0x80001B0E,6925,6965},{0x80001B12,6929,6965},{0x80001B3B,6970,6965},{0x80001B3D,6972,6965},{0x80001B40,6974,6965},{0x80001B41,6975,6965},
    {0x80001B43,6978,6965},{0x80001E00,65,805},{0x80001E01,97,805},{0x80001E02,66,775},{0x80001E03,98,775},{0x80001E04,66,803},
    {0x80001E05,98,803},{0x80001E06,66,817},{0x80001E07,98,817},{0x80001E08,199,769},{0x80001E09,231,769},{0x80001E0A,68,775},
    {0x80001E0B,100,775},{0x80001E0C,68,803},{0x80001E0D,100,803},{0x80001E0E,68,817},{0x80001E0F,100,817},{0x80001E10,68,807},
    {0x80001E11,100,807},{0x80001E12,68,813},{0x80001E13,100,813},{0x80001E14,274,768},{0x80001E15,275,768},{0x80001E16,274,769},
    {0x80001E17,275,769},{0x80001E18,69,813},{0x80001E19,101,813},{0x80001E1A,69,816},{0x80001E1B,101,816},{0x80001E1C,552,774},
    {0x80001E1D,553,774},{0x80001E1E,70,775},{0x80001E1F,102,775},{0x80001E20,71,772},{0x80001E21,103,772},{0x80001E22,72,775},
    {0x80001E23,104,775},{0x80001E24,72,803},{0x80001E25,104,803},{0x80001E26,72,776},{0x80001E27,104,776},{0x80001E28,72,807},
    {0x80001E29,104,807},{0x80001E2A,72,814},{0x80001E2B,104,814},{0x80001E2C,73,816},{0x80001E2D,105,816},{0x80001E2E,207,769},
    {0x80001E2F,239,769},{0x80001E30,75,769},{0x80001E31,107,769},{0x80001E32,75,803},{0x80001E33,107,803},{0x80001E34,75,817},
    {0x80001E35,107,817},{0x80001E36,76,803},{0x80001E37,108,803},{0x80001E38,7734,772},{0x80001E39,7735,772},{0x80001E3A,76,817},
    {0x80001E3B,108,817},{0x80001E3C,76,813},{0x80001E3D,108,813},{0x80001E3E,77,769},{0x80001E3F,109,769},{0x80001E40,77,775},
    {0x80001E41,109,775},{0x80001E42,77,803},{0x80001E43,109,803},{0x80001E44,78,775},{0x80001E45,110,775},{0x80001E46,78,803},
    {0x80001E47,110,803},{0x80001E48,78,817},{0x80001E49,110,817},{0x80001E4A,78,813},{0x80001E4B,110,813},{0x80001E4C,213,769},
    {0x80001E4D,245,769},{0x80001E4E,213,776},{0x80001E4F,245,776},{0x80001E50,332,768},{0x80001E51,333,768},{0x80001E52,332,769},
    {0x80001E53,333,769},{0x80001E54,80,769},{0x80001E55,112,769},{0x80001E56,80,775},{0x80001E57,112,775},{0x80001E58,82,775},
    {0x80001E59,114,775},{0x80001E5A,82,803},{0x80001E5B,114,803},{0x80001E5C,7770,772},{0x80001E5D,7771,772},{0x80001E5E,82,817},
    {0x80001E5F,114,817},{0x80001E60,83,775},{0x80001E61,115,775},{0x80001E62,83,803},{0x80001E63,115,803},{0x80001E64,346,775},
    {0x80001E65,347,775},{0x80001E66,352,775},{0x80001E67,353,775},{0x80001E68,7778,775},{0x80001E69,7779,775},{0x80001E6A,84,775},
    {0x80001E6B,116,775},{0x80001E6C,84,803},{0x80001E6D,116,803},{0x80001E6E,84,817},{0x80001E6F,116,817},{0x80001E70,84,813},
    {0x80001E71,116,813},{0x80001E72,85,804},{0x80001E73,117,804},{0x80001E74,85,816},{0x80001E75,117,816},{0x80001E76,85,813},
    {0x80001E77,117,813},{0x80001E78,360,769},{0x80001E79,361,769},{0x80001E7A,362,776},{0x80001E7B,363,776},{0x80001E7C,86,771},
    {0x80001E7D,118,771},{0x80001E7E,86,803},{0x80001E7F,118,803},{0x80001E80,87,768},{0x80001E81,119,768},{0x80001E82,87,769},
    {0x80001E83,119,769},{0x80001E84,87,776},{0x80001E85,119,776},{0x80001E86,87,775},{0x80001E87,119,775},{0x80001E88,87,803},
    {0x80001E89,119,803},{0x80001E8A,88,775},{0x80001E8B,120,775},{0x80001E8C,88,776},{0x80001E8D,120,776},{0x80001E8E,89,775},
    {0x80001E8F,121,775},{0x80001E90,90,770},{0x80001E91,122,770},{0x80001E92,90,803},{0x80001E93,122,803},{0x80001E94,90,817},
    {0x80001E95,122,817},{0x80001E96,104,817},{0x80001E97,116,776},{0x80001E98,119,778},{0x80001E99,121,778},{0x80001E9B,383,775},
    {0x80001EA0,65,803},{0x80001EA1,97,803},{0x80001EA2,65,777},{0x80001EA3,97,777},{0x80001EA4,194,769},{0x80001EA5,226,769},
    {0x80001EA6,194,768},{0x80001EA7,226,768},{0x80001EA8,194,777},{0x80001EA9,226,777},{0x80001EAA,194,771},{0x80001EAB,226,771},
    {0x80001EAC,7840,770},{0x80001EAD,7841,770},{0x80001EAE,258,769},{0x80001EAF,259,769},{0x80001EB0,258,768},{0x80001EB1,259,768},
    {0x80001EB2,258,777},{0x80001EB3,259,777},{0x80001EB4,258,771},{0x80001EB5,259,771},{0x80001EB6,7840,774},{0x80001EB7,7841,774},
    {0x80001EB8,69,803},{0x80001EB9,101,803},{0x80001EBA,69,777},{0x80001EBB,101,777},{0x80001EBC,69,771},{0x80001EBD,101,771},
    {0x80001EBE,202,769},{0x80001EBF,234,769},{0x80001EC0,202,768},{0x80001EC1,234,768},{0x80001EC2,202,777},{0x80001EC3,234,777},
    {0x80001EC4,202,771},{0x80001EC5,234,771},{0x80001EC6,7864,770},{0x80001EC7,7865,770},{0x80001EC8,73,777},{0x80001EC9,105,777},
    {0x80001ECA,73,803},{0x80001ECB,105,803},{0x80001ECC,79,803},{0x80001ECD,111,803},{0x80001ECE,79,777},{0x80001ECF,111,777},
    {0x80001ED0,212,769},{0x80001ED1,244,769},{0x80001ED2,212,768},{0x80001ED3,244,768},{0x80001ED4,212,777},{0x80001ED5,244,777},
    {0x80001ED6,212,771},{0x80001ED7,244,771},{0x80001ED8,7884,770},{0x80001ED9,7885,770},{0x80001EDA,416,769},{0x80001EDB,417,769},
    {0x80001EDC,416,768},{0x80001EDD,417,768},{0x80001EDE,416,777},{0x80001EDF,417,777},{0x80001EE0,416,771},{0x80001EE1,417,771},
    {0x80001EE2,416,803},{0x80001EE3,417,803},{0x80001EE4,85,803},{0x80001EE5,117,803},{0x80001EE6,85,777},{0x80001EE7,117,777},
    {0x80001EE8,431,769},{0x80001EE9,432,769},{0x80001EEA,431,768},{0x80001EEB,432,768},{0x80001EEC,431,777},{0x80001EED,432,777},
    {0x80001EEE,431,771},{0x80001EEF,432,771},{0x80001EF0,431,803},{0x80001EF1,432,803},{0x80001EF2,89,768},{0x80001EF3,121,768},
    {0x80001EF4,89,803},{0x80001EF5,121,803},{0x80001EF6,89,777},{0x80001EF7,121,777},{0x80001EF8,89,771},{0x80001EF9,121,771},
    {0x80001F00,945,787},{0x80001F01,945,788},{0x80001F02,7936,768},{0x80001F03,7937,768},{0x80001F04,7936,769},{0x80001F05,7937,769},
    {0x80001F06,7936,834},{0x80001F07,7937,834},{0x80001F08,913,787},{0x80001F09,913,788},{0x80001F0A,7944,768},{0x80001F0B,7945,768},
    {0x80001F0C,7944,769},{0x80001F0D,7945,769},{0x80001F0E,7944,834},{0x80001F0F,7945,834},{0x80001F10,949,787},{0x80001F11,949,788},
    {0x80001F12,7952,768},{0x80001F13,7953,768},{0x80001F14,7952,769},{0x80001F15,7953,769},{0x80001F18,917,787},{0x80001F19,917,788},
    {0x80001F1A,7960,768},{0x80001F1B,7961,768},{0x80001F1C,7960,769},{0x80001F1D,7961,769},{0x80001F20,951,787},{0x80001F21,951,788},
    {0x80001F22,7968,768},{0x80001F23,7969,768},{0x80001F24,7968,769},{0x80001F25,7969,769},{0x80001F26,7968,834},{0x80001F27,7969,834},
    {0x80001F28,919,787},{0x80001F29,919,788},{0x80001F2A,7976,768},{0x80001F2B,7977,768},{0x80001F2C,7976,769},{0x80001F2D,7977,769},
    {0x80001F2E,7976,834},{0x80001F2F,7977,834},{0x80001F30,953,787},{0x80001F31,953,788},{0x80001F32,7984,768},{0x80001F33,7985,768},
    {0x80001F34,7984,769},{0x80001F35,7985,769},{0x80001F36,7984,834},{0x80001F37,7985,834},{0x80001F38,921,787},{0x80001F39,921,788},
    {0x80001F3A,7992,768},{0x80001F3B,7993,768},{0x80001F3C,7992,769},{0x80001F3D,7993,769},{0x80001F3E,7992,834},{0x80001F3F,7993,834},
    {0x80001F40,959,787},{0x80001F41,959,788},{0x80001F42,8000,768},{0x80001F43,8001,768},{0x80001F44,8000,769},{0x80001F45,8001,769},
    {0x80001F48,927,787},{0x80001F49,927,788},{0x80001F4A,8008,768},{0x80001F4B,8009,768},{0x80001F4C,8008,769},{0x80001F4D,8009,769},
    {0x80001F50,965,787},{0x80001F51,965,788},{0x80001F52,8016,768},{0x80001F53,8017,768},{0x80001F54,8016,769},{0x80001F55,8017,769},
    {0x80001F56,8016,834},{0x80001F57,8017,834},{0x80001F59,933,788},{0x80001F5B,8025,768},{0x80001F5D,8025,769},{0x80001F5F,8025,834},
    {0x80001F60,969,787},{0x80001F61,969,788},{0x80001F62,8032,768},{0x80001F63,8033,768},{0x80001F64,8032,769},{0x80001F65,8033,769},
    {0x80001F66,8032,834},{0x80001F67,8033,834},{0x80001F68,937,787},{0x80001F69,937,788},{0x80001F6A,8040,768},{0x80001F6B,8041,768},
    {0x80001F6C,8040,769},{0x80001F6D,8041,769},{0x80001F6E,8040,834},{0x80001F6F,8041,834},{0x80001F70,945,768},{0x1F71,940,0},
    {0x80001F72,949,768},{0x1F73,941,0},{0x80001F74,951,768},{0x1F75,942,0},{0x80001F76,953,768},{0x1F77,943,0},
    {0x80001F78,959,768},{0x1F79,972,0},{0x80001F7A,965,768},{0x1F7B,973,0},{0x80001F7C,969,768},{0x1F7D,974,0},
    {0x80001F80,7936,837},{0x80001F81,7937,837},{0x80001F82,7938,837},{0x80001F83,7939,837},{0x80001F84,7940,837},{0x80001F85,7941,837},
    {0x80001F86,7942,837},{0x80001F87,7943,837},{0x80001F88,7944,837},{0x80001F89,7945,837},{0x80001F8A,7946,837},{0x80001F8B,7947,837},
    {0x80001F8C,7948,837},{0x80001F8D,7949,837},{0x80001F8E,7950,837},{0x80001F8F,7951,837},{0x80001F90,7968,837},{0x80001F91,7969,837},
    {0x80001F92,7970,837},{0x80001F93,7971,837},{0x80001F94,7972,837},{0x80001F95,7973,837},{0x80001F96,7974,837},{0x80001F97,7975,837},
    {0x80001F98,7976,837},{0x80001F99,7977,837},{0x80001F9A,7978,837},{0x80001F9B,7979,837},{0x80001F9C,7980,837},{0x80001F9D,7981,837},
    {0x80001F9E,7982,837},{0x80001F9F,7983,837},{0x80001FA0,8032,837},{0x80001FA1,8033,837},{0x80001FA2,8034,837},{0x80001FA3,8035,837},
    {0x80001FA4,8036,837},{0x80001FA5,8037,837},{0x80001FA6,8038,837},{0x80001FA7,8039,837},{0x80001FA8,8040,837},{0x80001FA9,8041,837},
    {0x80001FAA,8042,837},{0x80001FAB,8043,837},{0x80001FAC,8044,837},{0x80001FAD,8045,837},{0x80001FAE,8046,837},{0x80001FAF,8047,837},
    {0x80001FB0,945,774},{0x80001FB1,945,772},{0x80001FB2,8048,837},{0x80001FB3,945,837},{0x80001FB4,940,837},{0x80001FB6,945,834},
    {0x80001FB7,8118,837},{0x80001FB8,913,774},{0x80001FB9,913,772},{0x80001FBA,913,768},{0x1FBB,902,0},{0x80001FBC,913,837},
    {0x1FBE,953,0},{0x80001FC1,168,834},{0x80001FC2,8052,837},{0x80001FC3,951,837},{0x80001FC4,942,837},{0x80001FC6,951,834},
    {0x80001FC7,8134,837},{0x80001FC8,917,768},{0x1FC9,904,0},{0x80001FCA,919,768},{0x1FCB,905,0},{0x80001FCC,919,837},
    {0x80001FCD,8127,768},{0x80001FCE,8127,769},{0x80001FCF,8127,834},{0x80001FD0,953,774},{0x80001FD1,953,772},{0x80001FD2,970,768},
    {0x1FD3,912,0},{0x80001FD6,953,834},{0x80001FD7,970,834},{0x80001FD8,921,774},{0x80001FD9,921,772},{0x80001FDA,921,768},
    {0x1FDB,906,0},{0x80001FDD,8190,768},{0x80001FDE,8190,769},{0x80001FDF,8190,834},{0x80001FE0,965,774},{0x80001FE1,965,772},
    {0x80001FE2,971,768},{0x1FE3,944,0},{0x80001FE4,961,787},{0x80001FE5,961,788},{0x80001FE6,965,834},{0x80001FE7,971,834},
    {0x80001FE8,933,774},{0x80001FE9,933,772},{0x80001FEA,933,768},{0x1FEB,910,0},{0x80001FEC,929,788},{0x80001FED,168,768},
    {0x1FEE,901,0},{0x1FEF,96,0},{0x80001FF2,8060,837},{0x80001FF3,969,837},{0x80001FF4,974,837},{0x80001FF6,969,834},
    {0x80001FF7,8182,837},{0x80001FF8,927,768},{0x1FF9,908,0},{0x80001FFA,937,768},{0x1FFB,911,0},{0x80001FFC,937,837},
    {0x1FFD,180,0},{0x2000,8194,0},{0x2001,8195,0},{0x2126,937,0},{0x212A,75,0},{0x212B,197,0},
    {0x8000219A,8592,824},{0x8000219B,8594,824},{0x800021AE,8596,824},{0x800021CD,8656,824},{0x800021CE,8660,824},{0x800021CF,8658,824},
    {0x80002204,8707,824},{0x80002209,8712,824},{0x8000220C,8715,824},{0x80002224,8739,824},{0x80002226,8741,824},{0x80002241,8764,824},
    {0x80002244,8771,824},{0x80002247,8773,824},{0x80002249,8776,824},{0x80002260,61,824},{0x80002262,8801,824},{0x8000226D,8781,824},
    {0x8000226E,60,824},{0x8000226F,62,824},{0x80002270,8804,824},{0x80002271,8805,824},{0x80002274,8818,824},{0x80002275,8819,824},
    {0x80002278,8822,824},{0x80002279,8823,824},{0x80002280,8826,824},{0x80002281,8827,824},{0x80002284,8834,824},{0x80002285,8835,824},
    {0x80002288,8838,824},{0x80002289,8839,824},{0x800022AC,8866,824},{0x800022AD,8872,824},{0x800022AE,8873,824},{0x800022AF,8875,824},
    {0x800022E0,8828,824},{0x800022E1,8829,824},{0x800022E2,8849,824},{0x800022E3,8850,824},{0x800022EA,8882,824},{0x800022EB,8883,824},
    {0x800022EC,8884,824},{0x800022ED,8885,824},{0x2329,12296,0},{0x232A,12297,0},{0x2ADC,10973,824},{0x8000304C,12363,12441},
    {0x8000304E,12365,12441},{0x80003050,12367,12441},{0x80003052,12369,12441},{0x80003054,12371,12441},{0x80003056,12373,12441},{0x80003058,12375,12441},
    {0x8000305A,12377,12441},{0x8000305C,12379,12441},{0x8000305E,12381,12441},{0x80003060,12383,12441},{0x80003062,12385,12441},{0x80003065,12388,12441},
    {0x80003067,12390,12441},{0x80003069,12392,12441},{0x80003070,12399,12441},{0x80003071,12399,12442},{0x80003073,12402,12441},{0x80003074,12402,12442},
    {0x80003076,12405,12441},{0x80003077,12405,12442},{0x80003079,12408,12441},{0x8000307A,12408,12442},{0x8000307C,12411,12441},{0x8000307D,12411,12442},
    {0x80003094,12358,12441},{0x8000309E,12445,12441},{0x800030AC,12459,12441},{0x800030AE,12461,12441},{0x800030B0,12463,12441},{0x800030B2,12465,12441},
    {0x800030B4,12467,12441},{0x800030B6,12469,12441},{0x800030B8,12471,12441},{0x800030BA,12473,12441},{0x800030BC,12475,12441},{0x800030BE,12477,12441},
    {0x800030C0,12479,12441},{0x800030C2,12481,12441},{0x800030C5,12484,12441},{0x800030C7,12486,12441},{0x800030C9,12488,12441},{0x800030D0,12495,12441},
    {0x800030D1,12495,12442},{0x800030D3,12498,12441},{0x800030D4,12498,12442},{0x800030D6,12501,12441},{0x800030D7,12501,12442},{0x800030D9,12504,12441},
    {0x800030DA,12504,12442},{0x800030DC,12507,12441},{0x800030DD,12507,12442},{0x800030F4,12454,12441},{0x800030F7,12527,12441},{0x800030F8,12528,12441},
    {0x800030F9,12529,12441},{0x800030FA,12530,12441},{0x800030FE,12541,12441},{0xF900,35912,0},{0xF901,26356,0},{0xF902,36554,0},
    {0xF903,36040,0},{0xF904,28369,0},{0xF905,20018,0},{0xF906,21477,0},{0xF907,40860,0},{0xF908,40860,0},
    {0xF909,22865,0},{0xF90A,37329,0},{0xF90B,21895,0},{0xF90C,22856,0},{0xF90D,25078,0},{0xF90E,30313,0},
    {0xF90F,32645,0},{0xF910,34367,0},{0xF911,34746,0},{0xF912,35064,0},{0xF913,37007,0},{0xF914,27138,0},
    {0xF915,27931,0},{0xF916,28889,0},{0xF917,29662,0},{0xF918,33853,0},{0xF919,37226,0},{0xF91A,39409,0},
    {0xF91B,20098,0},{0xF91C,21365,0},{0xF91D,27396,0},{0xF91E,29211,0},{0xF91F,34349,0},{0xF920,40478,0},
    {0xF921,23888,0},{0xF922,28651,0},{0xF923,34253,0},{0xF924,35172,0},{0xF925,25289,0},{0xF926,33240,0},
    {0xF927,34847,0},{0xF928,24266,0},{0xF929,26391,0},{0xF92A,28010,0},{0xF92B,29436,0},{0xF92C,37070,0},
    {0xF92D,20358,0},{0xF92E,20919,0},{0xF92F,21214,0},{0xF930,25796,0},{0xF931,27347,0},{0xF932,29200,0},
    {0xF933,30439,0},{0xF934,32769,0},{0xF935,34310,0},{0xF936,34396,0},{0xF937,36335,0},{0xF938,38706,0},
    {0xF939,39791,0},{0xF93A,40442,0},{0xF93B,30860,0},{0xF93C,31103,0},{0xF93D,32160,0},{0xF93E,33737,0},
    {0xF93F,37636,0},{0xF940,40575,0},{0xF941,35542,0},{0xF942,22751,0},{0xF943,24324,0},{0xF944,31840,0},
    {0xF945,32894,0},{0xF946,29282,0},{0xF947,30922,0},{0xF948,36034,0},{0xF949,38647,0},{0xF94A,22744,0},
    {0xF94B,23650,0},{0xF94C,27155,0},{0xF94D,28122,0},{0xF94E,28431,0},{0xF94F,32047,0},{0xF950,32311,0},
    {0xF951,38475,0},{0xF952,21202,0},{0xF953,32907,0},{0xF954,20956,0},{0xF955,20940,0},{0xF956,31260,0},
    {0xF957,32190,0},{0xF958,33777,0},{0xF959,38517,0},{0xF95A,35712,0},{0xF95B,25295,0},{0xF95C,27138,0},
    {0xF95D,35582,0},{0xF95E,20025,0},{0xF95F,23527,0},{0xF960,24594,0},{0xF961,29575,0},{0xF962,30064,0},
    {0xF963,21271,0},{0xF964,30971,0},{0xF965,20415,0},{0xF966,24489,0},{0xF967,19981,0},{0xF968,27852,0},
    {0xF969,25976,0},{0xF96A,32034,0},{0xF96B,21443,0},{0xF96C,22622,0},{0xF96D,30465,0},{0xF96E,33865,0},
    {0xF96F,35498,0},{0xF970,27578,0},{0xF971,36784,0},{0xF972,27784,0},{0xF973,25342,0},{0xF974,33509,0},
    {0xF975,25504,0},{0xF976,30053,0},{0xF977,20142,0},{0xF978,20841,0},{0xF979,20937,0},{0xF97A,26753,0},
    {0xF97B,31975,0},{0xF97C,33391,0},{0xF97D,35538,0},{0xF97E,37327,0},{0xF97F,21237,0},{0xF980,21570,0},
    {0xF981,22899,0},{0xF982,24300,0},{0xF983,26053,0},{0xF984,28670,0},{0xF985,31018,0},{0xF986,38317,0},
    {0xF987,39530,0},{0xF988,40599,0},{0xF989,40654,0},{0xF98A,21147,0},{0xF98B,26310,0},{0xF98C,27511,0},
    {0xF98D,36706,0},{0xF98E,24180,0},{0xF98F,24976,0},{0xF990,25088,0},{0xF991,25754,0},{0xF992,28451,0},
    {0xF993,29001,0},{0xF994,29833,0},{0xF995,31178,0},{0xF996,32244,0},{0xF997,32879,0},{0xF998,36646,0},
    {0xF999,34030,0},{0xF99A,36899,0},{0xF99B,37706,0},{0xF99C,21015,0},{0xF99D,21155,0},{0xF99E,21693,0},
    {0xF99F,28872,0},{0xF9A0,35010,0},{0xF9A1,35498,0},{0xF9A2,24265,0},{0xF9A3,24565,0},{0xF9A4,25467,0},
    {0xF9A5,27566,0},{0xF9A6,31806,0},{0xF9A7,29557,0},{0xF9A8,20196,0},{0xF9A9,22265,0},{0xF9AA,23527,0},
    {0xF9AB,23994,0},{0xF9AC,24604,0},{0xF9AD,29618,0},{0xF9AE,29801,0},{0xF9AF,32666,0},{0xF9B0,32838,0},
    {0xF9B1,37428,0},{0xF9B2,38646,0},{0xF9B3,38728,0},{0xF9B4,38936,0},{0xF9B5,20363,0},{0xF9B6,31150,0},
    {0xF9B7,37300,0},{0xF9B8,38584,0},{0xF9B9,24801,0},{0xF9BA,20102,0},{0xF9BB,20698,0},{0xF9BC,23534,0},
    {0xF9BD,23615,0},{0xF9BE,26009,0},{0xF9BF,27138,0},{0xF9C0,29134,0},{0xF9C1,30274,0},{0xF9C2,34044,0},
    {0xF9C3,36988,0},{0xF9C4,40845,0},{0xF9C5,26248,0},{0xF9C6,38446,0},{0xF9C7,21129,0},{0xF9C8,26491,0},
    {0xF9C9,26611,0},{0xF9CA,27969,0},{0xF9CB,28316,0},{0xF9CC,29705,0},{0xF9CD,30041,0},{0xF9CE,30827,0},
    {0xF9CF,32016,0},{0xF9D0,39006,0},{0xF9D1,20845,0},{0xF9D2,25134,0},{0xF9D3,38520,0},{0xF9D4,20523,0},
    {0xF9D5,23833,0},{0xF9D6,28138,0},{0xF9D7,36650,0},{0xF9D8,24459,0},{0xF9D9,24900,0},{0xF9DA,26647,0},
    {0xF9DB,29575,0},{0xF9DC,38534,0},{0xF9DD,21033,0},{0xF9DE,21519,0},{0xF9DF,23653,0},{0xF9E0,26131,0},
    {0xF9E1,26446,0},{0xF9E2,26792,0},{0xF9E3,27877,0},{0xF9E4,29702,0},{0xF9E5,30178,0},{0xF9E6,32633,0},
    {0xF9E7,35023,0},{0xF9E8,35041,0},{0xF9E9,37324,0},{0xF9EA,38626,0},{0xF9EB,21311,0},{0xF9EC,28346,0},
    {0xF9ED,21533,0},{0xF9EE,29136,0},{0xF9EF,29848,0},{0xF9F0,34298,0},{0xF9F1,38563,0},{0xF9F2,40023,0},
    {0xF9F3,40607,0},{0xF9F4,26519,0},{0xF9F5,28107,0},{0xF9F6,33256,0},{0xF9F7,31435,0},{0xF9F8,31520,0},
    {0xF9F9,31890,0},{0xF9FA,29376,0},{0xF9FB,28825,0},{0xF9FC,35672,0},{0xF9FD,20160,0},{0xF9FE,33590,0},
    {0xF9FF,21050,0},{0xFA00,20999,0},{0xFA01,24230,0},{0xFA02,25299,0},{0xFA03,31958,0},{0xFA04,23429,0},
    {0xFA05,27934,0},{0xFA06,26292,0},{0xFA07,36667,0},{0xFA08,34892,0},{0xFA09,38477,0},{0xFA0A,35211,0},
    {0xFA0B,24275,0},{0xFA0C,20800,0},{0xFA0D,21952,0},{0xFA10,22618,0},{0xFA12,26228,0},{0xFA15,20958,0},
    {0xFA16,29482,0},{0xFA17,30410,0},{0xFA18,31036,0},{0xFA19,31070,0},{0xFA1A,31077,0},{0xFA1B,31119,0},
    {0xFA1C,38742,0},{0xFA1D,31934,0},{0xFA1E,32701,0},{0xFA20,34322,0},{0xFA22,35576,0},{0xFA25,36920,0},
    {0xFA26,37117,0},{0xFA2A,39151,0},{0xFA2B,39164,0},{0xFA2C,39208,0},{0xFA2D,40372,0},{0xFA2E,37086,0},
    {0xFA2F,38583,0},{0xFA30,20398,0},{0xFA31,20711,0},{0xFA32,20813,0},{0xFA33,21193,0},{0xFA34,21220,0},
    {0xFA35,21329,0},{0xFA36,21917,0},{0xFA37,22022,0},{0xFA38,22120,0},{0xFA39,22592,0},{0xFA3A,22696,0},
    {0xFA3B,23652,0},{0xFA3C,23662,0},{0xFA3D,24724,0},{0xFA3E,24936,0},{0xFA3F,24974,0},{0xFA40,25074,0},
    {0xFA41,25935,0},{0xFA42,26082,0},{0xFA43,26257,0},{0xFA44,26757,0},{0xFA45,28023,0},{0xFA46,28186,0},
    {0xFA47,28450,0},{0xFA48,29038,0},{0xFA49,29227,0},{0xFA4A,29730,0},{0xFA4B,30865,0},{0xFA4C,31038,0},
    {0xFA4D,31049,0},{0xFA4E,31048,0},{0xFA4F,31056,0},{0xFA50,31062,0},{0xFA51,31069,0},{0xFA52,31117,0},
    {0xFA53,31118,0},{0xFA54,31296,0},{0xFA55,31361,0},{0xFA56,31680,0},{0xFA57,32244,0},{0xFA58,32265,0},
    {0xFA59,32321,0},{0xFA5A,32626,0},{0xFA5B,32773,0},{0xFA5C,33261,0},{0xFA5D,33401,0},{0xFA5E,33401,0},
    {0xFA5F,33879,0},{0xFA60,35088,0},{0xFA61,35222,0},{0xFA62,35585,0},{0xFA63,35641,0},{0xFA64,36051,0},
    {0xFA65,36104,0},{0xFA66,36790,0},{0xFA67,36920,0},{0xFA68,38627,0},{0xFA69,38911,0},{0xFA6A,38971,0},
    {0xFA6B,24693,0},{0xFA6C,148206,0},{0xFA6D,33304,0},{0xFA70,20006,0},{0xFA71,20917,0},{0xFA72,20840,0},
    {0xFA73,20352,0},{0xFA74,20805,0},{0xFA75,20864,0},{0xFA76,21191,0},{0xFA77,21242,0},{0xFA78,21917,0},
    {0xFA79,21845,0},{0xFA7A,21913,0},{0xFA7B,21986,0},{0xFA7C,22618,0},{0xFA7D,22707,0},{0xFA7E,22852,0},
    {0xFA7F,22868,0},{0xFA80,23138,0},{0xFA81,23336,0},{0xFA82,24274,0},{0xFA83,24281,0},{0xFA84,24425,0},
    {0xFA85,24493,0},{0xFA86,24792,0},{0xFA87,24910,0},{0xFA88,24840,0},{0xFA89,24974,0},{0xFA8A,24928,0},
    {0xFA8B,25074,0},{0xFA8C,25140,0},{0xFA8D,25540,0},{0xFA8E,25628,0},{0xFA8F,25682,0},{0xFA90,25942,0},
    {0xFA91,26228,0},{0xFA92,26391,0},{0xFA93,26395,0},{0xFA94,26454,0},{0xFA95,27513,0},{0xFA96,27578,0},
    {0xFA97,27969,0},{0xFA98,28379,0},{0xFA99,28363,0},{0xFA9A,28450,0},{0xFA9B,28702,0},{0xFA9C,29038,0},
    {0xFA9D,30631,0},{0xFA9E,29237,0},{0xFA9F,29359,0},{0xFAA0,29482,0},{0xFAA1,29809,0},{0xFAA2,29958,0},
    {0xFAA3,30011,0},{0xFAA4,30237,0},{0xFAA5,30239,0},{0xFAA6,30410,0},{0xFAA7,30427,0},{0xFAA8,30452,0},
    {0xFAA9,30538,0},{0xFAAA,30528,0},{0xFAAB,30924,0},{0xFAAC,31409,0},{0xFAAD,31680,0},{0xFAAE,31867,0},
    {0xFAAF,32091,0},{0xFAB0,32244,0},{0xFAB1,32574,0},{0xFAB2,32773,0},{0xFAB3,33618,0},{0xFAB4,33775,0},
    {0xFAB5,34681,0},{0xFAB6,35137,0},{0xFAB7,35206,0},{0xFAB8,35222,0},{0xFAB9,35519,0},{0xFABA,35576,0},
    {0xFABB,35531,0},{0xFABC,35585,0},{0xFABD,35582,0},{0xFABE,35565,0},{0xFABF,35641,0},{0xFAC0,35722,0},
    {0xFAC1,36104,0},{0xFAC2,36664,0},{0xFAC3,36978,0},{0xFAC4,37273,0},{0xFAC5,37494,0},{0xFAC6,38524,0},
    {0xFAC7,38627,0},{0xFAC8,38742,0},{0xFAC9,38875,0},{0xFACA,38911,0},{0xFACB,38923,0},{0xFACC,38971,0},
    {0xFACD,39698,0},{0xFACE,40860,0},{0xFACF,141386,0},{0xFAD0,141380,0},{0xFAD1,144341,0},{0xFAD2,15261,0},
    {0xFAD3,16408,0},{0xFAD4,16441,0},{0xFAD5,152137,0},{0xFAD6,154832,0},{0xFAD7,163539,0},{0xFAD8,40771,0},
    {0xFAD9,40846,0},{0xFB1D,1497,1460},{0xFB1F,1522,1463},{0xFB2A,1513,1473},{0xFB2B,1513,1474},{0xFB2C,64329,1473},
    {0xFB2D,64329,1474},{0xFB2E,1488,1463},{0xFB2F,1488,1464},{0xFB30,1488,1468},{0xFB31,1489,1468},{0xFB32,1490,1468},
    {0xFB33,1491,1468},{0xFB34,1492,1468},{0xFB35,1493,1468},{0xFB36,1494,1468},{0xFB38,1496,1468},{0xFB39,1497,1468},
    {0xFB3A,1498,1468},{0xFB3B,1499,1468},{0xFB3C,1500,1468},{0xFB3E,1502,1468},{0xFB40,1504,1468},{0xFB41,1505,1468},
    {0xFB43,1507,1468},{0xFB44,1508,1468},{0xFB46,1510,1468},{0xFB47,1511,1468},{0xFB48,1512,1468},{0xFB49,1513,1468},
    {0xFB4A,1514,1468},{0xFB4B,1493,1465},{0xFB4C,1489,1471},{0xFB4D,1499,1471},{0xFB4E,1508,1471},{0x8001109A,69785,69818},
    {0x8001109C,69787,69818},{0x800110AB,69797,69818},{0x8001112E,69937,69927},{0x8001112F,69938,69927},{0x8001134B,70471,70462},{0x8001134C,70471,70487},
    {0x800114BB,70841,70842},{0x800114BC,70841,70832},{0x800114BE,70841,70845},{0x800115BA,71096,71087},{0x800115BB,71097,71087},{0x80011938,71989,71984},
    {0x1D15E,119127,119141},{0x1D15F,119128,119141},{0x1D160,119135,119150},{0x1D161,119135,119151},{0x1D162,119135,119152},{0x1D163,119135,119153},
    {0x1D164,119135,119154},{0x1D1BB,119225,119141},{0x1D1BC,119226,119141},{0x1D1BD,119227,119150},{0x1D1BE,119228,119150},{0x1D1BF,119227,119151},
    {0x1D1C0,119228,119151},{0x2F800,20029,0},{0x2F801,20024,0},{0x2F802,20033,0},{0x2F803,131362,0},{0x2F804,20320,0},
    {0x2F805,20398,0},{0x2F806,20411,0},{0x2F807,20482,0},{0x2F808,20602,0},{0x2F809,20633,0},{0x2F80A,20711,0},
    {0x2F80B,20687,0},{0x2F80C,13470,0},{0x2F80D,132666,0},{0x2F80E,20813,0},{0x2F80F,20820,0},{0x2F810,20836,0},
    {0x2F811,20855,0},{0x2F812,132380,0},{0x2F813,13497,0},{0x2F814,20839,0},{0x2F815,20877,0},{0x2F816,132427,0},
    {0x2F817,20887,0},{0x2F818,20900,0},{0x2F819,20172,0},{0x2F81A,20908,0},{0x2F81B,20917,0},{0x2F81C,168415,0},
    {0x2F81D,20981,0},{0x2F81E,20995,0},{0x2F81F,13535,0},{0x2F820,21051,0},{0x2F821,21062,0},{0x2F822,21106,0},
    {0x2F823,21111,0},{0x2F824,13589,0},{0x2F825,21191,0},{0x2F826,21193,0},{0x2F827,21220,0},{0x2F828,21242,0},
    {0x2F829,21253,0},{0x2F82A,21254,0},{0x2F82B,21271,0},{0x2F82C,21321,0},{0x2F82D,21329,0},{0x2F82E,21338,0},
    {0x2F82F,21363,0},{0x2F830,21373,0},{0x2F831,21375,0},{0x2F832,21375,0},{0x2F833,21375,0},{0x2F834,133676,0},
    {0x2F835,28784,0},{0x2F836,21450,0},{0x2F837,21471,0},{0x2F838,133987,0},{0x2F839,21483,0},{0x2F83A,21489,0},
    {0x2F83B,21510,0},{0x2F83C,21662,0},{0x2F83D,21560,0},{0x2F83E,21576,0},{0x2F83F,21608,0},{0x2F840,21666,0},
    {0x2F841,21750,0},{0x2F842,21776,0},{0x2F843,21843,0},{0x2F844,21859,0},{0x2F845,21892,0},{0x2F846,21892,0},
    {0x2F847,21913,0},{0x2F848,21931,0},{0x2F849,21939,0},{0x2F84A,21954,0},{0x2F84B,22294,0},{0x2F84C,22022,0},
    {0x2F84D,22295,0},{0x2F84E,22097,0},{0x2F84F,22132,0},{0x2F850,20999,0},{0x2F851,22766,0},{0x2F852,22478,0},
    {0x2F853,22516,0},{0x2F854,22541,0},{0x2F855,22411,0},{0x2F856,22578,0},{0x2F857,22577,0},{0x2F858,22700,0},
    {0x2F859,136420,0},{0x2F85A,22770,0},{0x2F85B,22775,0},{0x2F85C,22790,0},{0x2F85D,22810,0},{0x2F85E,22818,0},
    {0x2F85F,22882,0},{0x2F860,136872,0},{0x2F861,136938,0},{0x2F862,23020,0},{0x2F863,23067,0},{0x2F864,23079,0},
    {0x2F865,23000,0},{0x2F866,23142,0},{0x2F867,14062,0},{0x2F868,14076,0},{0x2F869,23304,0},{0x2F86A,23358,0},
    {0x2F86B,23358,0},{0x2F86C,137672,0},{0x2F86D,23491,0},{0x2F86E,23512,0},{0x2F86F,23527,0},{0x2F870,23539,0},
    {0x2F871,138008,0},{0x2F872,23551,0},{0x2F873,23558,0},{0x2F874,24403,0},{0x2F875,23586,0},{0x2F876,14209,0},
    {0x2F877,23648,0},{0x2F878,23662,0},{0x2F879,23744,0},{0x2F87A,23693,0},{0x2F87B,138724,0},{0x2F87C,23875,0},
    {0x2F87D,138726,0},{0x2F87E,23918,0},{0x2F87F,23915,0},{0x2F880,23932,0},{0x2F881,24033,0},{0x2F882,24034,0},
    {0x2F883,14383,0},{0x2F884,24061,0},{0x2F885,24104,0},{0x2F886,24125,0},{0x2F887,24169,0},{0x2F888,14434,0},
    {0x2F889,139651,0},{0x2F88A,14460,0},{0x2F88B,24240,0},{0x2F88C,24243,0},{0x2F88D,24246,0},{0x2F88E,24266,0},
    {0x2F88F,172946,0},{0x2F890,24318,0},{0x2F891,140081,0},{0x2F892,140081,0},{0x2F893,33281,0},{0x2F894,24354,0},
    {0x2F895,24354,0},{0x2F896,14535,0},{0x2F897,144056,0},{0x2F898,156122,0},{0x2F899,24418,0},{0x2F89A,24427,0},
    {0x2F89B,14563,0},{0x2F89C,24474,0},{0x2F89D,24525,0},{0x2F89E,24535,0},{0x2F89F,24569,0},{0x2F8A0,24705,0},
    {0x2F8A1,14650,0},{0x2F8A2,14620,0},{0x2F8A3,24724,0},{0x2F8A4,141012,0},{0x2F8A5,24775,0},{0x2F8A6,24904,0},
    {0x2F8A7,24908,0},{0x2F8A8,24910,0},{0x2F8A9,24908,0},{0x2F8AA,24954,0},{0x2F8AB,24974,0},{0x2F8AC,25010,0},
    {0x2F8AD,24996,0},{0x2F8AE,25007,0},{0x2F8AF,25054,0},{0x2F8B0,25074,0},{0x2F8B1,25078,0},{0x2F8B2,25104,0},
    {0x2F8B3,25115,0},{0x2F8B4,25181,0},{0x2F8B5,25265,0},{0x2F8B6,25300,0},{0x2F8B7,25424,0},{0x2F8B8,142092,0},
    {0x2F8B9,25405,0},{0x2F8BA,25340,0},{0x2F8BB,25448,0},{0x2F8BC,25475,0},{0x2F8BD,25572,0},{0x2F8BE,142321,0},
    {0x2F8BF,25634,0},{0x2F8C0,25541,0},{0x2F8C1,25513,0},{0x2F8C2,14894,0},{0x2F8C3,25705,0},{0x2F8C4,25726,0},
    {0x2F8C5,25757,0},{0x2F8C6,25719,0},{0x2F8C7,14956,0},{0x2F8C8,25935,0},{0x2F8C9,25964,0},{0x2F8CA,143370,0},
    {0x2F8CB,26083,0},{0x2F8CC,26360,0},{0x2F8CD,26185,0},{0x2F8CE,15129,0},{0x2F8CF,26257,0},{0x2F8D0,15112,0},
    {0x2F8D1,15076,0},{0x2F8D2,20882,0},{0x2F8D3,20885,0},{0x2F8D4,26368,0},{0x2F8D5,26268,0},{0x2F8D6,32941,0},
    {0x2F8D7,17369,0},{0x2F8D8,26391,0},{0x2F8D9,26395,0},{0x2F8DA,26401,0},{0x2F8DB,26462,0},{0x2F8DC,26451,0},
    {0x2F8DD,144323,0},{0x2F8DE,15177,0},{0x2F8DF,26618,0},{0x2F8E0,26501,0},{0x2F8E1,26706,0},{0x2F8E2,26757,0},
    {0x2F8E3,144493,0},{0x2F8E4,26766,0},{0x2F8E5,26655,0},{0x2F8E6,26900,0},{0x2F8E7,15261,0},{0x2F8E8,26946,0},
    {0x2F8E9,27043,0},{0x2F8EA,27114,0},{0x2F8EB,27304,0},{0x2F8EC,145059,0},{0x2F8ED,27355,0},{0x2F8EE,15384,0},
    {0x2F8EF,27425,0},{0x2F8F0,145575,0},{0x2F8F1,27476,0},{0x2F8F2,15438,0},{0x2F8F3,27506,0},{0x2F8F4,27551,0},
    {0x2F8F5,27578,0},{0x2F8F6,27579,0},{0x2F8F7,146061,0},{0x2F8F8,138507,0},{0x2F8F9,146170,0},{0x2F8FA,27726,0},
    {0x2F8FB,146620,0},{0x2F8FC,27839,0},{0x2F8FD,27853,0},{0x2F8FE,27751,0},{0x2F8FF,27926,0},{0x2F900,27966,0},
    {0x2F901,28023,0},{0x2F902,27969,0},{0x2F903,28009,0},{0x2F904,28024,0},{0x2F905,28037,0},{0x2F906,146718,0},
    {0x2F907,27956,0},{0x2F908,28207,0},{0x2F909,28270,0},{0x2F90A,15667,0},{0x2F90B,28363,0},{0x2F90C,28359,0},
    {0x2F90D,147153,0},{0x2F90E,28153,0},{0x2F90F,28526,0},{0x2F910,147294,0},{0x2F911,147342,0},{0x2F912,28614,0},
    {0x2F913,28729,0},{0x2F914,28702,0},{0x2F915,28699,0},{0x2F916,15766,0},{0x2F917,28746,0},{0x2F918,28797,0},
    {0x2F919,28791,0},{0x2F91A,28845,0},{0x2F91B,132389,0},{0x2F91C,28997,0},{0x2F91D,148067,0},{0x2F91E,29084,0},
    {0x2F91F,148395,0},{0x2F920,29224,0},{0x2F921,29237,0},{0x2F922,29264,0},{0x2F923,149000,0},{0x2F924,29312,0},
    {0x2F925,29333,0},{0x2F926,149301,0},{0x2F927,149524,0},{0x2F928,29562,0},{0x2F929,29579,0},{0x2F92A,16044,0},
    {0x2F92B,29605,0},{0x2F92C,16056,0},{0x2F92D,16056,0},{0x2F92E,29767,0},{0x2F92F,29788,0},{0x2F930,29809,0},
    {0x2F931,29829,0},{0x2F932,29898,0},{0x2F933,16155,0},{0x2F934,29988,0},{0x2F935,150582,0},{0x2F936,30014,0},
    {0x2F937,150674,0},{0x2F938,30064,0},{0x2F939,139679,0},{0x2F93A,30224,0},{0x2F93B,151457,0},{0x2F93C,151480,0},
    {0x2F93D,151620,0},{0x2F93E,16380,0},{0x2F93F,16392,0},{0x2F940,30452,0},{0x2F941,151795,0},{0x2F942,151794,0},
    {0x2F943,151833,0},{0x2F944,151859,0},{0x2F945,30494,0},{0x2F946,30495,0},{0x2F947,30495,0},{0x2F948,30538,0},
    {0x2F949,16441,0},{0x2F94A,30603,0},{0x2F94B,16454,0},{0x2F94C,16534,0},{0x2F94D,152605,0},{0x2F94E,30798,0},
    {0x2F94F,30860,0},{0x2F950,30924,0},{0x2F951,16611,0},{0x2F952,153126,0},{0x2F953,31062,0},{0x2F954,153242,0},
    {0x2F955,153285,0},{0x2F956,31119,0},{0x2F957,31211,0},{0x2F958,16687,0},{0x2F959,31296,0},{0x2F95A,31306,0},
    {0x2F95B,31311,0},{0x2F95C,153980,0},{0x2F95D,154279,0},{0x2F95E,154279,0},{0x2F95F,31470,0},{0x2F960,16898,0},
    {0x2F961,154539,0},{0x2F962,31686,0},{0x2F963,31689,0},{0x2F964,16935,0},{0x2F965,154752,0},{0x2F966,31954,0},
    {0x2F967,17056,0},{0x2F968,31976,0},{0x2F969,31971,0},{0x2F96A,32000,0},{0x2F96B,155526,0},{0x2F96C,32099,0},
    {0x2F96D,17153,0},{0x2F96E,32199,0},{0x2F96F,32258,0},{0x2F970,32325,0},{0x2F971,17204,0},{0x2F972,156200,0},
    {0x2F973,156231,0},{0x2F974,17241,0},{0x2F975,156377,0},{0x2F976,32634,0},{0x2F977,156478,0},{0x2F978,32661,0},
    {0x2F979,32762,0},{0x2F97A,32773,0},{0x2F97B,156890,0},{0x2F97C,156963,0},{0x2F97D,32864,0},{0x2F97E,157096,0},
    {0x2F97F,32880,0},{0x2F980,144223,0},{0x2F981,17365,0},{0x2F982,32946,0},{0x2F983,33027,0},{0x2F984,17419,0},
    {0x2F985,33086,0},{0x2F986,23221,0},{0x2F987,157607,0},{0x2F988,157621,0},{0x2F989,144275,0},{0x2F98A,144284,0},
    {0x2F98B,33281,0},{0x2F98C,33284,0},{0x2F98D,36766,0},{0x2F98E,17515,0},{0x2F98F,33425,0},{0x2F990,33419,0},
    {0x2F991,33437,0},{0x2F992,21171,0},{0x2F993,33457,0},{0x2F994,33459,0},{0x2F995,33469,0},{0x2F996,33510,0},
    {0x2F997,158524,0},{0x2F998,33509,0},{0x2F999,33565,0},{0x2F99A,33635,0},{0x2F99B,33709,0},{0x2F99C,33571,0},
    {0x2F99D,33725,0},{0x2F99E,33767,0},{0x2F99F,33879,0},{0x2F9A0,33619,0},{0x2F9A1,33738,0},{0x2F9A2,33740,0},
    {0x2F9A3,33756,0},{0x2F9A4,158774,0},{0x2F9A5,159083,0},{0x2F9A6,158933,0},{0x2F9A7,17707,0},{0x2F9A8,34033,0},
    {0x2F9A9,34035,0},{0x2F9AA,34070,0},{0x2F9AB,160714,0},{0x2F9AC,34148,0},{0x2F9AD,159532,0},{0x2F9AE,17757,0},
    {0x2F9AF,17761,0},{0x2F9B0,159665,0},{0x2F9B1,159954,0},{0x2F9B2,17771,0},{0x2F9B3,34384,0},{0x2F9B4,34396,0},
    {0x2F9B5,34407,0},{0x2F9B6,34409,0},{0x2F9B7,34473,0},{0x2F9B8,34440,0},{0x2F9B9,34574,0},{0x2F9BA,34530,0},
    {0x2F9BB,34681,0},{0x2F9BC,34600,0},{0x2F9BD,34667,0},{0x2F9BE,34694,0},{0x2F9BF,17879,0},{0x2F9C0,34785,0},
    {0x2F9C1,34817,0},{0x2F9C2,17913,0},{0x2F9C3,34912,0},{0x2F9C4,34915,0},{0x2F9C5,161383,0},{0x2F9C6,35031,0},
    {0x2F9C7,35038,0},{0x2F9C8,17973,0},{0x2F9C9,35066,0},{0x2F9CA,13499,0},{0x2F9CB,161966,0},{0x2F9CC,162150,0},
    {0x2F9CD,18110,0},{0x2F9CE,18119,0},{0x2F9CF,35488,0},{0x2F9D0,35565,0},{0x2F9D1,35722,0},{0x2F9D2,35925,0},
    {0x2F9D3,162984,0},{0x2F9D4,36011,0},{0x2F9D5,36033,0},{0x2F9D6,36123,0},{0x2F9D7,36215,0},{0x2F9D8,163631,0},
    {0x2F9D9,133124,0},{0x2F9DA,36299,0},{0x2F9DB,36284,0},{0x2F9DC,36336,0},{0x2F9DD,133342,0},{0x2F9DE,36564,0},
    {0x2F9DF,36664,0},{0x2F9E0,165330,0},{0x2F9E1,165357,0},{0x2F9E2,37012,0},{0x2F9E3,37105,0},{0x2F9E4,37137,0},
    {0x2F9E5,165678,0},{0x2F9E6,37147,0},{0x2F9E7,37432,0},{0x2F9E8,37591,0},{0x2F9E9,37592,0},{0x2F9EA,37500,0},
    {0x2F9EB,37881,0},{0x2F9EC,37909,0},{0x2F9ED,166906,0},{0x2F9EE,38283,0},{0x2F9EF,18837,0},{0x2F9F0,38327,0},
    {0x2F9F1,167287,0},{0x2F9F2,18918,0},{0x2F9F3,38595,0},{0x2F9F4,23986,0},{0x2F9F5,38691,0},{0x2F9F6,168261,0},
    {0x2F9F7,168474,0},{0x2F9F8,19054,0},{0x2F9F9,19062,0},{0x2F9FA,38880,0},{0x2F9FB,168970,0},{0x2F9FC,19122,0},
    {0x2F9FD,169110,0},{0x2F9FE,38923,0},{0x2F9FF,38923,0},{0x2FA00,38953,0},{0x2FA01,169398,0},{0x2FA02,39138,0},
    {0x2FA03,19251,0},{0x2FA04,39209,0},{0x2FA05,39335,0},{0x2FA06,39362,0},{0x2FA07,39422,0},{0x2FA08,19406,0},
    {0x2FA09,170800,0},{0x2FA0A,39698,0},{0x2FA0B,40000,0},{0x2FA0C,40189,0},{0x2FA0D,19662,0},{0x2FA0E,19693,0},
    {0x2FA0F,40295,0},{0x2FA10,172238,0},{0x2FA11,19704,0},{0x2FA12,172293,0},{0x2FA13,172558,0},{0x2FA14,172689,0},
    {0x2FA15,40635,0},{0x2FA16,19798,0},{0x2FA17,40697,0},{0x2FA18,40702,0},{0x2FA19,40709,0},{0x2FA1A,40719,0},
    {0x2FA1B,40726,0},{0x2FA1C,40763,0},{0x2FA1D,173568,0},
};
/* END GENERATED UNICODE TABLES */

static size_t grpo__unicode_table(int which, const uint32_t **table) {
    switch (which) {
    case GRPO__UNICODE_LETTERS: *table = grpo__unicode_letters[0]; return sizeof grpo__unicode_letters / sizeof grpo__unicode_letters[0];
    case GRPO__UNICODE_NUMBERS: *table = grpo__unicode_numbers[0]; return sizeof grpo__unicode_numbers / sizeof grpo__unicode_numbers[0];
    case GRPO__UNICODE_COMBINING: *table = grpo__unicode_combining[0]; return sizeof grpo__unicode_combining / sizeof grpo__unicode_combining[0];
    default: *table = grpo__unicode_decompositions[0]; return sizeof grpo__unicode_decompositions / sizeof grpo__unicode_decompositions[0];
    }
}

/* ---------------------------------------------------------------------------------------
   15. Around GRPO: SFT, evaluation, datasets, SFT trainer, rejection sampling */

/* Encodes BOS (if the tokenizer has one) and text into row[0..capacity); *length receives the
   tokens written. The GRPO trainer encodes its prompts the same way. */
static grpo_result grpo__encode_prompt(const grpo_tokenizer *tok, const char *text, int *row, int capacity, int *length) {
    int offset = tok->bos_id >= 0 ? 1 : 0, count = 0;
    if (capacity < offset) return GRPO_ERROR_INVALID_ARGUMENT;
    if (offset) row[0] = tok->bos_id;
    grpo_result r = tok->encode(tok, text ? text : "", text ? strlen(text) : 0, row + offset, capacity - offset, &count);
    *length = count + offset;
    return r;
}

/* A batch of SFT rows: each example is BOS (if the tokenizer has one), prompt tokens, completion
   tokens and EOS (if any). Inputs are row[0..n-2], targets row[1..n-1]; mask is 1 where the
   target is a completion token or the EOS. Rows are packed to the width T of the longest. */
typedef struct {
    int B, T;
    int *rows;               /* (B, T) inputs, packed at the start of a (B, W + 1) block used for encoding */
    int *targets;            /* (B, T) targets */
    int *lengths;            /* (B) inputs of each row */
    int *prompt_lengths;     /* (B) */
    float *mask, *logprobs, *dlogprobs; /* (B, T) each */
    double tokens;           /* where mask is 1: the completion tokens and EOSes */
} grpo__sft_batch;

static void grpo__sft_batch_free(grpo__sft_batch *batch) {
    GRPO_FREE(batch->rows);
    GRPO_FREE(batch->mask);
    memset(batch, 0, sizeof *batch);
}

/* Encodes examples into *batch. names (n_examples) number the examples in error messages (the
   caller's record indices); NULL: 0, 1, ... */
static grpo_result grpo__sft_prepare(grpo__sft_batch *batch, const grpo_model *model, const grpo_tokenizer *tok,
                                     const grpo_sft_example *examples, int n_examples, const int *names, const char *who) {
    memset(batch, 0, sizeof *batch);
    int B = n_examples, W = model->config.context_length; /* rows are at most W tokens of input */
    size_t BW = (size_t)B * (W + 1);
    batch->rows = (int *)GRPO_MALLOC(BW * sizeof(int) * 2 + (size_t)B * sizeof(int) * 2);
    batch->mask = (float *)GRPO_MALLOC(BW * sizeof(float) * 3);
    if (!batch->rows || !batch->mask) {
        grpo__sft_batch_free(batch);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: could not allocate scratch for %d sequences of %d tokens", who, B, W);
    }
    int *rows = batch->rows, *targets = rows + BW, *lengths = targets + BW, *prompt_lengths = lengths + B;
    float *mask = batch->mask;
    grpo_result r = GRPO_SUCCESS;
    int T = 1;
    for (int b = 0; b < B && !r; b++) {
        int *row = rows + (size_t)b * (W + 1), P = 0, n = 0;
        const char *completion = examples[b].completion ? examples[b].completion : "";
        char message[256];
        r = grpo__encode_prompt(tok, examples[b].prompt, row, W + 1, &P);
        if (!r) r = tok->encode(tok, completion, strlen(completion), row + P, W + 1 - P, &n);
        int eos = tok->eos_id >= 0 ? 1 : 0, total = P + n + eos;
        if (!r && total > W + 1) r = GRPO_ERROR_INVALID_ARGUMENT;
        if (r) {
            snprintf(message, sizeof message, "%.200s", grpo_last_error());
            r = grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: example %d does not fit: %d prompt tokens (BOS included) + %d completion + %d EOS = %d tokens need context_length >= %d; the model has %d (%s)",
                           who, names ? names[b] : b, P, n, eos, total, total - 1, W, total > W + 1 ? "too long" : message);
            break;
        }
        if (eos) row[P + n] = tok->eos_id;
        lengths[b] = total - 1;
        prompt_lengths[b] = P;
        if (total - 1 > T) T = total - 1;
    }
    if (r) { grpo__sft_batch_free(batch); return r; }
    /* pack rows to width T: row b's inputs are row[0..len), its targets row[1..len] */
    double tokens = 0.0;
    for (int b = 0; b < B; b++) {
        const int *row = rows + (size_t)b * (W + 1);
        int len = lengths[b];
        for (int t = 0; t < T; t++) {
            targets[(size_t)b * T + t] = t < len ? row[t + 1] : 0;
            mask[(size_t)b * T + t] = t < len && t + 1 >= prompt_lengths[b] ? 1.0f : 0.0f;
            tokens += mask[(size_t)b * T + t];
        }
    }
    for (int b = 0; b < B; b++) { /* in place, row by row: row b moves left, never over a later row */
        int *from = rows + (size_t)b * (W + 1), *to = rows + (size_t)b * T;
        for (int t = 0; t < T; t++) to[t] = t < lengths[b] ? from[t] : 0;
    }
    batch->targets = targets;
    batch->lengths = lengths;
    batch->prompt_lengths = prompt_lengths;
    batch->logprobs = mask + BW;
    batch->dlogprobs = mask + 2 * BW;
    batch->B = B;
    batch->T = T;
    batch->tokens = tokens;
    return GRPO_SUCCESS;
}

/* Forward over the batch; *nll receives the sum of -log p over its masked tokens. */
static grpo_result grpo__sft_forward(grpo_model *model, grpo__sft_batch *batch, double *nll) {
    grpo_result r = grpo_model_forward(model, batch->rows, batch->targets, batch->lengths, batch->B, batch->T, 1.0f, batch->logprobs, NULL);
    if (r) return r;
    double sum = 0.0;
    for (size_t i = 0; i < (size_t)batch->B * batch->T; i++) sum -= (double)batch->mask[i] * batch->logprobs[i];
    *nll = sum;
    return GRPO_SUCCESS;
}

/* Backward of this batch's share of a loss that is the mean over total_tokens tokens (this
   batch's and those of the other micro-batches of the update): dlogprobs = -mask / total_tokens,
   added into the gradients. Follows grpo__sft_forward of the same batch. */
static grpo_result grpo__sft_backward(grpo_model *model, grpo__sft_batch *batch, double total_tokens) {
    float inv = total_tokens > 0.0 ? (float)(1.0 / total_tokens) : 0.0f;
    for (size_t i = 0; i < (size_t)batch->B * batch->T; i++) batch->dlogprobs[i] = -batch->mask[i] * inv;
    return grpo_model_backward(model, batch->dlogprobs);
}

static grpo_result grpo__sft_check(const grpo_model *model, const grpo_adamw *optimizer, const grpo_tokenizer *tok, const char *who) {
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "%s: the model is not created", who);
    if (optimizer && model->frozen) return grpo__fail(GRPO_ERROR_INVALID_STATE, "%s: the model is frozen (a reference model) and cannot be trained", who);
    if (optimizer && !optimizer->m) return grpo__fail(GRPO_ERROR_INVALID_STATE, "%s: the optimizer is not created", who);
    if (!tok || !tok->encode) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: a tokenizer is required", who);
    if (tok->eos_id >= model->config.vocab_size || tok->bos_id >= model->config.vocab_size)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: the tokenizer's BOS/EOS ids (%d, %d) are outside the model's vocabulary of %d", who, tok->bos_id, tok->eos_id, model->config.vocab_size);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_sft_step(grpo_model *model, grpo_adamw *optimizer, const grpo_tokenizer *tok,
                                  const grpo_sft_example *examples, int n_examples, grpo_sft_metrics *metrics) {
    grpo_result r = grpo__sft_check(model, optimizer, tok, "sft step");
    if (r) return r;
    if (!examples || n_examples < 1) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft step: expected at least one example, got %d", n_examples);
    grpo__sft_batch batch;
    if ((r = grpo__sft_prepare(&batch, model, tok, examples, n_examples, NULL, "sft step"))) return r;
    double nll = 0.0, loss = 0.0;
    float norm = 0.0f, lr = 0.0f;
    r = grpo__sft_forward(model, &batch, &nll);
    if (!r) {
        loss = batch.tokens > 0.0 ? nll / batch.tokens : 0.0;
        if (!isfinite(loss)) r = grpo__fail(GRPO_ERROR_NON_FINITE, "sft step refused: the loss is %g; weights unchanged", loss);
    }
    if (!r && optimizer) {
        grpo_model_zero_grad(model);
        r = grpo__sft_backward(model, &batch, batch.tokens);
        if (!r) r = grpo_adamw_step(optimizer, model, &norm, &lr);
    }
    double tokens = batch.tokens;
    grpo__sft_batch_free(&batch);
    if (!r && metrics) {
        metrics->loss = loss;
        metrics->tokens = (int)tokens;
        metrics->sequences = n_examples;
        metrics->grad_norm = norm;
        metrics->learning_rate = lr;
    }
    return r;
}

GRPODEF double grpo_pass_at_1(const int *correct_counts, int n_problems, int k) {
    if (!correct_counts || n_problems < 1 || k < 1) return NAN;
    double sum = 0.0;
    for (int i = 0; i < n_problems; i++) {
        if (correct_counts[i] < 0 || correct_counts[i] > k) return NAN;
        sum += (double)correct_counts[i] / k;
    }
    return sum / n_problems;
}

GRPODEF double grpo_pass_at_k(const int *correct_counts, int n_problems, int n_samples, int k) {
    if (!correct_counts || n_problems < 1 || k < 1 || k > n_samples) return NAN;
    double sum = 0.0;
    for (int i = 0; i < n_problems; i++) {
        int n = n_samples, c = correct_counts[i];
        if (c < 0 || c > n) return NAN;
        if (n - c < k) { sum += 1.0; continue; } /* every k-subset holds a correct sample */
        /* C(n-c, k) / C(n, k) = prod_{i = n-c+1..n} (1 - k/i) */
        double none = 1.0;
        for (int j = n - c + 1; j <= n; j++) none *= 1.0 - (double)k / j;
        sum += 1.0 - none;
    }
    return sum / n_problems;
}

/* The vote with scratch (2n ints): classes in order of their first answer, rep[q] that first
   answer's sample, votes[q] its count. */
static int grpo__majority(const char *const *answers, int n, int *scratch) {
    int *rep = scratch, *votes = scratch + n, n_classes = 0, best = -1;
    for (int i = 0; i < n; i++) {
        if (!answers[i]) continue;
        size_t length = strlen(answers[i]);
        int q = 0;
        while (q < n_classes && !grpo_answers_equal(answers[rep[q]], strlen(answers[rep[q]]), answers[i], length)) q++;
        if (q == n_classes) { rep[n_classes] = i; votes[n_classes++] = 0; }
        votes[q]++;
    }
    for (int q = 0; q < n_classes; q++)
        if (best < 0 || votes[q] > votes[best]) best = q; /* strictly more: a tie keeps the earlier class */
    return best < 0 ? -1 : rep[best];
}

GRPODEF int grpo_majority_answer(const char *const *answers, int n) {
    if (!answers || n < 1) return -1;
    int stack[512], *scratch = n <= 256 ? stack : (int *)GRPO_MALLOC((size_t)n * 2 * sizeof(int));
    if (!scratch) { grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "grpo_majority_answer: out of memory for %d answers", n); return -2; }
    int winner = grpo__majority(answers, n, scratch);
    if (scratch != stack) GRPO_FREE(scratch);
    return winner;
}

/* ---- The sampling loop shared by grpo_evaluate and grpo_rejection_sample: k completions for
   each problem, decoded, handed to visit in problem order (problem i, samples 0..k-1). */
typedef grpo_result (*grpo__visit_completion)(void *user, int problem, int sample, const char *text, size_t bytes,
                                              int tokens, int truncated);

static grpo_result grpo__sample_problems(grpo_model *model, const grpo_tokenizer *tok, const grpo_example *problems, int n_problems,
                                         int k, int problems_per_batch, int max_completion_tokens, const grpo_sampling_config *sampling,
                                         const char *who, grpo__visit_completion visit, void *user) {
    int context = model->config.context_length, L_max = max_completion_tokens;
    int P = problems_per_batch < n_problems ? problems_per_batch : n_problems;
    grpo_generator generator;
    grpo_generator_config gc = {P, k, L_max, 0};
    grpo_result r;
    if ((r = grpo_generator_create(&generator, model, &gc))) return r;
    size_t text_capacity = (size_t)L_max * 16 + 1;
    /* one block: the seeds first, where malloc's alignment suits uint64_t, then the int arrays */
    uint64_t *seeds = (uint64_t *)GRPO_MALLOC((size_t)P * sizeof(uint64_t) + (size_t)P * (context + 1) * sizeof(int) + (size_t)P * sizeof(int));
    char *text = (char *)GRPO_MALLOC(text_capacity);
    if (!seeds || !text) {
        GRPO_FREE(seeds);
        GRPO_FREE(text);
        grpo_generator_destroy(&generator);
        return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: could not allocate buffers for %d problems", who, P);
    }
    int *prompts = (int *)(seeds + P);
    int *prompt_lengths = prompts + (size_t)P * (context + 1);
    for (int first = 0; first < n_problems && !r; first += P) {
        int n = n_problems - first < P ? n_problems - first : P, widest = 1;
        for (int i = 0; i < n && !r; i++) {
            int *row = prompts + (size_t)i * (context + 1);
            if (grpo__encode_prompt(tok, problems[first + i].prompt, row, context + 1, &prompt_lengths[i]) ||
                prompt_lengths[i] + L_max > context)
                r = grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: problem %d's prompt is %d tokens; with max_completion_tokens %d it does not fit context_length %d",
                               who, first + i, prompt_lengths[i], L_max, context);
            if (prompt_lengths[i] > widest) widest = prompt_lengths[i];
            seeds[i] = (uint64_t)(first + i);
        }
        if (r) break;
        for (int i = 1; i < n; i++) memmove(prompts + (size_t)i * widest, prompts + (size_t)i * (context + 1), (size_t)widest * sizeof(int));
        grpo_sampling_config s = *sampling;
        s.max_new_tokens = L_max;
        s.tokenizer = tok;
        s.prompt_seeds = seeds;
        const grpo_completions *out;
        if ((r = grpo_generate(&generator, model, prompts, prompt_lengths, n, widest, k, &s, &out))) break;
        for (int i = 0; i < n && !r; i++) {
            for (int j = 0; j < k && !r; j++) {
                int sequence = i * k + j, length = out->lengths[sequence];
                const int *ids = out->tokens + (size_t)sequence * out->max_new_tokens;
                size_t bytes = 0;
                r = tok->decode(tok, ids, length, text, text_capacity, &bytes);
                if (r && bytes + 1 > text_capacity) { /* a longer text than guessed: grow and retry */
                    char *bigger = (char *)GRPO_MALLOC(bytes + 1);
                    if (!bigger) { r = grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s: could not allocate %zu bytes for a completion", who, bytes + 1); break; }
                    GRPO_FREE(text);
                    text = bigger;
                    text_capacity = bytes + 1;
                    r = tok->decode(tok, ids, length, text, text_capacity, &bytes);
                }
                if (!r) r = visit(user, first + i, j, text, bytes, length, out->truncated[sequence]);
            }
        }
    }
    GRPO_FREE(seeds);
    GRPO_FREE(text);
    grpo_generator_destroy(&generator);
    return r;
}

/* grpo_evaluate's judge of each sampled completion, and the majority vote of each problem. */
typedef struct {
    const grpo_eval_config *config;     /* resolved */
    const grpo_example *problems;
    const grpo_reward *judges[2];       /* correct, well-formed */
    int k;
    int *counts;                        /* (n_problems) correct samples */
    int *vote_scratch;                  /* (2k) */
    int *sample_correct;                /* (k) of the current problem */
    size_t *answer_at;                  /* (k) offset of each sample's answer in answers, or SIZE_MAX: none */
    const char **answer_pointers;       /* (k) */
    char *answers;                      /* the current problem's answers, each NUL-terminated */
    size_t answers_length, answers_capacity;
    double formatted, length_total, truncated, consensus;
} grpo__eval_state;

static grpo_result grpo__eval_visit(void *user, int problem, int sample, const char *text, size_t bytes, int tokens, int truncated) {
    grpo__eval_state *s = (grpo__eval_state *)user;
    const grpo_example *p = &s->problems[problem];
    if (sample == 0) { s->counts[problem] = 0; s->answers_length = 0; }
    float value[2];
    grpo_reward_completion(s->judges[0], 1, p->prompt, text, bytes, tokens, p->gold, &value[0]);
    grpo_reward_completion(s->judges[1], 1, p->prompt, text, bytes, tokens, p->gold, &value[1]);
    int is_correct = value[0] >= 1.0f, is_formatted = value[1] >= 1.0f; /* NaN: neither */
    s->counts[problem] += is_correct;
    s->sample_correct[sample] = is_correct;
    s->formatted += is_formatted;
    s->length_total += tokens;
    s->truncated += truncated;
    size_t start, end;
    s->answer_at[sample] = SIZE_MAX;
    if (grpo_extract_answer(text, bytes, &start, &end)) {
        size_t need = s->answers_length + (end - start) + 1;
        if (need > s->answers_capacity) {
            size_t capacity = need > 2 * s->answers_capacity ? need : 2 * s->answers_capacity;
            char *bigger = (char *)GRPO_MALLOC(capacity);
            if (!bigger) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "evaluate: could not allocate %zu bytes for answers", capacity);
            if (s->answers_length) memcpy(bigger, s->answers, s->answers_length);
            GRPO_FREE(s->answers);
            s->answers = bigger;
            s->answers_capacity = capacity;
        }
        memcpy(s->answers + s->answers_length, text + start, end - start);
        s->answers[s->answers_length + (end - start)] = '\0';
        s->answer_at[sample] = s->answers_length;
        s->answers_length = need;
    }
    if (s->config->on_completion) s->config->on_completion(s->config->user, problem, sample, text, is_correct, is_formatted);
    if (sample == s->k - 1) { /* the problem's last sample: the vote */
        for (int j = 0; j < s->k; j++) s->answer_pointers[j] = s->answer_at[j] == SIZE_MAX ? NULL : s->answers + s->answer_at[j];
        int winner = grpo__majority(s->answer_pointers, s->k, s->vote_scratch);
        s->consensus += winner >= 0 && s->sample_correct[winner];
    }
    return GRPO_SUCCESS;
}

typedef struct { const grpo_reward *judge; const grpo_example *problems; double correct; } grpo__greedy_state;

static grpo_result grpo__greedy_visit(void *user, int problem, int sample, const char *text, size_t bytes, int tokens, int truncated) {
    (void)sample; (void)truncated;
    grpo__greedy_state *s = (grpo__greedy_state *)user;
    const grpo_example *p = &s->problems[problem];
    float value;
    grpo_reward_completion(s->judge, 1, p->prompt, text, bytes, tokens, p->gold, &value);
    s->correct += value >= 1.0f;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_evaluate(grpo_model *model, const grpo_eval_config *config, const grpo_example *problems,
                                  int n_problems, int *correct_counts, grpo_eval_result *result) {
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "evaluate: the model is not created");
    if (!config || !config->tokenizer || !config->tokenizer->encode || !config->tokenizer->decode)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "evaluate: a config with a tokenizer is required");
    if (!problems || n_problems < 1) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "evaluate: expected at least one problem, got %d", n_problems);
    grpo_eval_config c = *config;
    int context = model->config.context_length;
    c.samples_per_problem = GRPO__DEFAULT(c.samples_per_problem, 4);
    c.max_completion_tokens = GRPO__DEFAULT(c.max_completion_tokens, context / 2 < 128 ? context / 2 : 128);
    c.problems_per_batch = GRPO__DEFAULT(c.problems_per_batch, 8);
    c.sampling.temperature = GRPO__DEFAULT(c.sampling.temperature, 0.6f);
    c.sampling.top_p = GRPO__DEFAULT(c.sampling.top_p, 0.95f);
    c.pass_k = GRPO__DEFAULT(c.pass_k, c.samples_per_problem);
    if (c.samples_per_problem < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "evaluate: samples_per_problem = %d: expected >= 1", c.samples_per_problem);
    if (c.problems_per_batch < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "evaluate: problems_per_batch = %d: expected >= 1", c.problems_per_batch);
    if (c.pass_k < 1 || c.pass_k > c.samples_per_problem)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "evaluate: pass_k = %d: expected 1 to samples_per_problem (%d)", c.pass_k, c.samples_per_problem);
    static const grpo_reward accuracy = {GRPO_REWARD_ACCURACY, 1.0f, NULL, NULL, NULL, 0, 0};
    static const grpo_reward format = {GRPO_REWARD_FORMAT, 1.0f, NULL, NULL, NULL, 0, 0};
    grpo__eval_state s;
    memset(&s, 0, sizeof s);
    s.config = &c;
    s.problems = problems;
    s.judges[0] = c.correct ? c.correct : &accuracy;
    s.judges[1] = c.format ? c.format : &format;
    s.k = c.samples_per_problem;
    grpo_result r;
    if ((r = grpo_reward_validate(s.judges[0], 1)) || (r = grpo_reward_validate(s.judges[1], 1))) return r;
    int k = s.k;
    /* one block: the size_t offsets and pointers first (alignment), then the ints */
    void *block = GRPO_MALLOC((size_t)k * (sizeof(size_t) + sizeof(char *) + 3 * sizeof(int)) + (size_t)n_problems * sizeof(int));
    if (!block) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "evaluate: could not allocate buffers for %d problems x %d samples", n_problems, k);
    s.answer_at = (size_t *)block;
    s.answer_pointers = (const char **)(s.answer_at + k);
    s.sample_correct = (int *)(s.answer_pointers + k);
    s.vote_scratch = s.sample_correct + k;
    s.counts = s.vote_scratch + 2 * k;
    double start = grpo__now();
    r = grpo__sample_problems(model, c.tokenizer, problems, n_problems, k, c.problems_per_batch, c.max_completion_tokens,
                              &c.sampling, "evaluate", grpo__eval_visit, &s);
    grpo__greedy_state g = {s.judges[0], problems, 0.0};
    if (!r && c.greedy_run) {
        grpo_sampling_config greedy = c.sampling;
        greedy.greedy = 1;
        r = grpo__sample_problems(model, c.tokenizer, problems, n_problems, 1, c.problems_per_batch, c.max_completion_tokens,
                                  &greedy, "evaluate (greedy run)", grpo__greedy_visit, &g);
    }
    if (!r && correct_counts) memcpy(correct_counts, s.counts, (size_t)n_problems * sizeof(int));
    if (!r && result) {
        double samples = (double)n_problems * k;
        result->n_problems = n_problems;
        result->samples_per_problem = k;
        result->pass_at_1 = grpo_pass_at_1(s.counts, n_problems, k);
        result->cons_at_k = s.consensus / n_problems;
        result->pass_k = c.pass_k;
        result->pass_at_k = grpo_pass_at_k(s.counts, n_problems, k, c.pass_k);
        result->greedy_accuracy = c.greedy_run ? g.correct / n_problems : NAN;
        result->format_rate = s.formatted / samples;
        result->mean_length = s.length_total / samples;
        result->truncated_ratio = s.truncated / samples;
        result->seconds = grpo__now() - start;
    }
    GRPO_FREE(s.answers);
    GRPO_FREE(block);
    return r;
}

/* ---- Datasets */

/* A growing byte string; ok turns 0 when an allocation fails (later appends do nothing). */
typedef struct { char *data; size_t length, capacity; int ok; } grpo__string;

/* Room for `size` bytes in all; 0 (and ok = 0) if it cannot be had. */
static int grpo__string_reserve(grpo__string *s, size_t size) {
    if (!s->ok) return 0;
    if (size <= s->capacity) return 1;
    size_t capacity = s->capacity ? s->capacity : 256;
    while (capacity < size) capacity *= 2;
    char *bigger = (char *)GRPO_MALLOC(capacity);
    if (!bigger) { s->ok = 0; return 0; }
    if (s->length) memcpy(bigger, s->data, s->length);
    GRPO_FREE(s->data);
    s->data = bigger;
    s->capacity = capacity;
    return 1;
}

static void grpo__string_append(grpo__string *s, const char *bytes, size_t n) {
    if (!grpo__string_reserve(s, s->length + n + 1)) return;
    memcpy(s->data + s->length, bytes, n);
    s->length += n;
    s->data[s->length] = '\0';
}
static void grpo__string_add(grpo__string *s, const char *text) { grpo__string_append(s, text, strlen(text)); }

GRPODEF int grpo_template_apply(int template_kind, const char *system_prompt, const char *text, char *buffer, size_t size) {
    switch (template_kind) {
    case GRPO_TEMPLATE_NONE: return snprintf(buffer, size, "%s", text ? text : "");
    case GRPO_TEMPLATE_R1_ZERO: return grpo_r1_zero_prompt(text, buffer, size);
    case GRPO_TEMPLATE_CHATML: return grpo_chatml_prompt(system_prompt, text, buffer, size);
    default: return -1;
    }
}

/* Frees the records from `count` on (a failed call's additions). */
static void grpo__dataset_truncate(grpo_dataset *dataset, int count) {
    for (int i = count; i < dataset->count; i++) GRPO_FREE(dataset->records[i].prompt);
    if (dataset->count > count) dataset->count = count;
}

GRPODEF void grpo_dataset_destroy(grpo_dataset *dataset) {
    if (!dataset) return;
    grpo__dataset_truncate(dataset, 0);
    GRPO_FREE(dataset->records);
    memset(dataset, 0, sizeof *dataset);
}

/* Appends a record of the given bytes; the three strings share one allocation. */
static grpo_result grpo__dataset_add(grpo_dataset *d, const char *prompt, size_t prompt_length, const char *completion,
                                     size_t completion_length, const char *answer, size_t answer_length) {
    if (d->count == INT_MAX) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "dataset: more than %d records", INT_MAX);
    if (d->count == d->capacity) {
        int capacity = d->capacity < 64 ? 64 : d->capacity > INT_MAX / 2 ? INT_MAX : 2 * d->capacity;
        size_t bytes;
        grpo_record *bigger = grpo__mul((size_t)capacity, sizeof(grpo_record), &bytes) ? (grpo_record *)GRPO_MALLOC(bytes) : NULL;
        if (!bigger) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "dataset: out of memory for %d records", capacity);
        if (d->count) memcpy(bigger, d->records, (size_t)d->count * sizeof(grpo_record));
        GRPO_FREE(d->records);
        d->records = bigger;
        d->capacity = capacity;
    }
    size_t total = prompt_length + 1 + (completion ? completion_length + 1 : 0) + (answer ? answer_length + 1 : 0);
    char *block = (char *)GRPO_MALLOC(total);
    if (!block) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "dataset: out of memory for a record of %zu bytes", total);
    grpo_record *record = &d->records[d->count];
    char *at = block;
    record->prompt = at;
    memcpy(at, prompt, prompt_length);
    at[prompt_length] = '\0';
    at += prompt_length + 1;
    record->completion = NULL;
    record->answer = NULL;
    if (completion) {
        record->completion = at;
        memcpy(at, completion, completion_length);
        at[completion_length] = '\0';
        at += completion_length + 1;
    }
    if (answer) {
        record->answer = at;
        memcpy(at, answer, answer_length);
        at[answer_length] = '\0';
    }
    d->count++;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_dataset_append(grpo_dataset *dataset, const char *prompt, const char *completion, const char *answer) {
    if (!dataset || !prompt) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_append: a dataset and a prompt are required");
    return grpo__dataset_add(dataset, prompt, strlen(prompt), completion, completion ? strlen(completion) : 0,
                             answer, answer ? strlen(answer) : 0);
}

static const char *grpo__json_type_name(grpo_json_type type) {
    switch (type) {
    case GRPO_JSON_NULL: return "null";
    case GRPO_JSON_FALSE: case GRPO_JSON_TRUE: return "a boolean";
    case GRPO_JSON_NUMBER: return "a number";
    case GRPO_JSON_STRING: return "a string";
    case GRPO_JSON_ARRAY: return "a list";
    case GRPO_JSON_OBJECT: return "an object";
    }
    return "a value";
}

/* A string field of a line: *out is NULL when it is absent or null (an error if required). */
static grpo_result grpo__dataset_string(const grpo_json *json, const grpo_json_value *v, const char *path, size_t line,
                                        const char *field, int required, const char **out) {
    *out = NULL;
    if (!v || v->type == GRPO_JSON_NULL) {
        if (required) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" is missing%s", path, line, field, v ? " (null)" : "");
        return GRPO_SUCCESS;
    }
    if (v->type != GRPO_JSON_STRING)
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" must be a string, got %s", path, line, field, grpo__json_type_name(v->type));
    const char *s = grpo_json_string(json, v);
    if (strlen(s) != v->length) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" holds a NUL character (\\u0000)", path, line, field);
    *out = s;
    return GRPO_SUCCESS;
}

/* TRL's conversational form: a list of {"role", "content"} messages. Renders them as ChatML into
   text (prompt: with the generation prompt; completion: one assistant message, its content). */
static grpo_result grpo__dataset_messages(const grpo_json *json, const grpo_json_value *list, const char *path, size_t line,
                                          const char *field, int is_prompt, const char *system_prompt, grpo__string *text) {
    if (list->count == 0) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" is an empty list of messages", path, line, field);
    if (!is_prompt && list->count != 1)
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" holds %u messages; a conversational completion must be one assistant message", path, line, field, list->count);
    const grpo_json_value *m = grpo_json_first(json, list);
    for (uint32_t i = 0; i < list->count; i++, m = grpo_json_next(json, m)) {
        const char *role = NULL, *content = NULL;
        if (m->type != GRPO_JSON_OBJECT)
            return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\"[%u] must be a {\"role\", \"content\"} message, got %s", path, line, field, i, grpo__json_type_name(m->type));
        char name[96];
        snprintf(name, sizeof name, "%.60s[%u].role", field, i);
        grpo_result r = grpo__dataset_string(json, grpo_json_get(json, m, "role"), path, line, name, 1, &role);
        snprintf(name, sizeof name, "%.60s[%u].content", field, i);
        if (!r) r = grpo__dataset_string(json, grpo_json_get(json, m, "content"), path, line, name, 1, &content);
        if (r) return r;
        if (!is_prompt) {
            if (strcmp(role, "assistant") != 0)
                return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\"[0].role is \"%.40s\"; a conversational completion must be an assistant message", path, line, field, role);
            grpo__string_add(text, content);
            return GRPO_SUCCESS;
        }
        if (i == 0 && system_prompt && strcmp(role, "system") != 0) {
            grpo__string_add(text, "<|im_start|>system\n");
            grpo__string_add(text, system_prompt);
            grpo__string_add(text, "<|im_end|>\n");
        }
        grpo__string_add(text, "<|im_start|>");
        grpo__string_add(text, role);
        grpo__string_add(text, "\n");
        grpo__string_add(text, content);
        grpo__string_add(text, "<|im_end|>\n");
    }
    grpo__string_add(text, "<|im_start|>assistant\n");
    return GRPO_SUCCESS;
}

/* One line into the dataset: GRPO_ERROR_BAD_FILE naming path:line and the field if malformed. */
static grpo_result grpo__dataset_line(grpo_dataset *d, const grpo_json *json, const char *path, size_t line,
                                      const grpo_dataset_options *o, grpo__string *prompt, grpo__string *completion) {
    const grpo_json_value *root = json->values;
    if (root->type != GRPO_JSON_OBJECT)
        return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: expected a JSON object, got %s", path, line, grpo__json_type_name(root->type));
    const grpo_json_value *p = grpo_json_get(json, root, o->prompt_field);
    const grpo_json_value *c = grpo_json_get(json, root, o->completion_field);
    const char *text = NULL, *answer = NULL;
    grpo_result r;
    prompt->length = 0;
    completion->length = 0;
    prompt->ok = completion->ok = 1;
    if (p && p->type == GRPO_JSON_ARRAY) {
        if (o->template_kind == GRPO_TEMPLATE_R1_ZERO)
            return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" is a list of messages (TRL's conversational form), rendered as ChatML; the R1-Zero template needs a string",
                              path, line, o->prompt_field);
        if ((r = grpo__dataset_messages(json, p, path, line, o->prompt_field, 1, o->system_prompt, prompt))) return r;
    } else {
        if (p && p->type != GRPO_JSON_STRING && p->type != GRPO_JSON_NULL)
            return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" must be a string or a list of messages, got %s", path, line, o->prompt_field, grpo__json_type_name(p->type));
        if ((r = grpo__dataset_string(json, p, path, line, o->prompt_field, 1, &text))) return r;
        int n = grpo_template_apply(o->template_kind, o->system_prompt, text, NULL, 0);
        if (n < 0) return grpo__fail(GRPO_ERROR_BAD_FILE, "%s:%zu: field \"%s\" is too long for the template", path, line, o->prompt_field);
        if (grpo__string_reserve(prompt, (size_t)n + 1)) {
            grpo_template_apply(o->template_kind, o->system_prompt, text, prompt->data, prompt->capacity);
            prompt->length = (size_t)n;
        }
    }
    const char *completion_text = NULL;
    if (c && c->type == GRPO_JSON_ARRAY) {
        if ((r = grpo__dataset_messages(json, c, path, line, o->completion_field, 0, NULL, completion))) return r;
    } else {
        if ((r = grpo__dataset_string(json, c, path, line, o->completion_field, o->require_completion, &completion_text))) return r;
        if (completion_text) grpo__string_add(completion, completion_text);
    }
    int has_completion = completion_text || (c && c->type == GRPO_JSON_ARRAY);
    if ((r = grpo__dataset_string(json, grpo_json_get(json, root, o->answer_field), path, line, o->answer_field, o->require_answer, &answer))) return r;
    if (!prompt->ok || !completion->ok) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "%s:%zu: out of memory", path, line);
    return grpo__dataset_add(d, prompt->data ? prompt->data : "", prompt->length, has_completion ? (completion->data ? completion->data : "") : NULL,
                             completion->length, answer, answer ? strlen(answer) : 0);
}

GRPODEF grpo_result grpo_dataset_load_jsonl(grpo_dataset *dataset, const char *path, const grpo_dataset_options *options) {
    if (!dataset || !path) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_load_jsonl: a dataset and a path are required");
    grpo_dataset_options o;
    if (options) o = *options;
    else memset(&o, 0, sizeof o);
    if (!o.prompt_field) o.prompt_field = "prompt";
    if (!o.completion_field) o.completion_field = "completion";
    if (!o.answer_field) o.answer_field = "answer";
    if (o.template_kind < GRPO_TEMPLATE_NONE || o.template_kind > GRPO_TEMPLATE_CHATML)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "dataset options: template_kind = %d is not a GRPO_TEMPLATE_*", o.template_kind);
    if (o.system_prompt && o.template_kind == GRPO_TEMPLATE_R1_ZERO)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "dataset options: system_prompt is for ChatML; the R1-Zero template has no system turn");
    if (o.limit < 0) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "dataset options: limit = %d: expected >= 0", o.limit);
    grpo_jsonl_reader reader;
    grpo_result r = grpo_jsonl_open(&reader, path);
    if (r) return r;
    int start = dataset->count, skipped = 0;
    grpo__string prompt = {NULL, 0, 0, 1}, completion = {NULL, 0, 0, 1};
    while (!o.limit || dataset->count - start < o.limit) {
        int done = 0;
        size_t line_before = reader.line;
        r = grpo_jsonl_next(&reader, &done);
        /* a line that was read whole but is not JSON may be skipped; I/O errors, memory and an
           overlong line (not consumed) may not */
        if (!r && !done) r = grpo__dataset_line(dataset, &reader.json, path, reader.line, &o, &prompt, &completion);
        if (r == GRPO_ERROR_BAD_FILE && o.skip_malformed && reader.line > line_before) {
            skipped++;
            if (o.on_malformed) o.on_malformed(o.user, grpo_last_error());
            r = GRPO_SUCCESS;
            continue;
        }
        if (r || done) break;
    }
    GRPO_FREE(prompt.data);
    GRPO_FREE(completion.data);
    grpo_jsonl_close(&reader);
    if (!r && dataset->count == start)
        r = grpo__fail(GRPO_ERROR_BAD_FILE, "%s: no records (%s)", path, skipped ? "every line was malformed and skipped" : "the file is empty");
    if (r) { grpo__dataset_truncate(dataset, start); return r; }
    dataset->skipped += skipped;
    return GRPO_SUCCESS;
}

/* Writes s as a JSON string; 0 if it is not valid UTF-8. */
static int grpo__write_json_string(FILE *f, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c >= 0x80) {
            uint32_t cp;
            int length = grpo__utf8_decode(u + i, n - i, &cp);
            if (!length) return 0;
            fwrite(u + i, 1, (size_t)length, f);
            i += (size_t)length;
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc((int)c, f);
        }
        i++;
    }
    fputc('"', f);
    return 1;
}

static int grpo__valid_utf8(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int length = grpo__utf8_decode(u + i, n - i, &cp);
        if (!length) return 0;
        i += (size_t)length;
    }
    return 1;
}

GRPODEF grpo_result grpo_dataset_save_jsonl(const grpo_dataset *dataset, const char *path) {
    if (!dataset || !path || (dataset->count > 0 && !dataset->records))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_save_jsonl: a dataset and a path are required");
    static const char *names[3] = {"prompt", "completion", "answer"};
    for (int i = 0; i < dataset->count; i++) { /* refused before the file is touched */
        const grpo_record *record = &dataset->records[i];
        const char *fields[3] = {record->prompt, record->completion, record->answer};
        if (!record->prompt) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: record %d has no prompt", path, i);
        for (int f = 0; f < 3; f++)
            if (fields[f] && !grpo__valid_utf8(fields[f]))
                return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "%s: record %d's %s is not valid UTF-8; JSON cannot hold it", path, i, names[f]);
    }
    FILE *file;
    char *temporary;
    grpo_result r = grpo__open_temporary(path, &file, &temporary);
    if (r) return r;
    int failed = 0;
    for (int i = 0; i < dataset->count && !failed; i++) {
        const grpo_record *record = &dataset->records[i];
        const char *fields[3] = {record->prompt, record->completion, record->answer};
        int first = 1;
        fputc('{', file);
        for (int f = 0; f < 3; f++) {
            if (!fields[f]) continue;
            fprintf(file, "%s\"%s\": ", first ? "" : ", ", names[f]);
            grpo__write_json_string(file, fields[f]);
            first = 0;
        }
        if (fputs("}\n", file) == EOF) failed = 1;
    }
    if (ferror(file)) failed = 1;
    if ((r = grpo__commit_file(file, temporary, path, failed))) return r;
    grpo__sync_directory(path);
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_dataset_split(const grpo_dataset *all, double eval_fraction, uint64_t seed,
                                       grpo_dataset *train, grpo_dataset *eval) {
    if (!all || !train || !eval || train == eval || train == all || eval == all)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_split: a dataset and two other, distinct datasets are required");
    if (!(eval_fraction >= 0.0 && eval_fraction < 1.0))
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_split: eval_fraction = %g: expected 0 <= eval_fraction < 1", eval_fraction);
    int n = all->count, n_eval = (int)floor(eval_fraction * n + 0.5);
    if (eval_fraction > 0.0 && n_eval == 0 && n >= 2) n_eval = 1;
    if (n_eval >= n && n > 0) n_eval = n - 1;
    unsigned char *in_eval = (unsigned char *)GRPO_MALLOC((size_t)n + 1);
    if (!in_eval) return grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "grpo_dataset_split: out of memory for %d records", n);
    memset(in_eval, 0, (size_t)n + 1);
    grpo_data_order order = grpo_data_order_create(seed, (uint64_t)n);
    for (int i = 0; i < n_eval; i++) in_eval[grpo_data_order_index(&order, (uint64_t)i)] = 1;
    int train_start = train->count, eval_start = eval->count;
    grpo_result r = GRPO_SUCCESS;
    for (int i = 0; i < n && !r; i++)
        r = grpo_dataset_append(in_eval[i] ? eval : train, all->records[i].prompt, all->records[i].completion, all->records[i].answer);
    GRPO_FREE(in_eval);
    if (r) {
        grpo__dataset_truncate(train, train_start);
        grpo__dataset_truncate(eval, eval_start);
    }
    return r;
}

GRPODEF grpo_result grpo_dataset_examples(const grpo_dataset *dataset, grpo_example *examples) {
    if (!dataset || (dataset->count > 0 && !examples)) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_examples: a dataset and an array are required");
    for (int i = 0; i < dataset->count; i++) {
        if (!dataset->records[i].answer)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "dataset record %d has no answer (RL and evaluation need one; load with require_answer = 1 to refuse such lines)", i);
        examples[i].prompt = dataset->records[i].prompt;
        examples[i].gold = dataset->records[i].answer;
    }
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_dataset_sft_examples(const grpo_dataset *dataset, grpo_sft_example *examples) {
    if (!dataset || (dataset->count > 0 && !examples)) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "grpo_dataset_sft_examples: a dataset and an array are required");
    for (int i = 0; i < dataset->count; i++) {
        if (!dataset->records[i].completion)
            return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "dataset record %d has no completion (SFT needs one; load with require_completion = 1 to refuse such lines)", i);
        examples[i].prompt = dataset->records[i].prompt;
        examples[i].completion = dataset->records[i].completion;
    }
    return GRPO_SUCCESS;
}

/* ---- SFT over a dataset */

static grpo_sft_config grpo__sft_config_resolve(const grpo_sft_config *config) {
    grpo_sft_config c;
    if (config) c = *config;
    else memset(&c, 0, sizeof c);
    c.batch_size = GRPO__DEFAULT(c.batch_size, 16);
    c.epochs = GRPO__DEFAULT(c.epochs, 1);
    c.accumulation_steps = GRPO__DEFAULT(c.accumulation_steps, 1);
    c.log_every = GRPO__DEFAULT(c.log_every, 1);
    return c;
}

GRPODEF int grpo_sft_total_steps(int n_examples, const grpo_sft_config *config) {
    grpo_sft_config c = grpo__sft_config_resolve(config);
    if (n_examples < 1 || c.batch_size < 1 || c.accumulation_steps < 1 || c.epochs < 1) return 0;
    long long per_update = (long long)c.batch_size * c.accumulation_steps;
    long long steps = (long long)c.epochs * ((n_examples + per_update - 1) / per_update);
    return steps > INT_MAX ? INT_MAX : (int)steps;
}

/* Sum of -log p and the token count over examples[first .. first + n) of a dataset's records,
   in batches of batch_size, forward only. */
static grpo_result grpo__sft_measure(grpo_model *model, const grpo_tokenizer *tok, const grpo_sft_example *examples, int n,
                                     int batch_size, int forward, const char *who, double *nll, double *tokens) {
    *nll = 0.0;
    *tokens = 0.0;
    int names[1024];
    if (batch_size > 1024) batch_size = 1024;
    for (int first = 0; first < n; first += batch_size) {
        int count = n - first < batch_size ? n - first : batch_size;
        for (int i = 0; i < count; i++) names[i] = first + i;
        grpo__sft_batch batch;
        double sum = 0.0;
        grpo_result r = grpo__sft_prepare(&batch, model, tok, examples + first, count, names, who);
        if (r) return r;
        if (forward) r = grpo__sft_forward(model, &batch, &sum);
        *nll += sum;
        *tokens += batch.tokens;
        grpo__sft_batch_free(&batch);
        if (r) return r;
    }
    return GRPO_SUCCESS;
}

/* (prompt, completion) views of a dataset's records, allocated; NULL with a message on failure. */
static grpo_sft_example *grpo__sft_view(const grpo_dataset *dataset, const char *what) {
    size_t bytes;
    grpo_sft_example *examples = grpo__mul((size_t)dataset->count, sizeof(grpo_sft_example), &bytes) ? (grpo_sft_example *)GRPO_MALLOC(bytes ? bytes : 1) : NULL;
    if (!examples) { grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "sft: out of memory for the %s set's %d examples", what, dataset->count); return NULL; }
    if (grpo_dataset_sft_examples(dataset, examples)) {
        char message[400];
        snprintf(message, sizeof message, "%.390s", grpo_last_error());
        grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft: the %s set's %s", what, message);
        GRPO_FREE(examples);
        return NULL;
    }
    return examples;
}

GRPODEF grpo_result grpo_sft_eval_loss(grpo_model *model, const grpo_tokenizer *tok, const grpo_dataset *dataset,
                                       int batch_size, double *loss, int *tokens) {
    grpo_result r = grpo__sft_check(model, NULL, tok, "sft eval loss");
    if (r) return r;
    if (!dataset || dataset->count < 1 || !loss) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft eval loss: a non-empty dataset and a loss are required");
    if (batch_size < 0) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft eval loss: batch_size = %d: expected >= 0", batch_size);
    grpo_sft_example *examples = grpo__sft_view(dataset, "eval");
    if (!examples) return GRPO_ERROR_INVALID_ARGUMENT;
    double nll, count;
    r = grpo__sft_measure(model, tok, examples, dataset->count, GRPO__DEFAULT(batch_size, 16), 1, "sft eval loss", &nll, &count);
    GRPO_FREE(examples);
    if (r) return r;
    *loss = count > 0.0 ? nll / count : 0.0;
    if (tokens) *tokens = (int)count;
    return GRPO_SUCCESS;
}

GRPODEF int grpo_sft_log_json(const grpo_sft_log *log, char *buffer, size_t size) {
    grpo__text text = {buffer, size, 0};
    if (buffer && size) buffer[0] = '\0';
    grpo__appendf(&text, "{\"step\": %d, \"epoch\": %d", log->step, log->epoch);
    grpo__json_number(&text, "loss", log->train_loss);
    grpo__json_number(&text, "eval_loss", log->eval_loss);
    grpo__appendf(&text, ", \"tokens\": %d", log->tokens);
    grpo__json_number(&text, "grad_norm", log->grad_norm);
    grpo__json_number(&text, "learning_rate", log->learning_rate);
    grpo__json_number(&text, "seconds", log->seconds);
    grpo__appendf(&text, "}");
    return text.total;
}

GRPODEF grpo_result grpo_sft_train(grpo_model *model, grpo_adamw *optimizer, const grpo_tokenizer *tok,
                                   const grpo_dataset *train, const grpo_dataset *eval, const grpo_sft_config *config,
                                   grpo_sft_log *final) {
    grpo_result r = grpo__sft_check(model, optimizer, tok, "sft");
    if (r) return r;
    if (!optimizer) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft: an optimizer is required");
    if (!train || train->count < 1) return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "sft: the training set is empty");
    grpo_sft_config c = grpo__sft_config_resolve(config);
    if (c.batch_size < 1 || c.batch_size > 1024) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: batch_size = %d: expected 1 to 1024", c.batch_size);
    if (c.epochs < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: epochs = %d: expected >= 1", c.epochs);
    if (c.accumulation_steps < 1 || c.accumulation_steps > 65536) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: accumulation_steps = %d: expected 1 to 65536", c.accumulation_steps);
    if (c.eval_every < -1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: eval_every = %d: expected -1, 0 or a number of updates", c.eval_every);
    if (c.log_every < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: log_every = %d: expected >= 1", c.log_every);
    if (eval && eval->count < 1) eval = NULL;
    int n = train->count, b = c.batch_size, k = c.accumulation_steps;
    if ((long long)c.epochs * ((n + (long long)b * k - 1) / ((long long)b * k)) > INT_MAX)
        return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "sft: epochs = %d makes more than %d updates", c.epochs, INT_MAX);
    grpo_sft_example *examples = grpo__sft_view(train, "training"), *eval_examples = NULL;
    if (!examples) return GRPO_ERROR_INVALID_ARGUMENT;
    if (eval && !(eval_examples = grpo__sft_view(eval, "eval"))) { GRPO_FREE(examples); return GRPO_ERROR_INVALID_ARGUMENT; }
    /* one encoding pass over both sets: an example that does not fit is found now, not hours in */
    double nll, count;
    r = grpo__sft_measure(model, tok, examples, n, b, 0, "sft: training set", &nll, &count);
    if (!r && eval) r = grpo__sft_measure(model, tok, eval_examples, eval->count, b, 0, "sft: eval set", &nll, &count);
    size_t scratch_bytes = (size_t)b * (sizeof(grpo_sft_example) + sizeof(int)) + (size_t)k * sizeof(grpo__sft_batch);
    grpo__sft_batch *batches = r ? NULL : (grpo__sft_batch *)GRPO_MALLOC(scratch_bytes);
    if (!r && !batches) r = grpo__fail(GRPO_ERROR_OUT_OF_MEMORY, "sft: out of memory for %d micro-batches", k);
    grpo_sft_example *micro = batches ? (grpo_sft_example *)(batches + k) : NULL;
    int *names = micro ? (int *)(micro + b) : NULL;
    if (batches) memset(batches, 0, (size_t)k * sizeof(grpo__sft_batch));

    grpo_data_order order = grpo_data_order_create(c.seed, (uint64_t)n);
    int per_update = b * k, updates_per_epoch = (n + per_update - 1) / per_update, total_updates = c.epochs * updates_per_epoch;
    double start = grpo__now(), interval_nll = 0.0, interval_tokens = 0.0;
    grpo_sft_log log;
    memset(&log, 0, sizeof log);
    log.eval_loss = NAN;
    log.train_loss = NAN;
    int step = 0;
    for (int epoch = 0; epoch < c.epochs && !r; epoch++) {
        for (int u = 0; u < updates_per_epoch && !r; u++) {
            /* the update's examples: positions [first, first + count) of this epoch's order */
            int first = u * per_update, count_update = n - first < per_update ? n - first : per_update;
            int n_micro = (count_update + b - 1) / b;
            double update_tokens = 0.0, update_nll = 0.0;
            for (int m = 0; m < n_micro && !r; m++) {
                int size = count_update - m * b < b ? count_update - m * b : b;
                for (int i = 0; i < size; i++) {
                    uint64_t index = grpo_data_order_index(&order, (uint64_t)epoch * (uint64_t)n + (uint64_t)(first + m * b + i));
                    micro[i] = examples[index];
                    names[i] = (int)index;
                }
                r = grpo__sft_prepare(&batches[m], model, tok, micro, size, names, "sft");
                if (!r) update_tokens += batches[m].tokens;
            }
            if (!r) grpo_model_zero_grad(model);
            for (int m = 0; m < n_micro && !r; m++) {
                double sum = 0.0;
                r = grpo__sft_forward(model, &batches[m], &sum);
                if (!r && !isfinite(sum))
                    r = grpo__fail(GRPO_ERROR_NON_FINITE, "sft: update %d refused: the loss of micro-batch %d is %g; weights unchanged", step + 1, m, sum);
                if (!r) r = grpo__sft_backward(model, &batches[m], update_tokens);
                update_nll += sum;
            }
            float norm = 0.0f, lr = 0.0f;
            if (!r) r = grpo_adamw_step(optimizer, model, &norm, &lr);
            for (int m = 0; m < n_micro; m++) grpo__sft_batch_free(&batches[m]);
            if (r) break;
            step++;
            interval_nll += update_nll;
            interval_tokens += update_tokens;
            int last = step == total_updates, evaluate = 0;
            if (eval) {
                if (c.eval_every > 0) evaluate = step % c.eval_every == 0;
                else if (c.eval_every == 0) evaluate = u == updates_per_epoch - 1;
                evaluate = evaluate || last;
            }
            double eval_loss = NAN;
            if (evaluate) {
                double eval_nll, eval_tokens;
                r = grpo__sft_measure(model, tok, eval_examples, eval->count, b, 1, "sft: eval set", &eval_nll, &eval_tokens);
                if (r) break;
                eval_loss = eval_tokens > 0.0 ? eval_nll / eval_tokens : 0.0;
            }
            if (step % c.log_every == 0 || evaluate || last) {
                log.step = step;
                log.epoch = epoch + 1;
                log.train_loss = interval_tokens > 0.0 ? interval_nll / interval_tokens : 0.0;
                log.eval_loss = eval_loss;
                log.tokens = (int)interval_tokens;
                log.grad_norm = norm;
                log.learning_rate = lr;
                log.seconds = grpo__now() - start;
                if (c.on_log) c.on_log(c.user, &log);
                interval_nll = interval_tokens = 0.0;
            }
        }
    }
    if (batches) for (int m = 0; m < k; m++) grpo__sft_batch_free(&batches[m]);
    GRPO_FREE(batches);
    GRPO_FREE(examples);
    GRPO_FREE(eval_examples);
    if (!r && final) *final = log;
    return r;
}

/* ---- Rejection sampling */

/* The most a reward can give, times its weight (its least if the weight is negative); NaN if unknown. */
static double grpo__reward_best(const grpo_reward *reward) {
    double weight = reward->weight == 0.0f ? 1.0 : reward->weight, low = 0.0, high = 1.0;
    switch (reward->kind) {
    case GRPO_REWARD_OVERLONG: low = -1.0, high = 0.0; break;
    case GRPO_REWARD_CALLBACK: return NAN;
    default: break;
    }
    return weight > 0.0 ? weight * high : weight * low;
}

typedef struct {
    const grpo_rejection_config *config; /* resolved */
    const grpo_example *problems;
    grpo_dataset *out;
    grpo_rejection_result result;
    float threshold;
    int first_of_problem, kept_of_problem;
    float values[GRPO_MAX_REWARDS];
} grpo__rejection_state;

static grpo_result grpo__rejection_visit(void *user, int problem, int sample, const char *text, size_t bytes, int tokens, int truncated) {
    (void)truncated;
    grpo__rejection_state *s = (grpo__rejection_state *)user;
    const grpo_example *p = &s->problems[problem];
    if (sample == 0) { s->first_of_problem = s->out->count; s->kept_of_problem = 0; s->result.prompts++; }
    s->result.sampled++;
    float reward = grpo_reward_completion(s->config->rewards, s->config->n_rewards, p->prompt, text, bytes, tokens, p->gold, s->values);
    if (!(reward >= s->threshold)) return GRPO_SUCCESS; /* NaN (every reward abstained) fails too */
    s->result.passed++;
    if (s->config->max_per_prompt > 0 && s->kept_of_problem >= s->config->max_per_prompt) return GRPO_SUCCESS;
    if (strlen(text) != bytes || !grpo__valid_utf8(text)) return GRPO_SUCCESS; /* JSON cannot hold it */
    for (int i = s->first_of_problem; i < s->out->count; i++)
        if (strcmp(s->out->records[i].completion, text) == 0) return GRPO_SUCCESS; /* a duplicate */
    grpo_result r = grpo_dataset_append(s->out, p->prompt, text, p->gold);
    if (r) return r;
    if (s->kept_of_problem++ == 0) s->result.prompts_with_any++;
    s->result.kept++;
    return GRPO_SUCCESS;
}

GRPODEF grpo_result grpo_rejection_sample(grpo_model *model, const grpo_rejection_config *config, const grpo_example *problems,
                                          int n_problems, grpo_dataset *out, grpo_rejection_result *result) {
    if (!model || !model->params_memory) return grpo__fail(GRPO_ERROR_INVALID_STATE, "rejection sampling: the model is not created");
    if (!config || !config->tokenizer || !config->tokenizer->encode || !config->tokenizer->decode)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "rejection sampling: a config with a tokenizer is required");
    if (!problems || n_problems < 1 || !out)
        return grpo__fail(GRPO_ERROR_INVALID_ARGUMENT, "rejection sampling: expected at least one problem (got %d) and an output dataset", n_problems);
    static const grpo_reward default_rewards[2] = {{GRPO_REWARD_ACCURACY, 1.0f, NULL, NULL, NULL, 0, 0},
                                                   {GRPO_REWARD_FORMAT, 1.0f, NULL, NULL, NULL, 0, 0}};
    grpo_rejection_config c = *config;
    int context = model->config.context_length;
    c.samples_per_prompt = GRPO__DEFAULT(c.samples_per_prompt, 8);
    c.max_completion_tokens = GRPO__DEFAULT(c.max_completion_tokens, context / 2 < 128 ? context / 2 : 128);
    c.prompts_per_batch = GRPO__DEFAULT(c.prompts_per_batch, 8);
    if (!c.rewards) { c.rewards = default_rewards; c.n_rewards = 2; }
    if (c.samples_per_prompt < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rejection sampling: samples_per_prompt = %d: expected >= 1", c.samples_per_prompt);
    if (c.prompts_per_batch < 1) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rejection sampling: prompts_per_batch = %d: expected >= 1", c.prompts_per_batch);
    if (c.max_per_prompt < 0) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rejection sampling: max_per_prompt = %d: expected >= 0 (0: all)", c.max_per_prompt);
    grpo_result r = grpo_reward_validate(c.rewards, c.n_rewards);
    if (r) return r;
    if (!isfinite(c.threshold)) return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rejection sampling: threshold is not finite");
    if (c.threshold == 0.0f) {
        double best = 0.0;
        for (int i = 0; i < c.n_rewards; i++) {
            double b = grpo__reward_best(&c.rewards[i]);
            if (isnan(b))
                return grpo__fail(GRPO_ERROR_INVALID_CONFIG, "rejection sampling: threshold is 0 (the default: the most the rewards can give) but rewards[%d] is a callback whose best value is unknown: set threshold", i);
            best += b;
        }
        c.threshold = (float)best;
    }
    grpo__rejection_state s;
    memset(&s, 0, sizeof s);
    s.config = &c;
    s.problems = problems;
    s.out = out;
    s.threshold = c.threshold;
    int start_count = out->count;
    double start = grpo__now();
    r = grpo__sample_problems(model, c.tokenizer, problems, n_problems, c.samples_per_prompt, c.prompts_per_batch,
                              c.max_completion_tokens, &c.sampling, "rejection sampling", grpo__rejection_visit, &s);
    if (r) { grpo__dataset_truncate(out, start_count); return r; }
    s.result.seconds = grpo__now() - start;
    if (result) *result = s.result;
    return GRPO_SUCCESS;
}

#endif /* GRPO_IMPLEMENTATION_DONE */
#endif /* GRPO_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under two licences; choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the grpo.h authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
------------------------------------------------------------------------------
*/
