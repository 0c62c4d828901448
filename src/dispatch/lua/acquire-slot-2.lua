--[[
  One connection's rate limit, shared by every gateway process: a sliding log of requests.

  KEYS[1] the log: sorted set, member = request id, score = when the request stops counting
          as "recent" minus the window, i.e. its answer time (ms), or, while it is in flight,
          the latest it can answer (sent + timeout)
  KEYS[2] blocked-until (ms), set after a 429 or a spent RateLimit window

  ARGV[1] requests allowed per window   ARGV[2] window, ms
  ARGV[3] request id   ARGV[4] 'take' or 'peek'   ARGV[5] request timeout, ms

  A request counts from the moment it is sent until a full window after its answer: the
  provider received it in between, so no sliding window at the provider holds more than
  ARGV[1] of ours. Time is Redis's own clock, the one clock every process shares.

  Returns 0 when a slot was taken (or, for 'peek', is free), else the ms to wait before asking
  again (short while the request in the way is still in flight: its answer frees it sooner).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max, window = tonumber(ARGV[1]), tonumber(ARGV[2])

local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < max then
  if ARGV[4] == 'take' then
    local timeout = tonumber(ARGV[5])
    redis.call('ZADD', KEYS[1], now + timeout, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], timeout + window + 1000)
  end
  return 0
end
-- The entry whose expiry would leave a free slot.
local e = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
local score = tonumber(e[2])
if score > now then return 20 end
return math.max(1, score + window - now + 1)
