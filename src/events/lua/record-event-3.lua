--[[
  Records one event: its JSON (with a TTL), its id in the index of all events and in the index of
  its type, and trims ids older than the TTL off both indexes, so they never outgrow what is kept.
  One script rather than a MULTI of five commands: one command to send and to answer.

  KEYS[1] the event (string)   KEYS[2] index of all events   KEYS[3] index of its type (sorted sets, by id)
  ARGV[1] event id   ARGV[2] its JSON   ARGV[3] TTL, ms   ARGV[4] exclusive lower bound of ids kept ('(evt_…')
]]
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZREMRANGEBYLEX', KEYS[2], '-', ARGV[4])
redis.call('ZREMRANGEBYLEX', KEYS[3], '-', ARGV[4])
return 1
