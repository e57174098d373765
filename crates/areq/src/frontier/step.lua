-- One step of a crawler against the shared frontier (RedisFrontier): complete finished jobs,
-- queue the new links found on them, hand the jobs of crawlers whose lease ran out back to the
-- queue, and claim up to `max` ready jobs, atomically. Every part is idempotent under a retry:
-- a completion of a job this worker no longer holds is skipped, a link already in the seen-set
-- is not queued again, so a call repeated after a lost reply changes nothing twice.
--
-- A job travels as one string, its entry: "host<TAB>depth<TAB>url<TAB>tail", the tail being
-- the parent (empty for an input URL) and, for a redirect's target, "<TAB>url" for each
-- redirect that led to it. Entries wait in one list per host and, once claimed, sit in the claiming
-- worker's held set; the worker's one lease (a score in `lease`) covers all of them and is
-- renewed by every step and by its heartbeat.
--
-- Work is batched (one SMISMEMBER for a completed batch, one per host for the links found, one
-- LPOP per host for the claims, ...): a step costs a few dozen commands however many pages and
-- links it carries. Needs Redis 6.2 or later (SMISMEMBER, LPOP with a count).
--
-- A host's delay is `delay_ms`, or the longer one its jobs reported (`delay` hash: its
-- robots.txt Crawl-delay, in ms). With `learn` set, a host not in that hash yet has at most
-- one job in flight, so no second request goes to it before its delay is known.
--
-- ARGV: prefix, worker, per_host, delay_ms, lease_ms, max, poll_ms, own_in_flight, learn,
--       n_done, (entry, ok, host_delay_ms or -1)*n_done,
--       n_groups, (host, depth, tail, n, url*n)*n_groups   (links found: one group per
--       host and page, whose entries are host, depth, url, tail)
-- Returns {added, wait_ms, queued, in_flight, done, failed, seen, entry1, entry2, ...};
-- wait_ms is -1 unless nothing was claimed although something may become claimable.

local P = ARGV[1]
local worker = ARGV[2]
local per_host = tonumber(ARGV[3])
local delay = tonumber(ARGV[4]) * 1000
local lease = tonumber(ARGV[5]) * 1000
local max = tonumber(ARGV[6])
local poll = tonumber(ARGV[7])
local own_in_flight = tonumber(ARGV[8])
local learn = ARGV[9] == '1'

-- Times are microseconds of the server's clock (exact in a double), and pass to Redis through
-- `num` (Lua's default formatting would round them to 14 digits).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local function num(x)
  return string.format('%.0f', x)
end

local K_SEEN, K_HOSTS, K_BUSY, K_NEXT = P .. 'seen', P .. 'hosts', P .. 'busy', P .. 'next'
local K_LEASE, K_COUNT, K_WORKER = P .. 'lease', P .. 'count', P .. 'w:' .. worker
local K_DELAY = P .. 'delay'
local K_HELD = P .. 'held:' .. worker

local function host_of(entry)
  return string.match(entry, '^([^\t]*)')
end

-- redis.call(cmd, key, items...) in chunks (Lua's unpack takes a few thousand values at most);
-- the replies' arrays are joined.
local CHUNK = 4000
local function batched(cmd, key, items)
  local replies = {}
  local n = #items
  for first = 1, n, CHUNK do
    local reply = redis.call(cmd, key, unpack(items, first, math.min(first + CHUNK - 1, n)))
    if type(reply) == 'table' then
      for _, v in ipairs(reply) do
        replies[#replies + 1] = v
      end
    end
  end
  return replies
end

-- A host's delay in µs, from its reported delay in ms (false or nil: none reported).
local function host_delay(reported)
  if reported then
    return math.max(delay, tonumber(reported) * 1000)
  end
  return delay
end

-- How many jobs of a host may be in flight (0: no limit), from its reported delay.
local function host_limit(reported)
  if learn and not reported then
    return 1
  end
  return per_host
end

-- Puts a host in the ready set (scored by when it may be claimed next) or takes it out, as its
-- queue and in-flight limit say. With `at`, that is its new score; without, an existing score
-- is kept (its place in the round robin) and a new one is the end of its delay.
local function schedule(host, at)
  if redis.call('LLEN', P .. 'q:' .. host) == 0 then
    redis.call('ZREM', K_HOSTS, host)
    return
  end
  local limit = per_host
  if learn then
    limit = host_limit(redis.call('HGET', K_DELAY, host))
  end
  if limit > 0 and tonumber(redis.call('HGET', K_BUSY, host) or '0') >= limit then
    redis.call('ZREM', K_HOSTS, host)
    return
  end
  if at then
    redis.call('ZADD', K_HOSTS, num(at), host)
    return
  end
  local next_allowed = tonumber(redis.call('HGET', K_NEXT, host) or '0')
  redis.call('ZADD', K_HOSTS, 'NX', num(math.max(now, next_allowed)), host)
end

-- This worker is alive: its lease runs from now.
redis.call('ZADD', K_LEASE, num(now + lease), worker)

-- Hosts whose queue or in-flight count changed: rescheduled once, before claiming.
local dirty = {}
local i = 10

-- A job reported its host's delay (ms). The first report for a host also moves the host's
-- next claim to its last claim plus that delay: `next` holds the last claim plus the delay it
-- was made with, which was `delay` (the host's was not known yet). Idempotent: a repeated
-- report is not a first one.
local function learn_delay(host, reported)
  if redis.call('HSETNX', K_DELAY, host, reported) == 0 then
    redis.call('HSET', K_DELAY, host, reported)
    return
  end
  local own = host_delay(reported)
  local next_allowed = tonumber(redis.call('HGET', K_NEXT, host) or '0')
  if own > delay and next_allowed > 0 then
    local at = next_allowed - delay + own
    redis.call('HSET', K_NEXT, host, num(at))
    redis.call('ZADD', K_HOSTS, 'XX', 'GT', num(at), host)
  end
  dirty[host] = true
end

-- Completions.
local done_entries, done_ok = {}, {}
for _ = 1, tonumber(ARGV[i]) do
  done_entries[#done_entries + 1] = ARGV[i + 1]
  done_ok[#done_ok + 1] = ARGV[i + 2]
  local reported = tonumber(ARGV[i + 3])
  if reported >= 0 then
    learn_delay(host_of(ARGV[i + 1]), ARGV[i + 3])
  end
  i = i + 3
end
i = i + 1
local done, failed = 0, 0
if #done_entries > 0 then
  local mine = batched('SMISMEMBER', K_HELD, done_entries)
  local released, freed = {}, {}
  local requeued = 0
  for k, entry in ipairs(done_entries) do
    local host = host_of(entry)
    local counted = false
    if mine[k] == 1 then
      released[#released + 1] = entry
      freed[host] = (freed[host] or 0) + 1
      counted = true
    elseif redis.call('LREM', P .. 'q:' .. host, 1, entry) == 1 then
      -- This worker's lease ran out and the job went back to the queue; nobody took it yet.
      requeued = requeued + 1
      counted = true
    end
    if counted then
      dirty[host] = true
      if done_ok[k] == '1' then done = done + 1 else failed = failed + 1 end
    end
  end
  if #released > 0 then
    batched('SREM', K_HELD, released)
    redis.call('HINCRBY', K_COUNT, 'in_flight', -#released)
  end
  for host, n in pairs(freed) do
    redis.call('HINCRBY', K_BUSY, host, -n)
  end
  if requeued > 0 then
    redis.call('HINCRBY', K_COUNT, 'queued', -requeued)
  end
end
if done > 0 then
  redis.call('HINCRBY', K_COUNT, 'done', done)
  redis.call('HINCRBY', K_WORKER, 'done', done)
end
if failed > 0 then
  redis.call('HINCRBY', K_COUNT, 'failed', failed)
  redis.call('HINCRBY', K_WORKER, 'failed', failed)
end

-- Links found, by host and page: the ones not in the seen-set join it and their host's queue.
local added = 0
for _ = 1, tonumber(ARGV[i]) do
  local host, n = ARGV[i + 1], tonumber(ARGV[i + 4])
  local before, after = host .. '\t' .. ARGV[i + 2] .. '\t', '\t' .. ARGV[i + 3]
  i = i + 4
  local urls = {}
  for k = 1, n do
    urls[k] = ARGV[i + k]
  end
  i = i + n
  local member = batched('SMISMEMBER', K_SEEN, urls)
  local fresh_urls, fresh_entries = {}, {}
  for k, url in ipairs(urls) do
    if member[k] == 0 then
      fresh_urls[#fresh_urls + 1] = url
      fresh_entries[#fresh_entries + 1] = before .. url .. after
    end
  end
  if #fresh_urls > 0 then
    batched('SADD', K_SEEN, fresh_urls)
    batched('RPUSH', P .. 'q:' .. host, fresh_entries)
    added = added + #fresh_urls
    dirty[host] = true
  end
end
if added > 0 then
  redis.call('HINCRBY', K_COUNT, 'queued', added)
end

for host in pairs(dirty) do
  schedule(host, nil)
end

local out = {}
local taken = 0
if max > 0 then
  -- Workers whose lease ran out died or stalled: their jobs go back to the front of their
  -- queues (in a stable order).
  local dead = redis.call('ZRANGEBYSCORE', K_LEASE, '-inf', num(now), 'LIMIT', 0, 100)
  for _, w in ipairs(dead) do
    local held = redis.call('SMEMBERS', P .. 'held:' .. w)
    table.sort(held)
    local back = {}
    for e = #held, 1, -1 do
      local host = host_of(held[e])
      redis.call('LPUSH', P .. 'q:' .. host, held[e])
      back[host] = (back[host] or 0) + 1
    end
    for host, n in pairs(back) do
      redis.call('HINCRBY', K_BUSY, host, -n)
      schedule(host, nil)
    end
    if #held > 0 then
      redis.call('HINCRBY', K_COUNT, 'in_flight', -#held)
      redis.call('HINCRBY', K_COUNT, 'queued', #held)
    end
    redis.call('DEL', P .. 'held:' .. w)
    redis.call('ZREM', K_LEASE, w)
  end

  -- Round robin over the ready hosts: one job from each per pass, as far as each host's queue,
  -- in-flight limit and delay (one job per claim) allow.
  local ready = redis.call('ZRANGEBYSCORE', K_HOSTS, '-inf', num(now), 'LIMIT', 0, max)
  local room = {}
  local reported = (learn and #ready > 0) and batched('HMGET', K_DELAY, ready) or {}
  local busy = ((per_host > 0 or learn) and #ready > 0) and batched('HMGET', K_BUSY, ready) or {}
  for k, host in ipairs(ready) do
    local r = redis.call('LLEN', P .. 'q:' .. host)
    if host_delay(reported[k]) > 0 then
      r = math.min(r, 1)
    end
    local limit = host_limit(reported[k])
    if limit > 0 then
      r = math.min(r, limit - tonumber(busy[k] or '0'))
    end
    room[k] = math.max(r, 0)
  end
  local share = {}
  local more = true
  while taken < max and more do
    more = false
    for k = 1, #ready do
      if taken >= max then break end
      if (share[k] or 0) < room[k] then
        share[k] = (share[k] or 0) + 1
        taken = taken + 1
        more = true
      end
    end
  end
  local lists = {}
  local rounds = 0
  for k, host in ipairs(ready) do
    local n = share[k] or 0
    if n > 0 then
      lists[k] = redis.call('LPOP', P .. 'q:' .. host, n) or {}
      rounds = math.max(rounds, n)
    else
      lists[k] = {}
    end
  end
  -- Interleaved, as the round robin handed them out.
  for r = 1, rounds do
    for k = 1, #ready do
      local entry = lists[k][r]
      if entry then
        out[#out + 1] = entry
      end
    end
  end
  taken = #out
  if taken > 0 then
    batched('SADD', K_HELD, out)
    redis.call('HINCRBY', K_COUNT, 'queued', -taken)
    redis.call('HINCRBY', K_COUNT, 'in_flight', taken)
  end
  local turn = 0
  for k, host in ipairs(ready) do
    local n = #lists[k]
    if n > 0 then
      turn = turn + 1
      redis.call('HINCRBY', K_BUSY, host, n)
      local own = host_delay(reported[k])
      if own > 0 then
        redis.call('HSET', K_NEXT, host, num(now + own))
        schedule(host, now + own)
      elseif learn and not reported[k] then
        -- The claim's time, for when the host's delay is learned (`learn_delay`).
        redis.call('HSET', K_NEXT, host, num(now))
        schedule(host, now + turn)
      else
        -- Behind every host that was waiting: its turn comes again after theirs.
        schedule(host, now + turn)
      end
    elseif room[k] == 0 then
      schedule(host, nil)
    end
  end
end
redis.call('HSET', K_WORKER, 'last', num(now))
redis.call('HSETNX', K_WORKER, 'started', num(now))
redis.call('SADD', P .. 'workers', worker)

local c = redis.call('HMGET', K_COUNT, 'queued', 'in_flight', 'done', 'failed')
local queued = tonumber(c[1] or '0')
local in_flight = tonumber(c[2] or '0')

local wait = -1
if max > 0 and taken == 0 then
  local first = redis.call('ZRANGE', K_HOSTS, 0, 0, 'WITHSCORES')
  if #first > 0 then
    wait = math.max(1, math.ceil((tonumber(first[2]) - now) / 1000))
  elseif in_flight > own_in_flight then
    -- Other crawlers hold jobs whose pages may add links: look again soon, or when the
    -- earliest lease runs out.
    wait = poll
    local lease_end = redis.call('ZRANGE', K_LEASE, 0, 0, 'WITHSCORES')
    if #lease_end > 0 then
      wait = math.max(1, math.min(poll, math.ceil((tonumber(lease_end[2]) - now) / 1000)))
    end
  end
end

local reply = {added, wait, queued, in_flight, tonumber(c[3] or '0'), tonumber(c[4] or '0'),
  redis.call('SCARD', K_SEEN)}
for _, v in ipairs(out) do
  reply[#reply + 1] = v
end
return reply
