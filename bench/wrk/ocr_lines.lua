-- wrk script: POST /v1/ocr?mode=recognize with PNG line images (each body one text line), cycling.
--   wrk -t1 -c4 -d10s -s bench/wrk/ocr_lines.lua http://127.0.0.1:8000 -- DIR_OF_PNGS
-- (run from the repository root: it loads bench/wrk/report.lua)
dofile("bench/wrk/report.lua")

function init(args)
  local bodies = {}
  local p = io.popen('ls "' .. args[1] .. '"/*.png')
  for path in p:lines() do
    local f = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  p:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "image/png"
  set_requests("/v1/ocr?model=ocr&mode=recognize", bodies)
end
