"""/openapi.json of the running classifier_api: contents, then validation by an independent validator
(@apidevtools/swagger-parser through validate_openapi.mjs)."""

import faulthandler
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serval_proc import ServalProcess, classifier_api_path, serval_cli_path  # noqa: E402

VALIDATOR = os.path.join(HERE, "validate_openapi.mjs")
NODE = shutil.which("node") or "/usr/bin/node"


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def run_validator(path):
    return subprocess.run([NODE, VALIDATOR, path], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ServalProcess(classifier_api_path())
        cls.addClassCleanup(cls.srv.stop)
        cls.srv.start()
        conn = http.client.HTTPConnection(cls.srv.host, cls.srv.port, timeout=5)
        try:
            conn.request("GET", "/openapi.json")
            resp = conn.getresponse()
            cls.status = resp.status
            cls.content_type = resp.getheader("Content-Type") or ""
            cls.raw = resp.read()
        finally:
            conn.close()
        cls.tmp = tempfile.mkdtemp(prefix="serval-openapi-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.path = os.path.join(cls.tmp, "openapi.json")
        with open(cls.path, "wb") as f:
            f.write(cls.raw)

    def doc(self):
        self.assertEqual(self.status, 200)
        return json.loads(self.raw)

    def test_served_as_json(self):
        self.assertEqual(self.status, 200)
        self.assertTrue(self.content_type.startswith("application/json"), self.content_type)

    def test_version_and_info(self):
        doc = self.doc()
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertIsInstance(doc["info"]["title"], str)
        self.assertIsInstance(doc["info"]["version"], str)

    def test_paths(self):
        paths = self.doc()["paths"]
        for p in ("/health", "/predict", "/generate"):
            self.assertIn(p, paths)
        self.assertIn("get", paths["/health"])
        self.assertIn("post", paths["/predict"])
        self.assertIn("post", paths["/generate"])
        self.assertNotIn("get", paths["/predict"])
        for p in ("/openapi.json", "/docs"):  # like FastAPI: the docs routes are not part of the schema
            self.assertNotIn(p, paths)

    def test_predict_request_body(self):
        doc = self.doc()
        rb = doc["paths"]["/predict"]["post"]["requestBody"]
        self.assertTrue(rb.get("required"), rb)
        schema = rb["content"]["application/json"]["schema"]
        self.assertIn("$ref", schema, "requestBody must reference a component")
        self.assertTrue(schema["$ref"].startswith("#/components/schemas/"), schema)
        comp = resolve(doc, schema["$ref"])
        self.assertEqual(comp.get("type"), "object", comp)
        text = comp["properties"]["text"]
        self.assertEqual(text.get("type"), "string", text)
        self.assertEqual(text.get("minLength"), 1, text)
        self.assertEqual(text.get("maxLength"), 10000, text)
        self.assertIn("text", comp.get("required", []), comp)

    def test_generate_request_body(self):
        doc = self.doc()
        schema = doc["paths"]["/generate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        comp = resolve(doc, schema["$ref"]) if "$ref" in schema else schema
        props = comp["properties"]
        self.assertEqual(props["prompt"].get("minLength"), 1, props)
        self.assertEqual(props["prompt"].get("maxLength"), 10000, props)
        self.assertEqual(props["max_tokens"].get("type"), "integer", props)
        self.assertEqual(props["max_tokens"].get("minimum"), 1, props)
        self.assertEqual(props["max_tokens"].get("maximum"), 256, props)
        self.assertEqual(props["max_tokens"].get("default"), 32, props)
        self.assertEqual(comp.get("required"), ["prompt"], comp)

    def test_predict_responses(self):
        doc = self.doc()
        responses = doc["paths"]["/predict"]["post"]["responses"]
        self.assertIn("200", responses)
        ok = responses["200"]["content"]["application/json"]["schema"]
        out = resolve(doc, ok["$ref"]) if "$ref" in ok else ok
        self.assertEqual(set(out["properties"]), {"label", "score"}, out)
        self.assertIn("422", responses)
        ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
        self.assertEqual(ref, "#/components/schemas/HTTPValidationError")
        hve = resolve(doc, ref)
        detail = hve["properties"]["detail"]
        self.assertEqual(detail["type"], "array", hve)
        item = resolve(doc, detail["items"]["$ref"]) if "$ref" in detail["items"] else detail["items"]
        for key in ("loc", "msg", "type"):
            self.assertIn(key, item["properties"], item)

    def test_independent_validator(self):
        r = run_validator(self.path)
        self.assertEqual(r.returncode, 0, "validator rejected /openapi.json:\n%s%s" % (r.stdout, r.stderr))
        self.assertIn("valid: OpenAPI 3.1.0", r.stdout)

    def test_validator_rejects_broken_document(self):
        # The validator is not a no-op: the same document with a dangling $ref and no info.version fails.
        doc = self.doc()
        del doc["info"]["version"]
        doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/DoesNotExist"}
        bad = os.path.join(self.tmp, "broken.json")
        with open(bad, "w") as f:
            json.dump(doc, f)
        r = run_validator(bad)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)


class CliOpenApiTest(unittest.TestCase):
    def test_serval_serve_openapi_is_valid(self):
        srv = ServalProcess(serval_cli_path(), ["--threads", "1"], prefix=["serve"])
        self.addCleanup(srv.stop)
        srv.start()
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("GET", "/openapi.json")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        raw = resp.read()
        self.assertEqual(json.loads(raw)["openapi"], "3.1.0")
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
            f.write(raw)
        self.addCleanup(os.unlink, f.name)
        r = run_validator(f.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(int(os.environ.get("SERVAL_TEST_WATCHDOG", "100")), exit=True)
    unittest.main(verbosity=2)
