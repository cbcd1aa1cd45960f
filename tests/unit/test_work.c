/* Annotation work in a store (invscale/label_work.h): token hashes against
 * the published SHA-256 vectors and Python's hashlib, links made, replaced
 * and revoked, leases that keep an item from others and run out, submits
 * made idempotent by their id, undo as a revision, skips and progress. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/example.h"
#include "invscale/label.h"
#include "invscale/label_work.h"
#include "store/db.h"

static void hash_is(const char *s, size_t n, const char *want) {
  char hex[65];
  ivs_token_hash(s, n, hex);
  assert_string_equal(hex, want);
}

static void test_sha256(void **state) {
  (void)state;
  /* FIPS 180-4 examples */
  hash_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hash_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hash_is(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  char *million = malloc(1000000);
  assert_non_null(million);
  memset(million, 'a', 1000000);
  hash_is(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* the padding's edges, against Python's hashlib.sha256(b'x' * n) */
  static const struct {
    size_t n;
    const char *hex;
  } edges[] = {{55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
               {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
               {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
               {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
               {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
               {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
               {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"}};
  memset(million, 'x', 200);
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) hash_is(million, edges[i].n, edges[i].hex);
  free(million);
  char a[IVS_TOKEN_LEN + 1], b[IVS_TOKEN_LEN + 1];
  assert_int_equal(ivs_token_make(a), 0);
  assert_int_equal(ivs_token_make(b), 0);
  assert_int_equal(strlen(a), IVS_TOKEN_LEN);
  assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), IVS_TOKEN_LEN);
  assert_string_not_equal(a, b);
}

static int64_t count(ivs_store *st, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(ivs_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* n examples (ids 1..n) with classes [" Yes", " No"], a batch "b" of them
 * with K open slots each (annotators NULL) or the named ones. */
static ivs_store *new_batch(int n, size_t k, const char *const *names, size_t n_names) {
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, ":memory:", IVS_STORE_CREATE), 0);
  assert_int_equal(ivs_store_begin(st), 0);
  for (int i = 0; i < n; i++) {
    ivs_example ex;
    ivs_example_init(&ex);
    ex.type = IVS_TYPE_CLASSIFICATION;
    char p[16];
    snprintf(p, sizeof p, "Q%d?", i + 1);
    ex.prompt = strdup(p);
    ex.has_classes = 1;
    ivs_strlist_push(&ex.classes, " Yes", 4);
    ivs_strlist_push(&ex.classes, " No", 3);
    int added;
    assert_int_equal(ivs_store_add_example(st, 0, NULL, &ex, &added), 0);
    ivs_example_release(&ex);
  }
  assert_int_equal(ivs_store_commit(st), 0);
  for (size_t i = 0; i < n_names; i++) assert_int_equal(ivs_annotator_add(st, names[i], NULL, NULL), 0);
  ivs_batch_opts o = IVS_BATCH_OPTS_INIT;
  o.name = "b";
  o.per_item = k;
  o.annotators = names;
  o.n_annotators = names ? n_names : 0;
  size_t items, gold;
  assert_int_equal(ivs_batch_create(st, &o, &items, &gold), 0);
  return st;
}

static void test_links(void **state) {
  (void)state;
  ivs_store *st = new_batch(2, 1, NULL, 0);
  char t1[IVS_TOKEN_LEN + 1], t2[IVS_TOKEN_LEN + 1], lead[IVS_TOKEN_LEN + 1];
  ivs_work_who who;
  assert_int_equal(ivs_link_new(st, "b", "ann", t1), 0); /* registers ann */
  assert_int_equal(ivs_link_new(st, "b", NULL, lead), 0);
  assert_int_equal(ivs_link_resolve(st, t1, strlen(t1), &who), 0);
  assert_string_equal(who.annotator, "ann");
  assert_string_equal(who.batch, "b");
  assert_int_equal(who.per_item, 1);
  assert_true(who.annotator_id > 0);
  assert_int_equal(ivs_link_resolve(st, lead, strlen(lead), &who), 0);
  assert_int_equal(who.annotator_id, 0);
  /* a new link replaces the old */
  assert_int_equal(ivs_link_new(st, "b", "ann", t2), 0);
  assert_int_equal(ivs_link_resolve(st, t1, strlen(t1), &who), IVS_EINVAL);
  assert_int_equal(ivs_link_resolve(st, t2, strlen(t2), &who), 0);
  assert_int_equal(ivs_link_revoke(st, "b", "ann"), 0);
  assert_int_equal(ivs_link_resolve(st, t2, strlen(t2), &who), IVS_EINVAL);
  assert_int_equal(ivs_link_revoke(st, "b", "ann"), IVS_EINVAL); /* nothing live */
  assert_int_equal(ivs_link_new(st, "nobatch", "ann", t1), IVS_EINVAL);
  assert_int_equal(ivs_link_resolve(st, "short", 5, &who), IVS_EINVAL);
  /* only hashes are stored */
  char q[200];
  snprintf(q, sizeof q, "SELECT count(*) FROM links WHERE token_hash = '%s' OR token_hash = '%s'", t2, lead);
  assert_int_equal(count(st, q), 0);
  assert_int_equal(count(st, "SELECT count(*) FROM links WHERE revoked_at IS NULL"), 1); /* the lead's */
  ivs_store_free(st);
}

typedef struct got {
  int64_t items[8];
  char labels[8][8];
  size_t n;
} got;

static int take(const ivs_work_item *it, void *ud) {
  got *g = ud;
  assert_true(g->n < 8);
  g->items[g->n] = it->item;
  snprintf(g->labels[g->n], sizeof g->labels[g->n], "%s", it->label ? it->label : "");
  g->n++;
  assert_string_equal(it->classes_json, "[\" Yes\",\" No\"]");
  return 0;
}

static void test_leases_and_submits(void **state) {
  (void)state;
  ivs_store *st = new_batch(3, 1, NULL, 0);
  char ta[IVS_TOKEN_LEN + 1], tb[IVS_TOKEN_LEN + 1];
  assert_int_equal(ivs_link_new(st, "b", "a", ta), 0);
  assert_int_equal(ivs_link_new(st, "b", "bb", tb), 0);
  ivs_work_who a, b;
  assert_int_equal(ivs_link_resolve(st, ta, strlen(ta), &a), 0);
  assert_int_equal(ivs_link_resolve(st, tb, strlen(tb), &b), 0);
  ivs_work *w;
  assert_int_equal(ivs_work_open(st, &w), 0);
  ivs_next_opts o = IVS_NEXT_OPTS_INIT;
  o.count = 1;
  o.lease_seconds = 10;
  o.now = 1000;
  got ga = {0}, gb = {0};
  assert_int_equal(ivs_store_begin(st), 0);
  assert_int_equal(ivs_work_next(w, &a, &o, take, &ga), 0);
  o.count = 5;
  assert_int_equal(ivs_work_next(w, &b, &o, take, &gb), 0);
  assert_int_equal(ga.n, 1);
  assert_int_equal(gb.n, 2); /* K = 1: a's leased item is not handed to b */
  for (size_t i = 0; i < gb.n; i++) assert_true(gb.items[i] != ga.items[0]);
  /* a's live lease comes back to a first */
  got again = {0};
  o.count = 1;
  assert_int_equal(ivs_work_next(w, &a, &o, take, &again), 0);
  assert_int_equal(again.items[0], ga.items[0]);
  /* after the lease runs out, b may take it */
  got late = {0};
  o.now = 1011;
  o.count = 5;
  assert_int_equal(ivs_work_next(w, &b, &o, take, &late), 0);
  int found = 0;
  for (size_t i = 0; i < late.n; i++) found |= late.items[i] == ga.items[0];
  assert_true(found);
  /* a judges after the lease ran out: kept (the slot is still free) */
  ivs_work_submit s = {"id-1", IVS_SUBMIT_JUDGMENT, ga.items[0], " No", 3, NULL, 0};
  int status, first;
  assert_int_equal(ivs_work_submit_one(w, &a, &s, 1012, &status, &first), 0);
  assert_int_equal(status, IVS_SUBMITTED_STORED);
  /* the same id again: a repeat, nothing stored */
  assert_int_equal(ivs_work_submit_one(w, &a, &s, 1012, &status, &first), 0);
  assert_int_equal(status, IVS_SUBMITTED_REPEAT);
  assert_int_equal(first, IVS_SUBMITTED_STORED);
  /* the same id for another item: refused */
  ivs_work_submit other = s;
  other.item = gb.items[0];
  assert_int_equal(ivs_work_submit_one(w, &a, &other, 1012, &status, &first), IVS_EINVAL);
  /* b on the item now full: refused with nothing left behind */
  ivs_work_submit sb = {"b-1", IVS_SUBMIT_JUDGMENT, ga.items[0], " Yes", 1, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &b, &sb, 1012, &status, &first), IVS_EINVAL);
  /* a label outside the classes; an item never handed out to a */
  ivs_work_submit bad = {"id-2", IVS_SUBMIT_JUDGMENT, gb.items[1], " Yes", 1, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &a, &bad, 1012, &status, &first), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "not handed out"));
  ivs_work_submit bad2 = {"b-2", IVS_SUBMIT_JUDGMENT, gb.items[0], "Yes", 1, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &b, &bad2, 1012, &status, &first), IVS_EINVAL);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments"), 1);
  assert_int_equal(count(st, "SELECT count(*) FROM submits"), 1);
  /* b skips one and judges the other */
  ivs_work_submit sk = {"b-3", IVS_SUBMIT_SKIP, gb.items[0], NULL, -1, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &b, &sk, 1013, &status, &first), 0);
  ivs_work_submit j2 = {"b-4", IVS_SUBMIT_JUDGMENT, gb.items[1], " Yes", 2, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &b, &j2, 1013, &status, &first), 0);
  ivs_work_progress p;
  assert_int_equal(ivs_work_progress_get(w, &b, &p), 0);
  assert_int_equal(p.done, 1);
  assert_int_equal(p.skipped, 1);
  assert_int_equal(p.total, 1); /* the skipped item and the one a filled are not b's to do */
  assert_true(p.median_seconds == 2);
  /* undo: b's last judgment comes back with its label; choosing again revises */
  got u = {0};
  assert_int_equal(ivs_work_undo(w, &b, 0, &o, take, &u), 0);
  assert_int_equal(u.n, 1);
  assert_int_equal(u.items[0], gb.items[1]);
  assert_string_equal(u.labels[0], " Yes");
  ivs_work_submit j3 = {"b-5", IVS_SUBMIT_JUDGMENT, gb.items[1], " No", 2, NULL, 0};
  assert_int_equal(ivs_work_submit_one(w, &b, &j3, 1014, &status, &first), 0);
  assert_int_equal(status, IVS_SUBMITTED_REVISED);
  assert_int_equal(count(st, "SELECT count(*) FROM judgment_history WHERE label = ' Yes'"), 1);
  got none = {0};
  assert_int_equal(ivs_work_undo(w, &b, gb.items[1], &o, take, &none), 0);
  assert_int_equal(none.n, 0); /* nothing before b's first judgment */
  /* the lead's token is no annotator */
  ivs_work_who lead = a;
  lead.annotator_id = 0;
  assert_int_equal(ivs_work_next(w, &lead, &o, take, &none), IVS_EUSAGE);
  assert_int_equal(ivs_store_commit(st), 0);
  /* judged counts kept by the triggers */
  assert_int_equal(count(st, "SELECT sum(judged) FROM batch_items"), 2);
  int64_t cov[2], adj;
  assert_int_equal(ivs_work_coverage(st, a.batch_id, 1, cov, &adj), 0);
  assert_int_equal(cov[0], 1);
  assert_int_equal(cov[1], 2);
  ivs_work_free(w);
  ivs_store_free(st);
}

/* Named slots: an item goes only to the annotators it is assigned to. */
static void test_named(void **state) {
  (void)state;
  const char *names[] = {"x", "y", "z"};
  ivs_store *st = new_batch(3, 2, names, 3);
  ivs_work *w;
  assert_int_equal(ivs_work_open(st, &w), 0);
  for (int i = 0; i < 3; i++) {
    char t[IVS_TOKEN_LEN + 1];
    assert_int_equal(ivs_link_new(st, "b", names[i], t), 0);
    ivs_work_who who;
    assert_int_equal(ivs_link_resolve(st, t, strlen(t), &who), 0);
    ivs_next_opts o = IVS_NEXT_OPTS_INIT;
    o.count = 8;
    o.now = 5;
    got g = {0};
    assert_int_equal(ivs_store_begin(st), 0);
    assert_int_equal(ivs_work_next(w, &who, &o, take, &g), 0);
    assert_int_equal(ivs_store_commit(st), 0);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM assignments x JOIN annotators a ON a.id = x.annotator_id WHERE a.name = '%s'", names[i]);
    assert_int_equal((int64_t)g.n, count(st, q));
  }
  ivs_work_free(w);
  ivs_store_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sha256), cmocka_unit_test(test_links),
                                     cmocka_unit_test(test_leases_and_submits), cmocka_unit_test(test_named)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
