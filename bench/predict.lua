-- wrk script: POST /predict with a ~100-character JSON text (keep-alive, same request every time).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"I love this product, the battery life is great but the screen is bad and the case feels cheap today"}'
