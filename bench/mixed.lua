-- wrk script: the mixed load of bench/load.py.
--   80% POST /search (limit 20): a common word, a medium word, or two medium words (and/or)
--   15% GET /dictionary
--    5% POST /paragraphs (a short new paragraph: moves the corpus version, so caches turn over)
-- Words come from the environment (BENCH_COMMON, BENCH_MEDIUM: comma-separated), picked by
-- bench/load.py from the corpus's document frequencies. done() prints one JSON line for load.py.

local function split(s)
  local t = {}
  for w in string.gmatch(s or "", "[^,]+") do t[#t + 1] = w end
  return t
end

local common = split(os.getenv("BENCH_COMMON"))
local medium = split(os.getenv("BENCH_MEDIUM"))
local json = { ["Content-Type"] = "application/json" }

local function pick(list) return list[math.random(#list)] end

function setup(thread)
  thread:set("id", tostring(thread))
end

function init(args)
  math.randomseed(#(id or "") + os.time())
end

local function mixed_request()
  local r = math.random(100)
  if r <= 80 then
    local words
    local kind = math.random(3)
    if kind == 1 then
      words = '["' .. pick(common) .. '"]'
    elseif kind == 2 then
      words = '["' .. pick(medium) .. '"]'
    else
      words = '["' .. pick(medium) .. '","' .. pick(medium) .. '"]'
    end
    local operator = (math.random(2) == 1) and "and" or "or"
    local body = '{"words":' .. words .. ',"operator":"' .. operator .. '","limit":20}'
    return wrk.format("POST", "/search", json, body)
  elseif r <= 95 then
    return wrk.format("GET", "/dictionary")
  end
  local body = '{"content":"A benchmark paragraph on ' .. pick(common) .. ' and ' .. pick(medium) .. '."}'
  return wrk.format("POST", "/paragraphs", json, body)
end

-- BENCH_PLAIN: requests to the URL given to wrk (load.py's single-endpoint runs); only done() is used.
if not os.getenv("BENCH_PLAIN") then
  request = mixed_request
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
