#!/usr/bin/env python3
"""The load of bench/serve: N scripted annotators on `invscale serve`, each
doing the page's loop (next, think time 0, submit) until the batch is full;
five of them take two items each and walk away (an idle session: the leases
must run out and the items go to someone else).  Then the checks in SQL.

usage: serve_load.py INVSCALE STORE BATCH URL TOKENS.json LEAD_TOKEN OUT.json
TOKENS.json: {"name": token, ...}.  Prints p50/p99 per call, judgments/s
and the checks; exits 1 when a check fails."""
import http.client
import json
import multiprocessing as mp
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

BIN, STORE, BATCH, URL, TOKENS, LEAD, OUT = sys.argv[1:8]
hostport = URL.split("/")[2]
HOST, PORT = hostport.rsplit(":", 1)
PORT = int(PORT)
ORIGIN = "http://" + hostport
ABANDONERS = 5  # of the annotators, these take two items each and leave without submitting


def truth(item):
    return random.Random(item * 7919).choice([" Yes", " No"])


def annotator(name, token, seed, abandon, q):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    head = {"Authorization": "Bearer " + token, "Content-Type": "application/json", "Origin": ORIGIN}
    lat = {"next": [], "submit": []}
    acked, abandoned, errors = [], [], []
    seq = 0
    empty = 0

    def call(path, body):
        nonlocal conn
        data = json.dumps(body)
        for _ in range(5):
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/" + path, body=data, headers=head)
                r = conn.getresponse()
                text = r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
                continue
            lat[path].append(time.perf_counter() - t)
            if r.status == 200:
                return json.loads(text)
            errors.append(f"{path}: {r.status} {text[:200]!r}")
            time.sleep(0.05)
        return None

    if abandon:
        # an idle session: takes two items and walks away; their leases must
        # run out and the items go to others
        r = call("next", {"count": 2})
        abandoned = [it["item"] for it in r["items"]] if r else []
        q.put({"name": name, "lat": lat, "acked": acked, "abandoned": abandoned, "errors": errors[:10]})
        return
    while True:
        r = call("next", {"count": 1})
        if r is None:
            break
        if not r["items"]:
            # items may still come back from abandoned leases: wait past a lease
            empty += 1
            if empty > 12:
                break
            time.sleep(0.25)
            continue
        empty = 0
        it = r["items"][0]
        seq += 1
        label = truth(it["item"]) if rng.random() < 0.8 else rng.choice(it["classes"])
        sid = f"{name}-{seq}"
        r = call("submit", {"submits": [{"id": sid, "item": it["item"], "label": label, "seconds": 0}]})
        if r is None:
            break
        res = r["results"][0]
        if res["status"] in ("stored", "revised", "same") or (res["status"] == "repeat" and res["first"] == "stored"):
            acked.append([sid, it["item"], time.time()])
        elif res["status"] != "refused":
            errors.append(f"submit: {res}")
    q.put({"name": name, "lat": lat, "acked": acked, "abandoned": abandoned, "errors": errors[:10]})


def process(batch, q):
    threads = [threading.Thread(target=annotator, args=a + (q,)) for a in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def main():
    tokens = json.load(open(TOKENS))
    names = sorted(tokens)
    work = [(n, tokens[n], i, i < ABANDONERS) for i, n in enumerate(names)]
    procs_n = min(10, len(work))
    q = mp.Queue()
    groups = [work[i::procs_n] for i in range(procs_n)]
    t0 = time.perf_counter()
    w0 = time.time()
    procs = [mp.Process(target=process, args=(g, q)) for g in groups]
    for p in procs:
        p.start()
    results = [q.get() for _ in range(len(work))]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    lat = {"next": [], "submit": []}
    acked, abandoned, errors, times = [], [], [], []
    for r in results:
        for k in lat:
            lat[k] += r["lat"][k]
        acked += [(r["name"], sid, item) for sid, item, _ in r["acked"]]
        times += [t for _, _, t in r["acked"]]
        abandoned += [(r["name"], item) for item in r["abandoned"]]
        errors += r["errors"]
    db = sqlite3.connect(STORE)
    (bid, K), = db.execute("SELECT id, per_item FROM batches WHERE name = ?", (BATCH,))
    stored = db.execute("SELECT count(*) FROM judgments WHERE batch_id = ?", (bid,)).fetchone()[0]
    items = db.execute("SELECT count(*) FROM batch_items WHERE batch_id = ?", (bid,)).fetchone()[0]
    ids = set(db.execute("SELECT a.name, s.client_id FROM submits s JOIN annotators a ON a.id = s.annotator_id"
                         " WHERE s.batch_id = ? AND s.kind = 'judgment'", (bid,)).fetchall())
    over = db.execute("SELECT count(*) FROM (SELECT example_id FROM judgments WHERE batch_id = ? GROUP BY 1"
                      " HAVING count(*) > ?)", (bid, K)).fetchone()[0]
    full = db.execute("SELECT count(*) FROM (SELECT example_id FROM judgments WHERE batch_id = ? GROUP BY 1"
                      " HAVING count(*) = ?)", (bid, K)).fetchone()[0]
    doubled = db.execute("SELECT count(*) FROM (SELECT 1 FROM judgments WHERE batch_id = ? GROUP BY example_id, annotator_id"
                         " HAVING count(*) > 1)", (bid,)).fetchone()[0]
    lost = [a for a in acked if (a[0], a[1]) not in ids]
    reused = 0
    for name, item in abandoned:
        n = db.execute("SELECT count(*) FROM judgments WHERE batch_id = ? AND example_id = ?", (bid, item)).fetchone()[0]
        reused += n == K
    db.close()
    # the lead's numbers against the CLI's
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    conn.request("GET", "/api/v1/summary", headers={"Authorization": "Bearer " + LEAD})
    summary = json.loads(conn.getresponse().read())
    cli = json.loads(subprocess.run([BIN, "--db", STORE, "agreement", "--batch", BATCH, "--format", "json", "--bootstrap", "0"],
                                    capture_output=True, text=True, check=True).stdout)
    out = {
        "annotators": len(names), "items": items, "per_item": K, "wall_seconds": wall,
        "judgments_acknowledged": len(acked), "judgments_stored": stored, "submit_ids_stored": len(ids),
        "lost": len(lost), "doubled": doubled, "items_over_k": over, "items_full": full,
        "abandoned": len(abandoned), "abandoned_reused": reused,
        "alpha_server": summary["agreement"]["alpha"], "alpha_cli": cli["alpha"],
        "fleiss_server": summary["agreement"].get("fleiss_kappa"), "fleiss_cli": cli.get("fleiss_kappa"),
        "latency_ms": {k: {"calls": len(v), "p50": pct(v, 50) * 1000, "p99": pct(v, 99) * 1000, "max": max(v) * 1000}
                       for k, v in lat.items()},
        "judgments_per_second": stored / wall, "errors": errors[:10],
        # the rate while items are there to take: up to the last acknowledgment
        # before the tail that waits for the abandoned leases to run out
        "judgments_per_second_busy": (len(times) - len(abandoned)) / (sorted(times)[len(times) - len(abandoned) - 1] - w0)
        if len(times) > len(abandoned) else 0,
    }
    json.dump(out, open(OUT, "w"), indent=1)
    print(f"{len(names)} annotators, {items} items x K={K}: {stored} judgments in {wall:.2f} s = {stored / wall:.0f} judgments/s"
          f" overall (with the wait for the abandoned leases), {out['judgments_per_second_busy']:.0f} judgments/s"
          f" up to the last {len(abandoned)} (the abandoned items)")
    for k, v in out["latency_ms"].items():
        print(f"  {k:7s} {v['calls']:6d} calls  p50 {v['p50']:6.2f} ms  p99 {v['p99']:6.2f} ms  max {v['max']:7.2f} ms")
    checks = [
        ("acknowledged = stored", len(acked) == stored == len(ids) and not lost,
         f"{len(acked)} acknowledged, {stored} stored, {len(ids)} submit ids, {len(lost)} acknowledged but missing"),
        ("0 doubled", doubled == 0, f"{doubled} (item, annotator) pairs judged twice"),
        ("no item over K", over == 0, f"{over} items over K"),
        ("every item filled to K", full == items, f"{full} of {items} items with K judgments"),
        ("expired leases reused", bool(abandoned) and reused == len(abandoned),
         f"{reused} of {len(abandoned)} abandoned items judged K times by others after their lease ran out"),
        ("alpha equal to invscale agreement's", out["alpha_server"] == out["alpha_cli"],
         f"server {out['alpha_server']!r}, CLI {out['alpha_cli']!r}"),
        ("Fleiss' kappa equal", out["fleiss_server"] == out["fleiss_cli"], f"server {out['fleiss_server']!r}, CLI {out['fleiss_cli']!r}"),
        ("no errors", not errors, "; ".join(errors[:3])),
    ]
    bad = 0
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        bad += not ok
    sys.exit(1 if bad else 0)


main()
