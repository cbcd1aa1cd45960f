/* safetensors files (the Hugging Face weight format), read with mmap.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}), then the data.  Everything in the header is
 * checked before a tensor is handed out: the header fits the file and is at
 * most IVS_ST_MAX_HEADER bytes, every dtype is F32, F16 or BF16, shape x
 * dtype size equals the span, spans lie inside the data, do not overlap and
 * are unique by name.  A problem is IVS_EPARSE naming the file and tensor. */
#ifndef IVS_ENGINE_SAFETENSORS_H
#define IVS_ENGINE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define IVS_ST_MAX_HEADER ((uint64_t)100 << 20)
#define IVS_ST_MAX_DIMS 8

typedef enum { IVS_DTYPE_F32, IVS_DTYPE_F16, IVS_DTYPE_BF16 } ivs_dtype;

typedef struct ivs_st_tensor {
  char *name;                 /* owned by the file */
  ivs_dtype dtype;
  size_t ndim;
  uint64_t shape[IVS_ST_MAX_DIMS];
  uint64_t count;             /* elements */
  const void *data;           /* into the mapping: valid while the file is open */
  uint64_t bytes;
} ivs_st_tensor;

typedef struct ivs_st_file {
  char *path;                 /* owned */
  void *map;
  size_t map_len;
  int owns_map;               /* the mapping is ours (ivs_st_open) */
  ivs_st_tensor *tensors;     /* owned, sorted by name */
  size_t n;
} ivs_st_file;

/* Maps and checks `path`; *f is initialised by the callee (release it with
 * ivs_st_close, also after a failure).  IVS_EIO for a file that cannot be
 * read, IVS_EPARSE for a malformed one, IVS_ELIMIT for a header over the limit. */
int ivs_st_open(ivs_st_file *f, const char *path);
void ivs_st_close(ivs_st_file *f);
/* The same checks on a file already in memory (borrowed: it must outlive f);
 * `name` is used in messages.  For tests and fuzzing. */
int ivs_st_read_mem(ivs_st_file *f, const char *name, const void *data, size_t len);

/* The tensor of that name, or NULL.  Borrowed from f. */
const ivs_st_tensor *ivs_st_find(const ivs_st_file *f, const char *name);

/* "F32", "F16", "BF16". */
const char *ivs_dtype_name(ivs_dtype d);

/* Converts count elements of dtype at src to float32 at dst (exact for F16 and
 * BF16, which every float32 holds). */
void ivs_dtype_to_f32(ivs_dtype d, const void *src, float *dst, uint64_t count);

#endif
