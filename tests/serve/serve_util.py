"""Shared by the annotation server's tests: a project store with a batch, a
running `invscale serve`, and an HTTP client that speaks its API."""
import atexit
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def run(bin_, args, env, check=True):
    p = subprocess.run([bin_] + args, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"invscale {' '.join(args)} failed ({p.returncode}): {p.stdout}{p.stderr}")
    return p


def make_store(bin_, work, items, gold=0, annotators=("alice", "bob", "carol"), per_item=2, batch="b1", named=True,
               prompts=None, classes="[' Yes', ' No']"):
    """A store in work/s.db with `items` unlabelled examples (and `gold` with
    answers) and a batch of them."""
    env = dict(os.environ, INVSCALE_DB=os.path.join(work, "s.db"), LC_ALL="C.UTF-8")
    if not os.path.exists(env["INVSCALE_DB"]):
        run(bin_, ["init"], env)
    rows = []
    for i in range(items):
        p = prompts[i] if prompts else f"Question {i} of {batch}: is it so?"
        rows.append({"prompt": p, "classes": classes})
    for i in range(gold):
        rows.append({"prompt": f"Gold question {i} of {batch}?", "classes": classes, "answer_index": i % 2})
    path = os.path.join(work, f"{batch}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    run(bin_, ["ingest", "jsonl", path, "--type", "classification", "--tag", batch], env)
    for a in annotators:
        run(bin_, ["annotator", "add", a], env, check=False)
    args = ["batch", "create", "--name", batch, "--per-item", str(per_item), "--tag", batch]
    if gold:
        args += ["--gold", str(gold)]
    if named:
        args += ["--annotators", ",".join(annotators)]
    run(bin_, args, env)
    return env


_running = []


@atexit.register
def _kill_left():
    """A test that failed half-way leaves no server behind."""
    for p in _running:
        if p.poll() is None:
            p.kill()
            p.wait()


class Server:
    """`invscale serve` on a free port; the links it printed by name."""

    def __init__(self, bin_, env, batch="b1", extra=()):
        self.proc = subprocess.Popen([bin_, "serve", "--batch", batch, "--listen", "127.0.0.1:0", "--quiet"] + list(extra),
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _running.append(self.proc)
        self.links = {}
        self.url = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.match(r"serving batch \S+ at (\S+)", line)
            if m:
                self.url = m.group(1)
                continue
            m = re.match(r"(\S+)\s+(http\S+#t=(\S+))$", line.strip())
            if m:
                self.links[m.group(1)] = m.group(3)
            if line.startswith("(Ctrl-C"):
                break
        if not self.url:
            self.proc.kill()
            sys.exit(f"the server did not start: {self.proc.stderr.read()}")
        hostport = self.url.split("/")[2]
        self.host, self.port = hostport.rsplit(":", 1)
        self.port = int(self.port)
        self.origin = "http://" + hostport

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return -9, err
        return self.proc.returncode, err


class Client:
    def __init__(self, server, token, origin=True):
        self.s = server
        self.token = token
        self.origin = origin
        self.conn = None

    def request(self, method, path, body=None, headers=None, raw=None):
        h = {}
        if self.token is not None:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None or raw is not None:
            data = raw if raw is not None else json.dumps(body).encode()
            h["Content-Type"] = "application/json"
            if self.origin:
                h["Origin"] = self.s.origin
        if headers:
            for k, v in headers.items():
                if v is None:
                    h.pop(k, None)
                else:
                    h[k] = v
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.s.host, self.s.port, timeout=30)
                self.conn.request(method, "/api/v1/" + path, body=data, headers=h)
                r = self.conn.getresponse()
                text = r.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        try:
            j = json.loads(text)
        except ValueError:
            j = None
        return r.status, j, r

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)


def sql(db, query):
    import sqlite3
    c = sqlite3.connect(db)
    try:
        return c.execute(query).fetchall()
    finally:
        c.close()


def scratch():
    return tempfile.mkdtemp(prefix="ivs-serve-")
