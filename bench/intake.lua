-- wrk script: PUT /api/v1/reports/<fresh UUID v4> with a valid report whose point lies inside
-- a random cell of the grid under test.
--   wrk -t2 -c16 -d10s --latency -s bench/intake.lua http://127.0.0.1:PORT \
--       -- TOKEN NX NY X0 Y0 DX DY SEED [CATEGORY]
-- TOKEN may be "-" (no Authorization header, for the minimal endpoint). The last lines of the
-- output are one "BENCH_RESULT {json}" line that bench/run.py reads.

local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_no", counter)
end

function init(args)
   token = args[1]
   nx, ny = tonumber(args[2]), tonumber(args[3])
   x0, y0 = tonumber(args[4]), tonumber(args[5])
   dx, dy = tonumber(args[6]), tonumber(args[7])
   -- a seed per run (from bench/run.py) and per thread: no two requests share a UUID
   math.randomseed(tonumber(args[8]) + 7919 * (thread_no or 0))
   for _ = 1, 10 do math.random() end
   category = args[9] or "E0101"
   headers = {["Content-Type"] = "application/json"}
   if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
   end
   captured_at = os.date("!%Y-%m-%dT%H:%M:%S+00:00")
end

local random, format = math.random, string.format

local function uuid4()
   return format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x",
      random(0, 0xffff), random(0, 0xffff), random(0, 0xffff), random(0, 0xfff),
      random(0x8000, 0xbfff), random(0, 0xffff), random(0, 0xffff), random(0, 0xffff))
end

function request()
   -- strictly inside cell (i, j): never on an edge shared with a neighbour
   local i, j = random(0, nx - 1), random(0, ny - 1)
   local lon = x0 + (i + 0.05 + 0.9 * random()) * dx
   local lat = y0 + (j + 0.05 + 0.9 * random()) * dy
   local body = format('{"category":"%s","description":"wrk bench report",' ..
      '"location":{"lon":%.7f,"lat":%.7f,"accuracy_m":8.5,"source":"gps"},' ..
      '"captured_at":"%s"}', category, lon, lat, captured_at)
   return wrk.format("PUT", "/api/v1/reports/" .. uuid4(), headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(format('BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,' ..
      '"timeout_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
      e.status, e.timeout, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean))
end
