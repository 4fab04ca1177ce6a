-- wrk script: each wrk thread is one shopper (one connection, one browser) walking the storefront's API.
--
-- Run by bench/bench_http.py, which writes the data file named by $LOOKAWAY_WRK_DATA (a Lua table: browsers with
-- their cookies, seed product ids, PNG masks, scenario, output folder). Run wrk with as many threads as
-- connections (-t N -c N) so that each thread's single connection is strictly request/response.
--
-- Scenarios:
--   shop:   new session on a random seed, then (feedback, click a slate item) x feedbacks_per_session, repeat.
--   browse: `similar` of a random product, a new session on it, then clicks_per_product clicks on slate items
--           (seed changes, no feedback), repeat.
-- Each response appends "kind status latency_us" to <out_dir>/thread-<id>.txt; done() prints wrk's totals as JSON.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } lookaway_timespec;
int clock_gettime(int clock_id, lookaway_timespec *tp);
]])
local timespec = ffi.new("lookaway_timespec")
local CLOCK_MONOTONIC = 1

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local data = dofile(os.getenv("LOOKAWAY_WRK_DATA"))
local API = "/api/v1/"

-- main thread: number the threads so each picks its own browser ----------------------------------------------
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

-- worker threads --------------------------------------------------------------------------------------------
local browser, out, headers, json_headers
local state = { session = nil, seed = nil, width = nil, height = nil, slate = {}, feedbacks = 0, clicks = 0, step = "new" }
local pending = nil -- {kind, started}

function init(args)
  local id = thread_id or 1
  browser = data.browsers[((id - 1) % #data.browsers) + 1]
  math.randomseed(data.random_seed + id * 7919)
  out = assert(io.open(string.format("%s/thread-%d.txt", data.out_dir, id), "w"))
  out:setvbuf("line")
  headers = {
    ["Accept"] = "application/json",
    ["Cookie"] = string.format("sessionid=%s; csrftoken=%s", browser.sessionid, browser.csrftoken),
  }
  json_headers = {
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/json",
    ["X-CSRFToken"] = browser.csrftoken,
    ["Cookie"] = headers["Cookie"],
  }
end

local function random_seed_product()
  return data.seeds[math.random(#data.seeds)]
end

local function pick_from_slate()
  if #state.slate == 0 then
    return random_seed_product()
  end
  return state.slate[math.random(#state.slate)]
end

-- A rectangle covering 10-30% of the photo, as run-length counts (used when no PNG mask of that size exists).
local function rle_rectangle(width, height)
  local area = (0.1 + 0.2 * math.random()) * width * height
  local w = math.max(1, math.min(width - 1, math.floor(math.sqrt(area) * (0.6 + 0.8 * math.random()))))
  local h = math.max(1, math.min(height - 1, math.floor(area / w)))
  local left, top = math.random(0, width - w), math.random(0, height - h)
  local counts, run, painted = {}, 0, false
  for y = 0, height - 1 do
    for x = 0, width - 1 do
      local inside = x >= left and x < left + w and y >= top and y < top + h
      if inside ~= painted then
        counts[#counts + 1] = run
        run, painted = 0, inside
      end
      run = run + 1
    end
  end
  counts[#counts + 1] = run
  return string.format('{"rle":[%s],"width":%d,"height":%d', table.concat(counts, ","), width, height)
end

local function feedback_body()
  local width, height = state.width or 224, state.height or 224
  local pngs = data.masks[string.format("%dx%d", width, height)]
  local body
  if pngs and #pngs > 0 then
    body = string.format('{"mask":"%s","width":%d,"height":%d', pngs[math.random(#pngs)], width, height)
  else
    body = rle_rectangle(width, height)
  end
  return body .. string.format(',"seed_id":%d}', state.seed)
end

local function query()
  return string.format("?k=%d", data.k)
end

local function post_seed()
  local body = string.format('{"product_id":%d}', pick_from_slate())
  local path = string.format("%ssessions/%s/seed/%s", API, state.session, query())
  return "seed", wrk.format("POST", path, json_headers, body)
end

local function create_session(seed)
  return "create", wrk.format("POST", API .. "sessions/" .. query(), json_headers, string.format('{"seed_id":%d}', seed))
end

local function next_request()
  local step = state.step
  if data.scenario == "browse" then
    if step == "create" then
      return create_session(state.product)
    elseif step == "click" and state.session ~= nil then
      return post_seed()
    end
    state.product = random_seed_product()
    return "similar", wrk.format("GET", string.format("%sproducts/%d/similar/%s", API, state.product, query()), headers)
  end
  if step == "new" or state.session == nil then
    return create_session(random_seed_product())
  elseif step == "feedback" then
    local path = string.format("%ssessions/%s/feedback/%s", API, state.session, query())
    return "feedback", wrk.format("POST", path, json_headers, feedback_body())
  end
  return post_seed()
end

-- Think time between a shopper's requests: exponential with mean data.think_ms (0: back-to-back, the default).
function delay()
  local mean = data.think_ms or 0
  if mean <= 0 then
    return 0
  end
  return math.floor(-mean * math.log(1 - math.random()))
end

function request()
  if pending ~= nil then
    -- No response to the previous request: wrk's own check of the script (one call before the run) or a lost
    -- connection (counted by wrk as a socket error). Start over, the session state is unknown.
    state.step, state.session = "new", nil
  end
  local kind, req = next_request()
  pending = { kind = kind, started = now_us() }
  return req
end

local function parse_state(body)
  local session = body:match('^{"id":"([%x%-]+)"')
  if session then
    state.session = session
  end
  local seed = body:match('"seed":{"id":(%d+)')
  if seed then
    state.seed = tonumber(seed)
    local card = body:match('"seed":(%b{})')
    if card then
      state.width = tonumber(card:match('"width":(%d+)')) or state.width
      state.height = tonumber(card:match('"height":(%d+)')) or state.height
    end
  end
  local items = body:match('"slate":(.*)$') or body:match('"results":(.*)$') or ""
  local slate = {}
  for pid in items:gmatch('"product":{"id":(%d+)') do
    slate[#slate + 1] = tonumber(pid)
  end
  state.slate = slate
end

function response(status, resp_headers, body)
  local finished = now_us()
  local kind = pending and pending.kind or "unknown"
  out:write(string.format("%s %d %d\n", kind, status, math.floor(finished - (pending and pending.started or finished))))
  pending = nil
  if status >= 400 then -- start over with a new session (the error is counted by the bench)
    state.step, state.session, state.slate = "new", nil, {}
    return
  end
  parse_state(body)
  if data.scenario == "browse" then -- similar -> new session on that product -> a few clicks -> again
    if kind == "similar" then
      state.step = "create"
    elseif kind == "create" then
      state.step, state.clicks = "click", 0
    else
      state.clicks = state.clicks + 1
      state.step = state.clicks >= data.clicks_per_product and "new" or "click"
    end
    return
  end
  if kind == "create" then
    state.feedbacks, state.step = 0, "feedback"
  elseif kind == "feedback" then
    state.feedbacks = state.feedbacks + 1
    state.step = "seed"
  elseif kind == "seed" then
    state.step = state.feedbacks >= data.feedbacks_per_session and "new" or "feedback"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk_requests":%d,"wrk_duration_us":%d,"wrk_errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout
  ))
end
