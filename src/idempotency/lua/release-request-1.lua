--[[
  Releases a request's Idempotency-Key claim after the request failed, so that a retry runs again
  instead of waiting for the lease to run out.

  KEYS[1] idempotency record
  ARGV[1] the resource the claim named (only that claim is released)

  Returns 1 if released, 0 if the record was not that in-flight claim.
]]
if redis.call('HGET', KEYS[1], 'state') == 'in_flight' and redis.call('HGET', KEYS[1], 'resource') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
