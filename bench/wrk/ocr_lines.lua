-- wrk script: POST /v1/ocr?mode=recognize with PNG line images (each body one text line), cycling.
--   wrk -t1 -c64 -d10s -s bench/wrk/ocr_lines.lua http://127.0.0.1:8000 -- DIR_OF_PNGS
local bodies = {}
local i = 0

function init(args)
  local dir = args[1]
  local p = io.popen('ls "' .. dir .. '"/*.png')
  for path in p:lines() do
    local f = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  p:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "image/png"
end

local requests = nil

function request()
  -- Formatted once, then reused: the client shares the machine, so it should cost little.
  if requests == nil then
    requests = {}
    for k, body in ipairs(bodies) do requests[k] = wrk.format(nil, "/v1/ocr?model=ocr&mode=recognize", nil, body) end
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
