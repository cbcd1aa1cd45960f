/* A per-thread bump arena for cJSON's allocations while one JSON line is
 * parsed, inspected and deleted.  Parsing a prize record makes about sixteen
 * small allocations; with the arena they cost a pointer increment and the
 * whole tree is dropped at once.
 *
 * ivs_json_arena_begin() installs cJSON hooks (once per process) and starts
 * an arena on this thread; until ivs_json_arena_end(), cJSON allocations on
 * this thread come from it (falling back to malloc when it is full).
 * Everything cJSON allocated in between must be deleted or no longer used
 * before ivs_json_arena_end(): the arena's memory is reused by the next
 * line.  Other threads, and this one outside begin/end, use malloc.
 * ivs_json_arena_release() frees this thread's arena. */
#ifndef IVS_CORE_JSON_ARENA_H
#define IVS_CORE_JSON_ARENA_H

void ivs_json_arena_begin(void);
void ivs_json_arena_end(void);
void ivs_json_arena_release(void);

/* cJSON gives NULL both for invalid JSON and when memory runs out.  After
 * ivs_json_oom_reset() (which installs the hooks), ivs_json_oom() tells
 * whether one of cJSON's allocations on this thread failed since. */
void ivs_json_oom_reset(void);
int ivs_json_oom(void);

#endif
