#include "core/json_arena.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define ARENA_MIN ((size_t)64 << 10)
#define ARENA_MAX ((size_t)16 << 20)

static _Thread_local struct {
  char *base;
  size_t used, cap;
  int active;
  int overflowed; /* malloc was needed: grow before the next line */
  int oom;        /* an allocation failed since ivs_json_oom_reset */
} arena;

static void *arena_malloc(size_t n) {
  if (arena.active) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need >= n && need <= arena.cap - arena.used) {
      void *p = arena.base + arena.used;
      arena.used += need;
      return p;
    }
    arena.overflowed = 1;
  }
  void *p = malloc(n);
  if (!p) arena.oom = 1;
  return p;
}

static void arena_free(void *p) {
  if (arena.base && (uintptr_t)p >= (uintptr_t)arena.base && (uintptr_t)p < (uintptr_t)arena.base + arena.cap)
    return; /* dropped with the arena */
  free(p);
}

static void install(void) {
  cJSON_Hooks h = {arena_malloc, arena_free};
  cJSON_InitHooks(&h);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

void ivs_json_oom_reset(void) {
  pthread_once(&once, install);
  arena.oom = 0;
}

int ivs_json_oom(void) { return arena.oom; }

void ivs_json_arena_begin(void) {
  pthread_once(&once, install);
  if (!arena.base || (arena.overflowed && arena.cap < ARENA_MAX)) {
    size_t cap = arena.base ? arena.cap * 4 : ARENA_MIN;
    char *p = malloc(cap < ARENA_MAX ? cap : ARENA_MAX);
    if (p) {
      free(arena.base);
      arena.base = p;
      arena.cap = cap < ARENA_MAX ? cap : ARENA_MAX;
    }
  }
  arena.overflowed = 0;
  arena.used = 0;
  arena.active = arena.base != NULL;
}

void ivs_json_arena_end(void) {
  arena.active = 0;
  arena.used = 0;
}

void ivs_json_arena_release(void) {
  free(arena.base);
  arena.base = NULL;
  arena.cap = arena.used = 0;
  arena.active = arena.overflowed = 0;
}
