/* The paths the allocation-failure test runs (see alloc_fail.c). */
#ifndef IVS_ALLOC_PATHS_H
#define IVS_ALLOC_PATHS_H

#include "core/error.h"
#include "invscale/core.h"

typedef struct alloc_path {
  const char *name;
  int (*setup)(const char *dir, void **state); /* with allocations not failing */
  int (*reset)(void *state);                   /* before each run; NULL: none */
  int (*run)(void *state);                     /* the path: 0 or a negative IVS_E* code */
  int (*check)(void *state, int rc);           /* after a failed run: nonzero when something changed */
  void (*teardown)(void *state);
} alloc_path;

/* What run() returns when it succeeded with a wrong result (the message
 * says what): a failure of the test, not an error the library returned. */
#define ALLOC_WRONG 1
#define wrong(...) (ivs_error_set(IVS_ERROR, __VA_ARGS__), ALLOC_WRONG)

/* Test helpers: 0, or -1 when the file cannot be written (copied). */
int alloc_write_file(const char *path, const char *text);
int alloc_copy_file(const char *from, const char *to);
/* Removes the -wal, -shm and -journal files beside a store. */
void remove_store_sidecars(const char *db);

/* Stops failing allocations for the rest of the run (its own checks). */
void alloc_pause(void);

/* 1 when a temporary file (".tmp" in its name) is left in dir. */
int alloc_tmp_left(const char *dir);
/* The n files dir/names[k] as the reference run wrote them: the first call
 * keeps them in ref[k] (n entries, NULL at first), later ones compare;
 * ALLOC_WRONG (via wrong) naming `what` and the file otherwise. */
int alloc_same_files(const char *what, const char *dir, const char *const *names, size_t n, char **ref);

#define ALLOC_PATH(n) extern const alloc_path alloc_path_##n;
ALLOC_PATH(import)
ALLOC_PATH(validate)
ALLOC_PATH(eval)
ALLOC_PATH(agreement)
ALLOC_PATH(crowd)
ALLOC_PATH(probe)
ALLOC_PATH(serve)
#undef ALLOC_PATH

#define ALLOC_PATHS {&alloc_path_import, &alloc_path_validate, &alloc_path_eval, &alloc_path_agreement, &alloc_path_crowd, &alloc_path_probe, &alloc_path_serve}

#endif
