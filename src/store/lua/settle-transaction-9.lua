--[[
  Records the outcome of a transaction an external provider was asked to apply (the built-in
  ledger records its own, in its apply script), or an admin's resolution of one in review.

  KEYS[1] the transaction's hash
  KEYS[2] idempotency record of (client, Idempotency-Key), or a placeholder
  KEYS[3] natural-key record (card, type, reference_id), or a placeholder
  KEYS[4] the card's history (sorted set of transaction ids, scores 0)
  KEYS[5] the transaction this one reverses, or a placeholder
  KEYS[6] the status index it leaves   KEYS[7] the status index it enters
  KEYS[8] its audit list, or a placeholder
  KEYS[9] its trail (list of JSON steps, the last ARGV[11]; same expiry as KEYS[1]), written when ARGV[10] is not ''

  ARGV[1] outcome: 'succeeded' | 'needs_review' | 'failed'
  ARGV[2] the transaction id     ARGV[3] now, ms
  ARGV[4] '1' if KEYS[2] real    ARGV[5] '1' if KEYS[3] real
  ARGV[6] JSON array of extra fields to set: field, value, ... (balance_after, provider_reference, error_code...)
  ARGV[7] '1' if KEYS[5] real: the reversal's reservation there (reversal_pending) becomes
          reversed_points on success, is given back on failure or release, and stays on needs_review
  ARGV[8] the status it must be in (processing, or needs_review for an admin's resolution); KEYS[6] is its index
  ARGV[9] an audit entry (JSON) to append, or ''
  ARGV[10] a trail entry (JSON object) to append, or '': `attempt` (the attempts made) is added here
  ARGV[11] how many trail entries are kept

  failed: the provider certainly did not apply it (a refusal, or retries exhausted before it was
  ever received). The transaction is kept, to be seen and retried, but its Idempotency-Key and
  reference_id are given up, so a client's retry is a new request.

  Returns 'ok', or 'already|<status>' when it is in another status (nothing changed).
]]
local txnId = ARGV[2]
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= ARGV[8] then return 'already|' .. tostring(status) end
local outcome = ARGV[1]

local function giveBackReservation()
  if ARGV[7] == '1' then
    local delta = tonumber(redis.call('HGET', KEYS[1], 'delta')) or 0
    redis.call('HINCRBY', KEYS[5], 'reversal_pending', -math.abs(delta))
  end
end
local function releaseKeys()
  if ARGV[5] == '1' and redis.call('GET', KEYS[3]) == txnId then redis.call('DEL', KEYS[3]) end
  if ARGV[4] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then redis.call('DEL', KEYS[2]) end
end

local extra = cjson.decode(ARGV[6])
redis.call('HSET', KEYS[1], 'status', outcome, 'completed_at', ARGV[3], unpack(extra))
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('ZREM', KEYS[6], txnId)
redis.call('ZADD', KEYS[7], 0, txnId)
if ARGV[9] ~= '' then redis.call('RPUSH', KEYS[8], ARGV[9]) end
appendTrail(KEYS[1], KEYS[9], ARGV[10], ARGV[11])

if outcome == 'failed' then
  giveBackReservation()
  releaseKeys()
  redis.call('ZREM', KEYS[4], txnId)
  return 'ok'
end

redis.call('ZADD', KEYS[4], 0, txnId)
-- A reversal's reservation becomes reversed points; one in review stays reserved.
if outcome == 'succeeded' and ARGV[7] == '1' then
  local delta = tonumber(redis.call('HGET', KEYS[1], 'delta')) or 0
  redis.call('HINCRBY', KEYS[5], 'reversed_points', math.abs(delta))
  redis.call('HINCRBY', KEYS[5], 'reversal_pending', -math.abs(delta))
end
if ARGV[4] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then
  redis.call('HSET', KEYS[2], 'state', 'done')
end
return 'ok'
