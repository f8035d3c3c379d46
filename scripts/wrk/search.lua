-- Customers list searches by a random name prefix. wrk -s search.lua URL -- KEY
local key
local words = { "ann", "smi", "jon", "gar", "mül", "ros", "ben", "kim", "sil", "lee", "ma", "jo" }
function init(args)
  key = args[1]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local q = words[math.random(1, #words)]
  return wrk.format("GET", "/api/v1/customers?limit=50&q=" .. q, { ["Authorization"] = "Bearer " .. key })
end
