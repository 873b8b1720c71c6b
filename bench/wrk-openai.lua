-- wrk script: POST pre-signed OpenAI (Standard Webhooks) events.
--
--   wrk -t2 -c64 -d10s -s bench/wrk-openai.lua URL -- FILE PATH THREADS
--
-- FILE comes from bench/gen-requests.py: "LENGTH\n" + request without its
-- request line, each with a unique webhook-id and a timestamp fresh at
-- generation time. Thread k of THREADS takes every THREADS-th record, so
-- no two threads send the same webhook-id; a thread that runs out starts
-- over (counted as "wrapped": hookpipe answers those as duplicates, so
-- generate more records than a run sends).
--
-- done() prints one machine-readable line:
--   WRK requests=N seconds=S rps=R non2xx=N errors=N wrapped=N

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local reqs, n, idx = {}, 0, 0
wrapped = 0

function init(args)
   local file, path, nthreads = args[1], args[2], tonumber(args[3] or "1")
   local f = assert(io.open(file, "rb"))
   local line = "POST " .. path .. " HTTP/1.1\r\n"
   local i = 0
   while true do
      local len = f:read("*l")
      if not len then break end
      local rec = f:read(tonumber(len))
      if i % nthreads == tid then
         n = n + 1
         reqs[n] = line .. rec
      end
      i = i + 1
   end
   f:close()
   assert(n > 0, "no requests in " .. file)
end

function request()
   idx = idx + 1
   if idx > n then
      idx = 1
      wrapped = wrapped + 1
   end
   return reqs[idx]
end

function done(summary, latency, requests)
   local w = 0
   for _, t in ipairs(threads) do
      w = w + (t:get("wrapped") or 0)
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "WRK requests=%d seconds=%.3f rps=%.1f non2xx=%d errors=%d " ..
      "wrapped=%d p50_ms=%.3f p99_ms=%.3f\n",
      summary.requests, secs, summary.requests / secs, e.status,
      e.connect + e.read + e.write + e.timeout, w,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
