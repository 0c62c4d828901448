--[[
  One provider credential's rate limit, shared by every gateway process: a sliding log of requests.

  KEYS[1] the log: sorted set, member = request id, score = when it was sent (ms) plus the margin
  KEYS[2] blocked-until (ms), set after a 429 or a spent RateLimit window

  ARGV[1] requests allowed per window   ARGV[2] window, ms   ARGV[3] request id
  ARGV[4] 'take' or 'peek'   ARGV[5] margin, ms

  A request counts from the moment it is sent for one window plus the margin. The provider counts
  it when it arrives, between its sending and sending + the network's delay; while that delay varies
  by less than the margin, no sliding window at the provider holds more than ARGV[1] of ours, however
  long the answer takes. Time is Redis's own clock, the one clock every process shares.

  Returns 0 when a slot was taken (or, for 'peek', is free), else the ms to wait before asking again.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max, window, margin = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[5])

local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < max then
  if ARGV[4] == 'take' then
    redis.call('ZADD', KEYS[1], now + margin, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window + margin + 1000)
  end
  return 0
end
-- The entry whose end leaves a free slot: it stops counting once its score is a window old.
local e = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
return math.max(1, tonumber(e[2]) + window - now + 1)
