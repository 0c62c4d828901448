--[[
  Blocks or unblocks a card.
  KEYS[1] card
  ARGV[1] 'active' or 'blocked'   ARGV[2] reason ('' for none)   ARGV[3] now, ms
  Returns 1, or 0 when the card does not exist.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_reason', ARGV[2], 'updated_at', ARGV[3])
return 1
