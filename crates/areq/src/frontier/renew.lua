-- Extends this worker's leases on the jobs it is still fetching, and records that it is alive.
-- A lease that already ran out (the job went back to the queue, maybe to another crawler) is
-- left alone.
-- ARGV: prefix, worker, lease_ms, url*
-- Returns how many leases were extended.

local P = ARGV[1]
local worker = ARGV[2]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local until_us = string.format('%.0f', now + tonumber(ARGV[3]) * 1000)
local renewed = 0
for i = 4, #ARGV do
  if redis.call('HGET', P .. 'owner', ARGV[i]) == worker then
    redis.call('ZADD', P .. 'lease', 'XX', until_us, ARGV[i])
    renewed = renewed + 1
  end
end
redis.call('HSET', P .. 'w:' .. worker, 'last', string.format('%.0f', now))
return renewed
