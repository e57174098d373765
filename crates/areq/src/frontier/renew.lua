-- The heartbeat of a worker: its lease (which covers every job it holds) runs from now, and
-- its last contact is recorded for `areq stats`. A worker whose lease already ran out and
-- whose jobs went back to the queue gets a fresh lease for what it claims from now on.
-- ARGV: prefix, worker, lease_ms

local P = ARGV[1]
local worker = ARGV[2]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZADD', P .. 'lease', string.format('%.0f', now + tonumber(ARGV[3]) * 1000), worker)
redis.call('HSET', P .. 'w:' .. worker, 'last', string.format('%.0f', now))
return 1
