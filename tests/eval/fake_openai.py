"""A small OpenAI-compatible completions server for the openai: backend's
tests, answering in the shapes vLLM documents for /v1/completions with
echo and logprobs (choices[0].logprobs.tokens / token_logprobs /
text_offset, the first token's log-prob null), and vLLM's error object.

Its "tokenizer" splits text into runs of leading whitespace plus
non-whitespace; a token's log-prob is a fixed function of the model's size
and the token (see token_logprob), so a test can compute the expected scores
on its own.  The model id chooses a behaviour, then a size:
  toy-S          normal
  strict-S       HTTP 400 when max_tokens is 0 (wants at least one token)
  flaky-S        the first attempt for each prompt gets 503, then 429 with Retry-After: 0, then OK
  slow-S         answers after 3 seconds
  lag-S          answers after 0.15 seconds
  badjson-S      HTTP 200 with a body that is not JSON
  drop-S         promises 5000 bytes, sends 20 and closes the connection
  auth-S         HTTP 401 unless "Authorization: Bearer sekrit"
  noecho-S       log-probs for the generated token only (llama.cpp's server, issue 27174)
  nsamp-S        generation: HTTP 400 for n > 1 (a server that samples one completion a request)
  onechoice-S    generation: answers n > 1 with one choice (a server that ignores n)
  nolp-S         generation: no logprobs in the answer (only text and usage)
with S one of s, m, l.  A request without echo is a generation (see generate): n
choices of words whose repetition grows with S, stop strings honoured, the tokens
in choices[].logprobs.tokens, usage.completion_tokens.  GET /stats gives {"requests": N, "by_model": {...},
"nul_prompts": prompts received with a NUL character}.
Usage: fake_openai.py PORT_FILE  (listens on 127.0.0.1, an ephemeral port,
written to PORT_FILE).
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCALE = {"s": 1.0, "m": 1.3, "l": 1.7}
TOKEN = re.compile(r"\s*\S+|\s+$")


def tokenize(text):
    toks, off = [], 0
    for m in TOKEN.finditer(text):
        toks.append((m.group(0), m.start()))
        off = m.end()
    assert off == len(text)
    return toks


def token_logprob(size, tok):
    """Deterministic, negative, depends on model size and token text."""
    h = sum((i + 1) * ord(c) for i, c in enumerate(tok)) % 1000
    return -SCALE[size] * (0.05 + h / 400.0)


WORDS = ["alpha", "beta", "gamma", "delta", "list", "item", "one", "two", "three", "click", "here", "buy", "now",
         "free", "offer", "review", "great", "product", "the", "a", "of", "and", "price", "$5", "today", "again"]
REPEAT = {"s": 0.2, "m": 0.5, "l": 0.8}


def generate(size, prompt, seed, index, max_tokens, stop):
    """One completion: (text, tokens, finish_reason, stop_reason).  Words from a
    generator seeded by (seed, index, prompt); after (1 - REPEAT) of max_tokens the
    last three words repeat.  Stop strings cut the text before the first one."""
    import random
    rng = random.Random("%s|%s|%s|%s" % (size, seed, index, prompt))
    loop_at = int((1 - REPEAT[size]) * max_tokens)
    toks = []
    for t in range(max_tokens):
        toks.append(toks[t - 3] if t >= loop_at and t >= 3 else " " + rng.choice(WORDS))
    text = "".join(toks)
    for k in range(len(toks) + 1):
        part = "".join(toks[:k])
        hits = [st for st in (stop or []) if st in part]
        if hits:
            first = min(hits, key=lambda st: part.index(st))
            return part[:part.index(first)], toks[:k], "stop", first
    return text, toks, "length", None


lock = threading.Lock()
stats = {"requests": 0, "by_model": {}, "nul_prompts": 0}
attempts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            with lock:
                self.reply(200, stats)
        else:
            self.reply(404, {"object": "error", "message": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n))
        model = req.get("model", "")
        kind, _, size = model.rpartition("-")
        with lock:
            stats["requests"] += 1
            stats["by_model"][model] = stats["by_model"].get(model, 0) + 1
            stats["nul_prompts"] += "\x00" in str(req.get("prompt", ""))
            key = (model, req.get("prompt"))
            attempt = attempts.get(key, 0)
            attempts[key] = attempt + 1
        if self.path != "/v1/completions":
            return self.reply(404, {"object": "error", "message": "no such route %s" % self.path})
        if size not in SCALE:
            return self.reply(404, {"object": "error", "message": "The model `%s` does not exist." % model})
        if kind == "auth" and self.headers.get("Authorization") != "Bearer sekrit":
            return self.reply(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        if kind == "strict" and req.get("max_tokens", 16) < 1:
            return self.reply(400, {"object": "error", "message": "max_tokens must be at least 1, got 0.",
                                    "type": "BadRequestError", "code": 400})
        if kind == "flaky" and attempt == 0:
            return self.reply(503, {"object": "error", "message": "server overloaded"})
        if kind == "flaky" and attempt == 1:
            return self.reply(429, {"object": "error", "message": "rate limited"}, headers=[("Retry-After", "0")])
        if kind == "slow":
            time.sleep(3)
        if kind == "lag":
            time.sleep(0.15)
        if kind == "badjson":
            return self.reply(200, raw=b'{"id": "cmpl-1", "choices": [{"text": "oops"')
        if kind == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'{"id": "cmpl-1", "ch')
            self.wfile.flush()
            self.close_connection = True
            return
        if not req.get("echo"):
            n = req.get("n", 1)
            if kind == "nsamp" and n > 1:
                return self.reply(400, {"object": "error", "message": "n > 1 is not supported", "type": "BadRequestError",
                                        "code": 400})
            if kind == "onechoice":
                n = 1
            stop = req.get("stop")
            if isinstance(stop, str):
                stop = [stop]
            choices, used = [], 0
            for k in range(n):
                text, toks, fr, sr = generate(size, req["prompt"], req.get("seed"), k, req.get("max_tokens", 16), stop)
                used += len(toks)
                ch = {"index": k, "text": text, "finish_reason": fr, "stop_reason": sr}
                if req.get("logprobs") is not None and kind != "nolp":
                    ch["logprobs"] = {"tokens": toks, "token_logprobs": [-1.0] * len(toks),
                                      "text_offset": [0] * len(toks), "top_logprobs": None}
                choices.append(ch)
            with lock:
                stats.setdefault("gen_params", []).append({k: req.get(k) for k in ("prompt", "n", "temperature", "top_p", "top_k",
                                                                                     "seed", "stop", "max_tokens")})
            return self.reply(200, {"id": "cmpl-gen", "object": "text_completion", "created": 0, "model": model,
                                    "choices": choices, "usage": {"prompt_tokens": 1, "completion_tokens": used,
                                                                  "total_tokens": used + 1}})
        if not req.get("logprobs"):
            return self.reply(400, {"object": "error", "message": "echo and logprobs required by this test server"})
        text = req["prompt"]
        toks = tokenize(text)
        tokens = [t for t, _ in toks]
        offsets = [o for _, o in toks]
        lps = [None] + [token_logprob(size, t) for t in tokens[1:]]
        out = ""
        if req.get("max_tokens", 16) >= 1:  # one generated token, as a real server would add
            tokens.append(" the")
            offsets.append(len(text))
            lps.append(-0.5)
            out = " the"
        if kind == "noecho":
            tokens, offsets, lps = [" the"], [len(text)], [-0.5]
            out = " the"
        self.reply(200, {
            "id": "cmpl-test", "object": "text_completion", "created": 0, "model": model,
            "choices": [{"index": 0, "text": text + out, "finish_reason": "length",
                         "logprobs": {"tokens": tokens, "token_logprobs": lps, "text_offset": offsets,
                                      "top_logprobs": [None] + [{t: l} for t, l in zip(tokens[1:], lps[1:])]}}],
            "usage": {"prompt_tokens": len(toks), "completion_tokens": len(tokens) - len(toks),
                      "total_tokens": len(tokens)}})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, a failed run) close early: not news


def start(work):
    """Runs this server in a child process for a test; returns (process, base URL)."""
    import os
    import subprocess
    port_file = os.path.join(work, "port")
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), port_file])
    for _ in range(200):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    return proc, "http://127.0.0.1:%s/v1" % open(port_file).read()


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
