--[[
  Issues a card on the built-in ledger. An external reference is unique per connection: issuing
  with one already taken returns the card that holds it.

  KEYS[1] card   KEYS[2] external-reference record (or placeholder)   KEYS[3] card index of the connection
  ARGV[1] '1' if KEYS[2] is real   ARGV[2] card id   ARGV[3] created_at ms   ARGV[4...] field, value pairs

  Returns {'created', card_id} | {'existing', card_id}
]]
if ARGV[1] == '1' then
  local holder = redis.call('GET', KEYS[2])
  if holder then return {'existing', holder} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'existing', ARGV[2]} end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[1] == '1' then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('ZADD', KEYS[3], 0, ARGV[2])
return {'created', ARGV[2]}
