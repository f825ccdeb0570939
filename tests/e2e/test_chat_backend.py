"""Black-box tests of examples/chat_backend: auth, rate limits, CORS, SSE (with an independent SSE
parser), cancellation on disconnect, background tasks, and WebSockets through the npm `ws` client."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serval_proc import ServalProcess, build_dir  # noqa: E402

SECRET = "chat-backend-test-secret-0123456789abcdef"
ORIGIN = "http://app.example:3000"
HERE = os.path.dirname(os.path.abspath(__file__))


def chat_backend_path():
    return os.environ.get("SERVAL_CHAT_BACKEND", os.path.join(build_dir(), "bin", "chat_backend"))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims, secret=SECRET, alg="HS256"):
    """An HS256 JWT made with Python's hmac: independent of serval's signer."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = (header + "." + payload).encode()
    sig = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()) if alg == "HS256" else ""
    return header + "." + payload + "." + sig


def parse_sse(text):
    """A Server-Sent Events parser written from the WHATWG spec (not serval's code): returns
    a list of {"event", "id", "data"} dispatched events."""
    events, data, event, last_id = [], [], "", ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data:
                events.append({"event": event or "message", "id": last_id, "data": "\n".join(data)})
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        elif field == "id":
            last_id = value
    return events


class ChatBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ServalProcess(chat_backend_path(), [
            "--threads", "2", "--jwt-secret", SECRET, "--api-keys", "key-one,key-two",
            "--rate-limit", "10/minute", "--cors-origin", ORIGIN])
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def stats(self):
        return json.loads(self.request("GET", "/stats")[2])

    # --- auth -------------------------------------------------------------------------------
    def test_me_with_a_valid_token(self):
        token = mint({"sub": "alice", "scope": "me:read chat:write", "exp": int(time.time()) + 300})
        status, headers, body = self.request("GET", "/me", headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"sub": "alice", "scopes": ["me:read", "chat:write"]})
        self.assertRegex(headers["x-request-id"], r"^[A-Za-z0-9._-]{8,128}$")

    def test_me_without_token_is_401(self):
        status, headers, body = self.request("GET", "/me")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body), {"detail": "Not authenticated"})
        self.assertEqual(headers["www-authenticate"], "Bearer")

    def test_expired_and_forged_tokens_are_401(self):
        expired = mint({"sub": "alice", "scope": "me:read", "exp": int(time.time()) - 3600})
        forged = mint({"sub": "alice", "scope": "me:read", "exp": int(time.time()) + 300}, secret="x" * 40)
        unsigned = mint({"sub": "alice", "scope": "me:read", "exp": int(time.time()) + 300}, alg="none")
        for token in (expired, forged, unsigned, "not.a.jwt"):
            status, headers, body = self.request("GET", "/me", headers={"Authorization": "Bearer " + token})
            self.assertEqual(status, 401, token)
            self.assertEqual(json.loads(body), {"detail": "Could not validate credentials"})
            self.assertIn('error="invalid_token"', headers["www-authenticate"])

    def test_missing_scope_is_403(self):
        token = mint({"sub": "bob", "scope": "chat:write", "exp": int(time.time()) + 300})
        status, headers, body = self.request("GET", "/me", headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body), {"detail": "Not enough permissions"})
        self.assertIn('scope="me:read"', headers["www-authenticate"])
        self.assertIn('error="insufficient_scope"', headers["www-authenticate"])

    # --- API key + rate limit ----------------------------------------------------------------
    def test_echo_needs_an_api_key(self):
        status, _, body = self.request("POST", "/echo", body="{}", headers={"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        status, _, _ = self.request("POST", "/echo", body="{}",
                                    headers={"Content-Type": "application/json", "X-API-Key": "wrong"})
        self.assertEqual(status, 401)

    def test_rate_limit_per_api_key(self):
        headers = {"Content-Type": "application/json", "X-API-Key": "key-one"}
        payload = json.dumps({"message": "hi", "n": [1, 2, 3]})
        for i in range(10):
            status, h, body = self.request("POST", "/echo", body=payload, headers=headers)
            self.assertEqual(status, 200, (i, body))
            self.assertEqual(json.loads(body), json.loads(payload))
            self.assertEqual(h["ratelimit-limit"], "10")
            self.assertEqual(h["ratelimit-remaining"], str(9 - i))
        status, h, body = self.request("POST", "/echo", body=payload, headers=headers)
        self.assertEqual(status, 429)
        self.assertIn("Rate limit exceeded", json.loads(body)["detail"])
        self.assertGreaterEqual(int(h["retry-after"]), 1)
        self.assertLessEqual(int(h["retry-after"]), 60)
        self.assertEqual(h["ratelimit-remaining"], "0")
        # Another key has its own bucket.
        status, _, _ = self.request("POST", "/echo", body=payload,
                                    headers={"Content-Type": "application/json", "X-API-Key": "key-two"})
        self.assertEqual(status, 200)

    # --- CORS --------------------------------------------------------------------------------
    def test_cors_preflight_and_simple_request(self):
        status, h, _ = self.request("OPTIONS", "/echo", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key"})
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-origin"], ORIGIN)
        self.assertIn("POST", h["access-control-allow-methods"])
        self.assertEqual(h["access-control-allow-credentials"], "true")
        status, h, _ = self.request("OPTIONS", "/echo", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 400)
        self.assertNotIn("access-control-allow-origin", h)
        status, h, _ = self.request("GET", "/stats", headers={"Origin": ORIGIN})
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-origin"], ORIGIN)
        self.assertIn("origin", h.get("vary", "").lower())

    # --- SSE ---------------------------------------------------------------------------------
    def test_events_stream_is_valid_sse(self):
        start = time.monotonic()
        status, h, body = self.request("GET", "/events?n=5")
        elapsed = time.monotonic() - start
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/event-stream")
        events = parse_sse(body.decode())
        self.assertEqual([e["id"] for e in events], ["0", "1", "2", "3", "4"])
        self.assertTrue(all(e["event"] == "tick" for e in events))
        self.assertEqual([json.loads(e["data"])["index"] for e in events], [0, 1, 2, 3, 4])
        self.assertGreaterEqual(elapsed, 0.035)  # 10 ms apart

    def test_events_with_curl_as_an_independent_client(self):
        curl = shutil.which("curl")
        if curl is None:
            self.skipTest("curl not installed")
        out = subprocess.run([curl, "-sN", "--max-time", "10", self.srv.url("/events?n=3")],
                             capture_output=True, timeout=15, check=True).stdout.decode()
        self.assertEqual(len(parse_sse(out)), 3)

    def test_client_gone_mid_stream_stops_the_producer_within_100ms(self):
        before = self.stats()
        sock = socket.create_connection((self.srv.host, self.srv.port), timeout=5)
        sock.sendall(b"GET /events?n=100000 HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while received.count(b"data:") < 3:
            chunk = sock.recv(4096)
            self.assertTrue(chunk)
            received += chunk
        sock.close()
        closed_at = time.monotonic()
        while time.monotonic() - closed_at < 2.0:
            now = self.stats()
            if now["streams_cancelled"] == before["streams_cancelled"] + 1:
                break
            time.sleep(0.005)
        took = time.monotonic() - closed_at
        self.assertEqual(now["streams_cancelled"], before["streams_cancelled"] + 1)
        self.assertEqual(now["streams_started"], before["streams_started"] + 1)
        self.assertLess(took, 0.1, "producer stopped %.0f ms after the client left" % (took * 1000))

    # --- background tasks --------------------------------------------------------------------
    def test_notes_are_appended_after_202(self):
        status, _, body = self.request("POST", "/notes", body=json.dumps({"text": "remember the milk"}),
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 202)
        self.assertEqual(json.loads(body), {"status": "accepted"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            notes = json.loads(self.request("GET", "/notes")[2])
            if "remember the milk" in notes:
                break
            time.sleep(0.01)
        self.assertIn("remember the milk", notes)

    def test_background_failure_is_logged_and_counted(self):
        before = self.stats()["background_failed"]
        status, _, _ = self.request("POST", "/notes", body=json.dumps({"text": "fail"}),
                                    headers={"Content-Type": "application/json"})
        self.assertEqual(status, 202)  # the client was answered before the task ran
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.stats()["background_failed"] == before:
            time.sleep(0.01)
        self.assertEqual(self.stats()["background_failed"], before + 1)
        self.assertTrue(self.srv.wait_for_stderr("background task failed: note rejected", 5))

    def test_notes_validation(self):
        status, _, body = self.request("POST", "/notes", body="{}", headers={"Content-Type": "application/json"})
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(body)["detail"][0]["loc"], ["body", "text"])

    # --- WebSocket ---------------------------------------------------------------------------
    def test_websocket_echo_with_npm_ws(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node not installed")
        result = subprocess.run([node, os.path.join(HERE, "ws_client.mjs"),
                                 "ws://%s:%d/ws/echo" % (self.srv.host, self.srv.port)],
                                capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr.decode() + result.stdout.decode())
        report = json.loads(result.stdout.decode().strip().splitlines()[-1])
        self.assertTrue(report.get("text_echo"), report)
        self.assertTrue(report.get("binary_echo"), report)

    # --- docs --------------------------------------------------------------------------------
    def test_openapi_has_security_schemes(self):
        doc = json.loads(self.request("GET", "/openapi.json")[2])
        schemes = doc["components"]["securitySchemes"]
        self.assertEqual(schemes["bearerAuth"]["scheme"], "bearer")
        self.assertEqual(schemes["APIKeyHeader"]["in"], "header")
        self.assertEqual(doc["paths"]["/me"]["get"]["security"], [{"bearerAuth": ["me:read"]}])
        self.assertNotIn("/ws/echo", doc["paths"])


if __name__ == "__main__":
    unittest.main()
