-- wrk2-style constant-rate load with latency corrected for coordinated omission, for wrk 4
-- (Debian's wrk has no -R). Run one connection per thread (wrk -tN -cN): each thread keeps
-- the schedule of its connection, due_k = t0 + k / rate, waits for due_k before request k
-- (delay(), in whole milliseconds: wrk 4's timer resolution), and records the latency of
-- reply k from due_k, not from when it was sent, so a reply that comes late delays no
-- measurement (the correction wrk2 makes). Rate per connection: WRK_RATE_PER_CONNECTION
-- (requests/s). done() prints the corrected percentiles and how late the sends were.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } jb_timespec;
int clock_gettime(int clock_id, jb_timespec* ts);
]]
local ts = ffi.new("jb_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local interval_us = 1e6 / tonumber(os.getenv("WRK_RATE_PER_CONNECTION") or "100")
local t0 = nil
local k = 0         -- next request's index
local answered = 0  -- replies received
lat = {}            -- corrected latencies, us (read by done() through thread:get)
late = {}           -- send time - due time, us

local function due(i)
  return t0 + i * interval_us
end

-- wrk sends a connection's first request at once (request() without delay()); every later
-- one after delay(). The schedule starts with the first request.
local function start()
  if t0 == nil then t0 = now_us() end
end

function delay()
  start()
  local wait_us = due(k) - now_us()
  if wait_us <= 0 then return 0 end
  return math.ceil(wait_us / 1000)
end

function request()
  start()
  late[#late + 1] = now_us() - due(k)
  k = k + 1
  return wrk.format()
end

function response(status, headers, body)
  lat[#lat + 1] = now_us() - due(answered)
  answered = answered + 1
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local i = math.max(1, math.ceil(p / 100 * #sorted))
  return sorted[i]
end

function done(summary, latency, requests)
  local all, sends = {}, {}
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("lat")) do all[#all + 1] = v end
    for _, v in ipairs(t:get("late")) do sends[#sends + 1] = v end
  end
  table.sort(all)
  table.sort(sends)
  io.write(string.format("corrected replies %d\n", #all))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("corrected p%g %.1f us\n", p, percentile(all, p)))
  end
  io.write(string.format("send lateness p50 %.1f us p99 %.1f us\n", percentile(sends, 50),
    percentile(sends, 99)))
end
