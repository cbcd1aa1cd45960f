#include "engine/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

const char *ivs_dtype_name(ivs_dtype d) { return d == IVS_DTYPE_F32 ? "F32" : d == IVS_DTYPE_F16 ? "F16" : "BF16"; }

static size_t dtype_size(ivs_dtype d) { return d == IVS_DTYPE_F32 ? 4 : 2; }

static int by_name(const void *a, const void *b) {
  return strcmp(((const ivs_st_tensor *)a)->name, ((const ivs_st_tensor *)b)->name);
}

static int by_begin(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)(*(const ivs_st_tensor *const *)a)->data, y = (uintptr_t)(*(const ivs_st_tensor *const *)b)->data;
  return x < y ? -1 : x > y;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int whole(const cJSON *v, uint64_t *out) {
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
      v->valuedouble != (double)(uint64_t)v->valuedouble)
    return 0;
  *out = (uint64_t)v->valuedouble;
  return 1;
}

static int read_tensor(ivs_st_file *f, const cJSON *e, const unsigned char *data, uint64_t data_len, ivs_st_tensor *t) {
  const char *name = e->string;
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype"), *shape = cJSON_GetObjectItemCaseSensitive(e, "shape"),
              *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
  if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(off))
    return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': needs dtype, shape and data_offsets", f->path, name);
  if (!strcmp(dt->valuestring, "F32")) t->dtype = IVS_DTYPE_F32;
  else if (!strcmp(dt->valuestring, "F16")) t->dtype = IVS_DTYPE_F16;
  else if (!strcmp(dt->valuestring, "BF16")) t->dtype = IVS_DTYPE_BF16;
  else
    return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': dtype %.16s is not supported (F32, F16 or BF16)", f->path, name,
                         dt->valuestring);
  int nd = cJSON_GetArraySize(shape);
  if (nd > IVS_ST_MAX_DIMS) return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': %d dimensions", f->path, name, nd);
  t->ndim = (size_t)nd;
  t->count = 1;
  for (int k = 0; k < nd; k++) {
    if (!whole(cJSON_GetArrayItem(shape, k), &t->shape[k]))
      return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': shape[%d] is not a whole number", f->path, name, k);
    if (t->shape[k] && t->count > UINT64_MAX / 8 / t->shape[k])
      return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': its shape is too large", f->path, name);
    t->count *= t->shape[k];
  }
  uint64_t b, end;
  if (cJSON_GetArraySize(off) != 2 || !whole(cJSON_GetArrayItem(off, 0), &b) || !whole(cJSON_GetArrayItem(off, 1), &end) ||
      end < b)
    return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': data_offsets must be [begin, end]", f->path, name);
  if (end > data_len)
    return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': data_offsets [%llu, %llu] past the end of the data (%llu bytes)",
                         f->path, name, (unsigned long long)b, (unsigned long long)end, (unsigned long long)data_len);
  t->bytes = end - b;
  if (t->bytes != t->count * dtype_size(t->dtype))
    return ivs_error_set(IVS_EPARSE, "%s: tensor '%s': %llu bytes for %llu %s values", f->path, name,
                         (unsigned long long)t->bytes, (unsigned long long)t->count, ivs_dtype_name(t->dtype));
  t->data = data + b;
  if (!(t->name = strdup(name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  return 0;
}

static int parse(ivs_st_file *f);

int ivs_st_open(ivs_st_file *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->map = MAP_FAILED;
  if (!(f->path = strdup(path))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ivs_error_set(IVS_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return ivs_error_set(IVS_EIO, "%s: not a regular file", path);
  }
  if (sb.st_size < 8) {
    close(fd);
    return ivs_error_set(IVS_EPARSE, "%s: %lld bytes: too short for a safetensors file", path, (long long)sb.st_size);
  }
  f->map_len = (size_t)sb.st_size;
  f->map = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (f->map == MAP_FAILED) return ivs_error_set(IVS_EIO, "%s: cannot map: %s", path, strerror(errno));
  f->owns_map = 1;
  return parse(f);
}

int ivs_st_read_mem(ivs_st_file *f, const char *name, const void *data, size_t len) {
  memset(f, 0, sizeof *f);
  if (!(f->path = strdup(name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (len < 8) return ivs_error_set(IVS_EPARSE, "%s: %zu bytes: too short for a safetensors file", name, len);
  f->map = (void *)data, f->map_len = len;
  return parse(f);
}

static int parse(ivs_st_file *f) {
  const char *path = f->path;
  const unsigned char *p = f->map;
  uint64_t hlen = 0;
  for (int k = 7; k >= 0; k--) hlen = hlen << 8 | p[k];
  if (hlen > IVS_ST_MAX_HEADER)
    return ivs_error_set(IVS_ELIMIT, "%s: a header of %llu bytes (the limit is %llu)", path, (unsigned long long)hlen,
                         (unsigned long long)IVS_ST_MAX_HEADER);
  if (hlen > f->map_len - 8)
    return ivs_error_set(IVS_EPARSE, "%s: the header says %llu bytes but the file has %zu after it (truncated?)", path,
                         (unsigned long long)hlen, f->map_len - 8);
  cJSON *h = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
  if (!cJSON_IsObject(h)) {
    cJSON_Delete(h);
    return ivs_error_set(IVS_EPARSE, "%s: the header is not a JSON object", path);
  }
  const unsigned char *data = p + 8 + hlen;
  uint64_t data_len = f->map_len - 8 - hlen;
  int rc = 0, n = cJSON_GetArraySize(h);
  if (!(f->tensors = calloc((size_t)n + 1, sizeof *f->tensors))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  const cJSON *e;
  cJSON_ArrayForEach(e, h) {
    if (rc) break;
    if (!strcmp(e->string, "__metadata__")) continue;
    rc = read_tensor(f, e, data, data_len, &f->tensors[f->n]);
    if (!rc) f->n++;
  }
  cJSON_Delete(h);
  if (rc) return rc;
  qsort(f->tensors, f->n, sizeof *f->tensors, by_name);
  for (size_t i = 1; i < f->n; i++)
    if (!strcmp(f->tensors[i].name, f->tensors[i - 1].name))
      return ivs_error_set(IVS_EPARSE, "%s: tensor '%s' appears twice", path, f->tensors[i].name);
  /* spans may not overlap: sorted by start, each ends before the next begins */
  const ivs_st_tensor **order = malloc((f->n ? f->n : 1) * sizeof *order);
  if (!order) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < f->n; i++) order[i] = &f->tensors[i];
  qsort(order, f->n, sizeof *order, by_begin);
  for (size_t i = 1; i < f->n && !rc; i++)
    if ((const unsigned char *)order[i - 1]->data + order[i - 1]->bytes > (const unsigned char *)order[i]->data)
      rc = ivs_error_set(IVS_EPARSE, "%s: tensors '%s' and '%s' overlap", path, order[i - 1]->name, order[i]->name);
  free(order);
  return rc;
}

void ivs_st_close(ivs_st_file *f) {
  for (size_t i = 0; i < f->n; i++) free(f->tensors[i].name);
  free(f->tensors);
  if (f->owns_map && f->map && f->map != MAP_FAILED) munmap(f->map, f->map_len);
  free(f->path);
  memset(f, 0, sizeof *f);
}

const ivs_st_tensor *ivs_st_find(const ivs_st_file *f, const char *name) {
  size_t lo = 0, hi = f->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(f->tensors[mid].name, name);
    if (!c) return &f->tensors[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (exp == 0x1F) bits = sign | 0x7F800000 | man << 13; /* inf, nan */
  else if (exp) bits = sign | (exp + 112) << 23 | man << 13;
  else if (!man) bits = sign;
  else { /* subnormal: normalise */
    int e = -1;
    do man <<= 1, e++;
    while (!(man & 0x400));
    bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3FF) << 13;
  }
  float x;
  memcpy(&x, &bits, 4);
  return x;
}

void ivs_dtype_to_f32(ivs_dtype d, const void *src, float *dst, uint64_t count) {
  const unsigned char *s = src;
  if (d == IVS_DTYPE_F32) {
    memcpy(dst, src, count * 4);
    return;
  }
  for (uint64_t i = 0; i < count; i++) {
    uint16_t h = (uint16_t)(s[2 * i] | s[2 * i + 1] << 8);
    if (d == IVS_DTYPE_F16) {
      dst[i] = f16_to_f32(h);
    } else {
      uint32_t bits = (uint32_t)h << 16;
      memcpy(&dst[i], &bits, 4);
    }
  }
}
