--[[
  Claims a transaction before any provider is called: the store's "record once" promise.

  KEYS[1] idempotency record of (client, Idempotency-Key), or a placeholder when the request has no key
  KEYS[2] natural-key record (card, type, reference_id), or a placeholder when there is no reference_id
  KEYS[3] the new transaction's hash
  KEYS[4] the transaction a reversal at an external provider reverses, or a placeholder
  KEYS[5] the status index of ARGV[11] (sorted set of txn ids, scores 0: ids sort by creation time), or a placeholder

  ARGV[1] '1' when KEYS[1] is a real idempotency record
  ARGV[2] '1' when KEYS[2] is a real natural-key record
  ARGV[3] request fingerprint (method, route and canonical body)
  ARGV[4] now, ms
  ARGV[5] lease, ms: how long the claimer may work before another request may take over
  ARGV[6] idempotency record TTL, ms
  ARGV[7] the new transaction's id
  ARGV[8] the new transaction's fields, as a JSON array of strings: field, value, field, value...
          (strings only, so cjson keeps every value exact)
  ARGV[9] prefix of transaction keys (same hash tag), to return an existing transaction's fields
  ARGV[10] amount a reversal at an external provider reserves on KEYS[4] ('' for none): checked
          against what is left of the original, counting reversals still in flight or in review,
          so that concurrent partial reversals can never take back more than it gave
  ARGV[11] the status it starts in: 'processing' (the built-in ledger applies it in this request,
          under a lease) or 'queued' (dispatched to an external provider's queue)
  ARGV[12] instance id of this gateway process: a 'processing' transaction records it as its owner
  ARGV[13] prefix of heartbeat keys (same hash tag): an owner's heartbeat is ARGV[13] .. owner

  Returns one string (one reply element decodes far faster than many):
    'claimed|<txn id>'            the caller owns the transaction and must apply it
    'done|<txn id>|<json>'        the key's first request finished: answer from its transaction
    'existing|<txn id>|<json>'    the key or the natural key names a transaction already claimed
    'takeover|<txn id>|<json>'    ... one the built-in ledger was applying, whose owner process is gone (its
                                  heartbeat lapsed): now owned by this caller (new lease), which must apply it.
                                  A transaction without an owner (an earlier version's) keeps its lease.
    'mismatch'                    the key was used with another request (another route, another body)
    'exceeds|<left>'              the reversal is more than what is left of the original
  <json> is the transaction's fields as a JSON array [field, value, ...] ([] if it was just released).
]]
local now = tonumber(ARGV[4])

local function fieldsOf(id)
  local flat = redis.call('HGETALL', ARGV[9] .. id)
  if #flat == 0 then return '[]' end
  return cjson.encode(flat)
end
local leaseUntil = now + tonumber(ARGV[5])

-- A transaction already claimed: 'existing', or 'takeover' when its owner process is gone.
local function found(id)
  local t = redis.call('HMGET', ARGV[9] .. id, 'status', 'owner')
  if t[1] == 'processing' and t[2] and t[2] ~= ARGV[12] and redis.call('EXISTS', ARGV[13] .. t[2]) == 0 then
    redis.call('HSET', ARGV[9] .. id, 'owner', ARGV[12], 'lease_until', string.format('%d', leaseUntil))
    return 'takeover|' .. id .. '|' .. fieldsOf(id)
  end
  return 'existing|' .. id .. '|' .. fieldsOf(id)
end

if ARGV[1] == '1' then
  local rec = redis.call('HMGET', KEYS[1], 'fp', 'state', 'resource', 'status', 'body')
  if rec[1] then
    -- A record with a stored answer belongs to a request that is not a transaction.
    if rec[1] ~= ARGV[3] or rec[5] then return 'mismatch' end
    if rec[2] == 'done' then return 'done|' .. rec[3] .. '|' .. fieldsOf(rec[3]) end
    return found(rec[3])
  end
end

if ARGV[2] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    if ARGV[1] == '1' then
      -- The same key must go on naming this transaction.
      redis.call('HSET', KEYS[1], 'fp', ARGV[3], 'state', 'linked', 'resource', existing)
      redis.call('PEXPIRE', KEYS[1], ARGV[6])
    end
    return found(existing)
  end
end

if ARGV[10] ~= '' then
  local o = redis.call('HMGET', KEYS[4], 'delta', 'reversed_points', 'reversal_pending')
  local left = math.abs(tonumber(o[1]) or 0) - (tonumber(o[2]) or 0) - (tonumber(o[3]) or 0)
  if tonumber(ARGV[10]) > left then return 'exceeds|' .. string.format('%d', left) end
  redis.call('HINCRBY', KEYS[4], 'reversal_pending', ARGV[10])
end

local fields = cjson.decode(ARGV[8])
if ARGV[11] == 'queued' then
  -- Its keys are kept with it: the worker that settles it, and an admin's retry, need them.
  redis.call('HSET', KEYS[3], 'status', 'queued', 'attempts', '0', 'idem_key', ARGV[1] == '1' and KEYS[1] or '', 'idem_fp', ARGV[3],
    'natural_key', ARGV[2] == '1' and KEYS[2] or '', unpack(fields))
  redis.call('ZADD', KEYS[5], 0, ARGV[7])
else
  redis.call('HSET', KEYS[3], 'status', 'processing', 'lease_until', string.format('%d', leaseUntil), 'owner', ARGV[12],
    unpack(fields))
end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], ARGV[7]) end
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'fp', ARGV[3], 'state', 'in_flight', 'resource', ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return 'claimed|' .. ARGV[7]
