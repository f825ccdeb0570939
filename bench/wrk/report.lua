-- Shared by the wrk scripts of bench/models_bench.sh: pre-formatted requests and a JSON summary line.
--   dofile("bench/wrk/report.lua"); set_requests(path, bodies)   -- in init()
local requests = {}
local i = 0

-- Formatted once, then reused: the client shares the machine, so it should cost little.
function set_requests(path, bodies)
  for k, body in ipairs(bodies) do requests[k] = wrk.format(nil, path, nil, body) end
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests_)
  io.stderr:write(string.format("JSON {\"requests\":%d,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%d,\"non2xx\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
