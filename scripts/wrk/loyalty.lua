-- Loyalty changes for random members: three earns (survey points) to one redemption of a
-- 10-point reward, each with its own ledger key. wrk -s loyalty.lua URL -- N KEY
local n, key, i
function init(args)
  n, key, i = tonumber(args[1]), args[2], 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  i = i + 1
  local who = string.format("C%06d", math.random(1, n))
  local tag = string.format("%x-%d", math.random(1, 1e9), i)
  local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
  if i % 4 == 0 then
    local body = string.format('{"reward":"sticker","key":"bench-r-%s"}', tag)
    return wrk.format("POST", "/api/v1/customers/" .. who .. "/loyalty/redeem", headers, body)
  end
  local body = string.format(
    '{"points":20,"reason":{"type":"survey","response":"bench-%s"},"key":"bench-e-%s"}', tag, tag)
  return wrk.format("POST", "/api/v1/customers/" .. who .. "/loyalty/earn", headers, body)
end
