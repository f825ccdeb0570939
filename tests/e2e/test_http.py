"""Black-box HTTP tests: drive the real classifier_api (and `serval serve`) over raw sockets and http.client.

Run by CTest with Debian's /usr/bin/python3 (standard library only). By hand:
    /usr/bin/python3 tests/e2e/test_http.py -v [TestClass.test_name]
Binary paths: $SERVAL_CLASSIFIER_API and $SERVAL_CLI (default build/bin/...).
"""

import faulthandler
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serval_proc import REPO, ServalProcess, classifier_api_path, serval_cli_path  # noqa: E402

IO_TIMEOUT = 5.0  # every socket operation

# ---------------------------------------------------------------------------------------------------
# The reference: the same spam model file read by Debian's python3-fasttext, independent of serval.
_SPAM = None


def reference_predict(text):
    global _SPAM
    if _SPAM is None:
        import fasttext
        fasttext.FastText.eprint = lambda *a, **k: None
        models = os.environ.get("SERVAL_MODELS_DIR", os.path.join(REPO, "models"))
        folder = os.path.join(models, "spam", "1")
        name = next(f for f in sorted(os.listdir(folder)) if f.endswith((".bin", ".ftz")))
        _SPAM = fasttext.load_model(os.path.join(folder, name))
    # The model's preprocessing (models/spam/model.yaml: lowercase, truncate_bytes 2000), done in Python.
    raw = text.encode("utf-8")
    if len(raw) > 2000:
        cut = raw[:2000].rfind(b" ")
        raw = raw[:cut if cut > 0 else 2000]
    text = bytes(c + 32 if 65 <= c <= 90 else c for c in raw).decode("utf-8", "replace")
    labels, scores = _SPAM.predict(text.replace("\n", " "), k=1)
    return {"label": labels[0].replace("__label__", ""), "score": min(1.0, float(scores[0]))}


def same_prediction(got, want):
    """Same label, same score up to float32 rounding (serval reports fastText's float as a double)."""
    return set(got) == {"label", "score"} and got["label"] == want["label"] and abs(got["score"] - want["score"]) < 1e-5


# ---------------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 client over a raw socket: exact control over bytes and framing.
class Response:
    def __init__(self):
        self.version = None
        self.status = None
        self.reason = None
        self.header_list = []
        self.body = b""
        self.chunks = None  # list of chunk payloads when the body was chunked

    def header(self, name, default=None):
        vals = [v for k, v in self.header_list if k.lower() == name.lower()]
        return ", ".join(vals) if vals else default

    def has_header(self, name):
        return any(k.lower() == name.lower() for k, _ in self.header_list)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%s %s %r %r>" % (self.version, self.status, self.header_list, self.body[:300])


class PeerClosed(Exception):
    pass


class RawConn:
    def __init__(self, host, port, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    @classmethod
    def to(cls, srv, timeout=IO_TIMEOUT):
        return cls(srv.host, srv.port, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise PeerClosed("peer closed the connection; buffered: %r" % self.buf[:200])
        self.buf += data

    def read_until(self, delim, limit=1 << 20):
        while delim not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError("no %r within %d bytes" % (delim, limit))
            self._fill()
        i = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_to_eof(self):
        while True:
            try:
                self._fill()
            except PeerClosed:
                break
        out, self.buf = self.buf, b""
        return out

    def read_head(self):
        r = Response()
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")[:-2]
        m = re.match(r"^(HTTP/1\.[01]) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("bad status line %r" % lines[0])
        r.version, r.status, r.reason = m.group(1), int(m.group(2)), m.group(3) or ""
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if not sep:
                raise AssertionError("bad header line %r" % line)
            r.header_list.append((k.strip(), v.strip()))
        return r

    def read_response(self, method="GET"):
        """Reads one final response (1xx responses are returned too: call again)."""
        r = self.read_head()
        if method == "HEAD" or r.status < 200 or r.status in (204, 304):
            return r
        te = (r.header("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            r.chunks = []
            while True:
                size_line = self.read_until(b"\r\n").decode("latin-1").strip()
                size = int(size_line.split(";")[0], 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":  # trailers
                        pass
                    break
                r.chunks.append(self.read_exact(size))
                if self.read_exact(2) != b"\r\n":
                    raise AssertionError("chunk not followed by CRLF")
            r.body = b"".join(r.chunks)
        elif r.header("Content-Length") is not None:
            r.body = self.read_exact(int(r.header("Content-Length")))
        else:
            r.body = self.read_to_eof()
        return r

    def request(self, method, path, body=None, headers=None, version="HTTP/1.1"):
        self.send(build_request(method, path, body, headers, version))
        return self.read_response(method)

    def wait_closed(self, timeout=3.0):
        """(closed, extra_bytes): closed is True if the peer closed (FIN or RST) within `timeout` s."""
        deadline = time.monotonic() + timeout
        extra = self.buf
        self.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, extra
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False, extra
            except (ConnectionResetError, BrokenPipeError):
                return True, extra
            finally:
                self.sock.settimeout(IO_TIMEOUT)
            if not data:
                return True, extra
            extra += data


def build_request(method, path, body=None, headers=None, version="HTTP/1.1"):
    hdrs = [("Host", "127.0.0.1")]
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.append(("Content-Type", "application/json"))
    elif isinstance(body, str):
        body = body.encode()
    given = {k.lower() for k, _ in (headers or [])}
    hdrs = [(k, v) for k, v in hdrs if k.lower() not in given] + list(headers or [])
    if body is not None and "content-length" not in given and "transfer-encoding" not in given:
        hdrs.append(("Content-Length", str(len(body))))
    out = "%s %s %s\r\n" % (method, path, version)
    out += "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n"
    return out.encode("latin-1") + (body or b"")


def closes_connection(conn, timeout=3.0):
    closed, _ = conn.wait_closed(timeout)
    return closed


# ---------------------------------------------------------------------------------------------------
class ServerCase(unittest.TestCase):
    """One classifier_api per test class, started with ARGS; stopped even when tests fail."""

    ARGS = []
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = ServalProcess(classifier_api_path(), cls.ARGS)
        cls.addClassCleanup(cls.srv.stop)
        cls.srv.start()

    def setUp(self):
        self.assertTrue(self.srv.alive(), "server died earlier; stderr:\n%s" % self.srv.stderr_text())

    def conn(self, timeout=IO_TIMEOUT):
        c = RawConn.to(self.srv, timeout)
        self.addCleanup(c.close)
        return c

    def http(self):
        c = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=IO_TIMEOUT)
        self.addCleanup(c.close)
        return c

    def post_json(self, path, payload, conn=None, headers=None):
        c = conn or self.conn()
        return c.request("POST", path, payload, headers)

    def assertJsonError(self, r, status, detail=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)
        body = r.json()
        self.assertEqual(list(body.keys()), ["detail"], body)
        if detail is None:
            self.assertIsInstance(body["detail"], str, body)
            self.assertTrue(body["detail"], body)
        else:
            self.assertEqual(body["detail"], detail)
        return body

    def assertValidation(self, r, type_, loc, msg, input_=None, ctx=None, check_input=True):
        self.assertEqual(r.status, 422, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)
        body = r.json()
        self.assertEqual(list(body.keys()), ["detail"], body)
        self.assertIsInstance(body["detail"], list, body)
        self.assertEqual(len(body["detail"]), 1, body)
        err = body["detail"][0]
        self.assertEqual(err.get("type"), type_, body)
        self.assertEqual(err.get("loc"), loc, body)
        self.assertEqual(err.get("msg"), msg, body)
        self.assertIn("input", err, body)
        if check_input:
            self.assertEqual(err["input"], input_, body)
        if ctx is not None and "ctx" in err:
            self.assertEqual(err["ctx"], ctx, body)
        return err

    def assertPrediction(self, r, text):
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)
        got = r.json()
        want = reference_predict(text)
        self.assertEqual(set(got), {"label", "score"}, got)
        self.assertEqual(got["label"], want["label"], "text %r" % text[:80])
        self.assertIsInstance(got["score"], float, got)
        self.assertAlmostEqual(got["score"], want["score"], delta=1e-5, msg="text %r" % text[:80])


# ---------------------------------------------------------------------------------------------------
class RoutesTest(ServerCase):
    def test_health(self):
        r = self.conn().request("GET", "/health")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.version, "HTTP/1.1")
        self.assertTrue(r.header("Content-Type").startswith("application/json"), r)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertEqual(int(r.header("Content-Length")), len(r.body))

    def test_health_http_client(self):
        c = self.http()
        c.request("GET", "/health")
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(resp.read()), {"status": "ok"})
        # same connection again (http.client reuses it)
        c.request("GET", "/health?probe=1&x=%20y")
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(resp.read()), {"status": "ok"})

    PREDICT_TEXTS = [
        "I love this movie, it is great!",            # 2 pos
        "terrible, awful and sad",                     # 3 neg
        "good but bad",                                # tie -> POSITIVE 0.5
        "The weather report for Tuesday",              # 0/0 -> POSITIVE 0.5
        "GOOD Great LoVe worst",                       # case-insensitive 3/1
        "goodness gracious, badly",                    # no whole words
        "best2worst",                                  # digits split: tie
        "don't hate it, it's horrible_poor",           # 3 neg
        "café is good, naïve is bad, and sad 😢",      # unicode: 1 pos, 2 neg
        "😀happy😀 Ünicode bäd",                      # non-ASCII bytes split words
        "goodé",                                       # "good" + non-letter bytes
        "wonderful excellent nice best happy hate",    # 5/1
        "a",                                           # min length
    ]

    def test_predict_values(self):
        c = self.conn()
        for text in self.PREDICT_TEXTS:
            with self.subTest(text=text):
                self.assertPrediction(c.request("POST", "/predict", {"text": text}), text)

    def test_predict_obvious_cases(self):
        # Literal expectations, independent of the reference above: the real spam model at work.
        cases = [
            ("CONGRATULATIONS!!! You have WON a FREE cash prize of $1,000,000. Click here now to claim "
             "your reward, limited time offer, act now! Unsubscribe", "spam"),
            ("Make money fast from home! Guaranteed income, no experience needed. Order now and get a "
             "100% free bonus. Visit our website to remove yourself from this mailing list.", "spam"),
            ("Hi Tom, I looked at the patch you sent yesterday. The build fails on the ARM machines "
             "because of the alignment change; can you take another look before the release?", "ham"),
            ("The meeting notes from Tuesday are on the wiki. Let me know if I missed anything about "
             "the kernel config discussion.", "ham"),
        ]
        c = self.conn()
        for text, label in cases:
            with self.subTest(text=text):
                got = c.request("POST", "/predict", {"text": text}).json()
                self.assertEqual(got["label"], label, got)
                self.assertGreater(got["score"], 0.5)

    def test_predict_json_escapes(self):
        # \u escapes (incl. a surrogate pair) must be decoded before scoring.
        c = self.conn()
        body = b'{"text": "\\u0067ood \\ud83d\\ude00nice\\tday \\"bad\\""}'
        r = c.request("POST", "/predict", body, [("Content-Type", "application/json")])
        self.assertPrediction(r, 'good \U0001F600nice\tday "bad"')
        # extra unknown fields are ignored (pydantic default)
        self.assertPrediction(c.request("POST", "/predict", {"text": "sad", "extra": [1, 2]}), "sad")
        # content type with parameters is still JSON
        r = c.request("POST", "/predict", b'{"text":"great"}',
                      [("Content-Type", "application/json; charset=utf-8")])
        self.assertPrediction(r, "great")

    def test_predict_length_limits_in_characters(self):
        c = self.conn()
        text = ("good " * 2000)[:10000]
        self.assertEqual(len(text), 10000)
        self.assertPrediction(c.request("POST", "/predict", {"text": text}), text)
        # 10000 characters of 2 bytes each is still 10000 characters
        text = "é" * 10000
        self.assertPrediction(c.request("POST", "/predict", {"text": text}), text)
        text = "😀" * 10000  # 4 bytes each, one character each
        self.assertPrediction(c.request("POST", "/predict", {"text": text}), text)

    # ------------------------------------------------------------------ 422
    def test_422_missing(self):
        self.assertValidation(self.post_json("/predict", {}), "missing", ["body", "text"], "Field required", {})
        self.assertValidation(self.post_json("/predict", {"txt": "good"}), "missing", ["body", "text"],
                              "Field required", {"txt": "good"})

    def test_422_too_short(self):
        self.assertValidation(self.post_json("/predict", {"text": ""}), "string_too_short", ["body", "text"],
                              "String should have at least 1 character", "", ctx={"min_length": 1})

    def test_422_too_long(self):
        for text in ("x" * 10001, "é" * 10001):
            with self.subTest(chars=text[0]):
                self.assertValidation(self.post_json("/predict", {"text": text}), "string_too_long",
                                      ["body", "text"], "String should have at most 10000 characters", text,
                                      ctx={"max_length": 10000})

    def test_422_string_type(self):
        for value in (5, None, ["a"], {"a": 1}, True, 1.5):
            with self.subTest(value=value):
                self.assertValidation(self.post_json("/predict", {"text": value}), "string_type",
                                      ["body", "text"], "Input should be a valid string", value)

    def test_422_json_invalid(self):
        c = self.conn()
        r = c.request("POST", "/predict", b'{"text": x}', [("Content-Type", "application/json")])
        err = self.assertValidation(r, "json_invalid", ["body", 9], "JSON decode error", check_input=False)
        if "ctx" in err:
            self.assertIsInstance(err["ctx"].get("error"), str, err)
        for raw in (b'{"text": "ok",}', b'{"text": "unterminated', b'[1, 2', b'nul'):
            with self.subTest(body=raw):
                r = c.request("POST", "/predict", raw, [("Content-Type", "application/json")])
                self.assertEqual(r.status, 422, r)
                err = r.json()["detail"][0]
                self.assertEqual(err["type"], "json_invalid", err)
                self.assertEqual(err["msg"], "JSON decode error", err)
                self.assertEqual(err["loc"][0], "body", err)
                self.assertEqual(len(err["loc"]), 2, err)
                self.assertIsInstance(err["loc"][1], int, err)
                self.assertTrue(0 <= err["loc"][1] <= len(raw), err)

    def test_422_not_json_content_type(self):
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            with self.subTest(content_type=ctype):
                r = self.conn().request("POST", "/predict", b'{"text": "good"}', [("Content-Type", ctype)])
                self.assertEqual(r.status, 422, r)
                body = r.json()
                self.assertIsInstance(body["detail"], list, body)
                self.assertTrue(body["detail"], body)
                for err in body["detail"]:
                    self.assertEqual({"type", "loc", "msg", "input"} - set(err), set(), err)
                    self.assertEqual(err["loc"][0], "body", err)

    def test_422_generate(self):
        c = self.conn()
        self.assertValidation(c.request("POST", "/generate", {}), "missing", ["body", "prompt"],
                              "Field required", {})
        self.assertValidation(c.request("POST", "/generate", {"prompt": ""}), "string_too_short",
                              ["body", "prompt"], "String should have at least 1 character", "")
        self.assertValidation(c.request("POST", "/generate", {"prompt": "hi", "max_tokens": 0}),
                              "greater_than_equal", ["body", "max_tokens"],
                              "Input should be greater than or equal to 1", 0, ctx={"ge": 1})
        self.assertValidation(c.request("POST", "/generate", {"prompt": "hi", "max_tokens": 257}),
                              "less_than_equal", ["body", "max_tokens"],
                              "Input should be less than or equal to 256", 257, ctx={"le": 256})

    # ------------------------------------------------------------------ 404 / 405 / HEAD / OPTIONS
    def test_404(self):
        c = self.conn()
        for method, path in (("GET", "/nope"), ("POST", "/nope"), ("GET", "/health/extra"), ("GET", "/predictx")):
            with self.subTest(method=method, path=path):
                r = c.request(method, path, {"text": "a"} if method == "POST" else None)
                self.assertJsonError(r, 404, "Not Found")

    def test_405_with_allow(self):
        c = self.conn()
        for method, path, allowed in (("GET", "/predict", "POST"), ("DELETE", "/health", "GET"),
                                      ("PUT", "/generate", "POST"), ("POST", "/health", "GET")):
            with self.subTest(method=method, path=path):
                r = c.request(method, path, {"x": 1} if method in ("PUT", "POST") else None)
                self.assertJsonError(r, 405, "Method Not Allowed")
                allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
                self.assertIn(allowed, allow, r)
                self.assertNotIn(method, allow, r)

    def test_head(self):
        c = self.conn()
        get = c.request("GET", "/health")
        head = c.request("HEAD", "/health")
        self.assertEqual(head.status, 200, head)
        self.assertEqual(head.header("Content-Type"), get.header("Content-Type"))
        self.assertEqual(head.header("Content-Length"), str(len(get.body)), head)
        # No body was sent: the next response on the same connection parses cleanly.
        again = c.request("GET", "/health")
        self.assertEqual(again.json(), {"status": "ok"})
        self.assertEqual(c.buf, b"")
        # HEAD of an unknown path: 404 headers, no body
        r = c.request("HEAD", "/nope")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(c.request("GET", "/health").status, 200)

    def test_options(self):
        c = self.conn()
        for path, method in (("/health", "GET"), ("/predict", "POST"), ("/generate", "POST")):
            with self.subTest(path=path):
                r = c.request("OPTIONS", path)
                self.assertIn(r.status, (200, 204), r)
                allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
                self.assertIn(method, allow, r)
                if r.status == 204:
                    self.assertEqual(r.body, b"")
        self.assertEqual(c.request("GET", "/health").status, 200)

    # ------------------------------------------------------------------ connection management
    def test_keep_alive(self):
        c = self.conn()
        for i in range(6):
            if i % 2:
                text = "good %d bad bad" % i
                self.assertPrediction(c.request("POST", "/predict", {"text": text}), text)
            else:
                r = c.request("GET", "/health")
                self.assertEqual(r.json(), {"status": "ok"})
                self.assertNotIn("close", (r.header("Connection") or "").lower())
        closed, _ = c.wait_closed(0.3)
        self.assertFalse(closed, "server closed a keep-alive connection")

    def test_pipelining(self):
        c = self.conn()
        texts = ["happy happy", "sad", "love hate poor"]
        batch = (build_request("GET", "/health")
                 + build_request("POST", "/predict", {"text": texts[0]})
                 + build_request("GET", "/missing")
                 + build_request("POST", "/predict", {"text": texts[1]})
                 + build_request("HEAD", "/health")
                 + build_request("POST", "/predict", {"text": texts[2]}))
        c.send(batch)
        r = c.read_response()
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertPrediction(c.read_response(), texts[0])
        self.assertJsonError(c.read_response(), 404, "Not Found")
        self.assertPrediction(c.read_response(), texts[1])
        r = c.read_response("HEAD")
        self.assertEqual(r.status, 200, r)
        self.assertPrediction(c.read_response(), texts[2])

    def test_pipelining_ends_with_close(self):
        c = self.conn()
        c.send(build_request("GET", "/health") * 3
               + build_request("POST", "/predict", {"text": "nice"}, [("Connection", "close")]))
        for _ in range(3):
            self.assertEqual(c.read_response().json(), {"status": "ok"})
        self.assertPrediction(c.read_response(), "nice")
        closed, extra = c.wait_closed(3)
        self.assertTrue(closed, "not closed after Connection: close")
        self.assertEqual(extra, b"")

    def test_chunked_request_body(self):
        c = self.conn()
        text = "This is great, I love it, but the ending was bad"
        body = json.dumps({"text": text}).encode()
        parts = [body[:7], body[7:20], body[20:]]
        c.send(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        for i, p in enumerate(parts):
            ext = b";name=value" if i == 1 else b""
            c.send(b"%X%s\r\n%s\r\n" % (len(p), ext, p))
            time.sleep(0.05)
        c.send(b"0\r\nX-Trailer: yes\r\n\r\n")
        self.assertPrediction(c.read_response(), text)
        # the connection is still usable
        self.assertEqual(c.request("GET", "/health").status, 200)

    def test_expect_100_continue(self):
        c = self.conn()
        body = json.dumps({"text": "wonderful"}).encode()
        c.send(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        interim = c.read_head()
        self.assertEqual((interim.version, interim.status), ("HTTP/1.1", 100), interim)
        c.send(body)
        self.assertPrediction(c.read_response(), "wonderful")
        self.assertEqual(c.request("GET", "/health").status, 200)

    def test_connection_close(self):
        c = self.conn()
        r = c.request("GET", "/health", headers=[("Connection", "close")])
        self.assertEqual(r.status, 200)
        closed, extra = c.wait_closed(3)
        self.assertTrue(closed, "server kept the connection open after Connection: close")
        self.assertEqual(extra, b"")

    def test_http10_closes(self):
        c = self.conn()
        c.send(b"GET /health HTTP/1.0\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertNotIn("chunked", (r.header("Transfer-Encoding") or "").lower())
        closed, extra = c.wait_closed(3)
        self.assertTrue(closed, "HTTP/1.0 connection without keep-alive stayed open")
        self.assertEqual(extra, b"")

    # ------------------------------------------------------------------ limits with default settings
    def test_414_uri_too_long(self):
        c = self.conn()
        r = c.request("GET", "/" + "a" * 9000)
        self.assertJsonError(r, 414)
        # a request line under 8 KiB is fine (404 because the path is unknown)
        r = self.conn().request("GET", "/" + "a" * 7000)
        self.assertJsonError(r, 404, "Not Found")

    def test_431_headers_too_large(self):
        r = self.conn().request("GET", "/health", headers=[("X-Big", "a" * 17000)])
        self.assertJsonError(r, 431)
        many = [("X-H%03d" % i, "b" * 200) for i in range(100)]  # ~21 KB of headers
        r = self.conn().request("GET", "/health", headers=many)
        self.assertJsonError(r, 431)
        # 8 KB of headers is under the 16 KiB default
        r = self.conn().request("GET", "/health", headers=[("X-Big", "a" * 8000)])
        self.assertEqual(r.status, 200, r)

    def test_400_malformed(self):
        bad = [
            b"GARBAGE\r\n\r\n",
            b"GET /health HTTX/1.1\r\nHost: x\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\nNo colon in this header\r\n\r\n",
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n",
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ]
        for raw in bad:
            with self.subTest(request=raw[:60]):
                c = self.conn()
                c.send(raw)
                r = c.read_response()
                self.assertJsonError(r, 400)
                self.assertTrue(closes_connection(c), "connection left open after a 400")
        self.assertTrue(self.srv.alive())

    # ------------------------------------------------------------------ SSE
    def parse_sse(self, r, n):
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/event-stream"), r)
        self.assertIn("chunked", (r.header("Transfer-Encoding") or "").lower(), r)
        self.assertIsNone(r.header("Content-Length"), r)
        text = r.body.decode("utf-8")
        self.assertTrue(text.endswith("\n\n"), text[-50:])
        events = text[:-2].split("\n\n")
        self.assertEqual(len(events), n + 1, text[:500])
        self.assertEqual(events[-1], "data: [DONE]")
        for i, ev in enumerate(events[:-1]):
            self.assertTrue(ev.startswith("data: "), ev)
            self.assertNotIn("\n", ev)
            payload = json.loads(ev[len("data: "):])
            self.assertEqual(set(payload), {"token", "index"}, payload)
            self.assertEqual(payload["index"], i, payload)
            self.assertIsInstance(payload["token"], str, payload)
        return events

    def test_sse_generate(self):
        c = self.conn(timeout=15)
        self.parse_sse(c.request("POST", "/generate", {"prompt": "hello world", "max_tokens": 5}), 5)
        self.parse_sse(c.request("POST", "/generate", {"prompt": "x", "max_tokens": 1}), 1)
        self.parse_sse(c.request("POST", "/generate", {"prompt": "default count"}), 32)
        self.parse_sse(c.request("POST", "/generate", {"prompt": "many", "max_tokens": 256}), 256)
        # the connection is reusable after the stream ended
        self.assertEqual(c.request("GET", "/health").json(), {"status": "ok"})

    def test_sse_generate_http_client(self):
        c = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=15)
        self.addCleanup(c.close)
        c.request("POST", "/generate", body=json.dumps({"prompt": "stream me", "max_tokens": 3}),
                  headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.chunked)
        lines = resp.read().decode().split("\n\n")
        self.assertEqual(lines[-2:], ["data: [DONE]", ""])
        self.assertEqual([json.loads(x[6:])["index"] for x in lines[:-2]], [0, 1, 2])


# ---------------------------------------------------------------------------------------------------
class BodyLimitTest(ServerCase):
    ARGS = ["--max-body-bytes", "1024"]

    def body_of_size(self, n):
        base = b'{"text": "'
        end = b'"}'
        return base + b"g" * (n - len(base) - len(end)) + end

    def test_413_content_length(self):
        body = self.body_of_size(1025)
        c = self.conn()
        c.send(build_request("POST", "/predict", body, [("Content-Type", "application/json")]))
        self.assertJsonError(c.read_response(), 413)

    def test_413_content_length_declared_only(self):
        # A declared length over the limit is refused before the body is sent.
        c = self.conn()
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 100000000\r\n\r\n")
        self.assertJsonError(c.read_response(), 413)

    def test_413_chunked(self):
        c = self.conn()
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        body = self.body_of_size(3000)
        try:
            for i in range(0, len(body), 500):
                part = body[i:i + 500]
                c.send(b"%x\r\n%s\r\n" % (len(part), part))
            c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        self.assertJsonError(c.read_response(), 413)

    def test_at_limit_ok(self):
        body = self.body_of_size(1024)
        self.assertEqual(len(body), 1024)
        r = self.conn().request("POST", "/predict", body, [("Content-Type", "application/json")])
        self.assertPrediction(r, "g" * (1024 - 12))


class HeaderLimitTest(ServerCase):
    ARGS = ["--max-header-bytes", "2048"]

    def test_431_custom_limit(self):
        self.assertJsonError(self.conn().request("GET", "/health", headers=[("X-Big", "a" * 3000)]), 431)
        self.assertEqual(self.conn().request("GET", "/health", headers=[("X-Ok", "a" * 1000)]).status, 200)


class TimeoutTest(ServerCase):
    ARGS = ["--read-timeout-ms", "500", "--keep-alive-timeout-ms", "800"]

    def expect_408(self, c, t0):
        r = c.read_response()
        elapsed = time.monotonic() - t0
        self.assertJsonError(r, 408)
        self.assertGreaterEqual(elapsed, 0.4, "408 before the read timeout")
        self.assertLess(elapsed, 3.0, "408 came late")
        self.assertTrue(closes_connection(c), "connection not closed after 408")

    def test_408_partial_body(self):
        c = self.conn()
        t0 = time.monotonic()
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 100\r\n\r\n{\"text\": \"good")
        self.expect_408(c, t0)

    def test_408_partial_head(self):
        c = self.conn()
        t0 = time.monotonic()
        c.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:")
        self.expect_408(c, t0)

    def test_slow_but_in_time(self):
        c = self.conn()
        body = json.dumps({"text": "nice and slow"}).encode()
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        time.sleep(0.1)
        c.send(b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
        time.sleep(0.1)
        c.send(body[5:])
        self.assertPrediction(c.read_response(), "nice and slow")

    def test_idle_keep_alive_closed_silently(self):
        c = self.conn()
        self.assertEqual(c.request("GET", "/health").status, 200)
        t0 = time.monotonic()
        closed, extra = c.wait_closed(4)
        elapsed = time.monotonic() - t0
        self.assertTrue(closed, "idle keep-alive connection not closed after keep-alive timeout")
        self.assertEqual(extra, b"", "idle close must be silent")
        self.assertGreaterEqual(elapsed, 0.6, "closed before the keep-alive timeout")


class MaxConnectionsTest(ServerCase):
    ARGS = ["--max-connections", "4"]

    def test_503_when_full(self):
        conns = [self.conn() for _ in range(4)]
        for c in conns:
            self.assertEqual(c.request("GET", "/health").status, 200)
        extra = self.conn()
        r = extra.read_response()  # nothing sent: the server answers on accept
        self.assertJsonError(r, 503)
        self.assertTrue(closes_connection(extra), "over-limit connection not closed")
        for c in conns:  # existing connections unharmed
            self.assertPrediction(c.request("POST", "/predict", {"text": "still good"}), "still good")
        # freeing a slot lets a new connection in
        conns[0].close()
        deadline = time.monotonic() + 3
        status = None
        while time.monotonic() < deadline:
            c = self.conn()
            try:
                c.send(build_request("GET", "/health"))
                status = c.read_response().status
            except (PeerClosed, ConnectionResetError, BrokenPipeError):
                status = None
            if status == 200:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200, "no slot freed after closing a connection")


# ---------------------------------------------------------------------------------------------------
class ThreadsTest(unittest.TestCase):
    def start(self, args):
        srv = ServalProcess(classifier_api_path(), args)
        self.addCleanup(srv.stop)
        srv.start()
        return srv

    def test_two_threads_concurrent_clients(self):
        srv = self.start(["--threads", "2"])
        self.assertEqual(srv.threads, 2)
        self.assertGreaterEqual(len(os.listdir("/proc/%d/task" % srv.pid)), 2)
        errors = []

        def client(k):
            try:
                c = RawConn.to(srv)
                try:
                    for i in range(25):
                        text = "good " * (k % 3) + "bad " * (i % 4) + "client %d" % k
                        r = c.request("POST", "/predict", {"text": text})
                        if r.status != 200 or not same_prediction(r.json(), reference_predict(text)):
                            errors.append((k, i, r))
                        if c.request("GET", "/health").status != 200:
                            errors.append((k, i, "health"))
                finally:
                    c.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((k, repr(e)))

        ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in ts), "clients hung")
        self.assertEqual(errors, [])

    def test_one_thread_slow_client_does_not_block(self):
        srv = self.start(["--threads", "1"])
        self.assertEqual(srv.threads, 1)
        slow = RawConn.to(srv)
        self.addCleanup(slow.close)
        body = b'{"text": "happy day"}'
        slow.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:4])
        fast = RawConn.to(srv, timeout=2)
        self.addCleanup(fast.close)
        for _ in range(5):
            self.assertEqual(fast.request("GET", "/health").status, 200)
        slow.send(body[4:])
        self.assertPrediction_(slow.read_response(), "happy day")

    def assertPrediction_(self, r, text):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(same_prediction(r.json(), reference_predict(text)), (r.json(), reference_predict(text)))


class DrainTest(unittest.TestCase):
    def start(self, args=()):
        srv = ServalProcess(classifier_api_path(), list(args))
        self.addCleanup(srv.stop, signal.SIGKILL, 1)
        srv.start()
        return srv

    def wait_refused(self, srv, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                s = socket.create_connection((srv.host, srv.port), timeout=1)
            except ConnectionRefusedError:
                return True
            except OSError:
                return True
            s.close()
            time.sleep(0.05)
        return False

    def test_sigterm_finishes_inflight_request(self):
        srv = self.start()
        text = "a wonderful ending after all"
        body = json.dumps({"text": text}).encode()
        c = RawConn.to(srv)
        self.addCleanup(c.close)
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        self.assertTrue(self.wait_refused(srv), "still accepting connections after SIGTERM")
        self.assertTrue(srv.alive(), "exited before the in-flight request was answered")
        c.send(body[10:])
        r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertTrue(same_prediction(r.json(), reference_predict(text)), (r.json(), reference_predict(text)))
        self.assertTrue(closes_connection(c, 5), "connection kept open while draining")
        self.assertEqual(srv.wait(5), 0, srv.stderr_text())
        self.assertIn("serval: drained", srv.stderr_text())

    def test_sigterm_with_idle_keep_alive_exits_promptly(self):
        srv = self.start()
        c = RawConn.to(srv)
        self.addCleanup(c.close)
        self.assertEqual(c.request("GET", "/health").status, 200)
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        code = srv.wait(4)
        self.assertEqual(code, 0, "idle keep-alive connection held the drain (%.1f s); stderr:\n%s"
                         % (time.monotonic() - t0, srv.stderr_text()))
        self.assertIn("serval: drained", srv.stderr_text())

    def test_drain_deadline(self):
        srv = self.start(["--drain-timeout-ms", "1000"])
        c = RawConn.to(srv)
        self.addCleanup(c.close)
        c.send(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 50\r\n\r\n{\"text\"")  # never finished
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        code = srv.wait(4)
        self.assertIsNotNone(code, "did not exit within the 1 s drain deadline (+3 s)")
        self.assertGreaterEqual(time.monotonic() - t0, 0.8, "exited before the drain deadline")
        self.assertEqual(code, 0, srv.stderr_text())

    def test_sigint(self):
        srv = self.start()
        c = RawConn.to(srv)
        self.addCleanup(c.close)
        self.assertEqual(c.request("GET", "/health").status, 200)
        srv.send_signal(signal.SIGINT)
        self.assertEqual(srv.wait(5), 0, srv.stderr_text())
        self.assertIn("serval: drained", srv.stderr_text())


# ---------------------------------------------------------------------------------------------------
class CliServeTest(unittest.TestCase):
    """`serval serve` takes the same options; /openapi.json and /docs exist in every app."""

    def test_serve(self):
        srv = ServalProcess(serval_cli_path(), ["--threads", "1", "--models", "langid"], prefix=["serve"])
        self.addCleanup(srv.stop)
        srv.start()
        self.assertEqual(srv.threads, 1)
        c = RawConn.to(srv)
        self.addCleanup(c.close)
        r = c.request("GET", "/openapi.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["openapi"], "3.1.0")
        r = c.request("GET", "/docs")
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/html"), r)
        self.assertEqual(c.request("GET", "/health").json(), {"status": "ok"})
        r = c.request("GET", "/definitely-not-a-route")
        self.assertEqual((r.status, r.json()), (404, {"detail": "Not Found"}))
        self.assertEqual(srv.stop(), 0, srv.stderr_text())
        self.assertIn("serval: drained", srv.stderr_text())


if __name__ == "__main__":
    # Never hang: dump every thread's stack and exit before CTest's own timeout (children die with us).
    faulthandler.dump_traceback_later(int(os.environ.get("SERVAL_TEST_WATCHDOG", "280")), exit=True)
    unittest.main(verbosity=2)
