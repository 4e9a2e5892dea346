-- Take one slot in every rate limit of a send, or none: all or nothing, in one atomic call.
-- Each limit is a moving window: a list of its recent hit times, newest first, trimmed to
-- the limit's amount; it is full when its oldest kept hit is still inside the window.
--
-- KEYS[i]  the hit list of limit i (all keys share one hash tag: one Redis Cluster slot).
-- ARGV[1]  now, seconds since the epoch (the caller's clock), as a decimal string.
-- ARGV[2i], ARGV[2i+1]  amount and window (seconds) of limit i.
--
-- Returns {0, ""} when a slot was taken in every limit. Otherwise nothing is taken and it
-- returns {i, wait}: the full limit that frees up last and the seconds until it does
-- (a string, since Lua numbers come back to Redis as integers).

local now = tonumber(ARGV[1])
local full, longest = 0, -1

for i = 1, #KEYS do
    local amount = tonumber(ARGV[2 * i])
    local window = tonumber(ARGV[2 * i + 1])
    local oldest = redis.call('LINDEX', KEYS[i], amount - 1)
    if oldest and tonumber(oldest) >= now - window then
        local wait = tonumber(oldest) + window - now
        if wait > longest then
            full, longest = i, wait
        end
    end
end

if full > 0 then
    return {full, tostring(longest)}
end

for i = 1, #KEYS do
    local amount = tonumber(ARGV[2 * i])
    local window = tonumber(ARGV[2 * i + 1])
    redis.call('LPUSH', KEYS[i], ARGV[1])
    redis.call('LTRIM', KEYS[i], 0, amount - 1)
    redis.call('EXPIRE', KEYS[i], math.ceil(window))
end

return {0, ""}
