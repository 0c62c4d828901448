--[[
  Applies a claimed transaction to the built-in ledger and records its outcome, in one step:
  a crash can never leave points moved without the transaction saying so, or the reverse.
  A transaction that is not 'processing' is left alone, so applying twice is harmless.
  A refused transaction (card missing or blocked, too few points) is deleted with its claims,
  so that nothing is written and a retry runs afresh.

  KEYS[1] transaction          KEYS[2] idempotency record (or placeholder)   KEYS[3] natural key (or placeholder)
  KEYS[4] card                 KEYS[5] buckets     KEYS[6] rest     KEYS[7] totals     KEYS[8] history
  KEYS[9] due-for-expiry index KEYS[10] reversed transaction (or placeholder)  KEYS[11] expiry-sweep entry

  ARGV[1] now, ms              ARGV[2] id for an expiry-sweep entry
  ARGV[3] '1' if KEYS[2] real  ARGV[4] '1' if KEYS[3] real   ARGV[5] '1' if KEYS[10] real
  ARGV[6] expiry for points a reversal gives back whose own expiry has passed ('+inf' or ms)
  ARGV[7] the most points a card may hold

  Returns one string: 'ok|balance_after|delta|points|completed_at' | 'already|<status>' | 'gone' | 'rejected|<code>|<detail>'
]]
local k = { card = KEYS[4], buckets = KEYS[5], rest = KEYS[6], totals = KEYS[7], history = KEYS[8], due = KEYS[9] }
local now = tonumber(ARGV[1])
local t = redis.call('HMGET', KEYS[1], 'status', 'type', 'points', 'delta', 'card_id', 'expires_at',
  'expire_before', 'id', 'reversal_of')
if not t[1] then return 'gone' end
if t[1] ~= 'processing' then return 'already|' .. t[1] end
local kind, delta, txnId = t[2], tonumber(t[4]), t[8]
k.cardId = t[5]

local function reject(code, detail)
  if k.dirty then refreshDue(k) end -- points that expired before the refusal stay expired
  redis.call('DEL', KEYS[1])
  if ARGV[4] == '1' and redis.call('GET', KEYS[3]) == txnId then redis.call('DEL', KEYS[3]) end
  if ARGV[3] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then redis.call('DEL', KEYS[2]) end
  return 'rejected|' .. code .. '|' .. (detail or '')
end

local status = redis.call('HGET', k.card, 'status')
if not status then return reject('card_not_found') end
if status == 'blocked' and (kind == 'award' or kind == 'redeem') then return reject('card_blocked') end

-- A reversal may not give back or take back more than its original moved.
local orig
if ARGV[5] == '1' then
  orig = redis.call('HMGET', KEYS[10], 'delta', 'reversed_points', 'allocations', 'status')
  if orig[4] ~= 'succeeded' then return reject('transaction_not_reversible', 'original is ' .. tostring(orig[4])) end
  local remaining = math.abs(tonumber(orig[1])) - tonumber(orig[2] or '0')
  if remaining <= 0 then return reject('already_reversed') end
  -- No amount asked for: everything that is left, decided here so that it cannot race.
  local amount = (t[3] ~= nil and t[3] ~= '') and tonumber(t[3]) or remaining
  if amount > remaining then return reject('reversal_exceeds_original', int(remaining)) end
  delta = (delta < 0 and -1 or 1) * amount
  redis.call('HSET', KEYS[1], 'points', int(amount))
end

-- Refreshed at once: a refusal below returns before the refresh at the end, and must not leave
-- the card in the due-for-expiry index at an expiry that is gone.
if kind ~= 'expire' and sweep(k, now, ARGV[2], KEYS[11]) > 0 then k.dirty = true end
local avail = tonumber(redis.call('HGET', k.totals, 'available') or '0')
local alloc = ''

if kind == 'expire' then
  -- Manual expiry: by date (before), by amount (points), or both; neither means "what is due now".
  local before = t[7]
  local maxScore = (before ~= nil and before ~= '') and before or ((t[3] ~= '' and t[3] ~= nil) and '+inf' or int(now))
  local want = (t[3] ~= nil and t[3] ~= '') and tonumber(t[3]) or math.huge
  local eligible = (maxScore == '+inf') and avail or sumRest(k, maxScore)
  if eligible == 0 then return reject('nothing_to_expire') end
  if want ~= math.huge and eligible < want then return reject('insufficient_points', int(eligible)) end
  local taken
  taken, alloc = take(k, want, maxScore)
  delta = -taken
  redis.call('HINCRBY', k.totals, 'expired', taken)
  redis.call('HSET', KEYS[1], 'points', int(taken))
elseif delta > 0 then
  if avail + delta > tonumber(ARGV[7]) then return reject('balance_limit_exceeded', int(avail)) end
  if orig then
    -- Giving back what a redeem took: into buckets with the expiry of the points it took,
    -- skipping what earlier partial reversals already gave back.
    local skip = tonumber(orig[2] or '0')
    local left = delta
    local n = 0
    for part in string.gmatch(orig[3] or '', '[^,]+') do
      if left <= 0 then break end
      local _, pts, score = string.match(part, '^(.*)|(%d+)|(.*)$')
      pts = tonumber(pts)
      local usable = pts - math.min(pts, skip)
      skip = skip - math.min(pts, skip)
      if usable > 0 then
        local give = math.min(usable, left)
        left = left - give
        n = n + 1
        if score ~= 'inf' and tonumber(score) <= now then score = ARGV[6] end
        local bucket = txnId .. '.' .. n
        redis.call('ZADD', k.buckets, score, bucket)
        redis.call('HSET', k.rest, bucket, int(give))
        k.dirty = true
        alloc = alloc .. (alloc == '' and '' or ',') .. bucket .. '|' .. int(give) .. '|' .. score
      end
    end
    if left > 0 then
      local bucket = txnId .. '.' .. (n + 1)
      redis.call('ZADD', k.buckets, ARGV[6], bucket)
      redis.call('HSET', k.rest, bucket, int(left))
      k.dirty = true
    end
  else
    local expiry = (t[6] ~= nil and t[6] ~= '') and t[6] or '+inf'
    redis.call('ZADD', k.buckets, expiry, txnId)
    if expiry ~= '+inf' then redis.call('ZADD', k.due, 'LT', expiry, k.cardId) end
    redis.call('HSET', k.rest, txnId, int(delta))
  end
  redis.call('HINCRBY', k.totals, kind == 'award' and 'earned' or 'adjusted_in', delta)
else
  if avail < -delta then return reject('insufficient_points', int(avail)) end
  local prefer = nil
  if orig then prefer = redis.call('HGET', KEYS[1], 'reversal_of') end
  local taken
  taken, alloc = take(k, -delta, '+inf', prefer)
  redis.call('HINCRBY', k.totals, kind == 'redeem' and 'redeemed' or 'adjusted_out', -delta)
end

if orig then redis.call('HINCRBY', KEYS[10], 'reversed_points', math.abs(delta)) end
avail = redis.call('HINCRBY', k.totals, 'available', delta)
redis.call('HSET', KEYS[1], 'status', 'succeeded', 'completed_at', int(now), 'balance_after', int(avail),
  'delta', int(delta), 'allocations', alloc)
redis.call('HDEL', KEYS[1], 'lease_until', 'owner')
redis.call('ZADD', k.history, 0, txnId)
if k.dirty then refreshDue(k) end
-- The Idempotency-Key's request is answered from this transaction from now on.
if ARGV[3] == '1' and redis.call('HGET', KEYS[2], 'resource') == txnId then
  redis.call('HSET', KEYS[2], 'state', 'done')
end
return table.concat({'ok', int(avail), int(delta), int(math.abs(tonumber(redis.call('HGET', KEYS[1], 'points')) or math.abs(delta))), int(now)}, '|')
