-- Customers list searches: a random name prefix, in a random one of the list's sort orders
-- (the UI's column headers). wrk -s search.lua URL -- KEY
local key
local words = { "ann", "smi", "jon", "gar", "mül", "ros", "ben", "kim", "sil", "lee", "ma", "jo" }
local sorts = { "", "&sort=name", "&sort=-name", "&sort=-purchase_value", "&sort=-last_purchase_at",
  "&sort=signup_at", "&sort=-id" }
function init(args)
  key = args[1]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local q = words[math.random(1, #words)] .. sorts[math.random(1, #sorts)]
  return wrk.format("GET", "/api/v1/customers?limit=50&q=" .. q, { ["Authorization"] = "Bearer " .. key })
end
