--[[
  Records the outcome of a claimed transaction that an external provider was asked to apply
  (the built-in ledger records its own, in its apply script).

  KEYS[1] the transaction's hash
  KEYS[2] idempotency record of (client, Idempotency-Key), or a placeholder
  KEYS[3] natural-key record (card, type, reference_id), or a placeholder
  KEYS[4] the card's history (sorted set of transaction ids, scores 0)
  KEYS[5] the transaction this one reverses, or a placeholder

  ARGV[1] outcome: 'succeeded' | 'needs_review' | 'release'
  ARGV[2] the transaction id     ARGV[3] now, ms
  ARGV[4] '1' if KEYS[2] real    ARGV[5] '1' if KEYS[3] real
  ARGV[6] HTTP status to keep in the idempotency record (201, or the error's status)
  ARGV[7] JSON array of extra fields to set: field, value, ... (balance_after, provider_reference, error_code...)
  ARGV[8] '1' if KEYS[5] real: the reversal's reservation there (reversal_pending) becomes
          reversed_points on success, is given back on release, and stays on needs_review

  Returns 'ok', 'released', or 'already|<status>' when the transaction is no longer processing
  (a takeover settled it first), in which case nothing is changed.
]]
local txnId = ARGV[2]
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'processing' then return 'already|' .. tostring(status) end

if ARGV[1] == 'release' then
  -- Refused before anything changed at the provider: leave no trace, so a retry starts afresh.
  if ARGV[8] == '1' then
    local delta = tonumber(redis.call('HGET', KEYS[1], 'delta')) or 0
    redis.call('HINCRBY', KEYS[5], 'reversal_pending', -math.abs(delta))
  end
  redis.call('DEL', KEYS[1])
  if ARGV[5] == '1' and redis.call('GET', KEYS[3]) == txnId then redis.call('DEL', KEYS[3]) end
  if ARGV[4] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then redis.call('DEL', KEYS[2]) end
  return 'released'
end

local extra = cjson.decode(ARGV[7])
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'completed_at', ARGV[3], unpack(extra))
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('ZADD', KEYS[4], 0, txnId)
-- A reversal's reservation becomes reversed points; one in review stays reserved.
if ARGV[1] == 'succeeded' and ARGV[8] == '1' then
  local delta = tonumber(redis.call('HGET', KEYS[1], 'delta')) or 0
  redis.call('HINCRBY', KEYS[5], 'reversed_points', math.abs(delta))
  redis.call('HINCRBY', KEYS[5], 'reversal_pending', -math.abs(delta))
end
if ARGV[4] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then
  redis.call('HSET', KEYS[2], 'state', 'done', 'status', ARGV[6])
end
return 'ok'
