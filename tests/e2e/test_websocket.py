"""WebSocket end to end: the real ws_echo binary (examples/ws_echo) against an independent client, the
npm package `ws` v8 (through ws_client.mjs), plus a hand-written client over a raw socket for the
handshake and protocol errors, and the 1001 goodbye when the server drains on SIGTERM."""

import faulthandler
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serval_proc import ServalProcess, build_dir  # noqa: E402

CLIENT = os.path.join(HERE, "ws_client.mjs")
NODE = shutil.which("node") or "/usr/bin/node"
SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="          # RFC 6455 §1.3
SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def ws_echo_path():
    return os.environ.get("SERVAL_WS_ECHO", os.path.join(build_dir(), "bin", "ws_echo"))


def wait_ready(srv, timeout=10.0):
    """Routes answer 503 until the app's start-up has run: wait for GET /ready to say 200."""
    deadline = time.monotonic() + timeout
    while True:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=2)
        try:
            conn.request("GET", "/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise AssertionError("GET /ready never answered 200:\n" + srv.stderr_text())
        time.sleep(0.02)


def handshake(key=SAMPLE_KEY, version="13", extra=""):
    return ("GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n%s\r\n" % (key, version, extra)).encode()


def client_frame(opcode, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawClient:
    """Just enough of a WebSocket client to poke at the server byte by byte."""

    def __init__(self, srv):
        self.sock = srv.connect(timeout=5)
        self.buf = b""

    def close(self):
        self.sock.close()

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed before the response head")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return int(lines[0].split()[1]), headers

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed mid-frame")
            self.buf += chunk

    def read_frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        self.last_unmasked = not (b1 & 0x80)
        n, pos = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, pos = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(pos + n)
        payload, self.buf = self.buf[pos:pos + n], self.buf[pos + n:]
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def eof(self, timeout=5):
        """True when the server closes the TCP connection within `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False


class WebSocketE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ServalProcess(ws_echo_path(), ["--threads", "2"])
        cls.addClassCleanup(cls.srv.stop)
        cls.srv.start()
        wait_ready(cls.srv)

    @classmethod
    def tearDownClass(cls):
        # After every connection above, SIGTERM still drains cleanly (and a sanitizer build reports nothing).
        rc = cls.srv.stop()
        if rc != 0:
            raise AssertionError("ws_echo exited with %r:\n%s" % (rc, cls.srv.stderr_text()))

    def url(self):
        return "ws://%s:%d/ws/echo" % (self.srv.host, self.srv.port)

    def raw(self):
        c = RawClient(self.srv)
        self.addCleanup(c.close)
        return c

    def test_independent_client_npm_ws(self):
        p = subprocess.run([NODE, CLIENT, self.url()], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, "ws_client.mjs failed (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
        r = json.loads(p.stdout)
        self.assertTrue(r["deflate_negotiated"], r)
        self.assertTrue(r["extensions"].startswith("permessage-deflate"), r)
        for check in ("text_echo", "binary_echo", "empty_echo", "compressible_200k_echo", "random_512k_echo",
                      "ping_pong", "burst_in_order", "plain_echo", "still_serving"):
            self.assertIs(r[check], True, "%s: %r" % (check, r))
        self.assertEqual(r["plain_extensions"], "", r)
        self.assertEqual(r["normal_close"]["code"], 1000, r)
        self.assertEqual(r["custom_close"]["code"], 4000, r)
        for case in ("too_big_random", "too_big_compressible", "too_big_uncompressed"):
            self.assertEqual(r[case]["code"], 1009, "%s: %r" % (case, r))
        self.assertTrue(self.srv.alive())

    def test_handshake_accept_key_and_echo(self):
        c = self.raw()
        c.sock.sendall(handshake())
        status, headers = c.read_head()
        self.assertEqual(status, 101)
        self.assertEqual(headers["upgrade"].lower(), "websocket")
        self.assertEqual(headers["connection"].lower(), "upgrade")
        self.assertEqual(headers["sec-websocket-accept"], SAMPLE_ACCEPT)
        self.assertNotIn("sec-websocket-extensions", headers)  # not offered
        # Byte by byte, fragmented, with a ping between the fragments.
        stream = (client_frame(0x1, b"Hel", fin=False) + client_frame(0x9, b"ping!") +
                  client_frame(0x0, "lo \u2713".encode()))
        for b in stream:
            c.sock.sendall(bytes([b]))
        self.assertEqual(c.read_frame(), (0xA, True, b"ping!"))
        self.assertEqual(c.read_frame(), (0x1, True, "Hello \u2713".encode()))
        self.assertTrue(c.last_unmasked, "server frames are never masked")
        c.sock.sendall(client_frame(0x8, struct.pack(">H", 1000) + b"bye"))
        op, _, payload = c.read_frame()
        self.assertEqual(op, 0x8)
        self.assertEqual(struct.unpack(">H", payload[:2])[0], 1000)
        self.assertTrue(c.eof(), "the server closes TCP after the close handshake")

    def test_unmasked_frame_is_a_protocol_error(self):
        c = self.raw()
        c.sock.sendall(handshake())
        self.assertEqual(c.read_head()[0], 101)
        c.sock.sendall(client_frame(0x1, b"naked", mask=None))
        op, _, payload = c.read_frame()
        self.assertEqual(op, 0x8)
        self.assertEqual(struct.unpack(">H", payload[:2])[0], 1002)
        c.sock.sendall(client_frame(0x8, payload[:2]))
        self.assertTrue(c.eof())

    def test_invalid_utf8_is_1007(self):
        c = self.raw()
        c.sock.sendall(handshake())
        self.assertEqual(c.read_head()[0], 101)
        c.sock.sendall(client_frame(0x1, b"\xc3\x28"))
        op, _, payload = c.read_frame()
        self.assertEqual((op, struct.unpack(">H", payload[:2])[0]), (0x8, 1007))

    def test_bad_handshakes_are_json_errors(self):
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("GET", "/ws/echo")
        r = conn.getresponse()
        self.assertEqual(r.status, 400)
        self.assertIn("Upgrade", json.loads(r.read())["detail"])

        c = self.raw()
        c.sock.sendall(handshake(version="8"))
        status, headers = c.read_head()
        self.assertEqual(status, 426)
        self.assertEqual(headers["sec-websocket-version"], "13")
        self.assertTrue(headers["content-type"].startswith("application/json"))

        c2 = self.raw()
        c2.sock.sendall(handshake(key="not-base64!"))
        self.assertEqual(c2.read_head()[0], 400)

    def test_not_in_openapi(self):
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("GET", "/openapi.json")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertNotIn("/ws/echo", json.loads(r.read())["paths"])


class WebSocketDrainE2E(unittest.TestCase):
    def test_sigterm_closes_open_websockets_with_1001(self):
        srv = ServalProcess(ws_echo_path(), ["--threads", "1", "--drain-timeout-ms", "8000"])
        self.addCleanup(srv.stop)
        srv.start()
        wait_ready(srv)
        node = subprocess.Popen([NODE, CLIENT, "ws://%s:%d/ws/echo" % (srv.host, srv.port), "--hold"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: node.poll() is None and node.kill())
        opened = json.loads(node.stdout.readline() or "{}")
        self.assertTrue(opened.get("open"), node.stderr.read() if node.poll() is not None else opened)
        started = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        self.assertEqual(srv.wait(10), 0, srv.stderr_text())
        elapsed = time.monotonic() - started
        out, err = node.communicate(timeout=10)
        closed = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(closed["close"]["code"], 1001, out + err)
        self.assertIn("serval: drained", srv.stderr_text())
        self.assertLess(elapsed, 5, "the close handshake, not the drain deadline, should end the connection")


if __name__ == "__main__":
    faulthandler.dump_traceback_later(int(os.environ.get("SERVAL_TEST_WATCHDOG", "160")), exit=True)
    unittest.main(verbosity=2)
