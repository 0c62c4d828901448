--[[
  A transaction's trail (transaction-store.ts): one step appended, only the last `kept` steps kept,
  and the trail living as long as its transaction. `entry` is JSON; the step gets the attempts made so far.
]]
local function appendTrail(txnKey, trailKey, entry, kept)
  if entry == '' then return end
  local e = cjson.decode(entry)
  e.attempt = tonumber(redis.call('HGET', txnKey, 'attempts')) or 0
  redis.call('RPUSH', trailKey, cjson.encode(e))
  redis.call('LTRIM', trailKey, -tonumber(kept), -1)
  local ttl = redis.call('PTTL', txnKey)
  if ttl > 0 then redis.call('PEXPIRE', trailKey, ttl) end
end
