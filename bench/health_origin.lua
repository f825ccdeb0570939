-- GET /health from a browser origin (exercises the CORS middleware on every request).
wrk.method = "GET"
wrk.headers["Origin"] = "http://bench.example"
