#define _GNU_SOURCE /* pipe2 */
/* SpamAssassin's spamd for the spam metric (eval/probe_spam.h). */
#include "eval/probe_spam.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

#define START_SECONDS 60
#define IO_SECONDS 120 /* one message: spamd takes well under a second, but a loaded machine may not */

struct ivs_spamd {
  char host[256], port[16], address[300];
  pid_t pid;           /* > 0: started here (the shell watching it) */
  int pipe;            /* its end of the pipe that keeps it running; -1: none */
  char confdir[64];    /* the site configuration made for it */
  char log[96];        /* its log */
};

static const char message_head[] =
    "From: invscale probe <probe@invscale.invalid>\r\n"
    "To: reader@invscale.invalid\r\n"
    "Subject: generated text\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
    "Message-ID: <generation@invscale.invalid>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n";

int ivs_spamd_message(const char *text, size_t n, ivs_buf *out) {
  int rc = ivs_buf_puts(out, message_head);
  /* the body's lines end in CRLF like the head's */
  for (size_t i = 0; i < n && !rc; i++) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) rc = ivs_buf_putc(out, '\r');
    if (!rc) rc = ivs_buf_putc(out, text[i]);
  }
  if (!rc && (n == 0 || text[n - 1] != '\n')) rc = ivs_buf_puts(out, "\r\n");
  return rc;
}

const char *ivs_spamd_address(const ivs_spamd *s) { return s ? s->address : ""; }
int ivs_spamd_started(const ivs_spamd *s) { return s && s->pid > 0; }

/* $INVSCALE_SPAMD, else spamd on the PATH or in the sbin folders a user's
 * PATH often lacks. */
static int find_spamd(char *out, size_t cap) {
  const char *given = getenv("INVSCALE_SPAMD");
  if (given && *given) {
    snprintf(out, cap, "%s", given);
    return access(out, X_OK) == 0;
  }
  const char *path = getenv("PATH");
  char dirs[8192];
  snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/usr/local/sbin:/sbin", path ? path : "/usr/bin:/bin");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(out, cap, "%s/spamd", *d ? d : ".");
    if (access(out, X_OK) == 0) return 1;
  }
  return 0;
}

static int connect_to(const ivs_spamd *s) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC, hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(s->host, s->port, &hints, &res) != 0 || !res) return -1;
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) close(fd), fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

/* A port nobody listens on now (the kernel's choice for port 0). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET, a.sin_addr.s_addr = htonl(INADDR_LOOPBACK), a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* The site configuration: the system's files linked, plus ours. */
static int make_confdir(ivs_spamd *s) {
  const char *tmp = getenv("TMPDIR");
  snprintf(s->confdir, sizeof s->confdir, "%.40s/invscale-spamd-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
  if (!mkdtemp(s->confdir)) {
    s->confdir[0] = '\0';
    return ivs_error_set(IVS_EIO, "cannot create a folder for spamd's configuration: %s", strerror(errno));
  }
  chmod(s->confdir, 0755); /* spamd reads it as the user it switches to */
  DIR *d = opendir("/etc/spamassassin");
  char src[600], dst[600];
  static const size_t max_name = 400;
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 4 || n > max_name || (strcmp(e->d_name + n - 3, ".cf") && strcmp(e->d_name + n - 4, ".pre"))) continue;
    snprintf(src, sizeof src, "/etc/spamassassin/%.400s", e->d_name);
    snprintf(dst, sizeof dst, "%s/%.400s", s->confdir, e->d_name);
    if (symlink(src, dst) != 0) {
      closedir(d);
      return ivs_error_set(IVS_EIO, "%s: cannot link: %s", dst, strerror(errno));
    }
  }
  if (d) closedir(d);
  snprintf(dst, sizeof dst, "%s/zz_invscale.cf", s->confdir);
  FILE *f = fopen(dst, "w");
  if (!f || fputs("# invscale probe: scores that do not depend on earlier runs\nuse_bayes 0\nbayes_auto_learn 0\n", f) < 0 ||
      fclose(f) != 0)
    return ivs_error_set(IVS_EIO, "%s: cannot write: %s", dst, strerror(errno));
  chmod(dst, 0644);
  return 0;
}

/* The end of spamd's log, on one line, for a message. */
static void log_tail(const ivs_spamd *s, char *out, size_t cap) {
  out[0] = '\0';
  FILE *f = s->log[0] ? fopen(s->log, "rb") : NULL;
  if (!f) return;
  char buf[4096];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  const char *last = strrchr(buf, '\n');
  snprintf(out, cap, "%.500s", last ? last + 1 : buf);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  if (flag == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

/* The configuration folder (and what spamd wrote in it: its .spamassassin
 * home) and the log. */
static void cleanup_files(ivs_spamd *s) {
  if (s->confdir[0]) {
    nftw(s->confdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    s->confdir[0] = '\0';
  }
  s->log[0] = '\0'; /* inside confdir */
}

static int start_spamd(ivs_spamd *s) {
  char bin[4200];
  if (!find_spamd(bin, sizeof bin))
    return ivs_error_set(IVS_EUSAGE, "the spam metric needs SpamAssassin: spamd was not found (install the Debian packages "
                                     "spamassassin and spamd: apt-get install spamassassin spamd), or give a running "
                                     "spamd with --spamd HOST:PORT");
  int rc = make_confdir(s);
  if (rc) return rc;
  int port = free_port();
  if (port < 0) return ivs_error_set(IVS_EIO, "no free port on 127.0.0.1 for spamd: %s", strerror(errno));
  snprintf(s->host, sizeof s->host, "127.0.0.1");
  snprintf(s->port, sizeof s->port, "%d", port);
  snprintf(s->address, sizeof s->address, "127.0.0.1:%d", port);
  snprintf(s->log, sizeof s->log, "%s/spamd.log", s->confdir);
  char listen[64], site[128], home[128];
  snprintf(listen, sizeof listen, "--listen=127.0.0.1:%d", port);
  snprintf(site, sizeof site, "--siteconfigpath=%s", s->confdir);
  snprintf(home, sizeof home, "--helper-home-dir=%s", s->confdir);
  int logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (logfd < 0) return ivs_error_set(IVS_EIO, "%s: cannot create: %s", s->log, strerror(errno));
  /* spamd runs under a small shell that stops it when the pipe from this
   * process closes: at ivs_spamd_close, or when the run ends however it ends
   * (a parent-death signal would not do: spamd started as root changes its
   * user, which clears it).  The shell exits with spamd's status. */
  static const char watch[] =
      "exec 3<&0; \"$@\" </dev/null 3<&- & pid=$!; "
      "{ read -r _ <&3; kill -TERM $pid 2>/dev/null; } & reader=$!; "
      "wait $pid; status=$?; kill $reader 2>/dev/null; exit $status";
  char *const sh_argv[] = {"/bin/sh", "-c", (char *)watch, "spamd-watch", bin, "--local", "--nouser-config", listen,
                           site, home, "--max-children=2", "--min-children=1", "--syslog=stderr", NULL};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    close(logfd);
    return ivs_error_set(IVS_EIO, "cannot start spamd: %s", strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  posix_spawn_file_actions_adddup2(&fa, logfd, 1);
  posix_spawn_file_actions_adddup2(&fa, logfd, 2);
  pid_t pid;
  extern char **environ;
  int err = posix_spawn(&pid, "/bin/sh", &fa, NULL, sh_argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(logfd), close(fds[0]);
  if (err) {
    close(fds[1]);
    return ivs_error_set(IVS_EIO, "cannot start spamd (%s): %s", bin, strerror(err));
  }
  s->pid = pid, s->pipe = fds[1];
  /* ready when it answers a PING */
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      s->pid = 0;
      char tail[600];
      log_tail(s, tail, sizeof tail);
      return ivs_error_set(IVS_EIO, "spamd (%s) stopped at start (status %d): %s", bin,
                           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), tail[0] ? tail : "no message");
    }
    int fd = connect_to(s);
    if (fd >= 0) {
      static const char ping[] = "PING SPAMC/1.5\r\n\r\n";
      char buf[128];
      ssize_t got = write(fd, ping, sizeof ping - 1) == (ssize_t)(sizeof ping - 1) ? read(fd, buf, sizeof buf - 1) : -1;
      close(fd);
      if (got > 0) {
        buf[got] = '\0';
        if (strstr(buf, "PONG")) return 0;
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - t0.tv_sec > START_SECONDS) {
      char tail[600];
      log_tail(s, tail, sizeof tail);
      return ivs_error_set(IVS_EIO, "spamd did not answer on %s within %d seconds: %s", s->address, START_SECONDS,
                           tail[0] ? tail : "no message");
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

int ivs_spamd_open(const char *hostport, ivs_spamd **out) {
  *out = NULL;
  ivs_spamd *s = calloc(1, sizeof *s);
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  s->pipe = -1;
  int rc = 0;
  if (hostport) {
    const char *colon = strrchr(hostport, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof s->host || !colon[1] || *end || port < 1 ||
        port > 65535)
      rc = ivs_error_set(IVS_EUSAGE, "--spamd: expected HOST:PORT, got '%s'", hostport);
    else {
      snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - hostport), hostport);
      snprintf(s->port, sizeof s->port, "%ld", port);
      snprintf(s->address, sizeof s->address, "%s", hostport);
    }
  } else {
    rc = start_spamd(s);
  }
  if (rc) {
    ivs_spamd_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

void ivs_spamd_close(ivs_spamd *s) {
  if (!s) return;
  if (s->pipe >= 0) close(s->pipe), s->pipe = -1; /* the shell stops spamd and waits for it */
  if (s->pid > 0) {
    int status;
    for (int k = 0; k < 100; k++) { /* 10 s, then it is killed */
      if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        break;
      }
      struct timespec pause = {0, 100 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
    if (s->pid > 0) kill(s->pid, SIGKILL), waitpid(s->pid, &status, 0); /* (spamd may then be left) */
  }
  cleanup_files(s);
  free(s);
}

int ivs_spamd_parse_reply(const char *reply, size_t len, double *score, char **rules) {
  *rules = NULL;
  const char *end = reply + len, *eol = memchr(reply, '\n', len);
  if (len < 6 || memcmp(reply, "SPAMD/", 6) || !eol) return ivs_error_set(IVS_EPARSE, "not a spamd reply");
  int code = -1;
  char status[64] = "";
  if (sscanf(reply, "SPAMD/%*[0-9.] %d %63[^\r\n]", &code, status) < 1)
    return ivs_error_set(IVS_EPARSE, "not a spamd reply");
  if (code != 0) return ivs_error_set(IVS_EIO, "spamd answered %d %s", code, status);
  int have_score = 0;
  const char *p = eol + 1;
  for (;;) { /* headers up to a blank line */
    const char *e = memchr(p, '\n', (size_t)(end - p));
    size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
    if (n && p[n - 1] == '\r') n--;
    if (!n) {
      p = e ? e + 1 : end;
      break;
    }
    if (n > 5 && !strncasecmp(p, "Spam:", 5)) {
      char line[256];
      snprintf(line, sizeof line, "%.*s", (int)(n < 255 ? n : 255), p);
      const char *semi = strchr(line, ';');
      char *after;
      if (semi) {
        *score = strtod(semi + 1, &after);
        have_score = after != semi + 1;
      }
    }
    if (!e) {
      p = end;
      break;
    }
    p = e + 1;
  }
  if (!have_score) return ivs_error_set(IVS_EPARSE, "the spamd reply has no 'Spam: ... ; SCORE / THRESHOLD' header");
  size_t n = (size_t)(end - p);
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
  char *r = malloc(n + 1);
  if (!r) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\0') r[k++] = p[i];
  r[k] = '\0';
  *rules = r;
  return 0;
}

static int wait_fd(int fd, short events) {
  struct pollfd pfd = {fd, events, 0};
  int r = poll(&pfd, 1, IO_SECONDS * 1000);
  return r > 0 ? 0 : -1;
}

int ivs_spamd_check(ivs_spamd *s, const char *text, size_t n, double *score, char **rules) {
  *rules = NULL;
  ivs_buf msg = IVS_BUF_INIT, req = IVS_BUF_INIT, reply;
  ivs_buf_init(&reply, IVS_SPAMD_MAX_REPLY);
  int rc = ivs_spamd_message(text, n, &msg);
  char head[160];
  snprintf(head, sizeof head, "SYMBOLS SPAMC/1.5\r\nContent-length: %zu\r\n\r\n", msg.len);
  if (!rc) rc = ivs_buf_puts(&req, head);
  if (!rc) rc = ivs_buf_append(&req, msg.data, msg.len);
  ivs_buf_release(&msg);
  if (rc) {
    ivs_buf_release(&req);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  int fd = connect_to(s);
  if (fd < 0) {
    ivs_buf_release(&req);
    return ivs_error_set(IVS_EIO, "spamd at %s: cannot connect: %s", s->address, strerror(errno));
  }
  size_t sent = 0;
  while (sent < req.len && !rc) {
    if (wait_fd(fd, POLLOUT)) rc = ivs_error_set(IVS_EIO, "spamd at %s: no progress sending in %d s", s->address, IO_SECONDS);
    ssize_t w = rc ? -1 : send(fd, req.data + sent, req.len - sent, MSG_NOSIGNAL);
    if (!rc && w < 0 && errno != EINTR) rc = ivs_error_set(IVS_EIO, "spamd at %s: cannot send: %s", s->address, strerror(errno));
    if (w > 0) sent += (size_t)w;
  }
  ivs_buf_release(&req);
  if (!rc) shutdown(fd, SHUT_WR);
  char buf[8192];
  while (!rc) {
    if (wait_fd(fd, POLLIN)) {
      rc = ivs_error_set(IVS_EIO, "spamd at %s: no answer in %d s", s->address, IO_SECONDS);
      break;
    }
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      rc = ivs_error_set(IVS_EIO, "spamd at %s: cannot read: %s", s->address, strerror(errno));
    } else if (ivs_buf_append(&reply, buf, (size_t)got)) {
      rc = ivs_error_set(IVS_ELIMIT, "spamd at %s: a reply over %zu bytes", s->address, IVS_SPAMD_MAX_REPLY);
    }
  }
  close(fd);
  if (!rc) {
    rc = ivs_spamd_parse_reply(reply.data ? reply.data : "", reply.len, score, rules);
    if (rc) ivs_error_prefix("spamd at %s", s->address);
  }
  ivs_buf_release(&reply);
  return rc;
}
