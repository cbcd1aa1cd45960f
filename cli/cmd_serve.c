/* invscale serve: the annotation server for one batch, and its links. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "invscale/label.h"
#include "invscale/label_work.h"
#include "invscale/serve.h"

static const char help[] =
    "usage: invscale serve --batch B [--listen 127.0.0.1:8080] [--public-url URL] [--lease SECONDS]\n"
    "                      [--shuffle-classes] [--guidelines FILE] [--lead-name NAME] [--rate N] [--quiet]\n"
    "       invscale serve links B [--annotator NAME] [--new NAME] [--revoke NAME] [--new-lead] [--revoke-lead]\n\n"
    "Puts batch B of the store on the web for its annotators (invscale batch create ...) and prints\n"
    "the lead's link and one link per annotator of the batch; links made before are not shown again\n"
    "(only their hashes are stored): 'serve links B --new NAME' replaces one.  The token travels in\n"
    "the link's #fragment, which browsers never send.  Judgments go into the store, each committed\n"
    "before it is acknowledged.  Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.\n\n"
    "  --listen HOST:PORT   the address to listen on (127.0.0.1:8080; port 0: any free one)\n"
    "  --public-url URL     the URL the browsers use, e.g. behind a reverse proxy under a path\n"
    "                       (https://labels.example.org/team/): the links and the origin check use it\n"
    "  --lease SECONDS      how long an item handed out stays an annotator's (600)\n"
    "  --shuffle-classes    each annotator sees the classes in an order of their own (stored)\n"
    "  --guidelines FILE    the guidelines (plain text, at most 1 MiB); default: the datasheet fields\n"
    "                       (meta guidelines, else description, correct_behaviour, label_expertise)\n"
    "  --lead-name NAME     the name the lead's adjudications are recorded under (lead)\n"
    "  --rate N             requests per second allowed per link (50; bursts of 4 x N)\n"
    "  --quiet              no access log on stderr\n\n"
    "links: the state of every link of the batch (the lead first); --new NAME makes a new link for\n"
    "an annotator (registered when new) and revokes the old one; --revoke NAME revokes it;\n"
    "--new-lead and --revoke-lead do the same for the lead's link.\n";

static void on_log(const char *line, void *ud) {
  (void)ud;
  fprintf(stderr, "%s\n", line);
}

typedef struct issue_ctx {
  ivs_store *st;
  const char *batch, *url, *only;
  int rc;
  int make; /* serve: make links for those without a live one */
} issue_ctx;

static int print_link(const ivs_link_info *l, void *ud) {
  issue_ctx *cx = ud;
  const char *who = l->annotator ? l->annotator : "lead";
  if (cx->only && (!l->annotator || strcmp(cx->only, l->annotator))) return 0;
  int live = l->created && !l->revoked;
  if (cx->make && !live) return 0; /* a new link follows */
  if (live) printf("%-16s link made %s (only its hash is stored; --new%s%s makes a new one)\n", who, l->created,
                   l->annotator ? " " : "-lead", l->annotator ? l->annotator : "");
  else if (l->revoked) printf("%-16s revoked %s\n", who, l->revoked);
  else printf("%-16s no link yet\n", who);
  return 0;
}

typedef struct name_list {
  char **names; /* NULL entry: the lead */
  int *lead;
  size_t n;
} name_list;

static int collect_missing(const ivs_link_info *l, void *ud) {
  name_list *nl = ud;
  if (l->created && !l->revoked) return 0;
  char **nn = realloc(nl->names, (nl->n + 1) * sizeof *nn);
  if (!nn) return ivs_error_set(IVS_ENOMEM, "out of memory");
  nl->names = nn;
  nl->names[nl->n] = l->annotator ? strdup(l->annotator) : NULL;
  if (l->annotator && !nl->names[nl->n]) return ivs_error_set(IVS_ENOMEM, "out of memory");
  nl->n++;
  return 0;
}

/* A new link for name (NULL: the lead), printed. */
static int new_link(ivs_store *st, const char *batch, const char *url, const char *name) {
  char tok[IVS_TOKEN_LEN + 1], *link = NULL;
  int rc = ivs_link_new(st, batch, name, tok);
  if (!rc) rc = ivs_serve_link(url, name == NULL, tok, &link);
  if (!rc) printf("%-16s %s\n", name ? name : "lead", link);
  free(link);
  return rc;
}

/* The live links made before (not shown again: only their hashes are
 * stored), then new links for everyone of the batch without a live one. */
static int issue_missing(ivs_store *st, const char *batch, const char *url) {
  issue_ctx cx = {st, batch, url, NULL, 0, 1};
  name_list nl = {0};
  int rc = ivs_link_list(st, batch, print_link, &cx);
  if (!rc) rc = ivs_link_list(st, batch, collect_missing, &nl);
  for (size_t i = 0; i < nl.n && !rc; i++) rc = new_link(st, batch, url, nl.names[i]);
  for (size_t i = 0; i < nl.n; i++) free(nl.names[i]);
  free(nl.names);
  return rc;
}

static int cmd_links(int argc, char **argv, const char *db) {
  enum { O_ANN = 256, O_NEW, O_REVOKE, O_NEW_LEAD, O_REVOKE_LEAD, O_URL, O_DB, O_HELP };
  static const struct option opts[] = {{"annotator", required_argument, 0, O_ANN}, {"new", required_argument, 0, O_NEW},
                                       {"revoke", required_argument, 0, O_REVOKE}, {"new-lead", no_argument, 0, O_NEW_LEAD},
                                       {"revoke-lead", no_argument, 0, O_REVOKE_LEAD},
                                       {"public-url", required_argument, 0, O_URL}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
  const char *only = NULL, *new_name = NULL, *revoke_name = NULL, *url = "http://127.0.0.1:8080/";
  int new_lead = 0, revoke_lead = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == O_ANN) only = optarg;
    else if (c == O_NEW) new_name = optarg;
    else if (c == O_REVOKE) revoke_name = optarg;
    else if (c == O_NEW_LEAD) new_lead = 1;
    else if (c == O_REVOKE_LEAD) revoke_lead = 1;
    else if (c == O_URL) url = optarg;
    else if (c == O_DB) db = optarg;
    else if (c == O_HELP || c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("serve links", "unknown option");
  }
  if (optind + 1 != argc) return usage_error("serve links", "expected one batch name");
  size_t ul = strlen(url);
  if (!ul || url[ul - 1] != '/') return usage_error("serve links", "--public-url must end with '/'");
  const char *batch = argv[optind];
  ivs_store *st = NULL;
  int rc = ivs_store_open(&st, store_path(db), 0);
  if (!rc && revoke_name) rc = ivs_link_revoke(st, batch, revoke_name);
  if (!rc && revoke_lead) rc = ivs_link_revoke(st, batch, NULL);
  if (!rc && revoke_name) printf("%-16s revoked\n", revoke_name);
  if (!rc && revoke_lead) printf("%-16s revoked\n", "lead");
  if (!rc && new_name) rc = new_link(st, batch, url, new_name);
  if (!rc && new_lead) rc = new_link(st, batch, url, NULL);
  if (!rc && !new_name && !new_lead && !revoke_name && !revoke_lead) {
    issue_ctx cx = {st, batch, url, only, 0, 0};
    rc = ivs_link_list(st, batch, print_link, &cx);
  }
  ivs_store_free(st);
  if (rc) return report_error();
  return finish_stdout(EXIT_OK);
}

int cmd_serve(int argc, char **argv, const char *db) {
  if (argc > 1 && !strcmp(argv[1], "links")) return cmd_links(argc - 1, argv + 1, db);
  enum { O_BATCH = 256, O_LISTEN, O_URL, O_LEASE, O_SHUFFLE, O_GUIDE, O_LEAD, O_RATE, O_QUIET, O_DB, O_HELP };
  static const struct option opts[] = {{"batch", required_argument, 0, O_BATCH}, {"listen", required_argument, 0, O_LISTEN},
                                       {"public-url", required_argument, 0, O_URL}, {"lease", required_argument, 0, O_LEASE},
                                       {"shuffle-classes", no_argument, 0, O_SHUFFLE},
                                       {"guidelines", required_argument, 0, O_GUIDE},
                                       {"lead-name", required_argument, 0, O_LEAD}, {"rate", required_argument, 0, O_RATE},
                                       {"quiet", no_argument, 0, O_QUIET}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
  ivs_serve_opts o = IVS_SERVE_OPTS_INIT;
  const char *guide_file = NULL;
  int quiet = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == O_BATCH) o.batch = optarg;
    else if (c == O_LISTEN) o.listen = optarg;
    else if (c == O_URL) o.public_url = optarg;
    else if (c == O_LEASE) {
      if (ivs_parse_double("--lease", optarg, 1, 86400 * 7, &o.lease_seconds)) return usage_from_error("serve");
    } else if (c == O_SHUFFLE) o.shuffle_classes = 1;
    else if (c == O_GUIDE) guide_file = optarg;
    else if (c == O_LEAD) o.lead_name = optarg;
    else if (c == O_RATE) {
      if (ivs_parse_double("--rate", optarg, 1, 1e6, &o.rate)) return usage_from_error("serve");
      o.burst = 4 * o.rate;
    } else if (c == O_QUIET) quiet = 1;
    else if (c == O_DB) db = optarg;
    else if (c == O_HELP || c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("serve", "unknown option");
  }
  if (optind < argc) return usage_error("serve", "unexpected argument '%s'", argv[optind]);
  if (!o.batch) return usage_error("serve", "--batch is needed");
  ivs_buf g = IVS_BUF_INIT;
  if (guide_file) {
    if (ivs_file_read_all(guide_file, (size_t)1 << 20, &g)) return report_error();
    if (memchr(g.data ? g.data : "", 0, g.len)) {
      ivs_buf_release(&g);
      return usage_error("serve", "--guidelines %s: the file holds a NUL byte", guide_file);
    }
    o.guidelines = g.data ? g.data : "";
  }
  o.store = store_path(db);
  if (!quiet) o.on_log = on_log;
  /* SIGINT and SIGTERM are taken by sigwait below: blocked before the
   * server's threads start, so that they inherit the mask */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  ivs_serve *srv = NULL;
  int rc = ivs_serve_start(&o, &srv);
  ivs_buf_release(&g);
  if (rc) return report_error();
  printf("serving batch %s at %s\n", o.batch, ivs_serve_url(srv));
  ivs_store *st = NULL;
  rc = ivs_store_open(&st, o.store, 0);
  if (!rc) rc = issue_missing(st, o.batch, ivs_serve_url(srv));
  ivs_store_free(st);
  if (rc) {
    ivs_serve_stop(srv);
    return report_error();
  }
  printf("(Ctrl-C or SIGTERM stops the server)\n");
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  fprintf(stderr, "invscale: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  ivs_serve_stop(srv);
  fprintf(stderr, "invscale: stopped\n");
  return finish_stdout(EXIT_OK);
}
