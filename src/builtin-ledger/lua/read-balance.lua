--[[
  Reads a card's balance after expiring what is due (expiry is an entry, never a read-time filter).
  Also the expiry schedule's per-card step.

  KEYS[1] card  KEYS[2] buckets  KEYS[3] rest  KEYS[4] totals  KEYS[5] history  KEYS[6] due index
  KEYS[7] expiry-sweep entry
  ARGV[1] now, ms   ARGV[2] id for an expiry-sweep entry   ARGV[3] "expiring soon" horizon, ms
  ARGV[4] '1' from the expiry schedule: always re-index the card's earliest expiry

  Returns 'missing', or 'ok|card status|available|earned|redeemed|expired|adjusted_in|adjusted_out|
    expiring_soon|next_expiry_at or empty|next_expiry_points|points_expired_now'
  (one string: ioredis decodes one reply element far faster than twelve)
]]
local k = { card = KEYS[1], buckets = KEYS[2], rest = KEYS[3], totals = KEYS[4], history = KEYS[5], due = KEYS[6] }
local now = tonumber(ARGV[1])
local card = redis.call('HMGET', k.card, 'status', 'id')
if not card[1] then return 'missing' end
k.cardId = card[2]

-- The common case costs three reads: the card, its earliest bucket, its totals.
local swept = 0
local first = redis.call('ZRANGE', k.buckets, 0, 0, 'WITHSCORES')
if first[1] and first[2] ~= 'inf' and tonumber(first[2]) <= now then
  swept = sweep(k, now, ARGV[2], KEYS[7])
  first = redis.call('ZRANGE', k.buckets, 0, 0, 'WITHSCORES')
end
-- The schedule (ARGV[4] = '1') also heals a due-index entry that older data may have left stale.
if swept > 0 or ARGV[4] == '1' then refreshDue(k) end

local soon = 0
local horizon = now + tonumber(ARGV[3])
local nextAt, nextPoints = '', 0
if first[1] and first[2] ~= 'inf' then
  nextAt = first[2]
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', k.buckets, first[2], first[2])) do
    nextPoints = nextPoints + tonumber(redis.call('HGET', k.rest, b) or '0')
  end
  if tonumber(first[2]) <= horizon then
    local upcoming = redis.call('ZRANGEBYSCORE', k.buckets, '(' .. int(now), int(horizon))
    for _, b in ipairs(upcoming) do soon = soon + tonumber(redis.call('HGET', k.rest, b) or '0') end
  end
end
local tot = redis.call('HMGET', k.totals, 'available', 'earned', 'redeemed', 'expired', 'adjusted_in', 'adjusted_out')
for i = 1, 6 do tot[i] = tot[i] or '0' end
return table.concat({'ok', card[1], tot[1], tot[2], tot[3], tot[4], tot[5], tot[6], int(soon), nextAt, int(nextPoints), int(swept)}, '|')
