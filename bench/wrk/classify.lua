-- wrk script: POST /v1/classify, cycling through the sentences of bench/data/langid_sentences.txt.
--   wrk -t1 -c64 -d10s -s bench/wrk/classify.lua http://127.0.0.1:8000 -- bench/data/langid_sentences.txt langid
-- (run from the repository root: it loads bench/wrk/report.lua)
dofile("bench/wrk/report.lua")

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function init(args)
  local path = args[1] or "bench/data/langid_sentences.txt"
  local model = args[2] or "langid"
  local bodies = {}
  for line in io.lines(path) do
    if #line > 0 then
      bodies[#bodies + 1] = '{"model":' .. json_string(model) .. ',"text":' .. json_string(line) .. '}'
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  set_requests("/v1/classify", bodies)
end
