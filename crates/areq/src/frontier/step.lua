-- One step of a crawler against the shared frontier (RedisFrontier): complete finished jobs,
-- queue the new links found on them, hand leases that expired back to the queue, and claim up
-- to `max` ready jobs, atomically. Every part is idempotent under a retry: a completion whose
-- lease is no longer this worker's is skipped, a link already in the seen-set is not queued
-- again, so a call repeated after a lost reply changes nothing twice.
--
-- ARGV: prefix, worker, per_host, delay_ms, lease_ms, max, poll_ms, own_in_flight,
--       n_done, (url, ok)*n_done, n_found, (url, job)*n_found
-- A job is "host<TAB>depth<TAB>parent".
-- Returns {added, wait_ms, queued, in_flight, done, failed, seen, url1, job1, url2, job2, ...};
-- wait_ms is -1 unless nothing was claimed although something may become claimable.

local P = ARGV[1]
local worker = ARGV[2]
local per_host = tonumber(ARGV[3])
local delay = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local max = tonumber(ARGV[6])
local poll = tonumber(ARGV[7])
local own_in_flight = tonumber(ARGV[8])

-- Times are microseconds of the server's clock (exact in a double), and pass to Redis through
-- `num` (Lua's default formatting would round them to 14 digits).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
delay = delay * 1000
lease = lease * 1000

local function num(x)
  return string.format('%.0f', x)
end

local K_SEEN, K_JOB, K_HOSTS = P .. 'seen', P .. 'job', P .. 'hosts'
local K_BUSY, K_NEXT, K_LEASE = P .. 'busy', P .. 'next', P .. 'lease'
local K_OWNER, K_COUNT, K_WORKER = P .. 'owner', P .. 'count', P .. 'w:' .. worker

local function host_of(job)
  return string.match(job, '^([^\t]*)')
end

-- Puts a host in the ready set (scored by when it may be claimed next) or takes it out, as its
-- queue and in-flight limit say. With `at`, that is its new score; without, an existing score
-- is kept (its place in the round robin) and a new one is the end of its delay.
local function schedule(host, at)
  if redis.call('LLEN', P .. 'q:' .. host) == 0 then
    redis.call('ZREM', K_HOSTS, host)
    return
  end
  if per_host > 0 and tonumber(redis.call('HGET', K_BUSY, host) or '0') >= per_host then
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

local i = 9
local done, failed = 0, 0
local n_done = tonumber(ARGV[i])
i = i + 1
for _ = 1, n_done do
  local url, ok = ARGV[i], ARGV[i + 1]
  i = i + 2
  local job = redis.call('HGET', K_JOB, url)
  if job then
    local host = host_of(job)
    local owner = redis.call('HGET', K_OWNER, url)
    local counted = false
    if owner == worker then
      redis.call('ZREM', K_LEASE, url)
      redis.call('HDEL', K_OWNER, url)
      redis.call('HINCRBY', K_BUSY, host, -1)
      redis.call('HINCRBY', K_COUNT, 'in_flight', -1)
      counted = true
    elseif not owner then
      -- The lease expired and the job went back to the queue; nobody took it yet.
      if redis.call('LREM', P .. 'q:' .. host, 1, url) == 1 then
        redis.call('HINCRBY', K_COUNT, 'queued', -1)
        counted = true
      end
    end
    if counted then
      redis.call('HDEL', K_JOB, url)
      schedule(host, nil)
      if ok == '1' then done = done + 1 else failed = failed + 1 end
    end
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

local added = 0
local n_found = tonumber(ARGV[i])
i = i + 1
for _ = 1, n_found do
  local url, job = ARGV[i], ARGV[i + 1]
  i = i + 2
  if redis.call('SADD', K_SEEN, url) == 1 then
    local host = host_of(job)
    redis.call('HSET', K_JOB, url, job)
    redis.call('RPUSH', P .. 'q:' .. host, url)
    added = added + 1
    schedule(host, nil)
  end
end
if added > 0 then
  redis.call('HINCRBY', K_COUNT, 'queued', added)
end

local out = {}
local taken = 0
if max > 0 then
  -- Leases that ran out: their crawler died or stalled. Back to the front of their queue.
  local expired = redis.call('ZRANGEBYSCORE', K_LEASE, '-inf', num(now), 'LIMIT', 0, 1000)
  -- Pushed to the front in reverse, so they keep their order there.
  for e = #expired, 1, -1 do
    local url = expired[e]
    redis.call('ZREM', K_LEASE, url)
    redis.call('HDEL', K_OWNER, url)
    local job = redis.call('HGET', K_JOB, url)
    if job then
      local host = host_of(job)
      redis.call('LPUSH', P .. 'q:' .. host, url)
      redis.call('HINCRBY', K_BUSY, host, -1)
      redis.call('HINCRBY', K_COUNT, 'in_flight', -1)
      redis.call('HINCRBY', K_COUNT, 'queued', 1)
      schedule(host, nil)
    end
  end

  -- Round robin over the ready hosts: one job from each per pass.
  local ready = redis.call('ZRANGEBYSCORE', K_HOSTS, '-inf', num(now), 'LIMIT', 0, max)
  local active = ready
  local got = {}
  while taken < max and #active > 0 do
    local still = {}
    for _, host in ipairs(active) do
      if taken >= max then break end
      local url = redis.call('LPOP', P .. 'q:' .. host)
      if url then
        local busy = redis.call('HINCRBY', K_BUSY, host, 1)
        redis.call('ZADD', K_LEASE, num(now + lease), url)
        redis.call('HSET', K_OWNER, url, worker)
        out[#out + 1] = url
        out[#out + 1] = redis.call('HGET', K_JOB, url) or ''
        taken = taken + 1
        got[host] = true
        if delay == 0 and (per_host == 0 or busy < per_host) then
          still[#still + 1] = host
        end
      else
        redis.call('ZREM', K_HOSTS, host)
      end
    end
    active = still
  end
  local turn = 0
  for _, host in ipairs(ready) do
    if got[host] then
      turn = turn + 1
      if delay > 0 then
        redis.call('HSET', K_NEXT, host, num(now + delay))
        schedule(host, now + delay)
      else
        -- Behind every host that was waiting: its turn comes again after theirs.
        schedule(host, now + turn)
      end
    end
  end
  if taken > 0 then
    redis.call('HINCRBY', K_COUNT, 'queued', -taken)
    redis.call('HINCRBY', K_COUNT, 'in_flight', taken)
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
