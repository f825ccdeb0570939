"""/docs renders the operations in a real headless browser (Debian's Chromium) from local assets only.

The server listens on 127.0.0.2 (still loopback) on purpose: Swagger UI skips some of its outbound requests
(the online-validator badge) only when the page is on "localhost"/"127.0.0.1", so serving from another
address shows what a user on a real host name would get. Chromium's own background traffic is blocked by
--host-resolver-rules; every request the page makes is read back from Chromium's net-log.
"""

import faulthandler
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serval_proc import ServalProcess, build_dir, classifier_api_path  # noqa: E402

CHROMIUM = os.environ.get("SERVAL_CHROMIUM", "/usr/bin/chromium")
HOST = "127.0.0.2"
BROWSER_TIMEOUT = 90

BASE_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Beyond the base set: keep the browser itself quiet and make sure nothing can leave the machine.
    "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
    "--disable-client-side-phishing-detection", "--disable-breakpad", "--mute-audio",
    "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE %s" % HOST,
    "--virtual-time-budget=15000",
]


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []  # (tag, attrs dict)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def parse_netlog(path):
    """URLs of every URL request Chromium started: [(url, initiator, request_type)]."""
    with open(path) as f:
        raw = f.read()
    try:
        log = json.loads(raw)
    except ValueError:  # net-log left unterminated if the browser was killed
        log = json.loads(raw.rstrip().rstrip(",") + "]}")
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    out = []
    for ev in log.get("events", []):
        if names.get(ev.get("type")) == "URL_REQUEST_START_JOB":
            p = ev.get("params", {})
            out.append((p.get("url", ""), p.get("initiator", ""), p.get("request_type", "")))
    return out


@unittest.skipUnless(os.path.exists(CHROMIUM), "chromium is not installed (%s)" % CHROMIUM)
class DocsBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ServalProcess(classifier_api_path(), ["--threads", "1"], host=HOST)
        cls.addClassCleanup(cls.srv.stop)
        cls.srv.start()
        cls.origin = "http://%s:%d" % (HOST, cls.srv.port)
        cls.tmp = tempfile.mkdtemp(prefix="serval-chromium-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.netlog = os.path.join(cls.tmp, "netlog.json")
        cls.dom, cls.dom_err = cls.chromium(["--log-net-log=" + cls.netlog, "--dump-dom", cls.origin + "/docs"])

    @classmethod
    def chromium(cls, args):
        profile = tempfile.mkdtemp(prefix="profile-", dir=cls.tmp)
        cmd = [CHROMIUM] + BASE_FLAGS + ["--user-data-dir=" + profile] + args
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)  # the browser's own process group (renderers, zygote)
            p.communicate(timeout=10)
            raise AssertionError("chromium did not finish within %d s" % BROWSER_TIMEOUT)
        if p.returncode != 0:
            raise AssertionError("chromium exited %d:\n%s" % (p.returncode, err.decode(errors="replace")[-3000:]))
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def elements(self):
        c = _Collect()
        c.feed(self.dom)
        return c.elements

    def test_operations_rendered(self):
        paths = {a.get("data-path") for t, a in self.elements() if "opblock-summary-path" in a.get("class", "")}
        for p in ("/predict", "/health", "/generate"):
            self.assertIn(p, paths, "operation %s not rendered; DOM head:\n%s" % (p, self.dom[:3000]))
        blocks = [a.get("class", "") for t, a in self.elements() if "opblock" in a.get("class", "").split()]
        self.assertTrue(any("opblock-post" in b for b in blocks), blocks)
        self.assertTrue(any("opblock-get" in b for b in blocks), blocks)
        self.assertNotIn("Failed to load API definition", self.dom)

    def test_only_local_requests(self):
        requests = parse_netlog(self.netlog)
        self.assertTrue(requests, "empty net-log")
        page = [(u, i, t) for u, i, t in requests if t == "main frame" or i == self.origin]
        browser = [(u, i, t) for u, i, t in requests if (u, i, t) not in page]
        page_urls = sorted({u for u, _, _ in page})
        self.assertIn(self.origin + "/openapi.json", page_urls)
        self.assertTrue(any(u.startswith(self.origin + "/docs/assets/") for u in page_urls), page_urls)
        for url in page_urls:
            parts = urllib.parse.urlsplit(url)
            self.assertEqual("%s://%s" % (parts.scheme, parts.netloc), self.origin, "request left loopback: " + url)
            allowed = (parts.path in ("/docs", "/docs/", "/openapi.json", "/favicon.ico")
                       or parts.path.startswith("/docs/assets/"))
            self.assertTrue(allowed, "page loaded something besides /docs/assets/* and /openapi.json: " + url)
        # Chromium's own background requests (not the page's) never reach the network: the resolver rule
        # above answers NOTFOUND for every name.
        if browser:
            print("chromium background requests (blocked): %d" % len(browser), file=sys.stderr)

    def test_dom_references_are_local(self):
        for tag, attrs in self.elements():
            for key in ("src", "href"):
                v = attrs.get(key)
                if not v or tag == "a":  # links in the rendered text (e.g. "terms of service") are not loads
                    continue
                parts = urllib.parse.urlsplit(v)
                if parts.scheme in ("data", "blob", "javascript"):
                    continue
                self.assertIn(parts.netloc, ("", "%s:%d" % (HOST, self.srv.port)),
                              "<%s %s=%r> points off the machine" % (tag, key, v))

    def test_screenshot(self):
        out_dir = build_dir() if os.path.isdir(build_dir()) else self.tmp
        png = os.path.join(out_dir, "docs_screenshot.png")
        if os.path.exists(png):
            os.unlink(png)
        self.chromium(["--window-size=1280,1400", "--hide-scrollbars", "--screenshot=" + png, self.origin + "/docs"])
        self.assertTrue(os.path.exists(png), "no screenshot written")
        with open(png, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 20000, "screenshot suspiciously small (blank page?)")
        print("screenshot: %s (%d bytes)" % (png, len(data)), file=sys.stderr)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(int(os.environ.get("SERVAL_TEST_WATCHDOG", "160")), exit=True)
    unittest.main(verbosity=2)
