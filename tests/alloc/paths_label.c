/* Allocation-failure paths: agreement and aggregation of a triples file (no
 * store), and a judgments import into a store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_paths.h"
#include "core/error.h"
#include "invscale/ingest.h"
#include "invscale/label.h"
#include "invscale/store.h"

static struct {
  char triples[512], db[512], pristine[512], task[512], judg[512], ls1[512], ls2[512];
} L;

static double ref[6]; /* alpha, its interval, Fleiss, percent, Cohen from a run with every allocation */
static size_t ref_labels[4];
static int have_ref;

static int run_agreement(void *state);

static int setup_agreement(const char *dir, void **state) {
  snprintf(L.triples, sizeof L.triples, "%s/triples.csv", dir);
  *state = &L;
  have_ref = 0;
  if (alloc_write_file(L.triples, "item,annotator,label\n"
                               "i1,ann,yes\ni1,bob,yes\ni1,cid,no\n"
                               "i2,ann,no\ni2,bob,no\ni2,cid,no\n"
                               "i3,ann,yes\ni3,bob,maybe\ni3,cid,yes\n"
                               "i4,ann,maybe\ni4,bob,maybe\ni4,cid,yes\n"))
    return ivs_error_set(IVS_EIO, "cannot write the triples");
  return run_agreement(state); /* the reference numbers */
}


static int run_agreement(void *state) {
  (void)state;
  ivs_ratings *r = NULL;
  double alpha, lo, hi, kappa, share, ck;
  size_t shared;
  ivs_aggregation agg = {0};
  ivs_aggregate_opts ao = IVS_AGGREGATE_OPTS_INIT;
  ao.method = IVS_AGG_DAWID_SKENE;
  int rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_triples_read(L.triples, NULL, r);
  if (!rc) rc = ivs_ratings_finish(r);
  if (!rc) rc = ivs_alpha(r, IVS_LEVEL_NOMINAL, &alpha);
  if (!rc) rc = ivs_alpha_bootstrap(r, IVS_LEVEL_NOMINAL, 20, 1, &lo, &hi);
  if (!rc) rc = ivs_fleiss_kappa(r, &kappa);
  if (!rc) rc = ivs_percent_agreement(r, &share);
  if (!rc) rc = ivs_cohen_kappa(r, 0, 1, &ck, &shared);
  if (!rc) rc = ivs_aggregate(r, NULL, &ao, &agg);
  if (!rc && (ivs_ratings_judgments(r) != 12 || !isfinite(alpha) || agg.items != 4))
    rc = wrong("agreement: %zu judgments, alpha %g", ivs_ratings_judgments(r), alpha);
  double got[6] = {alpha, lo, hi, kappa, share, ck};
  if (!rc && !have_ref) {
    memcpy(ref, got, sizeof ref), memcpy(ref_labels, agg.labels, sizeof ref_labels);
    have_ref = 1;
  } else if (!rc && (memcmp(ref, got, sizeof ref) || memcmp(ref_labels, agg.labels, sizeof ref_labels))) {
    static const char *const what[6] = {"alpha", "its lower bound", "its upper bound", "Fleiss' kappa",
                                        "percent agreement", "Cohen's kappa"};
    int k = 0;
    while (k < 6 && !memcmp(&ref[k], &got[k], sizeof got[k])) k++;
    rc = k < 6 ? wrong("agreement: %s %.17g, want %.17g", what[k], got[k], ref[k])
               : wrong("agreement: other Dawid-Skene labels");
  }
  ivs_aggregation_release(&agg);
  ivs_ratings_free(r);
  return rc;
}

const alloc_path alloc_path_agreement = {"agreement", setup_agreement, NULL, run_agreement, NULL, NULL};

/* ---- judgments into a store ---- */

static long long judgments_in(const char *db) {
  ivs_store *st = NULL;
  ivs_ratings *r = NULL;
  long long n = -1;
  if (!ivs_store_open(&st, db, 0) && !ivs_ratings_new(&r) && !ivs_ratings_from_store(st, NULL, 1, r))
    n = (long long)ivs_ratings_judgments(r);
  ivs_ratings_free(r);
  ivs_store_free(st);
  return n;
}

static int setup_crowd(const char *dir, void **state) {
  snprintf(L.db, sizeof L.db, "%s/crowd.db", dir);
  snprintf(L.pristine, sizeof L.pristine, "%s/crowd_pristine.db", dir);
  snprintf(L.task, sizeof L.task, "%s/crowd_task.csv", dir);
  snprintf(L.judg, sizeof L.judg, "%s/judgments.csv", dir);
  snprintf(L.ls1, sizeof L.ls1, "%s/ls1.json", dir);
  snprintf(L.ls2, sizeof L.ls2, "%s/ls2.json", dir);
  *state = &L;
  /* a Label Studio annotation (identity: its id), then a re-export that relabels it */
  if (alloc_write_file(L.ls1, "[{\"id\":1,\"data\":{\"ref\":2},\"annotations\":[{\"id\":7,\"completed_by\":"
                        "{\"id\":3,\"email\":\"e@x\"},\"result\":[{\"from_name\":\"label\",\"value\":"
                        "{\"choices\":[\" yes\"]}}],\"updated_at\":\"2026-01-01\"}]}]") ||
      alloc_write_file(L.ls2, "[{\"id\":1,\"data\":{\"ref\":2},\"annotations\":[{\"id\":7,\"completed_by\":"
                        "{\"id\":3,\"email\":\"e@x\"},\"result\":[{\"from_name\":\"label\",\"value\":"
                        "{\"choices\":[\" no\"]}}],\"updated_at\":\"2026-02-01\"}]}]"))
    return ivs_error_set(IVS_EIO, "cannot write the crowd inputs");
  if (alloc_write_file(L.task, "prompt,classes\n\"P1\",\"[' yes', ' no']\"\n\"P2\",\"[' yes', ' no']\"\n") ||
      alloc_write_file(L.judg, "item,annotator,label,time\n1,ann, yes,3.5\n1,bob, no,2\n2,ann, no,4\n2,bob, no,1.25\n"
                         "3,ann, yes,1\n1,cid, maybe,2\n"))
    return ivs_error_set(IVS_EIO, "cannot write the crowd inputs");
  ivs_store *st = NULL;
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  ivs_import_result res;
  int rc = ivs_store_open(&st, L.pristine, IVS_STORE_CREATE);
  if (!rc) rc = ivs_import_run(st, L.task, &o, &res);
  ivs_import_result_release(&res);
  ivs_store_free(st);
  return rc;
}

static int reset_crowd(void *state) {
  (void)state;
  remove_store_sidecars(L.db);
  return alloc_copy_file(L.pristine, L.db);
}

static int run_crowd(void *state) {
  (void)state;
  ivs_store *st = NULL;
  ivs_import_report rep;
  memset(&rep, 0, sizeof rep);
  int rc = ivs_store_open(&st, L.db, 0);
  if (!rc) rc = ivs_judgments_import(st, L.judg, IVS_JUDG_CSV, NULL, NULL, &rep);
  if (!rc && (rep.imported != 4 || rep.rejected != 2))
    rc = wrong("judgments: %zu imported, %zu rejected", rep.imported, rep.rejected);
  /* then the identity paths: a new annotation, and its update (history kept) */
  ivs_judgment_map map = IVS_JUDGMENT_MAP_INIT;
  map.item = "data.ref";
  if (!rc) rc = ivs_judgments_import(st, L.ls1, IVS_JUDG_LABELSTUDIO, NULL, &map, &rep);
  if (!rc && rep.imported != 1) rc = wrong("labelstudio: %zu imported", rep.imported);
  if (!rc) rc = ivs_judgments_import(st, L.ls2, IVS_JUDG_LABELSTUDIO, NULL, &map, &rep);
  if (!rc && (rep.updated != 1 || rep.imported)) rc = wrong("labelstudio: %zu updated", rep.updated);
  ivs_store_free(st);
  return rc;
}

/* Each import is one transaction: a failed run leaves the store as some
 * imports before the failing one made it (0, 4, or 5 judgments); a
 * successful one the four valid judgments of the CSV and the updated one. */
static int check_crowd(void *state, int rc) {
  (void)state;
  long long n = judgments_in(L.db);
  if (rc) return n != 0 && n != 4 && n != 5;
  return n != 5;
}

const alloc_path alloc_path_crowd = {"crowd", setup_crowd, reset_crowd, run_crowd, check_crowd, NULL};
