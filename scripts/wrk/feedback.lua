-- POST one feedback item for a random customer. wrk -s feedback.lua URL -- N KEY
local n, key
function init(args)
  n, key = tonumber(args[1]), args[2]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local body = string.format(
    '{"customer":"C%06d","source":"api","text":"Bench item %d: the export is slow but support was great","rating":%d,"created_at":"2026-11-20T10:00:00Z"}',
    math.random(1, n), math.random(1, 1e9), math.random(1, 5))
  return wrk.format("POST", "/api/v1/feedback", {
    ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
