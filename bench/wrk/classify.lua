-- wrk script: POST /v1/classify, cycling through the sentences of bench/data/langid_sentences.txt.
--   wrk -t1 -c64 -d10s -s bench/wrk/classify.lua http://127.0.0.1:8000 -- bench/data/langid_sentences.txt langid
local bodies = {}
local i = 0

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function init(args)
  local path = args[1] or "bench/data/langid_sentences.txt"
  local model = args[2] or "langid"
  for line in io.lines(path) do
    if #line > 0 then
      bodies[#bodies + 1] = '{"model":' .. json_string(model) .. ',"text":' .. json_string(line) .. '}'
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local requests = nil

function request()
  -- Formatted once, then reused: the client shares the machine, so it should cost little.
  if requests == nil then
    requests = {}
    for k, body in ipairs(bodies) do requests[k] = wrk.format(nil, "/v1/classify", nil, body) end
  end
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests)
  io.stderr:write(string.format("JSON {\"requests\":%d,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%d,\"non2xx\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
