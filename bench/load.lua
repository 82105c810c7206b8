-- wrk script for fedgate's benchmark: POSTs the JSON bodies of $BENCH_BODIES (one per line) in
-- turn, counts non-200 and GraphQL error responses, and prints one JSON line of figures at the end.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local i = 0
function init(args)
  i = id or 0
  non200 = 0
  gql_errors = 0
  responses = 0
end

function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
  elseif string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local n200, nerr, nresp = 0, 0, 0
  for _, t in ipairs(threads) do
    n200 = n200 + t:get("non200")
    nerr = nerr + t:get("gql_errors")
    nresp = nresp + t:get("responses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"responses":%d,"non200":%d,"gql_errors":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, nresp, n200, nerr,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
