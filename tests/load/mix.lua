-- wrk script: GET the paths listed in WRK_PATHS (one a line) in turn, each thread from its
-- own offset, with Accept-Encoding: gzip, br. With WRK_WATCH=<publication id> it also notes
-- the last second at which a response of that publication came back (the publish run), and
-- counts 5xx (otherwise wrk's own non-2xx/3xx count stands; no response hook keeps it fast).
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local watch = os.getenv("WRK_WATCH")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 7919)
  threads[#threads + 1] = thread
end

function init(args)
  counter = offset
  last_old = 0
  errors5xx = 0
end

function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  return wrk.format("GET", path, {["Accept-Encoding"] = "gzip, br"})
end

if watch then
  function response(status, headers, body)
    if status >= 500 then errors5xx = errors5xx + 1 end
    if headers["X-Publication"] == watch then last_old = os.time() end
  end
end

function done(summary, latency, requests)
  local last, fivexx = 0, 0
  for _, thread in ipairs(threads) do
    last = math.max(last, thread:get("last_old") or 0)
    fivexx = fivexx + (thread:get("errors5xx") or 0)
  end
  io.write(string.format(
    "JSON {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.2f, " ..
    "\"p99_ms\": %.2f, \"errors\": %d, \"non2xx3xx\": %d, \"status5xx\": %d, \"last_old\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, fivexx, last))
end
