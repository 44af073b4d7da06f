-- wrk script: POST one binary-mode CloudEvent per request (CloudEvents HTTP binding v1.0.2, 3.1).
--
--   wrk -s bench/scripts/binary-event.lua URL -- <nonce> <type> <source> [<token file>]
--
-- Every request gets a fresh ce-id (<nonce>-<thread>-<counter>) so a gateway that deduplicates on
-- source + id treats each one as a new event. The nonce makes ids unique across runs too.
-- With a token file (one bearer token per line; the ingest-auth scenario), every request carries
-- `Authorization: Bearer <token>`, cycling through the tokens round-robin: request n of a thread
-- uses token (n + thread offset) mod count, so consecutive requests come from different publishers
-- and every publisher sends equally often. Without one, no Authorization header is sent.
-- `done` prints one line `WRK_JSON {...}` with the counts and latency percentiles (microseconds)
-- that bench/run.js parses, plus `sent`: requests written, answered or not. wrk's own `requests`
-- only counts answered ones; the difference is what was still in flight when wrk stopped.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local body = '{"orderId":"A-1001","customer":"c-42","amount":42.5,"currency":"EUR","items":3}'
local headers
local prefix
-- "Bearer <token>" values, built once in init; empty without a token file.
local bearers = {}
local next_bearer = 1
-- Global, not local: `done` runs in the main Lua state and reads it with thread:get("sent").
sent = 0

function init(args)
  local nonce = args[1] or tostring(os.time())
  local ce_type = args[2] or "com.example.bench.42"
  local ce_source = args[3] or "/bench/wrk"
  local token_file = args[4]
  prefix = nonce .. "-" .. tostring(tid or 1) .. "-"
  if token_file ~= nil and token_file ~= "" then
    local f = assert(io.open(token_file, "r"))
    for line in f:lines() do
      if line ~= "" then table.insert(bearers, "Bearer " .. line) end
    end
    f:close()
    assert(#bearers > 0, "no tokens in " .. token_file)
    -- Threads start at different publishers, so they do not send in lockstep.
    next_bearer = ((tid or 1) - 1) % #bearers + 1
  end
  headers = {
    ["ce-specversion"] = "1.0",
    ["ce-source"] = ce_source,
    ["ce-type"] = ce_type,
    ["content-type"] = "application/json",
  }
end

function request()
  sent = sent + 1
  headers["ce-id"] = prefix .. sent
  if #bearers > 0 then
    headers["authorization"] = bearers[next_bearer]
    next_bearer = next_bearer % #bearers + 1
  end
  return wrk.format("POST", wrk.path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  -- wrk 4.x calls request() once on the first thread before any connection opens, to check the
  -- script (script_verify_request in wrk.c); that request is built but never sent.
  local total_sent = -1
  for _, thread in ipairs(threads) do
    total_sent = total_sent + (thread:get("sent") or 0)
  end
  if total_sent < 0 then total_sent = 0 end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"sent":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f}}\n',
    summary.requests, total_sent, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev))
end
