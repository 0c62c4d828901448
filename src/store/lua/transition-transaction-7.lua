--[[
  Moves a dispatched transaction from one status to another, only if it is still in the status
  the caller saw: two workers (or a worker and an admin) can never both move it.

  KEYS[1] the transaction's hash   KEYS[2] status index it leaves   KEYS[3] status index it enters (ids sort by creation: scores are 0, read BYLEX)
  KEYS[4] its audit list, or a placeholder
  KEYS[7] its trail (list of JSON steps, the last ARGV[14]; same expiry as KEYS[1]), written when ARGV[13] is not ''

  ARGV[1] the status it must be in (KEYS[2] is its index)
  ARGV[2] the status it moves to   ARGV[3] now, ms
  ARGV[4] JSON array of fields to set: field, value, ... ('' for none)
  ARGV[5] '1' to count an attempt (attempts + 1, attempt_at = now)
  ARGV[6] an audit entry (JSON) to append, or ''
  ARGV[7] JSON array of fields to delete ('' for none)
  KEYS[6] (with ARGV[9] '1') its idempotency record, taken back the same way (ARGV[10] its
          fingerprint, ARGV[11] the record's TTL, ms): a client's retry of the key must find this
          transaction again, not make a second one
  ARGV[12] the attempts it must have made ('' for any): two workers cannot both send it again
  KEYS[5] (with ARGV[8] '1') a natural key (card, type, reference_id) to take back for this transaction (an
          admin's retry of a failed one, whose keys were released): refused when another
          transaction has taken it since

  ARGV[13] a trail entry (JSON object) to append, or '': `attempt` (the attempts made, after this move) is added here
  ARGV[14] how many trail entries are kept

  Returns 'ok', 'already|<status>' when it was in another status, or 'taken|<txn id>' (nothing changed).
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'already|gone' end
if status ~= ARGV[1] then return 'already|' .. status end
if ARGV[12] ~= '' and (redis.call('HGET', KEYS[1], 'attempts') or '0') ~= ARGV[12] then return 'already|' .. status end
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[8] == '1' then
  local holder = redis.call('GET', KEYS[5])
  if holder and holder ~= id then return 'taken|' .. holder end
end
if ARGV[9] == '1' then
  local holder = redis.call('HGET', KEYS[6], 'resource')
  if holder and holder ~= id then return 'taken|' .. holder end
end
if ARGV[8] == '1' then redis.call('SET', KEYS[5], id) end
if ARGV[9] == '1' then
  redis.call('HSET', KEYS[6], 'fp', ARGV[10], 'state', 'in_flight', 'resource', id)
  redis.call('PEXPIRE', KEYS[6], ARGV[11])
end

redis.call('HSET', KEYS[1], 'status', ARGV[2])
if ARGV[4] ~= '' then
  local fields = cjson.decode(ARGV[4])
  if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
end
if ARGV[7] ~= '' then
  local gone = cjson.decode(ARGV[7])
  if #gone > 0 then redis.call('HDEL', KEYS[1], unpack(gone)) end
end
if ARGV[5] == '1' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HSET', KEYS[1], 'attempt_at', ARGV[3])
end
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[3], 0, id)
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[6]) end
appendTrail(KEYS[1], KEYS[7], ARGV[13], ARGV[14])
return 'ok'
