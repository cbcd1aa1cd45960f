#include "engine/model.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "engine/act.h"
#include "engine/model_impl.h"
#include "engine/par.h"
#include "engine/rope.h"

#define MAX_CONFIG ((size_t)1 << 20)

int ivs_model_config_size(const ivs_model *m, const cJSON *cfg, const char *key, long dflt, size_t lo, size_t hi,
                          size_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  if ((!v || cJSON_IsNull(v)) && dflt >= 0) {
    *out = (size_t)dflt;
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
      v->valuedouble > (double)hi)
    return ivs_error_set(IVS_EINVAL, "%s: '%s' must be a whole number from %zu to %zu", m->config_path, key, lo, hi);
  *out = (size_t)v->valuedouble;
  return 0;
}

double ivs_model_config_number(const cJSON *cfg, const char *key, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const ivs_st_tensor *ivs_model_tensor(const ivs_model *m, const char *name) {
  for (size_t i = 0; i < m->nfiles; i++) {
    const ivs_st_tensor *t = ivs_st_find(&m->files[i], name);
    if (t) return t;
  }
  return NULL;
}

/* model.safetensors, or the files model.safetensors.index.json's weight_map names */
static int open_weights(ivs_model *m, const char *dir) {
  char index[4096];
  snprintf(m->weights_path, sizeof m->weights_path, "%s/model.safetensors", dir);
  snprintf(index, sizeof index, "%s/model.safetensors.index.json", dir);
  if (access(m->weights_path, F_OK) == 0 || access(index, F_OK) != 0) {
    if (!(m->files = calloc(1, sizeof *m->files))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    m->nfiles = 1;
    return ivs_st_open(&m->files[0], m->weights_path);
  }
  snprintf(m->weights_path, sizeof m->weights_path, "%s", index);
  ivs_buf text;
  int rc = ivs_file_read_all(index, MAX_CONFIG * 64, &text);
  if (rc) return rc;
  cJSON *j = cJSON_ParseWithLength(text.data, text.len);
  ivs_buf_release(&text);
  const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "weight_map"), *e;
  if (!cJSON_IsObject(map)) rc = ivs_error_set(IVS_EPARSE, "%s: no 'weight_map' object", index);
  /* the distinct shard names, each opened once */
  char **names = NULL;
  size_t n = 0;
  cJSON_ArrayForEach(e, map) {
    if (rc) break;
    if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !e->valuestring[0]) {
      rc = ivs_error_set(IVS_EPARSE, "%s: weight_map['%s'] is not a file name in the folder", index, e->string);
      break;
    }
    size_t k = 0;
    while (k < n && strcmp(names[k], e->valuestring)) k++;
    if (k < n) continue;
    char **p = realloc(names, (n + 1) * sizeof *p);
    if (!p || !(p[n] = strdup(e->valuestring))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    if (p) names = p;
    if (!rc) n++;
  }
  if (!rc && !(m->files = calloc(n ? n : 1, sizeof *m->files))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t k = 0; k < n && !rc; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    rc = ivs_st_open(&m->files[k], path);
    m->nfiles = k + 1;
  }
  /* every tensor is in the shard the map names */
  cJSON_ArrayForEach(e, map) {
    if (rc) break;
    size_t k = 0;
    while (k < n && strcmp(names[k], e->valuestring)) k++;
    if (!ivs_st_find(&m->files[k], e->string))
      rc = ivs_error_set(IVS_EPARSE, "%s: tensor '%s' is not in %s, where the index puts it", index, e->string, names[k]);
  }
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(names);
  cJSON_Delete(j);
  return rc;
}

int ivs_model_weight(ivs_model *m, const char *name, size_t ndim, const size_t *shape, int optional, const float **out) {
  const ivs_st_tensor *t = ivs_model_tensor(m, name);
  char want[64] = "", got[64] = "";
  *out = NULL;
  for (size_t k = 0, n = 0; k < ndim; k++) n += (size_t)snprintf(want + n, sizeof want - n, k ? ", %zu" : "%zu", shape[k]);
  if (!t && optional) return 0;
  if (!t) return ivs_error_set(IVS_EINVAL, "%s: no tensor '%s' (of shape [%s])", m->weights_path, name, want);
  int same = t->ndim == ndim;
  for (size_t k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
  if (!same) {
    for (size_t k = 0, n = 0; k < t->ndim && n < sizeof got; k++)
      n += (size_t)snprintf(got + n, sizeof got - n, k ? ", %llu" : "%llu", (unsigned long long)t->shape[k]);
    return ivs_error_set(IVS_EINVAL, "%s: tensor '%s' has shape [%s], the config needs [%s]", m->weights_path, name, got, want);
  }
  if (!m->dtype) m->dtype = ivs_dtype_name(t->dtype);
  m->params += t->count;
  if (m->info_only) {
    *out = t->data; /* never read as float32 */
    if (t->dtype != IVS_DTYPE_F32) m->converted += t->count * sizeof(float);
    return 0;
  }
  if (t->dtype == IVS_DTYPE_F32 && ((uintptr_t)t->data & 3) == 0) {
    *out = t->data; /* in place */
    return 0;
  }
  float *c = malloc(t->count * sizeof *c), **cs = c ? realloc(m->copies, (m->ncopies + 1) * sizeof *cs) : NULL;
  if (!cs) {
    free(c);
    return ivs_error_set(IVS_ENOMEM, "%s: out of memory converting '%s'", m->weights_path, name);
  }
  m->copies = cs;
  m->copies[m->ncopies++] = c;
  ivs_dtype_to_f32(t->dtype, t->data, c, t->count);
  m->converted += t->count * sizeof *c;
  *out = c;
  return 0;
}

/* MemAvailable of /proc/meminfo in bytes; 0 when unknown. */
static uint64_t memory_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  unsigned long long kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  if (f) fclose(f);
  return (uint64_t)kb * 1024;
}

/* The float32 copies of F16/BF16 weights must fit in memory: say so before
 * making them rather than being killed half-way. */
static int memory_check(const ivs_model *m) {
  uint64_t need = 0, have = memory_available();
  for (size_t i = 0; i < m->nfiles; i++)
    for (size_t k = 0; k < m->files[i].n; k++)
      if (m->files[i].tensors[k].dtype != IVS_DTYPE_F32) need += m->files[i].tensors[k].count * 4;
  if (have && need > have)
    return ivs_error_set(IVS_ENOMEM, "%s: the model needs %llu MB for float32 copies of its weights; %llu MB are available",
                         m->weights_path, (unsigned long long)(need >> 20), (unsigned long long)(have >> 20));
  return 0;
}

/* A config.json token id (the first of a list), or -1. */
static int32_t token_id(const cJSON *cfg, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < (double)(1 << 24) ? (int32_t)v->valuedouble : -1;
}

/* The ids of `key` (a number or a list) into m->eos; 0 when absent. */
static size_t eos_list(ivs_model *m, const cJSON *cfg, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key), *e;
  size_t n = 0;
  if (cJSON_IsNumber(v)) {
    if (v->valuedouble >= 0 && v->valuedouble < (double)(1 << 24)) m->eos[n++] = (int32_t)v->valuedouble;
  } else if (cJSON_IsArray(v))
    cJSON_ArrayForEach(e, v) if (n < sizeof m->eos / sizeof *m->eos && cJSON_IsNumber(e) && e->valuedouble >= 0 &&
                                 e->valuedouble < (double)(1 << 24)) m->eos[n++] = (int32_t)e->valuedouble;
  return n;
}

/* generation_config.json's end-of-sequence tokens, when it names them. */
static int generation_eos(ivs_model *m, const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/generation_config.json", dir);
  if (access(path, F_OK)) return 0;
  ivs_buf text;
  int rc = ivs_file_read_all(path, MAX_CONFIG, &text);
  if (rc) return rc;
  cJSON *g = cJSON_ParseWithLength(text.data, text.len);
  ivs_buf_release(&text);
  if (!cJSON_IsObject(g)) rc = ivs_error_set(IVS_EPARSE, "%s: not a JSON object", path);
  size_t n = rc ? 0 : eos_list(m, g, "eos_token_id");
  if (n) m->n_eos = n;
  cJSON_Delete(g);
  return rc;
}

static int open_model(ivs_model **out, const char *dir, int info_only) {
  *out = NULL;
  ivs_model *m = calloc(1, sizeof *m);
  if (!m) return ivs_error_set(IVS_ENOMEM, "out of memory");
  m->info_only = info_only;
  snprintf(m->config_path, sizeof m->config_path, "%s/config.json", dir);
  const char *cpath = m->config_path;
  ivs_buf text;
  cJSON *cfg = NULL;
  int rc = ivs_file_read_all(cpath, MAX_CONFIG, &text);
  if (!rc) {
    cfg = cJSON_ParseWithLength(text.data, text.len);
    ivs_buf_release(&text);
    if (!cJSON_IsObject(cfg)) rc = ivs_error_set(IVS_EPARSE, "%s: not a JSON object", cpath);
  }
  const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
  if (!rc && !cJSON_IsString(mt)) rc = ivs_error_set(IVS_EINVAL, "%s: no 'model_type'", cpath);
  if (!rc) snprintf(m->model_type, sizeof m->model_type, "%s", mt->valuestring);
  if (!rc) m->bos_id = token_id(cfg, "bos_token_id"), m->eos_id = token_id(cfg, "eos_token_id");
  if (!rc) m->n_eos = eos_list(m, cfg, "eos_token_id"), rc = generation_eos(m, dir);
  static const struct {
    const char *type;
    int (*load)(ivs_model *, const cJSON *);
  } archs[] = {{"gpt2", ivs_gpt2_load}, {"llama", ivs_llama_load}, {"qwen2", ivs_llama_load},
               {"gpt_neox", ivs_neox_load}, {"opt", ivs_opt_load}};
  int (*load)(ivs_model *, const cJSON *) = NULL;
  for (size_t k = 0; !rc && k < sizeof archs / sizeof *archs; k++)
    if (!strcmp(m->model_type, archs[k].type)) load = archs[k].load;
  if (!rc && !load)
    rc = ivs_error_set(IVS_EINVAL, "%s: 'model_type' %s is not supported (gpt2, gpt_neox, llama, qwen2, opt)", cpath,
                       mt->valuestring);
  if (!rc) rc = open_weights(m, dir);
  if (!rc && !info_only) rc = memory_check(m);
  if (!rc) rc = load(m, cfg);
  if (!rc && !m->E) m->E = m->C;
  cJSON_Delete(cfg);
  if (rc) {
    ivs_model_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

int ivs_model_open(ivs_model **out, const char *dir) { return open_model(out, dir, 0); }
int ivs_model_open_info(ivs_model **out, const char *dir) { return open_model(out, dir, 1); }

void ivs_model_free(ivs_model *m) {
  if (!m) return;
  if (m->arch_free) m->arch_free(m->arch);
  for (size_t i = 0; i < m->ncopies; i++) free(m->copies[i]);
  free(m->copies);
  for (size_t i = 0; i < m->nfiles; i++) ivs_st_close(&m->files[i]);
  free(m->files);
  free(m);
}

void ivs_model_get_info(const ivs_model *m, ivs_model_info *info) {
  memset(info, 0, sizeof *info);
  info->model_type = m->model_type;
  info->n_layer = m->L, info->n_embd = m->C, info->n_head = m->H, info->n_vocab = m->V, info->n_ctx = m->T;
  info->params = m->params;
  for (size_t i = 0; i < m->nfiles; i++) info->file_bytes += m->files[i].map_len;
  info->converted_bytes = m->converted;
  info->dtype = m->dtype;
  info->bos_id = m->bos_id, info->eos_id = m->eos_id;
  info->n_kv_head = m->KV, info->head_dim = m->hd, info->n_ff = m->F, info->tied = m->tied;
  info->kv_bytes_per_1000 = (uint64_t)2 * m->L * m->KV * m->hd * sizeof(float) * 1000;
  info->pos_offset = m->pos_offset;
  if (m->rope) {
    const ivs_rope_cfg *r = m->rope;
    info->rope_type = ivs_rope_type_name(r->type);
    info->rope_theta = r->theta, info->rope_factor = r->factor, info->rope_dims = r->rot;
    info->rope_low_freq_factor = r->low_freq_factor, info->rope_high_freq_factor = r->high_freq_factor;
    info->rope_original_max = r->original_max;
  }
  info->notes = m->notes;
}

/* ---- shared pieces of the forward passes ---- */

typedef struct {
  float *out;
  const float *x, *w, *b;
  size_t C;
  double eps;
} norm_job;

static void layernorm_rows(void *ud, size_t part, size_t lo, size_t hi) {
  const norm_job *j = ud;
  size_t C = j->C;
  (void)part;
  for (size_t t = lo; t < hi; t++) {
    const float *xt = j->x + t * C;
    double mean = 0, var = 0;
    for (size_t i = 0; i < C; i++) mean += xt[i];
    mean /= (double)C;
    for (size_t i = 0; i < C; i++) var += (xt[i] - mean) * (xt[i] - mean);
    var /= (double)C;
    float s = (float)(1.0 / sqrt(var + j->eps));
    for (size_t i = 0; i < C; i++) j->out[t * C + i] = (float)((xt[i] - mean) * s) * j->w[i] + j->b[i];
  }
}

static void rmsnorm_rows(void *ud, size_t part, size_t lo, size_t hi) {
  const norm_job *j = ud;
  size_t C = j->C;
  (void)part;
  for (size_t t = lo; t < hi; t++) {
    const float *xt = j->x + t * C;
    double ms = 0;
    for (size_t i = 0; i < C; i++) ms += (double)xt[i] * xt[i];
    float s = (float)(1.0 / sqrt(ms / (double)C + j->eps));
    for (size_t i = 0; i < C; i++) j->out[t * C + i] = j->w[i] * (xt[i] * s);
  }
}

/* rows over the engine's threads, at least 8 a thread */
void ivs_layernorm(float *out, const float *x, const float *w, const float *b, size_t T, size_t C, double eps) {
  norm_job j = {out, x, w, b, C, eps};
  ivs_par_for(T, 8, 1, layernorm_rows, &j);
}

void ivs_rmsnorm(float *out, const float *x, const float *w, size_t T, size_t C, double eps) {
  norm_job j = {out, x, w, NULL, C, eps};
  ivs_par_for(T, 8, 1, rmsnorm_rows, &j);
}

void ivs_linear(float *out, const float *in, const float *w, const float *b, size_t T, size_t K, size_t N, int out_in) {
  if (b)
    for (size_t t = 0; t < T; t++) memcpy(out + t * N, b, N * sizeof *out);
  if (T == 1) { /* one row (decoding one sequence): a product with a vector reads the weights once, unpacked */
    cblas_sgemv(CblasRowMajor, out_in ? CblasNoTrans : CblasTrans, out_in ? (int)N : (int)K, out_in ? (int)K : (int)N,
                1.0f, w, out_in ? (int)K : (int)N, in, 1, b ? 1.0f : 0.0f, out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, out_in ? CblasTrans : CblasNoTrans, (int)T, (int)N, (int)K, 1.0f, in, (int)K,
              w, out_in ? (int)K : (int)N, b ? 1.0f : 0.0f, out, (int)N);
}

static inline int visible(const ivs_row *w, size_t r, size_t k) {
  return (k >= w->a0 && k < w->a) || (k >= w->s && k <= r && !(k >= w->hole_lo && k < w->hole_hi));
}

/* The cache rows a row (or a run of rows up to cache row rmax) may see: at
 * most two spans, the columns of its scores. */
typedef struct {
  size_t start[2], count[2], nseg, cols;
} key_spans;

static void spans_of(const ivs_row *w, size_t rmax, key_spans *ks) {
  memset(ks, 0, sizeof *ks);
  size_t lo = w->a0, hi = w->a;
  if (hi > lo && hi < w->s) { /* a prefix, then its own rows */
    ks->start[0] = lo, ks->count[0] = hi - lo;
    ks->start[1] = w->s, ks->count[1] = rmax + 1 - w->s;
    ks->nseg = 2;
  } else if (hi <= lo) { /* its own rows only */
    ks->start[0] = w->s, ks->count[0] = rmax + 1 - w->s;
    ks->nseg = 1;
  } else { /* a prefix that reaches its own rows */
    size_t from = lo < w->s ? lo : w->s, to = hi > rmax + 1 ? hi : rmax + 1;
    ks->start[0] = from, ks->count[0] = to - from;
    ks->nseg = 1;
  }
  ks->cols = ks->count[0] + ks->count[1];
}

static inline size_t col_key(const key_spans *ks, size_t c) {
  return c < ks->count[0] ? ks->start[0] + c : ks->start[1] + (c - ks->count[0]);
}

/* The rows [t0, t1) of the batch (cache rows p0 + t), all of one run, in
 * blocks of BLOCK rows: a block's scores reach only the keys its last row
 * may see (a causal run computes about half of the full square). */
static void attend_run(float *out, const float *q, size_t q_stride, const float *K, const float *V, size_t width,
                       const ivs_row *rows, size_t t0, size_t t1, size_t p0, size_t H, size_t h0, size_t h1, size_t hd,
                       float *scores) {
  enum { BLOCK = 64 };
  size_t KVh = width / hd, group = H / KVh;
  float scale = 1.0f / sqrtf((float)hd);
  ivs_row plain = {0};
  const ivs_row *w0 = rows ? &rows[t0] : &plain;
  for (size_t b0 = t0; b0 < t1; b0 += BLOCK) {
    size_t b1 = b0 + BLOCK < t1 ? b0 + BLOCK : t1, n = b1 - b0;
    key_spans ks;
    spans_of(w0, p0 + b1 - 1, &ks);
    size_t S = ks.cols;
    for (size_t hh = h0; hh < h1; hh++) {
      size_t kh = hh / group;
      for (size_t g = 0, c0 = 0; g < ks.nseg; c0 += ks.count[g], g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)ks.count[g], (int)hd, scale,
                    q + b0 * q_stride + hh * hd, (int)q_stride, K + ks.start[g] * width + kh * hd, (int)width, 0.0f,
                    scores + c0, (int)S);
      for (size_t t = b0; t < b1; t++) {
        const ivs_row *w = rows ? &rows[t] : &plain;
        float *row = scores + (t - b0) * S;
        size_t r = p0 + t, n_vis = S;
        if (w->hole_lo == w->hole_hi && (ks.nseg == 2 || w->a <= w->a0)) {
          /* the row sees every column up to its own key's: the last span ends at r */
          n_vis = S - (p0 + b1 - 1 - r);
          memset(row + n_vis, 0, (S - n_vis) * sizeof *row);
        } else
          for (size_t c = 0; c < S; c++)
            if (!visible(w, r, col_key(&ks, c))) row[c] = -INFINITY;
        ivs_act_softmax(row, n_vis); /* e^-inf is 0 */
      }
      for (size_t g = 0, c0 = 0; g < ks.nseg; c0 += ks.count[g], g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)hd, (int)ks.count[g], 1.0f, scores + c0,
                    (int)S, V + ks.start[g] * width + kh * hd, (int)width, g ? 1.0f : 0.0f, out + b0 * H * hd + hh * hd,
                    (int)(H * hd));
    }
  }
}

/* a . b over n floats in 16 lanes (so that it vectorizes), then added up. */
static inline float dot(const float *a, const float *b, size_t n) {
  float lane[16] = {0};
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t j = 0; j < 16; j++) lane[j] += a[i + j] * b[i + j];
  float d = 0;
  for (; i < n; i++) d += a[i] * b[i];
  for (size_t j = 0; j < 16; j++) d += lane[j];
  return d;
}

/* A row on its own (few rows in its run), at cache row r: a loop over the
 * keys it sees. */
IVS_WIDE static void attend_row(float *out, const float *q, size_t q_stride, const float *K, const float *V, size_t width,
                                const ivs_row *w, size_t t, size_t r, size_t H, size_t h0, size_t h1, size_t hd,
                                float *sc) {
  size_t KVh = width / hd, group = H / KVh;
  float scale = 1.0f / sqrtf((float)hd);
  key_spans ks;
  spans_of(w, r, &ks);
  for (size_t hh = h0; hh < h1; hh++) {
    const float *qt = q + t * q_stride + hh * hd;
    size_t kh = hh / group;
    float mx = -INFINITY;
    for (size_t c = 0; c < ks.cols; c++) {
      size_t k = col_key(&ks, c);
      if (!visible(w, r, k)) continue;
      sc[c] = dot(qt, K + k * width + kh * hd, hd) * scale;
      if (sc[c] > mx) mx = sc[c];
    }
    float sum = 0;
    for (size_t c = 0; c < ks.cols; c++)
      if (visible(w, r, col_key(&ks, c))) sum += sc[c] = expf(sc[c] - mx);
    float *o = out + t * H * hd + hh * hd;
    memset(o, 0, hd * sizeof *o);
    for (size_t c = 0; c < ks.cols; c++) {
      size_t k = col_key(&ks, c);
      if (!visible(w, r, k)) continue;
      const float *vk = V + k * width + kh * hd;
      float p = sc[c] / sum;
      for (size_t i = 0; i < hd; i++) o[i] += p * vk[i];
    }
  }
}

/* The run of rows starting at t0: rows that see the same cache rows before
 * their own (a scattered batch: each row on its own). */
static size_t run_end(const ivs_kv *kv, size_t t0, size_t n) {
  const ivs_row *rows = kv->rows;
  if (!rows) return n;
  size_t t1 = t0 + 1;
  if (kv->scatter) return t1;
  while (t1 < n && rows[t1].a == rows[t0].a && rows[t1].a0 == rows[t0].a0 && rows[t1].s == rows[t0].s) t1++;
  return t1;
}

static size_t row_at(const ivs_kv *kv, size_t t) { return kv->scatter ? kv->rows[t].at : kv->len + t; }

enum { MIN_RUN = 16 }; /* runs of fewer rows go row by row */

typedef struct {
  float *out, *scores, *sc;
  const float *q, *K, *V;
  const ivs_kv *kv;
  size_t q_stride, n, H, hd, most, widest;
} attention_job;

/* The heads [h0, h1) of every row, with part's scratch space. */
static void attend_heads(void *ud, size_t part, size_t h0, size_t h1) {
  const attention_job *j = ud;
  const ivs_kv *kv = j->kv;
  const ivs_row *rows = kv->rows;
  ivs_row plain = {0};
  float *scores = j->scores ? j->scores + part * j->most : NULL, *sc = j->sc + part * j->widest; /* no scores: rows one by one */
  for (size_t t0 = 0, t1; t0 < j->n; t0 = t1) {
    t1 = run_end(kv, t0, j->n);
    if (t1 - t0 >= MIN_RUN)
      attend_run(j->out, j->q, j->q_stride, j->K, j->V, kv->width, rows, t0, t1, kv->len, j->H, h0, h1, j->hd, scores);
    else
      for (size_t t = t0; t < t1; t++)
        attend_row(j->out, j->q, j->q_stride, j->K, j->V, kv->width, rows ? &rows[t] : &plain, t, row_at(kv, t), j->H,
                   h0, h1, j->hd, sc);
  }
}

int ivs_attention(float *out, const float *q, size_t q_stride, const ivs_kv *kv, size_t l, size_t n, size_t H,
                  size_t hd) {
  const ivs_row *rows = kv->rows;
  ivs_row plain = {0};
  attention_job j = {.out = out, .q = q, .K = ivs_kv_keys(kv, l), .V = ivs_kv_values(kv, l), .kv = kv,
                     .q_stride = q_stride, .n = n, .H = H, .hd = hd, .widest = 1};
  for (size_t t0 = 0, t1; t0 < n; t0 = t1) {
    t1 = run_end(kv, t0, n);
    key_spans ks;
    spans_of(rows ? &rows[t0] : &plain, row_at(kv, t1 - 1), &ks);
    if (t1 - t0 >= MIN_RUN && 64 * ks.cols > j.most) j.most = 64 * ks.cols; /* attend_run's blocks */
    if (ks.cols > j.widest) j.widest = ks.cols;
  }
  size_t parts = ivs_par_threads();
  j.scores = j.most ? malloc(parts * j.most * sizeof *j.scores) : NULL, j.sc = malloc(parts * j.widest * sizeof *j.sc);
  if ((j.most && !j.scores) || !j.sc) {
    free(j.scores), free(j.sc);
    return ivs_error_set(IVS_ENOMEM, "out of memory for the attention of %zu rows", n);
  }
  ivs_par_for(H, 1, 1, attend_heads, &j); /* each head on one thread */
  free(j.scores), free(j.sc);
  return 0;
}

void ivs_rope(float *x, size_t T, const size_t *pos, size_t heads, size_t hd, size_t stride, size_t rot,
              const double *inv_freq) {
  size_t half = rot / 2;
  for (size_t i = 0; i < half; i++) {
    double inv = inv_freq[i];
    for (size_t t = 0; t < T; t++) {
      double p = (double)pos[t];
      float c = (float)cos(p * inv), s = (float)sin(p * inv);
      for (size_t h = 0; h < heads; h++) {
        float *e = x + t * stride + h * hd, u = e[i], v = e[i + half];
        e[i] = u * c - v * s;
        e[i + half] = v * c + u * s;
      }
    }
  }
}

/* ---- the cache ---- */

int ivs_kv_new_rows(ivs_kv **out, const ivs_model *m, size_t capacity) {
  *out = NULL;
  ivs_kv *kv = calloc(1, sizeof *kv);
  size_t n = m->L * capacity * m->KV * m->hd;
  if (kv) kv->k = malloc(n * sizeof *kv->k), kv->v = malloc(n * sizeof *kv->v);
  if (!kv || !kv->k || !kv->v) {
    ivs_kv_free(kv);
    return ivs_error_set(IVS_ENOMEM, "out of memory for a cache of %zu tokens (%zu MB)", capacity,
                         (size_t)(2 * n * sizeof(float) >> 20));
  }
  kv->L = m->L, kv->cap = capacity, kv->width = m->KV * m->hd;
  *out = kv;
  return 0;
}

int ivs_kv_new(ivs_kv **out, const ivs_model *m, size_t capacity) {
  *out = NULL;
  if (!capacity || capacity > m->T)
    return ivs_error_set(IVS_EINVAL, "a cache of %zu tokens: the model's context is %zu", capacity, m->T);
  return ivs_kv_new_rows(out, m, capacity);
}

void ivs_kv_positions(const ivs_kv *kv, size_t n, size_t *pos) {
  for (size_t t = 0; t < n; t++) pos[t] = kv->rows ? kv->rows[t].pos : kv->len + t;
}

void ivs_kv_free(ivs_kv *kv) {
  if (!kv) return;
  free(kv->k), free(kv->v);
  free(kv);
}

size_t ivs_kv_len(const ivs_kv *kv) { return kv->len; }

void ivs_kv_truncate(ivs_kv *kv, size_t len) {
  if (len < kv->len) kv->len = len;
}

float *ivs_kv_keys(const ivs_kv *kv, size_t l) { return kv->k + l * kv->cap * kv->width; }
float *ivs_kv_values(const ivs_kv *kv, size_t l) { return kv->v + l * kv->cap * kv->width; }

void ivs_kv_put(ivs_kv *kv, size_t l, const float *k, const float *v, size_t stride, size_t n) {
  float *K = ivs_kv_keys(kv, l), *V = ivs_kv_values(kv, l);
  for (size_t r = 0; r < n; r++) {
    size_t at = row_at(kv, r);
    memcpy(K + at * kv->width, k + r * stride, kv->width * sizeof *K);
    memcpy(V + at * kv->width, v + r * stride, kv->width * sizeof *V);
  }
}

size_t ivs_model_hidden_size(const ivs_model *m) { return m->E; }

int ivs_model_extend(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t n, float *hidden) {
  if (m->info_only) return ivs_error_set(IVS_EINVAL, "%s: opened for its description only", m->weights_path);
  if (!kv->scatter && kv->len + n > kv->cap)
    return ivs_error_set(IVS_EINVAL, "%zu tokens after %zu: the cache holds %zu (the model's context is %zu)", n, kv->len,
                         kv->cap, m->T);
  if (!kv->rows && kv->len + n > m->T)
    return ivs_error_set(IVS_EINVAL, "%zu tokens after %zu: the model's context is %zu", n, kv->len, m->T);
  for (size_t i = 0; i < n && kv->rows; i++)
    if (kv->rows[i].pos >= m->T || kv->rows[i].s > row_at(kv, i) || row_at(kv, i) >= kv->cap)
      return ivs_error_set(IVS_EINVAL, "row %zu: position %u is past the model's context (%zu)", i, kv->rows[i].pos, m->T);
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || (size_t)ids[i] >= m->V)
      return ivs_error_set(IVS_EINVAL, "token %zu: id %d is outside the vocabulary (0 to %zu)", kv->len + i, ids[i],
                           m->V - 1);
  float *h = hidden ? hidden : malloc((n ? n : 1) * m->E * sizeof *h);
  int rc = h ? m->forward(m, kv, ids, n, h) : ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!rc && !kv->scatter) kv->len += n;
  if (!hidden) free(h);
  return rc;
}

/* Element e of data in dtype dt is NaN or infinite (all exponent bits set);
 * *nan tells which. */
static int nonfinite_at(ivs_dtype dt, const unsigned char *data, uint64_t e, int *nan) {
  uint32_t exp, man, all;
  if (dt == IVS_DTYPE_F32) {
    uint32_t u;
    memcpy(&u, data + e * 4, 4);
    exp = u & 0x7f800000u, man = u & 0x7fffffu, all = 0x7f800000u;
  } else {
    uint16_t h;
    memcpy(&h, data + e * 2, 2);
    if (dt == IVS_DTYPE_F16) exp = h & 0x7c00u, man = h & 0x3ffu, all = 0x7c00u;
    else exp = h & 0x7f80u, man = h & 0x7fu, all = 0x7f80u;
  }
  *nan = man != 0;
  return exp == all;
}

/* The first weight (by file, then name) with an element that is NaN or
 * infinite, and where: NULL when every weight is finite. */
static const ivs_st_tensor *nonfinite_weight(const ivs_model *m, uint64_t *at, int *nan) {
  for (size_t i = 0; i < m->nfiles; i++)
    for (size_t k = 0; k < m->files[i].n; k++) {
      const ivs_st_tensor *t = &m->files[i].tensors[k];
      for (uint64_t e = 0; e < t->count; e++)
        if (nonfinite_at(t->dtype, t->data, e, nan)) {
          *at = e;
          return t;
        }
    }
  return NULL;
}

int ivs_model_nonfinite_error(const ivs_model *m) {
  uint64_t at = 0;
  int nan = 0;
  const ivs_st_tensor *t = nonfinite_weight(m, &at, &nan);
  if (!t) return ivs_error_set(IVS_EINVAL, "a logit is not finite (the weights are all finite: the activations overflowed)");
  uint64_t ix[IVS_ST_MAX_DIMS], rest = at; /* the element's index in each dimension */
  for (size_t k = t->ndim; k-- > 0;) ix[k] = rest % t->shape[k], rest /= t->shape[k];
  char idx[IVS_ST_MAX_DIMS * 24] = "";
  for (size_t k = 0, n = 0; k < t->ndim; k++)
    n += (size_t)snprintf(idx + n, sizeof idx - n, k ? ", %llu" : "%llu", (unsigned long long)ix[k]);
  return ivs_error_set(IVS_EINVAL, "a logit is not finite: tensor '%s' holds %s at [%s]", t->name,
                       nan ? "NaN" : "an infinity", idx);
}

static int next_from_logits(const ivs_model *m, const float *logits, int32_t next, double *lp, int32_t *argmax) {
  size_t best = 0;
  for (size_t v = 1; v < m->V; v++)
    if (logits[v] > logits[best]) best = v;
  if (argmax) *argmax = (int32_t)best;
  if (!lp) return 0;
  double mx = logits[best], sum = 0;
  for (size_t v = 0; v < m->V; v++) sum += exp((double)logits[v] - mx);
  if (!isfinite(sum) || !isfinite(mx)) return ivs_model_nonfinite_error(m);
  *lp = (double)logits[next] - mx - log(sum);
  return 0;
}

int ivs_model_next(const ivs_model *m, const float *hidden, int32_t next, float *logits, double *lp, int32_t *argmax) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->V, (int)m->E, 1.0f, m->head, (int)m->E, hidden, 1, 0.0f, logits, 1);
  return next_from_logits(m, logits, next, lp, argmax);
}

int ivs_model_score(ivs_model *m, const int32_t *ids, size_t n, size_t n_ctx, double *lp, int32_t *argmax) {
  if (n_ctx == 0 || n_ctx >= n)
    return ivs_error_set(IVS_EINVAL, "n_ctx %zu must be at least 1 and below the length %zu", n_ctx, n);
  /* without argmax the last token is only predicted: T + 1 tokens fit */
  size_t run = !argmax && n == m->T + 1 ? n - 1 : n;
  if (run > m->T) return ivs_error_set(IVS_EINVAL, "%zu tokens: the model's context is %zu", n, m->T);
  ivs_kv *kv;
  int rc = ivs_kv_new(&kv, m, run);
  if (rc) return rc;
  /* the head where a scored token is predicted (everywhere for argmax), a
   * block of positions per matrix product: the head is read once per block */
  enum { BLOCK = 64 };
  float *h = malloc(run * m->E * sizeof *h), *logits = malloc(BLOCK * m->V * sizeof *logits);
  rc = !h || !logits ? ivs_error_set(IVS_ENOMEM, "out of memory") : ivs_model_extend(m, kv, ids, run, h);
  size_t first = argmax ? 0 : n_ctx - 1;
  for (size_t b = first; b < run && !rc; b += BLOCK) {
    size_t rows = run - b < BLOCK ? run - b : BLOCK;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m->V, (int)m->E, 1.0f, h + b * m->E, (int)m->E,
                m->head, (int)m->E, 0.0f, logits, (int)m->V);
    for (size_t r = 0; r < rows && !rc; r++) {
      size_t t = b + r;
      int scored = t + 1 >= n_ctx && t + 1 < n;
      rc = next_from_logits(m, logits + r * m->V, scored ? ids[t + 1] : 0, scored ? &lp[t + 1 - n_ctx] : NULL,
                            argmax ? &argmax[t] : NULL);
      if (rc) ivs_error_prefix("position %zu", t);
    }
  }
  free(h), free(logits);
  ivs_kv_free(kv);
  return rc;
}

void ivs_model_set_threads(size_t n) {
  openblas_set_num_threads(n ? (int)n : 1);
  ivs_par_set_threads(n ? n : 1);
}
size_t ivs_model_threads(void) { return (size_t)openblas_get_num_threads(); }

const char *ivs_model_blas_core(void) {
  const char *core = openblas_get_corename();
  return core ? core : "unknown";
}

const char *ivs_model_cpu_core(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return NULL;
}

/* 3 for AVX-512 with bf16, 2 AVX-512, 1 AVX2, 0 anything else */
static int core_rank(const char *c) {
  static const char *const ranked[] = {"Haswell", "SkylakeX", "Cooperlake"};
  for (int k = 0; c && k < 3; k++)
    if (!strcasecmp(c, ranked[k])) return k + 1;
  return 0;
}

int ivs_model_blas_narrower(void) { return core_rank(ivs_model_blas_core()) < core_rank(ivs_model_cpu_core()); }

const char *ivs_model_blas_core_hint(void) {
  return strcasecmp(ivs_model_blas_core(), "prescott") ? NULL : ivs_model_cpu_core(); /* NULL: OpenBLAS knew the CPU */
}
