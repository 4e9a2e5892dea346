-- Dedupe and enqueue one inbound message, atomically.
-- KEYS[1] dedupe key, KEYS[2] shard stream (same hash slot).
-- ARGV[1] dedupe ttl (s), ARGV[2] backlog cap of the shard, ARGV[3] payload JSON,
-- ARGV[4] enqueue time (epoch seconds, text), ARGV[5] conversation id.
-- Returns the new entry id, 0 for a duplicate, -1 when the shard's backlog is full
-- (the dedupe key is not kept, so the channel's retry is accepted later).
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return -1
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[3], 'at', ARGV[4], 'c', ARGV[5])
