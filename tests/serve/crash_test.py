#!/usr/bin/env python3
"""SIGKILL `invscale serve` 30 times at random moments while scripted
annotators submit.  The clients behave as the page does: a submit keeps its
id until it is acknowledged, and is sent again (same id) after the restart.
After each kill: PRAGMA integrity_check is ok, every acknowledged submit is
stored exactly once (its judgment, skip or flag present once, its id once),
no annotator has two judgments of one item and no item is over K.

usage: crash_test.py INVSCALE [ROUNDS]"""
import os
import random
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Client, Server, make_store, run, scratch, sql  # noqa: E402

BIN = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
NAMES = ["w1", "w2", "w3", "w4"]


class Annotator:
    def __init__(self, name, token, rng):
        self.name, self.token, self.rng = name, token, rng
        self.pending = []     # submits sent and not acknowledged (kept across crashes)
        self.acked = {}       # id -> (kind, item)
        self.seq = 0
        self.done = False

    def loop(self, srv, stop):
        c = Client(srv, self.token)
        try:
            # what was not acknowledged before the crash goes first, with its id
            while self.pending and not stop.is_set():
                self.send(c, self.pending[:10])
            while not stop.is_set():
                st, r, _ = c.post("next", {"count": 2})
                if st != 200:
                    continue
                if not r["items"]:
                    self.done = True
                    return
                subs = []
                for it in r["items"]:
                    self.seq += 1
                    kind = "judgment" if self.rng.random() < 0.9 else ("skip" if self.rng.random() < 0.5 else "flag")
                    s = {"id": f"{self.name}-{self.seq}", "item": it["item"], "kind": kind}
                    if kind == "judgment":
                        s["label"] = self.rng.choice(it["classes"])
                    if kind == "flag":
                        s["note"] = "crash test flag"
                    subs.append(s)
                self.pending.extend(subs)
                self.send(c, subs)
        except Exception:  # the server was killed: stop until the restart
            return

    def send(self, c, subs):
        st, r, _ = c.post("submit", {"submits": subs})
        if st != 200:
            return
        for res in r["results"]:
            if res["status"] in ("stored", "revised", "same", "repeat"):
                s = next(x for x in subs if x["id"] == res["id"])
                self.acked[res["id"]] = (s.get("kind", "judgment"), s["item"])
            # a refusal (the item filled up by others meanwhile) is an answer too
            self.pending = [x for x in self.pending if x["id"] != res["id"]]


def verify(db, annotators, round_no):
    bad = []
    ok = sql(db, "PRAGMA integrity_check")
    if ok != [("ok",)]:
        bad.append(f"integrity_check: {ok}")
    ids = {}
    for (aname, cid, kind, item) in sql(db, "SELECT a.name, s.client_id, s.kind, s.example_id FROM submits s"
                                            " JOIN annotators a ON a.id = s.annotator_id"):
        ids.setdefault((aname, cid), []).append((kind, item))
    judged = {}
    for (aname, item, n) in sql(db, "SELECT a.name, j.example_id, count(*) FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                                    " GROUP BY 1, 2"):
        judged[(aname, item)] = n
    marks = {}
    for (aname, item, kind, n) in sql(db, "SELECT a.name, m.example_id, m.kind, count(*) FROM item_marks m"
                                          " JOIN annotators a ON a.id = m.annotator_id GROUP BY 1, 2, 3"):
        marks[(aname, item, kind)] = n
    for a in annotators:
        for cid, (kind, item) in a.acked.items():
            got = ids.get((a.name, cid))
            if got != [(kind, item)]:
                bad.append(f"acknowledged {cid} ({kind} of {item}) stored as {got}")
            if kind == "judgment" and judged.get((a.name, item)) != 1:
                bad.append(f"acknowledged judgment {cid} of item {item}: {judged.get((a.name, item))} rows")
            if kind != "judgment" and marks.get((a.name, item, kind), 0) < 1:
                bad.append(f"acknowledged {kind} {cid} of item {item} not stored")
    twice = [k for k, n in judged.items() if n > 1]
    if twice:
        bad.append(f"two judgments of one item by one annotator: {twice[:5]}")
    over = sql(db, "SELECT j.example_id, count(*) FROM judgments j JOIN batches b ON b.id = j.batch_id"
                   " GROUP BY j.example_id HAVING count(*) > max(b.per_item)")
    drift = sql(db, "SELECT bi.example_id FROM batch_items bi LEFT JOIN (SELECT example_id, count(*) AS n FROM judgments"
                    " GROUP BY 1) c ON c.example_id = bi.example_id WHERE bi.judged <> coalesce(c.n, 0) LIMIT 5")
    if drift:
        bad.append(f"batch_items.judged differs from the judgments' count: {drift}")
    if over:
        bad.append(f"items over K: {over[:5]}")
    # marks are idempotent too: one row per acknowledged skip or flag id
    nmarks = sql(db, "SELECT count(*) FROM item_marks")[0][0]
    nmark_ids = sql(db, "SELECT count(*) FROM submits WHERE kind <> 'judgment'")[0][0]
    if nmarks != nmark_ids:
        bad.append(f"{nmarks} skips and flags stored for {nmark_ids} submit ids")
    return [f"after kill {round_no}: {b}" for b in bad]


def main():
    rng = random.Random(int(os.environ.get("IVS_CRASH_SEED", "14")))
    work = scratch()
    failures = []
    try:
        env = make_store(BIN, work, items=2500, per_item=2, batch="c", named=False, annotators=NAMES)
        db = env["INVSCALE_DB"]
        tokens = {}
        for n in NAMES:
            tokens[n] = run(BIN, ["serve", "links", "c", "--new", n], env).stdout.split("#t=")[1].strip()
        ann = [Annotator(n, tokens[n], random.Random(rng.random())) for n in NAMES]
        kills = 0
        acked_total = 0
        for rnd in range(1, ROUNDS + 1):
            srv = Server(BIN, env, batch="c", extra=["--lease", "2", "--rate", "100000"])
            stop = threading.Event()
            threads = [threading.Thread(target=a.loop, args=(srv, stop)) for a in ann]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.02, 0.35))
            alive = srv.proc.poll() is None
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait()
            kills += alive
            stop.set()
            for t in threads:
                t.join(timeout=30)
            t_verify = time.time()
            errs = verify(db, ann, rnd)
            if os.environ.get("IVS_CRASH_VERBOSE"):
                print(f"round {rnd}: verify {time.time() - t_verify:.2f} s, acked {sum(len(a.acked) for a in ann)}")
            failures += errs
            for e in errs[:5]:
                print("FAIL:", e)
            acked_total = sum(len(a.acked) for a in ann)
            if all(a.done for a in ann):
                # everything judged: a fresh batch keeps the kills landing mid-work
                break
        pending = sum(len(a.pending) for a in ann)
        print(f"{kills} kills while serving, {acked_total} submits acknowledged, {pending} unacknowledged at the end")
        if kills < min(ROUNDS, 10):
            failures.append(f"only {kills} kills landed while the server ran")
        if acked_total < 100:
            failures.append(f"only {acked_total} submits acknowledged: the test proves little")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} problems")
        sys.exit(1)
    print("ok")


main()
