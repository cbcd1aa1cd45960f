#!/usr/bin/env python3
"""The annotation server's protocol, over real HTTP against `invscale serve`:
tokens (wrong, revoked, another annotator's, the lead's), the origin and
content-type checks, body limits, malformed JSON, refused judgments (not
assigned, outside the classes, not in the batch), idempotent submits, undo as
a revision, leases that run out and are reused, rate limits, gold answers
never sent to an annotator, the lead's alpha equal to `invscale agreement`'s,
and a clean stop on SIGTERM.  What is stored is checked in SQLite.

usage: protocol_test.py INVSCALE"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Client, Server, make_store, run, scratch, sql  # noqa: E402

BIN = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def expect(status, got, what):
    check(got[0] == status, f"{what}: expected {status}, got {got[0]} {got[1]}")
    if got[0] >= 400:
        j = got[1]
        check(isinstance(j, dict) and j.get("status") == got[0] and isinstance(j.get("error"), str),
              f"{what}: the error answer is JSON with status and error: {j}")
    return got


FORBIDDEN_KEYS = {"gold", "answer", "answer_index", "final", "final_method", "correct", "is_gold"}


def raw_post(srv, token, body, chunked=False):
    """A POST through a plain socket, so that the answer can be read even when
    the server refuses the body before it is all sent: the status code."""
    import socket
    sk = socket.create_connection((srv.host, srv.port), timeout=30)
    head = (f"POST /api/v1/submit HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nOrigin: {srv.origin}\r\n")
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {len(body)}\r\n\r\n"
    got = b""
    try:
        sk.sendall(head.encode())
        for i in range(0, len(body), 65536):
            part = body[i:i + 65536]
            sk.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
        if chunked:
            sk.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # refused before the end: the answer is waiting
    try:
        while b"\r\n" not in got:
            d = sk.recv(4096)
            if not d:
                break
            got += d
    except OSError:
        pass
    sk.close()
    try:
        return int(got.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def no_gold(obj, where):
    """Gold answers and the gold flag are never in an annotator's answer."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            check(k not in FORBIDDEN_KEYS, f"{where}: key '{k}' in an annotator's answer")
            no_gold(v, where)
    elif isinstance(obj, list):
        for v in obj:
            no_gold(v, where)


def main():
    work = scratch()
    try:
        env = make_store(BIN, work, items=12, gold=4, per_item=2)
        db = env["INVSCALE_DB"]
        srv = Server(BIN, env, extra=["--rate", "100"])  # bursts of 400
        check(set(srv.links) == {"lead", "alice", "bob", "carol"}, f"links printed: {sorted(srv.links)}")
        alice, bob, carol = (Client(srv, srv.links[n]) for n in ("alice", "bob", "carol"))
        lead = Client(srv, srv.links["lead"])
        # only hashes are stored
        hashes = [h for (h,) in sql(db, "SELECT token_hash FROM links")]
        check(all(len(h) == 64 for h in hashes) and not any(t in hashes for t in srv.links.values()),
              "links are stored as SHA-256 hashes, never the token")

        # ---- tokens ----
        expect(401, Client(srv, None).get("session"), "no token")
        expect(401, Client(srv, "x" * 43).get("session"), "a wrong token")
        expect(401, Client(srv, srv.links["alice"][:-1] + ("A" if srv.links["alice"][-1] != "A" else "B")).get("session"),
               "a token one character off")
        expect(401, alice.request("GET", "session", headers={"Authorization": "Basic abc"}), "not a Bearer header")
        s = expect(200, alice.get("session"), "alice's session")[1]
        check(s["role"] == "annotator" and s["annotator"] == "alice" and s["batch"] == "b1", f"session: {s}")
        no_gold(s, "session")
        expect(403, alice.get("summary"), "a lead-only call with an annotator's token")
        expect(403, alice.post("links", {"annotator": "alice", "action": "new"}), "links with an annotator's token")
        expect(403, lead.post("next", {}), "an annotator's call with the lead's token")
        expect(404, alice.get("nothing"), "an unknown endpoint")
        expect(405, alice.get("next"), "GET on a POST endpoint")

        # ---- origin, content type, bodies ----
        expect(403, alice.request("POST", "next", {}, headers={"Origin": "http://evil.example"}), "a cross-site Origin")
        expect(403, alice.request("POST", "next", {}, headers={"Origin": None}), "a POST without Origin or Sec-Fetch-Site")
        expect(403, alice.request("POST", "next", {}, headers={"Origin": None, "Sec-Fetch-Site": "cross-site"}),
               "Sec-Fetch-Site: cross-site")
        expect(200, alice.request("POST", "next", {"count": 1}, headers={"Origin": None, "Sec-Fetch-Site": "same-origin"}),
               "Sec-Fetch-Site: same-origin")
        expect(415, alice.request("POST", "next", {}, headers={"Content-Type": "text/plain"}), "a text/plain POST")
        expect(415, alice.request("POST", "next", {}, headers={"Content-Type": "application/x-www-form-urlencoded"}),
               "a form POST")
        big = b'{"submits":[' + b" " * (1 << 20) + b"]}"
        check(raw_post(srv, srv.links["alice"], big) == 413, "a 1 MiB body (Content-Length): 413")
        check(raw_post(srv, srv.links["alice"], big, chunked=True) == 413, "a 1 MiB body (chunked): 413")
        just_over = b'{"count":1' + b" " * (65536 - 10) + b"}"
        expect(413, alice.request("POST", "next", raw=just_over), "a body of 65537 bytes")
        at_limit = b'{"count":1' + b" " * (65536 - 11) + b"}"
        check(len(at_limit) == 65536, "the at-limit body is 64 KiB")
        expect(200, alice.request("POST", "next", raw=at_limit), "a body of exactly 64 KiB")
        expect(400, alice.request("POST", "submit", raw=b'{"submits": [ {"id": "x", '), "malformed JSON")
        expect(400, alice.request("POST", "submit", raw=b'[1, 2]'), "a JSON array body")
        expect(400, alice.request("POST", "submit", raw=b'{"submits": 3}'), "submits not an array")
        expect(400, alice.request("POST", "submit", raw=b'{"a":1} {"b":2}'), "two JSON values")
        expect(400, alice.request("POST", "submit", raw=b'[' * 100 + b']' * 100), "nesting too deep")
        expect(400, alice.post("submit", {"submits": [{"id": "", "item": 1, "label": " Yes"}]}), "an empty submit id")
        expect(400, alice.post("submit", {"submits": [{"id": "k", "item": 1, "kind": "vote", "label": " Yes"}]}),
               "an unknown kind")
        expect(400, alice.post("next", {"count": 1000}), "count out of range")

        # ---- handing out and refusals ----
        items = {}
        for c, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            r = expect(200, c.post("next", {"count": 20}), f"{name}'s next")[1]
            no_gold(r, f"{name}'s next")
            items[name] = [it["item"] for it in r["items"]]
            assigned = {i for (i,) in sql(db, f"SELECT example_id FROM assignments x JOIN annotators a ON a.id = x.annotator_id"
                                              f" JOIN batches b ON b.id = x.batch_id WHERE a.name = '{name}' AND b.name = 'b1'")}
            check(set(items[name]) <= assigned and len(items[name]) == len(assigned),
                  f"{name} gets exactly the items assigned to them: {items[name]} vs {sorted(assigned)}")
            for it in r["items"]:
                check(set(it) == {"item", "prompt", "classes", "lease_expires"}, f"item keys: {sorted(it)}")
                check(it["classes"] == [" Yes", " No"], f"classes as stored: {it['classes']}")
        not_alices = sorted(set(items["bob"]) - set(items["alice"]))
        check(bool(not_alices), "some item is not alice's")
        before = sql(db, "SELECT count(*) FROM judgments")[0][0]
        r = expect(200, alice.post("submit", {"submits": [{"id": "n1", "item": not_alices[0], "label": " Yes"}]}),
                   "a judgment for an item not assigned to alice")[1]
        check(r["results"][0]["status"] == "refused" and "not handed out" in r["results"][0]["error"],
              f"refused, not assigned: {r}")
        mine = items["alice"][0]
        r = alice.post("submit", {"submits": [{"id": "n2", "item": mine, "label": "Yes"}]})[1]
        check(r["results"][0]["status"] == "refused" and "not one of" in r["results"][0]["error"],
              f"refused, a label outside the classes ('Yes' without its space): {r}")
        r = alice.post("submit", {"submits": [{"id": "n3", "item": 999999, "label": " Yes"}]})[1]
        check(r["results"][0]["status"] == "refused" and "not in batch" in r["results"][0]["error"], f"not in the batch: {r}")
        check(sql(db, "SELECT count(*) FROM judgments")[0][0] == before, "nothing stored by refused submits")
        check(sql(db, "SELECT count(*) FROM submits")[0][0] == 0, "no submit id recorded for refusals")

        # ---- idempotent submits, in bulk ----
        subs = [{"id": f"a-{i}", "item": it, "label": [" Yes", " No"][i % 2], "seconds": 1.5 + i, "guideline": 0}
                for i, it in enumerate(items["alice"])]
        r = expect(200, alice.post("submit", {"submits": subs}), "alice submits all her items in bulk")[1]
        no_gold(r, "submit")
        check([x["status"] for x in r["results"]] == ["stored"] * len(subs), f"all stored: {r}")
        r = expect(200, alice.post("submit", {"submits": subs[:3]}), "the same submits retried")[1]
        check([x["status"] for x in r["results"]] == ["repeat"] * 3 and all(x["first"] == "stored" for x in r["results"]),
              f"a retried submit is a repeat: {r}")
        n_alice = sql(db, "SELECT count(*) FROM judgments j JOIN annotators a ON a.id = j.annotator_id WHERE a.name = 'alice'")[0][0]
        check(n_alice == len(subs), f"each of alice's judgments stored once: {n_alice} of {len(subs)}")
        r = alice.post("submit", {"submits": [{"id": "a-0", "item": items["alice"][1], "label": " Yes"}]})[1]
        check(r["results"][0]["status"] == "refused", f"a submit id reused for another item is refused: {r}")
        p = expect(200, alice.get("progress"), "alice's progress")[1]
        check(p["done"] == len(subs) and p["total"] == len(subs) and p["median_seconds"] is not None, f"progress: {p}")
        r = alice.post("next", {"count": 5})[1]
        check(r["items"] == [], f"nothing more for alice: {r}")

        # ---- undo: the last judgment handed out again, choosing again is a revision ----
        r = expect(200, alice.post("undo", {}), "undo")[1]
        no_gold(r, "undo")
        last = r["items"][0]
        check(last["item"] == items["alice"][-1] and last["label"] == subs[-1]["label"], f"undo gives the last judgment: {r}")
        r2 = alice.post("undo", {"before": last["item"]})[1]
        check(r2["items"][0]["item"] == items["alice"][-2], f"undo again goes one further back: {r2}")
        flip = " No" if last["label"] == " Yes" else " Yes"
        r = alice.post("submit", {"submits": [{"id": "u-1", "item": last["item"], "label": flip}]})[1]
        check(r["results"][0]["status"] == "revised", f"choosing again revises: {r}")
        hist = sql(db, f"SELECT h.label FROM judgment_history h JOIN judgments j ON j.id = h.judgment_id WHERE j.example_id = {last['item']}")
        check(hist == [(last["label"],)], f"the old label is in judgment_history: {hist}")
        check(sql(db, f"SELECT label FROM judgments WHERE example_id = {last['item']} AND annotator_id = (SELECT id FROM annotators WHERE name = 'alice')") == [(flip,)],
              "the judgment holds the new label")

        # ---- another annotator's work ----
        r = bob.post("submit", {"submits": [{"id": "b-x", "item": items["alice"][0], "label": " Yes"}]})[1]
        only_alice = [i for i in items["alice"] if i not in items["bob"]]
        if only_alice:
            r = bob.post("submit", {"submits": [{"id": "b-y", "item": only_alice[0], "label": " Yes"}]})[1]
            check(r["results"][0]["status"] == "refused", f"bob cannot judge alice's item: {r}")
        r = bob.post("undo", {})[1]
        check(r["items"] == [] or r["items"][0]["item"] in items["bob"], f"bob's undo never shows alice's work: {r}")
        subs_b = [{"id": f"b-{i}", "item": it, "label": " Yes"} for i, it in enumerate(items["bob"])]
        bob.post("submit", {"submits": subs_b})
        subs_c = [{"id": f"c-{i}", "item": it, "label": [" No", " Yes"][i % 3 == 0]} for i, it in enumerate(items["carol"])]
        carol.post("submit", {"submits": subs_c})
        # skip and flag
        r = carol.post("submit", {"submits": [{"id": "c-f", "item": items["carol"][0], "kind": "flag", "note": "odd <b>wording</b>"}]})[1]
        check(r["results"][0]["status"] == "stored", f"a flag: {r}")
        check(sql(db, "SELECT note FROM item_marks WHERE kind = 'flag'") == [("odd <b>wording</b>",)], "the flag's note stored as sent")

        # ---- gold: scored on the server, never sent ----
        gold_ids = {i for (i,) in sql(db, "SELECT example_id FROM batch_items WHERE gold = 1")}
        check(bool(gold_ids & (set(items["alice"]) | set(items["bob"]) | set(items["carol"]))), "gold items were handed out")

        # ---- the lead ----
        s = expect(200, lead.get("summary"), "the lead's summary")[1]
        cli = json.loads(run(BIN, ["agreement", "--batch", "b1", "--format", "json", "--bootstrap", "0"], env).stdout)
        check(s["agreement"]["alpha"] == cli["alpha"], f"alpha equal to invscale agreement's: {s['agreement']} vs {cli['alpha']}")
        check(s["agreement"]["fleiss_kappa"] == cli.get("fleiss_kappa"),
              f"Fleiss' kappa equal: {s['agreement'].get('fleiss_kappa')} vs {cli.get('fleiss_kappa')}")
        rows = {a["name"]: a for a in s["annotators"]}
        check(rows["alice"]["done"] == len(subs) and rows["carol"]["flagged"] == 1, f"per annotator: {rows}")
        gold_alice = sql(db, "SELECT count(*), sum(e.classes ->> ('$[' || e.answer_index || ']') = j.label) FROM judgments j"
                             " JOIN examples e ON e.id = j.example_id JOIN batch_items bi ON bi.example_id = e.id AND bi.gold = 1"
                             " JOIN annotators a ON a.id = j.annotator_id WHERE a.name = 'alice'")[0]
        check(rows["alice"]["gold_judgments"] == gold_alice[0] and rows["alice"]["gold_correct"] == (gold_alice[1] or 0),
              f"gold accuracy scored on the server: {rows['alice']} vs {gold_alice}")
        check(sum(s["coverage"]) == 16 and s["complete"] == s["coverage"][-1], f"coverage: {s['coverage']}")
        d = expect(200, lead.get("disagreements?max=0.7"), "disagreements")[1]
        check(bool(d["items"]), f"the judgments made disagree somewhere: {d}")
        if d["items"]:
            it = d["items"][0]
            r = expect(200, lead.post("adjudicate", {"item": it["item"], "label": it["classes"][0]}), "adjudicate")[1]
            check(sql(db, f"SELECT label, method FROM final_labels WHERE example_id = {it['item']}") == [(it["classes"][0], "adjudication")],
                  "the adjudication is the final label")
            expect(422, lead.post("adjudicate", {"item": it["item"], "label": "nope"}), "adjudicating outside the classes")
        expect(422, lead.post("adjudicate", {"item": 999999, "label": " Yes"}), "adjudicating an item not in the batch")

        # ---- revoking, while the server runs ----
        run(BIN, ["serve", "links", "b1", "--revoke", "carol"], env)
        expect(401, carol.get("session"), "a revoked token")
        r = expect(200, lead.post("links", {"annotator": "carol", "action": "new"}), "the lead makes carol a new link")[1]
        check(r["link"].startswith(srv.url + "annotate#t="), f"the new link: {r}")
        carol2 = Client(srv, r["link"].split("#t=")[1])
        check(carol2.get("session")[1]["annotator"] == "carol", "carol's new link works")
        expect(200, lead.post("links", {"annotator": "carol", "action": "revoke"}), "the lead revokes carol")
        expect(401, carol2.get("session"), "revoked by the lead")
        lk = expect(200, lead.get("links"), "the links")[1]
        check([l["role"] for l in lk["links"]][0] == "lead" and not any("token" in json.dumps(l) for l in lk["links"]),
              f"links listed without tokens: {lk}")

        # ---- rate limits ----
        dave = run(BIN, ["serve", "links", "b1", "--new", "dave"], env).stdout.split("#t=")[1].strip()
        dc = Client(srv, dave)
        codes = [dc.get("session")[0] for _ in range(1200)]
        check(429 in codes and codes[0] == 200, f"per-token rate limit: {codes.count(429)} answers 429 of 1200")
        st, j, resp = dc.get("session")
        if st == 429:
            check(resp.getheader("Retry-After") is not None and j["status"] == 429, "a 429 says when to retry")
        check(alice.get("session")[0] == 200, "another token is not limited by dave's requests")

        # ---- headers: no cookies, no CORS, strict CSP ----
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
        for path in ("/annotate", "/lead", "/static/annotate.js", "/api/v1/session"):
            conn.request("GET", path, headers={"Authorization": "Bearer " + srv.links["alice"], "Origin": "http://evil.example"})
            r = conn.getresponse()
            body = r.read()
            heads = {k.lower(): v for k, v in r.getheaders()}
            check(r.status == 200, f"GET {path}: {r.status}")
            check("set-cookie" not in heads, f"{path}: no cookie")
            check(not any(k.startswith("access-control-") for k in heads), f"{path}: no CORS headers")
            csp = heads.get("content-security-policy", "")
            check("script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp, f"{path}: CSP {csp}")
            check(heads.get("x-content-type-options") == "nosniff", f"{path}: nosniff")
            if path.endswith(("annotate", "lead")):
                check(b"<script>" not in body.replace(b"<script src=", b"") and b"innerHTML" not in body, f"{path}: no inline script")
        conn.close()
        for name in ("annotate.js", "lead.js", "common.js"):
            src = open(os.path.join(os.path.dirname(__file__), "..", "..", "serve", "web", name)).read()
            check("innerHTML" not in src and "insertAdjacentHTML" not in src and "eval(" not in src and "document.write" not in src,
                  f"{name}: text through textContent only")

        code, err = srv.stop()
        check(code == 0 and "stopped" in err, f"SIGTERM stops cleanly: exit {code}, {err[-200:]}")

        # ---- behind a reverse proxy under a path: --public-url ----
        import socket
        sk = socket.socket()
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
        sk.close()
        public = f"http://127.0.0.1:{port}/team/"
        p = subprocess.Popen([BIN, "serve", "--batch", "b1", "--listen", f"127.0.0.1:{port}", "--public-url", public, "--quiet"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = ""
        for line in p.stdout:
            out += line
            if line.startswith("(Ctrl-C"):
                break
        check(f"serving batch b1 at {public}" in out, f"the public URL is announced: {out}")
        tok = run(BIN, ["serve", "links", "b1", "--new", "bob", "--public-url", public], env).stdout.split("#t=")[1].strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/team/api/v1/session", "/api/v1/session"):  # with the prefix (a proxy passing it) or without
            conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
            r = conn.getresponse()
            r.read()
            check(r.status == 200, f"GET {path} behind a prefix: {r.status}")
        conn.request("GET", "/team/annotate")
        r = conn.getresponse()
        page = r.read().decode()
        check(r.status == 200 and 'src="static/annotate.js"' in page and 'href="/' not in page and 'src="/' not in page,
              "the page's URLs are relative")
        for origin, want in ((f"http://127.0.0.1:{port}", 200), (f"http://localhost:{port}", 403), ("https://127.0.0.1", 403)):
            conn.request("POST", "/team/api/v1/next", body="{}", headers={"Authorization": "Bearer " + tok,
                         "Content-Type": "application/json", "Origin": origin})
            r = conn.getresponse()
            r.read()
            check(r.status == want, f"Origin {origin} with --public-url {public}: {r.status}, expected {want}")
        conn.close()
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=20) == 0, "stopped")
        # IPv6, where the machine has it
        try:
            s6 = socket.socket(socket.AF_INET6)
            s6.bind(("::1", 0))
            s6.close()
            have6 = True
        except OSError:
            have6 = False
        if have6:
            p = subprocess.Popen([BIN, "serve", "--batch", "b1", "--listen", "[::1]:0", "--quiet"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = p.stdout.readline()
            check(line.startswith("serving batch b1 at http://[::1]:"), f"IPv6: {line}")
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)

        # ---- leases: an open batch, K = 1, leases of 1 s ----
        env2 = make_store(BIN, work, items=3, per_item=1, batch="open", named=False, annotators=("x1", "x2", "x3"))
        for n in ("x1", "x2", "x3"):
            run(BIN, ["serve", "links", "open", "--new", n], env2)
        srv2 = Server(BIN, env2, batch="open", extra=["--lease", "1"])
        run(BIN, ["serve", "links", "open", "--new-lead"], env2)
        toks = {}
        for n in ("x1", "x2", "x3"):
            toks[n] = run(BIN, ["serve", "links", "open", "--new", n], env2).stdout.split("#t=")[1].strip()
        x1, x2, x3 = (Client(srv2, toks[n]) for n in ("x1", "x2", "x3"))
        a = x1.post("next", {"count": 1})[1]["items"]
        b = x2.post("next", {"count": 3})[1]["items"]
        check(len(a) == 1 and a[0]["item"] not in [i["item"] for i in b] and len(b) == 2,
              f"a leased item is not handed to another annotator: {a} / {b}")
        again = x1.post("next", {"count": 1})[1]["items"]
        check(again and again[0]["item"] == a[0]["item"], f"an annotator's live lease comes back to them (resume): {again}")
        time.sleep(1.3)
        c = x3.post("next", {"count": 3})[1]["items"]
        check(a[0]["item"] in [i["item"] for i in c], f"an expired lease goes back to the pool: {c}")
        r = x1.post("submit", {"submits": [{"id": "late", "item": a[0]["item"], "label": " No"}]})[1]
        check(r["results"][0]["status"] == "stored", f"a judgment sent after its lease ran out is kept: {r}")
        r = x3.post("submit", {"submits": [{"id": "x3-1", "item": a[0]["item"], "label": " Yes"}]})[1]
        check(r["results"][0]["status"] == "refused", f"the item's K is then full: {r}")
        over = sql(env2["INVSCALE_DB"], "SELECT bi.example_id, count(j.id) FROM batch_items bi JOIN batches b ON b.id = bi.batch_id"
                                        " LEFT JOIN judgments j ON j.example_id = bi.example_id AND j.batch_id = b.id"
                                        " WHERE b.name = 'open' GROUP BY 1 HAVING count(j.id) > 1")
        check(over == [], f"no item over K: {over}")
        code, err = srv2.stop(signal.SIGINT)
        check(code == 0, f"SIGINT stops cleanly: {code}")
        check(sql(env2["INVSCALE_DB"], "PRAGMA integrity_check") == [("ok",)], "integrity_check after the stop")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)
    print("ok")


main()
