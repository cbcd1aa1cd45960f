/* invscale: annotation work in a store, as the annotation server
 * (invscale/serve.h) does it: links (tokens) for the annotators of a batch
 * and its lead, items handed out under a lease, submits made idempotent by a
 * client-made id, skips and flags, guideline versions, progress and the
 * lead's summary.  The tables are those of schema version 6
 * (schemas/store.sql).
 *
 * Errors as in invscale/label.h: IVS_OK or a negative IVS_E*, the detail in
 * ivs_error_message().  IVS_EINVAL: refused by the data (an unknown or
 * revoked token, an item not handed out to this annotator, a label outside
 * the item's classes, an item whose K judgments are made); IVS_ESTORE:
 * SQLite failed.
 *
 * Transactions.  The ivs_link_* calls run in their own transaction when none
 * is open, else in the caller's.  The ivs_work_* calls that write (next,
 * submit, undo) must run inside the caller's transaction (ivs_store_begin):
 * the server groups the requests of a moment into one commit.  A refused
 * ivs_work_submit leaves nothing behind (it rolls back to its own
 * savepoint).
 *
 * Strings passed in are read during the call only; strings handed to a
 * callback are borrowed for that call.
 */
#ifndef INVSCALE_LABEL_WORK_H
#define INVSCALE_LABEL_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/core.h"
#include "invscale/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tokens ---- */

/* A token: 32 random bytes (getrandom) in base64url, 43 characters. */
#define IVS_TOKEN_LEN 43
/* Fills tok (IVS_TOKEN_LEN + 1 bytes, NUL-terminated); IVS_EIO when the
 * system's random source fails. */
int ivs_token_make(char tok[IVS_TOKEN_LEN + 1]);
/* The SHA-256 of the n bytes at s as 64 lower-case hex digits and a NUL. */
void ivs_token_hash(const char *s, size_t n, char hex[65]);

/* ---- links ---- */

/* Who a token speaks for. */
typedef struct ivs_work_who {
  int64_t link_id;
  int64_t batch_id;
  int64_t annotator_id; /* 0: the batch's lead */
  int per_item;         /* the batch's K */
  char batch[128];      /* the batch's name (truncated past 127 bytes) */
  char annotator[128];  /* the annotator's name; "" for the lead */
} ivs_work_who;

/* Makes a new link for `annotator` (NULL: the lead) in `batch`: a new token,
 * of which only the hash is stored, written to tok; the annotator's (or
 * lead's) live link, if any, is revoked.  An annotator not registered yet is
 * registered under that name.  IVS_EINVAL for an unknown batch. */
int ivs_link_new(ivs_store *st, const char *batch, const char *annotator, char tok[IVS_TOKEN_LEN + 1]);
/* Revokes the live link of `annotator` (NULL: the lead) in `batch`.
 * IVS_EINVAL for an unknown batch or when there is no live link. */
int ivs_link_revoke(ivs_store *st, const char *batch, const char *annotator);

/* One row of ivs_link_list.  annotator: NULL for the lead; created and
 * revoked: NULL when there is no link / it is live. */
typedef struct ivs_link_info {
  const char *annotator;
  const char *created, *revoked;
  int assigned; /* named in the batch's assignments */
} ivs_link_info;
typedef int (*ivs_link_fn)(const ivs_link_info *l, void *ud);
/* The lead first, then every annotator named in the batch or holding a link
 * to it, in name order: the live link, else the last revoked one, else none.
 * fn's nonzero value stops and is returned.  IVS_EINVAL for an unknown
 * batch. */
int ivs_link_list(ivs_store *st, const char *batch, ivs_link_fn fn, void *ud);

/* Finds the live link of the n bytes `token`: IVS_OK and *who filled, or
 * IVS_EINVAL ("unknown or revoked token"). */
int ivs_link_resolve(ivs_store *st, const char *token, size_t n, ivs_work_who *who);

/* ---- guidelines ---- */

/* Stores `text` as a guideline version unless the same text is stored;
 * *version is its id either way. */
int ivs_guidelines_put(ivs_store *st, const char *text, int64_t *version);
/* The guidelines made of the datasheet fields (meta "guidelines", else
 * "description", "correct_behaviour" and "label_expertise" under their
 * headings): *text is malloc'd (the caller frees it), "" when none is set. */
int ivs_guidelines_from_meta(ivs_store *st, char **text);

/* ---- the work of one annotator ---- */

/* Prepared statements kept for a server's life, on one store.  Opening one
 * sets the connection's synchronous mode to FULL: a commit is on disk when it
 * returns. */
typedef struct ivs_work ivs_work;
/* *out owned by the caller (ivs_work_free). */
int ivs_work_open(ivs_store *st, ivs_work **out);
void ivs_work_free(ivs_work *w); /* accepts NULL */
/* Resets every statement of the store's connection that is still stepping
 * (cached ones left on a row), so that no read snapshot outlives a
 * transaction: call it between transactions. */
void ivs_work_idle(ivs_work *w);
/* 1 while a transaction is open on the store's connection (SQLite may roll
 * one back by itself after an error such as a full disk), else 0. */
int ivs_work_in_transaction(ivs_work *w);
/* SQLite's data_version of the connection: it changes when another
 * connection commits to the store. */
int ivs_work_data_version(ivs_work *w, int64_t *v);

/* An item handed out.  classes_json: the classes in the order shown (JSON
 * array); label: the annotator's current judgment (NULL: none yet). */
typedef struct ivs_work_item {
  int64_t item;
  const char *prompt;
  const char *classes_json;
  const char *label;
  double lease_expires; /* Unix seconds */
} ivs_work_item;
typedef int (*ivs_work_item_fn)(const ivs_work_item *it, void *ud);

typedef struct ivs_next_opts {
  size_t count;          /* items wanted (the current one and those loaded ahead) */
  double lease_seconds;  /* how long an item stays the annotator's */
  int shuffle_classes;   /* show each item's classes in an order drawn for the annotator (stored) */
  double now;            /* Unix seconds */
} ivs_next_opts;
#define IVS_NEXT_OPTS_INIT {2, 600, 0, 0}

/* Hands out up to o->count items to who's annotator (not the lead:
 * IVS_EUSAGE) and leases them until now + lease_seconds: first the items the
 * annotator holds a live lease on, then items with some judgments but fewer
 * than K, then the rest in batch order.  An item goes to an annotator when
 * one of its K slots is theirs, or is open and not leased to someone else;
 * never to one who judged or skipped it.  fn gets each item.  Inside the
 * caller's transaction. */
int ivs_work_next(ivs_work *w, const ivs_work_who *who, const ivs_next_opts *o, ivs_work_item_fn fn, void *ud);

typedef enum { IVS_SUBMIT_JUDGMENT, IVS_SUBMIT_SKIP, IVS_SUBMIT_FLAG } ivs_submit_kind;
/* One submit.  client_id: made by the client, unique per annotator and
 * batch (1 to 64 bytes); note: flags (may be NULL); guideline: the version
 * shown (0: none). */
typedef struct ivs_work_submit {
  const char *client_id;
  ivs_submit_kind kind;
  int64_t item;
  const char *label;
  double seconds; /* < 0: not measured */
  const char *note;
  int64_t guideline;
} ivs_work_submit;

/* What ivs_work_submit did. */
typedef enum {
  IVS_SUBMITTED_STORED,  /* a new judgment, skip or flag */
  IVS_SUBMITTED_REVISED, /* the annotator's judgment of the item replaced (the old one in judgment_history) */
  IVS_SUBMITTED_SAME,    /* the same label as the stored judgment: nothing changed */
  IVS_SUBMITTED_REPEAT   /* this client_id was stored before: nothing done (*status is then that first result) */
} ivs_submitted;

/* Stores s for who's annotator (not the lead: IVS_EUSAGE), inside the
 * caller's transaction.  A judgment is taken when the item is in the batch
 * and was handed out to the annotator (a slot of theirs, or a lease, also an
 * expired one: a late judgment is kept while the item has a free slot), and
 * the label is one of the item's classes; it ends the annotator's lease.  A
 * skip ends the lease and the item is not handed to them again.  A flag
 * records the note; the item stays.  *status: one of ivs_submitted;
 * *first (may be NULL) for a repeat: what the first submit did.  IVS_EINVAL
 * with the reason when refused (nothing stored). */
int ivs_work_submit_one(ivs_work *w, const ivs_work_who *who, const ivs_work_submit *s, double now, int *status,
                        int *first);

/* Undo: the annotator's judgment made just before the one of item `before`
 * (0: their latest judgment in the batch) is handed out again under a new
 * lease, with its stored label, through fn (not called when there is none).
 * Choosing again stores a new revision (judgment_history keeps the old).
 * Inside the caller's transaction. */
int ivs_work_undo(ivs_work *w, const ivs_work_who *who, int64_t before, const ivs_next_opts *o, ivs_work_item_fn fn,
                  void *ud);

typedef struct ivs_work_progress {
  int64_t done;     /* items judged */
  int64_t total;    /* items the annotator may get: those with a slot of theirs or an open slot */
  int64_t skipped, flagged;
  double median_seconds; /* -1: no times */
} ivs_work_progress;
int ivs_work_progress_get(ivs_work *w, const ivs_work_who *who, ivs_work_progress *p);

/* ---- the lead ---- */

/* The id and K of batch `name`; IVS_EINVAL when there is none. */
int ivs_work_batch(ivs_store *st, const char *name, int64_t *id, int *per_item);

/* Per annotator of the batch (named in it, or with judgments, marks or a
 * link), in name order. */
typedef struct ivs_work_annotator {
  const char *name;
  int64_t done, assigned; /* assigned: slots named for them (0 in an open batch) */
  int64_t skipped, flagged;
  int64_t live_leases;
} ivs_work_annotator;
typedef int (*ivs_work_annotator_fn)(const ivs_work_annotator *a, void *ud);
int ivs_work_annotators(ivs_store *st, int64_t batch_id, ivs_work_annotator_fn fn, void *ud);

/* Coverage of K: items[k] = the number of items with k judgments (k = 0..K;
 * more than K counts as K, which assignment never makes); *adjudicated the
 * items with an adjudicated final label.  items has K + 1 entries. */
int ivs_work_coverage(ivs_store *st, int64_t batch_id, int per_item, int64_t *items, int64_t *adjudicated);

/* One flag, newest first. */
typedef struct ivs_work_flag {
  int64_t item;
  const char *annotator, *note, *created;
} ivs_work_flag;
typedef int (*ivs_work_flag_fn)(const ivs_work_flag *f, void *ud);
int ivs_work_flags(ivs_store *st, int64_t batch_id, size_t limit, ivs_work_flag_fn fn, void *ud);

/* An example as the lead sees it: its prompt, classes (JSON), final label
 * and method (NULL: none), and each judgment of it in the batch through
 * label_fn(annotator, label, ud) (may be NULL).  IVS_EINVAL when the example
 * is not in the batch. */
typedef struct ivs_work_example {
  int64_t item;
  const char *prompt, *classes_json, *final_label, *final_method;
  int gold;
} ivs_work_example;
typedef int (*ivs_work_example_fn)(const ivs_work_example *e, void *ud);
typedef int (*ivs_work_label_fn)(const char *annotator, const char *label, void *ud);
int ivs_work_example_get(ivs_store *st, int64_t batch_id, int64_t item, ivs_work_example_fn fn,
                         ivs_work_label_fn label_fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
