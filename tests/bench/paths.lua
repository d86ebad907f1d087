-- wrk script for run-gateway: every request GETs a path drawn at random from
-- the file named by the first script argument (one path a line; a path listed
-- k times is drawn k times as often). Headers (Host, User-Agent) come from
-- wrk's -H. At the end it prints one machine-readable line:
--   RESULT <requests> <bytes> <duration us> <p99 us> <connect> <read> <write> <status> <timeout>
-- where the last five are wrk's error counts (status = responses not 2xx/3xx).

local paths = {}
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("seed", threads)
end

function init(args)
   for line in io.lines(args[1]) do
      paths[#paths + 1] = line
   end
   math.randomseed(os.time() * 1000 + seed)
end

function request()
   return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.bytes, summary.duration,
      latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
