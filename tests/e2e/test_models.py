"""Black-box tests of `serval serve` on the real default models (prepared by `make setup`):
langid, spam, embed, ocr, vad and tiny-llm through the task endpoints, plus the serving core's
behaviour under pressure — 429 + Retry-After when a queue is full, 504 without execution when a
deadline passes in the queue, and a disconnected client removed from the queue."""

import base64
import concurrent.futures
import http.client
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serval_proc import REPO, ServalProcess, serval_cli_path  # noqa: E402

MODELS = os.path.join(REPO, "models")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def request(server, method, path, body=None, headers=None, timeout=60):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data


def post_json(server, path, body, headers=None):
    status, hdrs, data = request(server, "POST", path, body, headers)
    return status, hdrs, json.loads(data) if data else None


def render_png(lines, size=(900, 120), font_size=40):
    """Text rendered with PIL and DejaVu Sans: independent of the OCR code under test."""
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, font_size)
    y = 30
    for line in lines:
        draw.text((30, y), line, fill="black", font=font)
        y += int(font_size * 1.8)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def speech_wav(text, lead_s=1.0, tail_s=1.0):
    """Speech from espeak-ng, resampled to 16 kHz mono with silence around it (sox)."""
    tmp = tempfile.mkdtemp()
    try:
        raw = os.path.join(tmp, "raw.wav")
        out = os.path.join(tmp, "out.wav")
        subprocess.run(["espeak-ng", "-w", raw, text], check=True)
        subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", out, "pad", str(lead_s), str(tail_s)],
                       check=True)
        speech_s = float(subprocess.run(["soxi", "-D", raw], check=True, capture_output=True, text=True).stdout)
        with open(out, "rb") as f:
            return f.read(), speech_s
    finally:
        shutil.rmtree(tmp)


def parse_sse(data):
    events, cur = [], {"data": []}
    for line in data.decode().split("\n"):
        if line == "":
            if cur["data"] or "event" in cur:
                events.append({"event": cur.get("event", "message"), "data": "\n".join(cur["data"])})
            cur = {"data": []}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                cur["data"].append(value)
            elif field == "event":
                cur["event"] = value
    return events


class DefaultModels(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = ServalProcess(serval_cli_path(), prefix=["serve"], args=["--models-dir", MODELS],
                                   startup_timeout=180).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()

    def classify(self, model, text, **extra):
        status, _, body = post_json(self.server, "/v1/classify", dict(model=model, text=text, **extra))
        self.assertEqual(status, 200, body)
        return body

    def test_cards_for_all_six_models(self):
        status, _, data = request(self.server, "GET", "/v1/models")
        self.assertEqual(status, 200)
        cards = {m["id"]: m for m in json.loads(data)["data"]}
        self.assertEqual(set(cards), {"langid", "spam", "embed", "ocr", "vad", "tiny-llm"})
        for name, card in cards.items():
            self.assertEqual(card["object"], "model")
            self.assertTrue(card["description"], name)
            self.assertEqual(card["versions"][0]["state"], "ready", name)
        spam = cards["spam"]["versions"][0]
        self.assertGreaterEqual(spam["metrics"]["heldout_precision_spam"], 0.95)
        self.assertIn("UNTRAINED", json.dumps(cards["tiny-llm"]).upper())
        # The same models in /docs (the OpenAPI description Swagger UI shows).
        info = json.loads(request(self.server, "GET", "/openapi.json")[2])["info"]["description"]
        for name in cards:
            self.assertIn("`%s`" % name, info)
        paths = json.loads(request(self.server, "GET", "/openapi.json")[2])["paths"]
        for p in ("/v1/classify", "/v1/embed", "/v1/ocr", "/v1/vad", "/v1/generate", "/v1/models", "/metrics"):
            self.assertIn(p, paths)
        status, _, one = request(self.server, "GET", "/v1/models/langid")
        self.assertEqual(json.loads(one)["task"], "classify")
        self.assertEqual(request(self.server, "GET", "/v1/models/nope")[0], 404)

    def test_langid_tags_four_languages(self):
        cases = {
            "en": "The weather is lovely today and I would like to go for a walk in the park.",
            "fr": "Le temps est magnifique aujourd'hui et j'aimerais me promener dans le parc.",
            "de": "Das Wetter ist heute herrlich und ich möchte im Park spazieren gehen.",
            "ja": "今日はとても良い天気なので、公園を散歩したいです。",
        }
        for lang, text in cases.items():
            body = self.classify("langid", text)
            self.assertEqual(body["labels"][0]["label"], lang, body)
            self.assertGreater(body["labels"][0]["score"], 0.5)
            self.assertEqual(body["version"], 1)
        top3 = self.classify("langid", cases["fr"], top_k=3)["labels"]
        self.assertEqual(len(top3), 3)
        self.assertEqual(sorted(top3, key=lambda l: -l["score"]), top3)

    def test_spam_heldout_precision(self):
        with open(os.path.join(MODELS, "spam", "1", "heldout.jsonl")) as f:
            rows = [json.loads(l) for l in f]
        self.assertGreater(len(rows), 100)

        def predict(row):
            body = post_json(self.server, "/v1/classify", {"model": "spam", "text": row["text"][:20000] or "empty"})[2]
            return row["label"], body["labels"][0]["label"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            pairs = list(pool.map(predict, rows))
        tp = sum(1 for truth, pred in pairs if truth == "spam" and pred == "spam")
        fp = sum(1 for truth, pred in pairs if truth == "ham" and pred == "spam")
        fn = sum(1 for truth, pred in pairs if truth == "spam" and pred == "ham")
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        print("\nspam held-out through HTTP: n=%d precision=%.4f recall=%.4f" % (len(pairs), precision, recall))
        self.assertGreaterEqual(precision, 0.95)

    def test_embed_vectors(self):
        texts = ["the whale swam in the deep sea", "a great whale in the ocean", "tax forms are due in april"]
        status, _, body = post_json(self.server, "/v1/embed", {"model": "embed", "texts": texts})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["vectors"]), 3)
        self.assertTrue(all(len(v) == body["dim"] for v in body["vectors"]))

        def cos(a, b):
            return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

        v = body["vectors"]
        self.assertGreater(cos(v[0], v[1]), cos(v[0], v[2]))
        self.assertEqual(post_json(self.server, "/v1/embed", {"model": "embed", "texts": []})[0], 422)

    def test_ocr_reads_a_rendered_line_exactly(self):
        line = "Serval reads 42 lines of text"
        png = render_png([line])
        status, _, data = request(self.server, "POST", "/v1/ocr", png, {"Content-Type": "image/png"})
        self.assertEqual(status, 200, data)
        body = json.loads(data)
        self.assertEqual([l["text"] for l in body["lines"]], [line], body)
        self.assertEqual((body["width"], body["height"]), (900, 120))
        self.assertEqual(len(body["lines"][0]["box"]), 4)
        # The same image as JSON base64, and a two-line image in order.
        two = render_png(["First line here", "Second line below"], size=(700, 200))
        status, _, body = post_json(self.server, "/v1/ocr",
                                    {"model": "ocr", "image_base64": base64.b64encode(two).decode()})
        self.assertEqual(status, 200, body)
        self.assertEqual([l["text"] for l in body["lines"]], ["First line here", "Second line below"])
        # A browser-style upload (curl -F image=@line.png), with the model as a form field.
        boundary = "----serval-test-boundary"
        form = (("--%s\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nocr\r\n"
                 "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"line.png\"\r\n"
                 "Content-Type: image/png\r\n\r\n") % (boundary, boundary)).encode() + png + \
               ("\r\n--%s--\r\n" % boundary).encode()
        status, _, data = request(self.server, "POST", "/v1/ocr", form,
                                  {"Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(status, 200, data)
        self.assertEqual([l["text"] for l in json.loads(data)["lines"]], [line])
        status, _, body = request(self.server, "POST", "/v1/ocr", b"not an image", {"Content-Type": "image/png"})
        self.assertEqual(status, 422, body)

    def test_vad_finds_the_speech(self):
        wav, speech_s = speech_wav("Serval finds the speech in this recording.")
        status, _, data = request(self.server, "POST", "/v1/vad", wav, {"Content-Type": "audio/wav"})
        self.assertEqual(status, 200, data)
        body = json.loads(data)
        segs = body["segments"]
        self.assertGreaterEqual(len(segs), 1, body)
        self.assertAlmostEqual(segs[0]["start_s"], 1.0, delta=0.35)
        self.assertAlmostEqual(segs[-1]["end_s"], 1.0 + speech_s, delta=0.5)
        self.assertAlmostEqual(body["duration_s"], 2.0 + speech_s, delta=0.1)
        silence = b"\x00\x00" * 16000 * 2
        status, _, body = post_json(self.server, "/v1/vad", {"model": "vad", "format": "pcm_s16le", "sample_rate": 16000,
                                                             "audio_base64": base64.b64encode(silence).decode()})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["segments"], [])

    def test_generate_json_and_stream(self):
        status, _, body = post_json(self.server, "/v1/generate",
                                    {"model": "tiny-llm", "prompt": "Once upon a time", "max_tokens": 16,
                                     "temperature": 0, "seed": 7})
        self.assertEqual(status, 200, body)
        self.assertIn(body["finish_reason"], ("length", "stop"))
        self.assertGreater(body["usage"]["completion_tokens"], 0)
        status, hdrs, data = request(self.server, "POST", "/v1/generate",
                                     {"model": "tiny-llm", "prompt": "Once upon a time", "max_tokens": 16,
                                      "temperature": 0, "seed": 7, "stream": True})
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/event-stream"))
        events = parse_sse(data)
        tokens = [json.loads(e["data"]) for e in events if e["event"] == "message"]
        done = [json.loads(e["data"]) for e in events if e["event"] == "done"]
        self.assertGreater(len(tokens), 0)
        self.assertEqual(len(done), 1)
        # Greedy decoding: the stream spells exactly what the JSON answer said.
        self.assertEqual("".join(t["text"] for t in tokens), body["text"])
        self.assertEqual(done[0]["usage"], body["usage"])
        # Generations count in /metrics like batched requests (they do not pass through the batch queue).
        metrics = request(self.server, "GET", "/metrics")[2].decode()
        line = next(l for l in metrics.splitlines()
                    if l.startswith('serval_model_requests_total{model="tiny-llm",version="1"}'))
        self.assertGreaterEqual(float(line.split()[-1]), 2)
        self.assertIn('serval_model_in_flight{model="tiny-llm",version="1"} 0', metrics)

    def test_errors_are_clear(self):
        status, _, body = post_json(self.server, "/v1/classify", {"model": "nope", "text": "x"})
        self.assertEqual(status, 404)
        self.assertIn("available", body["detail"])
        status, _, body = post_json(self.server, "/v1/classify", {"model": "embed", "text": "x"})
        self.assertEqual(status, 400)
        self.assertIn("embed", body["detail"])
        status, _, body = post_json(self.server, "/v1/classify", {"model": "langid"})
        self.assertEqual(status, 422)
        self.assertEqual(body["detail"][0]["loc"], ["body", "text"])
        status, _, body = post_json(self.server, "/v1/classify", {"model": "langid", "text": "x"},
                                    {"X-Deadline-Ms": "soon"})
        self.assertEqual(status, 422)

    def test_metrics_per_model(self):
        self.classify("langid", "bonjour tout le monde")
        status, hdrs, data = request(self.server, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        text = data.decode()
        for needle in ('serval_model_requests_total{model="langid",version="1"}',
                       'serval_model_request_duration_seconds_bucket{model="langid",version="1",le="+Inf"}',
                       'serval_model_queue_duration_seconds_count{model="langid",version="1"}',
                       'serval_model_compute_duration_seconds_count{model="langid",version="1"}',
                       'serval_model_batch_size_bucket{model="langid",version="1",le="1"}',
                       'serval_model_queue_depth{model="langid",version="1"}',
                       'serval_model_in_flight{model="langid",version="1"}'):
            self.assertIn(needle, text)


class Pressure(unittest.TestCase):
    """A repository with one slow model (OCR of a large page, one request at a time, 2 queue slots)."""
    server = None

    @classmethod
    def setUpClass(cls):
        cls.repo = tempfile.mkdtemp()
        os.makedirs(os.path.join(cls.repo, "slow", "1"))
        for f in ("det.onnx", "cls.onnx", "rec.onnx", "keys.txt"):
            os.symlink(os.path.join(MODELS, "ocr", "1", f), os.path.join(cls.repo, "slow", "1", f))
        with open(os.path.join(cls.repo, "slow", "model.yaml"), "w") as f:
            f.write("runtime: ocr\ntask: ocr\ndescription: a deliberately small queue\n"
                    "batching: {max_batch_size: 1, max_queue: 2}\nlimits: {timeout_ms: 60000}\n")
        cls.server = ServalProcess(serval_cli_path(), prefix=["serve"], args=["--models-dir", cls.repo],
                                   startup_timeout=120).start()
        lines = ["Line %d of a page that takes a while to read" % i for i in range(12)]
        cls.page = render_png(lines, size=(1000, 1000), font_size=32)
        t0 = time.monotonic()
        status, _, _ = request(cls.server, "POST", "/v1/ocr?model=slow", cls.page, {"Content-Type": "image/png"})
        cls.page_s = time.monotonic() - t0
        assert status == 200
        print("\none large page: %.2f s" % cls.page_s)

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()
        shutil.rmtree(cls.repo, ignore_errors=True)

    def stats(self):
        card = json.loads(request(self.server, "GET", "/v1/models/slow")[2])
        return card["versions"][0]["stats"]

    def post_page(self, headers=None):
        h = {"Content-Type": "image/png"}
        h.update(headers or {})
        return request(self.server, "POST", "/v1/ocr?model=slow", self.page, h)

    def busy(self):
        """Starts one page and returns once the executor has it."""
        before = self.stats()["executed"] + self.stats()["in_flight"]
        t = threading.Thread(target=self.post_page)
        t.start()
        deadline = time.monotonic() + 10
        while self.stats()["in_flight"] < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)
        return t

    def test_overload_answers_429_with_retry_after(self):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: self.post_page(), range(8)))
        statuses = sorted(r[0] for r in results)
        self.assertIn(200, statuses)
        self.assertIn(429, statuses, statuses)
        for status, hdrs, data in results:
            if status == 429:
                self.assertGreaterEqual(int(hdrs["retry-after"]), 1)
                self.assertIn("queue is full", json.loads(data)["detail"]["msg"])

    def test_expired_deadline_answers_504_and_never_runs(self):
        t = self.busy()
        before = self.stats()
        t0 = time.monotonic()
        status, _, data = self.post_page({"X-Deadline-Ms": "100"})
        waited = time.monotonic() - t0
        t.join()
        after = self.stats()
        self.assertEqual(status, 504, data)
        self.assertIn("not executed", json.loads(data)["detail"]["msg"])
        self.assertLess(waited, self.page_s)  # answered at the deadline, not after the page
        self.assertEqual(after["expired"], before["expired"] + 1)
        self.assertEqual(after["executed"], before["executed"] + 1)  # only the page that was running

    def test_disconnected_client_leaves_the_queue(self):
        t = self.busy()
        before = self.stats()
        s = socket.create_connection((self.server.host, self.server.port))
        s.sendall(b"POST /v1/ocr?model=slow HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"
                  % len(self.page) + self.page)
        deadline = time.monotonic() + 5
        while self.stats()["queue_depth"] < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        s.close()
        deadline = time.monotonic() + 5
        while self.stats()["cancelled"] == before["cancelled"] and time.monotonic() < deadline:
            time.sleep(0.005)
        t.join()
        after = self.stats()
        self.assertEqual(after["cancelled"], before["cancelled"] + 1)
        self.assertEqual(after["queue_depth"], 0)
        self.assertEqual(after["executed"], before["executed"] + 1)


if __name__ == "__main__":
    import faulthandler
    faulthandler.dump_traceback_later(int(os.environ.get("SERVAL_TEST_WATCHDOG", "580")), exit=True)
    unittest.main()
