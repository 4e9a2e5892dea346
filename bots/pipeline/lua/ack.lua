-- Acknowledge and delete one entry: the stream then holds only the backlog.
-- KEYS[1] stream; ARGV[1] group; ARGV[2] entry id.
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return n
