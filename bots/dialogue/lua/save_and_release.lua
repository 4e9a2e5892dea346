-- Save a conversation's state if nobody saved since we loaded it (CAS on the version),
-- release our lock (only if it is still ours), and publish live events. One round trip.
-- KEYS[1] lock, KEYS[2] state
-- ARGV[1] token, ARGV[2] version loaded, ARGV[3] JSON, ARGV[4] state TTL ms,
-- ARGV[5] pub/sub channel, ARGV[6..] events to publish
-- Returns {1, new version, 1 if the lock was still ours} or {0, current version} (stale: nothing written).
local current = tonumber(redis.call('HGET', KEYS[2], 'v') or '0')
local ours = redis.call('GET', KEYS[1]) == ARGV[1]
if current ~= tonumber(ARGV[2]) then
  if ours then redis.call('DEL', KEYS[1]) end
  return {0, current}
end
local version = current + 1
redis.call('HSET', KEYS[2], 'v', version, 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if ours then redis.call('DEL', KEYS[1]) end
for i = 6, #ARGV do
  redis.call('PUBLISH', ARGV[5], ARGV[i])
end
return {1, version, ours and 1 or 0}
