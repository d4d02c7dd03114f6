-- A write to one key of a project's shared context, atomically (agentic_store_redis::RedisContextStore).
-- KEYS[1]: the key's hash (value, version, expires, by, updated); KEYS[2]: the project's index (member: key,
-- score: expiry in ms).
-- ARGV: 1 mode (put | append | delete), 2 value or item (compact JSON), 3 expectation (any | version | absent |
-- present),
-- 4 expected version, 5 now (ms), 6 now (µs, the version floor), 7 expiry (ms), 8 provenance (JSON),
-- 9 largest value (bytes), 10 most keys, 11 the key.
-- Returns {"ok", value, version} (delete: {"ok", "1" or "0"}), {"stale", current version or ""},
-- {"too_large", size}, {"too_many"} or {"not_a_list"}.
local now_ms = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
local current = redis.call('HMGET', KEYS[1], 'value', 'version', 'expires')
local live = current[1] and tonumber(current[3]) > now_ms
local live_version = false
if live then live_version = current[2] end

if ARGV[3] == 'version' and live_version ~= ARGV[4] then return {'stale', live_version or ''} end
if ARGV[3] == 'absent' and live then return {'stale', live_version} end
if ARGV[3] == 'present' and not live then return {'stale', ''} end

if ARGV[1] == 'delete' then
    redis.call('DEL', KEYS[1])
    redis.call('ZREM', KEYS[2], ARGV[11])
    if live then return {'ok', '1'} end
    return {'ok', '0'}
end

local value = ARGV[2]
if ARGV[1] == 'append' then
    if not live then
        value = '[' .. ARGV[2] .. ']'
    elseif string.sub(current[1], 1, 1) ~= '[' then
        return {'not_a_list'}
    elseif current[1] == '[]' then
        value = '[' .. ARGV[2] .. ']'
    else
        value = string.sub(current[1], 1, -2) .. ',' .. ARGV[2] .. ']'
    end
end
if string.len(value) > tonumber(ARGV[9]) then return {'too_large', tostring(string.len(value))} end
if not live and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[10]) then return {'too_many'} end

-- One more than the last version, and at least the time in µs (exact in a Lua number until the year 2255).
local version = tonumber(ARGV[6])
if current[2] and tonumber(current[2]) + 1 > version then version = tonumber(current[2]) + 1 end
local text = string.format('%.0f', version)
redis.call('HSET', KEYS[1], 'value', value, 'version', text, 'expires', ARGV[7], 'by', ARGV[8], 'updated', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[11])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[7]) then redis.call('PEXPIREAT', KEYS[2], ARGV[7]) end
return {'ok', value, text}
