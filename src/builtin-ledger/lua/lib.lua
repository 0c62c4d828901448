--[[
  Shared functions of the built-in ledger's scripts; prepended to each script when it is loaded.

  A card's points live in buckets: one per award or positive adjustment, each with its own expiry.
    buckets  sorted set: bucket id -> expiry (ms, or +inf); equal scores sort by id, i.e. by age
    rest     hash: bucket id -> unspent points (only buckets with points left)
    totals   hash: available, earned, redeemed, expired, adjusted_in, adjusted_out
  Invariant, kept by every script: totals.available == sum of rest >= 0.
  Numbers go back to Redis through int(): Lua prints large numbers as 1e+14, which HINCRBY refuses.
]]
local function int(n) return string.format('%d', n) end

-- Moves the card's entry in the due-for-expiry index to its earliest finite expiry.
local function refreshDue(k)
  local first = redis.call('ZRANGE', k.buckets, 0, 0, 'WITHSCORES')
  if first[1] and first[2] ~= 'inf' then
    redis.call('ZADD', k.due, first[2], k.cardId)
  else
    redis.call('ZREM', k.due, k.cardId)
  end
end

-- Sum of the unspent points in buckets expiring at or before maxScore.
local function sumRest(k, maxScore)
  local ids = redis.call('ZRANGEBYSCORE', k.buckets, '-inf', maxScore)
  local sum = 0
  for _, b in ipairs(ids) do sum = sum + tonumber(redis.call('HGET', k.rest, b) or '0') end
  return sum
end

--[[
  Takes up to `amount` points, earliest expiry first (FIFO), from buckets expiring at or before
  maxScore; `prefer` (a bucket id) is drawn first when given. Returns the points taken and the
  allocations as "bucket|points|expiry,..." (kept on the entry so a reversal can restore them).
]]
local function take(k, amount, maxScore, prefer)
  local taken = 0
  local parts = {}
  local function takeFrom(b, score)
    local rest = tonumber(redis.call('HGET', k.rest, b) or '0')
    local t = math.min(rest, amount - taken)
    if t <= 0 then return end
    taken = taken + t
    parts[#parts + 1] = b .. '|' .. int(t) .. '|' .. score
    if rest == t then
      redis.call('HDEL', k.rest, b)
      redis.call('ZREM', k.buckets, b)
      k.dirty = true -- the earliest expiry may have moved: re-index the card at the end
    else
      redis.call('HSET', k.rest, b, int(rest - t))
    end
  end
  if prefer then
    local s = redis.call('ZSCORE', k.buckets, prefer)
    if s then takeFrom(prefer, s) end
  end
  while taken < amount do
    local batch = redis.call('ZRANGEBYSCORE', k.buckets, '-inf', maxScore, 'WITHSCORES', 'LIMIT', 0, 100)
    if #batch == 0 then break end
    for i = 1, #batch, 2 do
      takeFrom(batch[i], batch[i + 1])
      if taken >= amount then break end
    end
  end
  return taken, table.concat(parts, ',')
end

--[[
  Expires every bucket whose expiry has passed: one `expire` entry takes the unspent rest of each.
  Runs before every write and every balance read, and on the schedule, so expiry is never a filter
  at read time. Returns the points expired.
]]
local function sweep(k, now, sweepId, sweepKey)
  local taken, alloc = take(k, math.huge, now)
  if taken == 0 then return 0 end
  local avail = redis.call('HINCRBY', k.totals, 'available', -taken)
  redis.call('HINCRBY', k.totals, 'expired', taken)
  redis.call('HSET', sweepKey,
    'id', sweepId, 'type', 'expire', 'status', 'succeeded', 'source', 'expiry_schedule',
    'card_id', k.cardId, 'connection', redis.call('HGET', k.card, 'connection') or '',
    'points', int(taken), 'delta', int(-taken), 'reason', 'Points reached their expiry date',
    'created_at', int(now), 'completed_at', int(now), 'allocations', alloc, 'balance_after', int(avail))
  redis.call('ZADD', k.history, 0, sweepId)
  return taken
end
