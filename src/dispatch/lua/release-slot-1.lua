--[[
  A request's answer is in: it now counts until a full window after this moment (Redis's clock).
  KEYS[1] the connection's log (see acquire-slot-2.lua)   ARGV[1] request id
  XX: a request already forgotten is not added back; LT: only ever earlier than "sent + timeout".
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', 'LT', now, ARGV[1])
return 0
