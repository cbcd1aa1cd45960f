/* Allocation-failure test, in the style of SQLite's and curl's: for small
 * inputs, each path is run again and again with the n-th allocation failing,
 * for n = 1, 2, ... until a run makes fewer than n allocations.  Every failing
 * run must return an error code with a message (never crash, never report
 * success), and the store must be exactly as it was; run under ASan, every
 * run must also free everything (LeakSanitizer reports at exit).
 *
 * Allocations counted: invscale's own (malloc, calloc, realloc, strdup and
 * strndup are wrapped at link time, -Wl,--wrap), cJSON's (through the
 * library's hooks, which call the wrapped malloc), SQLite's
 * (SQLITE_CONFIG_MALLOC) and libxml2's (xmlMemSetup).
 *
 * Usage: alloc_fail [PATH...]   (paths: import, validate, more as listed) */
#include <dirent.h>
#include <errno.h>
#include <libxml/xmlmemory.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_paths.h"
#include "core/fileio.h"

/* ---- the counting allocator ---- */

static atomic_long allocs, fail_at; /* fail_at 0: never */
static atomic_int failed;

static int should_fail(void) {
  long n = atomic_fetch_add(&allocs, 1) + 1;
  long f = atomic_load(&fail_at);
  if (f && n == f) {
    atomic_store(&failed, 1);
    return 1;
  }
  return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return should_fail() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return n && should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }

/* SQLite's: a size header in front of each block, as its xSize needs */
static void *sq_malloc(int n) {
  if (should_fail()) return NULL;
  long long *p = __real_malloc((size_t)n + 16);
  if (!p) return NULL;
  p[0] = n;
  return p + 2;
}
static void sq_free(void *p) {
  if (p) free((long long *)p - 2);
}
static int sq_size(void *p) { return p ? (int)((long long *)p - 2)[0] : 0; }
static void *sq_realloc(void *p, int n) {
  if (!p) return sq_malloc(n);
  if (should_fail()) return NULL;
  long long *q = __real_realloc((long long *)p - 2, (size_t)n + 16);
  if (!q) return NULL;
  q[0] = n;
  return q + 2;
}
static int sq_roundup(int n) { return (n + 7) & ~7; }
static int sq_init(void *ud) { return (void)ud, 0; }
static void sq_shutdown(void *ud) { (void)ud; }

static void *xml_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
static void *xml_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
static char *xml_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }

int alloc_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

int alloc_copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  char buf[65536];
  size_t n;
  int rc = a && b ? 0 : -1;
  while (!rc && (n = fread(buf, 1, sizeof buf, a)) > 0)
    if (fwrite(buf, 1, n, b) != n) rc = -1;
  if (a) fclose(a);
  if (b && fclose(b)) rc = -1;
  return rc;
}

void remove_store_sidecars(const char *db) {
  static const char *const ext[] = {"-wal", "-shm", "-journal"};
  char p[1024];
  for (int k = 0; k < 3; k++) snprintf(p, sizeof p, "%s%s", db, ext[k]), remove(p);
}

void alloc_pause(void) { atomic_store(&fail_at, 0); }

int alloc_tmp_left(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int left = 0;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp")) left = 1;
  closedir(d);
  return left;
}

int alloc_same_files(const char *what, const char *dir, const char *const *names, size_t n, char **ref) {
  for (size_t k = 0; k < n; k++) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, names[k]);
    ivs_buf b;
    if (ivs_file_read_all(p, 1 << 20, &b)) {
      ivs_buf_release(&b);
      return wrong("%s: cannot read %s after success", what, names[k]);
    }
    char *text = ivs_buf_detach(&b, NULL);
    int differs = ref[k] && strcmp(ref[k], text);
    if (!ref[k]) ref[k] = text, text = NULL;
    free(text);
    if (differs) return wrong("%s: %s differs from the reference run's", what, names[k]);
  }
  return 0;
}

/* ---- the driver ---- */

static const alloc_path *const paths[] = ALLOC_PATHS;

int main(int argc, char **argv) {
  static const sqlite3_mem_methods mem = {sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL};
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK || sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
    fprintf(stderr, "alloc_fail: cannot set SQLite's allocator\n");
    return 1;
  }
  xmlMemSetup(free, xml_malloc, xml_realloc, xml_strdup);
  char dir[] = "/tmp/ivs_alloc_fail.XXXXXX";
  if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  int bad = 0, ran = 0, passed = 0;
  for (size_t k = 0; k < sizeof paths / sizeof *paths; k++) {
    int wanted = argc < 2;
    for (int a = 1; a < argc; a++) wanted |= !strcmp(argv[a], paths[k]->name);
    if (!wanted) continue;
    ran++;
    void *state = NULL;
    if (paths[k]->setup(dir, &state)) {
      fprintf(stderr, "%s: setup failed: %s\n", paths[k]->name, ivs_error_message());
      bad++;
      continue;
    }
    long total = 0, failures = 0;
    int bad_before = bad;
    for (long n = 1;; n++) {
      if (paths[k]->reset && paths[k]->reset(state)) {
        fprintf(stderr, "%s: reset failed before run %ld\n", paths[k]->name, n);
        bad++;
        break;
      }
      atomic_store(&allocs, 0), atomic_store(&failed, 0), atomic_store(&fail_at, n);
      ivs_error_clear();
      int rc = paths[k]->run(state);
      atomic_store(&fail_at, 0);
      int hit = atomic_load(&failed);
      if (!hit) { /* the run made fewer than n allocations: done */
        total = n - 1;
        if (rc) {
          fprintf(stderr, "%s: %s without an allocation failure: %s\n", paths[k]->name,
                  rc == ALLOC_WRONG ? "a wrong result" : "fails", ivs_error_message());
          bad++;
        }
        break;
      }
      /* A failed allocation may be one the code can do without (a cache, a
       * size hint, SQLite's benign failures): then the run must succeed with
       * the full result, which run() and check() verify. */
      failures += rc < 0;
      if (rc > 0 && rc != ALLOC_WRONG) rc = -1000; /* a positive code from the library: flagged below */
      const char *why = NULL;
      if (rc == ALLOC_WRONG) why = "succeeded with a wrong result";
      else if (rc == -1000) why = "returned a positive code";
      else if (rc < 0 && !ivs_error_message()[0]) why = "no message";
      else if (paths[k]->check && paths[k]->check(state, rc))
        why = rc ? "failed but left the store changed" : "succeeded but the store is not as it should be";
      if (why) {
        fprintf(stderr, "%s: allocation %ld failing: %s (rc %d, '%s')\n", paths[k]->name, n, why, rc, ivs_error_message());
        if (++bad > 20) break;
      }
      if (n > 2000000) {
        fprintf(stderr, "%s: more than 2,000,000 allocations\n", paths[k]->name);
        bad++;
        break;
      }
    }
    printf("%-10s %ld allocations, each failed in turn: %ld runs returned an error, %ld did without it and got the full result%s\n", paths[k]->name,
           total, failures, total - failures, bad > bad_before ? " -- FAILED" : "");
    passed += bad == bad_before;
    if (paths[k]->teardown) paths[k]->teardown(state);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "alloc_fail: could not remove %s\n", dir);
  if (!ran) fprintf(stderr, "alloc_fail: no such path\n");
  printf("%d passed, %d failed\n", passed, ran - passed);
  return bad || !ran;
}
