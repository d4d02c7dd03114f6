-- GCRA for every key of one request, all or nothing, on Redis's own clock (the same arithmetic as
-- agentic_core::limit::evaluate). KEYS: the limit keys. ARGV: per key, `limit`, `interval_us` (period / limit).
-- Returns {allowed, limit, remaining, reset_us, retry_after_us, refusing_key_index} for the tightest limit (or
-- the refusing one). TATs are stored as integer microseconds and expire when fully replenished.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local new_tats = {}
local best_limit, best_remaining, best_reset = 0, -1, 0
for i = 1, #KEYS do
    local limit = tonumber(ARGV[2 * i - 1])
    local interval = tonumber(ARGV[2 * i])
    local capacity = limit * interval
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then
        tat = now
    end
    local new_tat = tat + interval
    if new_tat - now > capacity then
        return {0, limit, 0, tat - now, new_tat - now - capacity, i}
    end
    new_tats[i] = new_tat
    local remaining = math.floor((capacity - (new_tat - now)) / interval)
    if best_remaining < 0 or remaining < best_remaining then
        best_limit, best_remaining, best_reset = limit, remaining, new_tat - now
    end
end
for i = 1, #KEYS do
    local ttl_ms = math.ceil((new_tats[i] - now) / 1000) + 1
    redis.call('SET', KEYS[i], string.format('%d', new_tats[i]), 'PX', ttl_ms)
end
return {1, best_limit, best_remaining, best_reset, 0, 0}
