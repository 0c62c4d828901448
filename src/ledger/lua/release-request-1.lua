--[[
  Forgets an Idempotency-Key whose request was refused before it changed anything
  (card not found, insufficient points...), so that a retry runs afresh.

  KEYS[1] idempotency record
  ARGV[1] resource id the claim holds

  Returns 1 when released.
]]
if redis.call('HGET', KEYS[1], 'resource') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
