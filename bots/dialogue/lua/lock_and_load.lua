-- Take a conversation's lock and read its state, in one round trip.
-- KEYS[1] lock, KEYS[2] state (a hash: v = version, d = JSON)
-- ARGV[1] token (unique per turn), ARGV[2] lock TTL in ms
-- Returns {1, version, json-or-nil} when taken, {0, ms left on the holder's lock} when busy.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local got = redis.call('HMGET', KEYS[2], 'v', 'd')
  return {1, got[1] or '0', got[2]}
end
return {0, redis.call('PTTL', KEYS[1])}
