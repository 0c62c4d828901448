--[[
  Claims an Idempotency-Key for a request that is not a points transaction (issuing a card,
  creating a customer, starting a bulk). The resource id is chosen up front, so a request that
  takes over after a crash creates the same resource, never a second one.

  KEYS[1] idempotency record of (client, Idempotency-Key)

  ARGV[1] request fingerprint
  ARGV[2] resource id chosen for this request
  ARGV[3] now, ms
  ARGV[4] lease, ms
  ARGV[5] record TTL, ms
  ARGV[6] instance id of this gateway process (the claim's owner)
  ARGV[7] prefix of heartbeat keys (same hash tag): an owner's heartbeat is ARGV[7] .. owner

  Returns {'claimed', resource} | {'replay', kind, answer} | {'in_flight', resource, lease_until}
        | {'takeover', resource} (the first claimer's lease ran out, or its process is gone: its heartbeat
          lapsed; carry on with its resource id) | {'mismatch'}
  A claim without an owner (written by an earlier version) is held for its whole lease.
]]
local now = tonumber(ARGV[3])
local rec = redis.call('HMGET', KEYS[1], 'fp', 'state', 'resource', 'status', 'body', 'lease_until', 'owner')
if rec[1] then
  if rec[1] ~= ARGV[1] then return {'mismatch'} end
  if rec[2] == 'done' then return {'replay', rec[4], rec[5]} end
  local owner = rec[7]
  local ownerGone = owner and owner ~= ARGV[6] and redis.call('EXISTS', ARGV[7] .. owner) == 0
  if tonumber(rec[6] or '0') > now and not ownerGone then return {'in_flight', rec[3], rec[6]} end
  redis.call('HSET', KEYS[1], 'lease_until', string.format('%d', now + tonumber(ARGV[4])), 'owner', ARGV[6])
  return {'takeover', rec[3]}
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'in_flight', 'resource', ARGV[2],
  'lease_until', string.format('%d', now + tonumber(ARGV[4])), 'owner', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'claimed', ARGV[2]}
