-- wrk script: every request carries a different valid session token, drawn at random from a file
-- (one token per line). Each wrk thread loads its own copy of the list.
--   wrk ... -s bench/rotate.lua <url> -- <tokens-file> <cookie|bearer|none> <original-url>
-- The limit server gets exactly the same requests, so both sides parse the same bytes.

local tokens = {}
local count = 0
local mode = 'cookie'
local original = 'https://app.example.com/x'
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set('thread_index', next_thread)
end

function init(args)
  local file = args[1]
  mode = args[2] or mode
  original = args[3] or original
  if file and file ~= '' then
    for line in io.lines(file) do
      count = count + 1
      tokens[count] = line
    end
  end
  -- thread_index is a global setup() gave this thread before init runs.
  math.randomseed(1000003 * (thread_index or 0) + os.time())
end

-- The browser the seeded sessions were signed in with (bench/seed.ts BENCH_USER_AGENT): continuous
-- evaluation revokes a session presented by another browser family.
local headers = {
  ['X-Original-URL'] = original,
  ['User-Agent'] = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
}

function request()
  if count > 0 then
    local token = tokens[math.random(count)]
    if mode == 'bearer' then
      headers['Authorization'] = 'Bearer ' .. token
    else
      headers['Cookie'] = 'twofold_session=' .. token
    end
  end
  headers['X-Original-URL'] = original
  return wrk.format('GET', '/auth/request', headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
