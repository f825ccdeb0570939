-- POST /predict with an Origin header (CORS middleware on every request).
wrk.headers["Origin"] = "http://bench.example"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"I love this product, the battery life is great but the screen is bad and the case feels cheap today"}'
