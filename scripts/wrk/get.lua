-- GET a random customer's resource: PATH is a format with one %d for the customer number
-- (demo customers are C000001..C<N>). Pass an API key, or "rapport_session=..." for pages.
-- wrk -s get.lua URL -- '/api/v1/customers/C%06d' 1000000 KEY
local fmt, n, key
function init(args)
  fmt, n, key = args[1], tonumber(args[2]), args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local headers = { ["Authorization"] = "Bearer " .. key }
  if key:sub(1, 16) == "rapport_session=" then headers = { ["Cookie"] = key } end
  return wrk.format("GET", string.format(fmt, math.random(1, n)), headers)
end
