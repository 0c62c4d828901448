--[[
  Finds a card's entries newest first, with filters, from a keyset cursor. Entry ids are ULIDs, so
  their order is the order of (time, id) and a time range is a range of ids.

  KEYS[1] history (sorted set, all scores 0, members are transaction ids)
  ARGV[1] upper bound, exclusive '(txn_...' from a cursor, or an inclusive '[txn_...' for `to`, or '+'
  ARGV[2] lower bound '[txn_...' for `from`, or '-'
  ARGV[3] limit
  ARGV[4] type filter ('' for all)   ARGV[5] reference_id filter ('' none)   ARGV[6] staff filter ('' none)
  ARGV[7] prefix of transaction keys
  ARGV[8] most entries to look at in one call (a page may stop short; its cursor goes on)

  Returns {next_cursor_id or '', id1, id2, ...}
]]
local limit, budget = tonumber(ARGV[3]), tonumber(ARGV[8])
local upper, lower = ARGV[1], ARGV[2]
local found, scanned, last = {}, 0, nil
local filtered = ARGV[4] ~= '' or ARGV[5] ~= '' or ARGV[6] ~= ''
while #found < limit and scanned < budget do
  local batch = redis.call('ZRANGE', KEYS[1], upper, lower, 'BYLEX', 'REV', 'LIMIT', 0, filtered and 200 or (limit - #found))
  if #batch == 0 then last = nil break end
  for _, id in ipairs(batch) do
    scanned = scanned + 1
    last = id
    local ok = true
    if filtered then
      local f = redis.call('HMGET', ARGV[7] .. id, 'type', 'reference_id', 'staff')
      ok = (ARGV[4] == '' or f[1] == ARGV[4]) and (ARGV[5] == '' or f[2] == ARGV[5]) and (ARGV[6] == '' or f[3] == ARGV[6])
    end
    if ok then found[#found + 1] = id end
    if #found >= limit or scanned >= budget then break end
  end
  upper = '(' .. last
end
local cursor = ''
if last then
  -- Only hand out a cursor when something older is left in range.
  local more = redis.call('ZRANGE', KEYS[1], '(' .. last, lower, 'BYLEX', 'REV', 'LIMIT', 0, 1)
  if #more > 0 then cursor = last end
end
local out = {cursor}
for _, id in ipairs(found) do out[#out + 1] = id end
return out
