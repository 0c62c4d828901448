--[[
  Stores the answer of a finished request under its Idempotency-Key, for replays.

  KEYS[1] idempotency record
  ARGV[1] resource id the claim holds (a stale claimer must not overwrite another's answer)
  ARGV[2] the kind of answer (created, ok, existing, accepted, error)
  ARGV[3] the answer (JSON)

  Returns 1 when stored, 0 when the record is gone or names another resource.
]]
if redis.call('HGET', KEYS[1], 'resource') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'body', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease_until')
return 1
