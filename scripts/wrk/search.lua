-- Customers list searches by a random name prefix. wrk -s search.lua URL -- KEY [all]
-- Without `all`: in the list's default order (what typing in the search box does). With
-- `all`: in a random one of the list's sort orders (its column headers), both directions.
local key, sorts
local words = { "ann", "smi", "jon", "gar", "mül", "ros", "ben", "kim", "sil", "lee", "ma", "jo" }
function init(args)
  key = args[1]
  sorts = { "" }
  if args[2] == "all" then
    sorts = { "", "&sort=-id", "&sort=name", "&sort=-name", "&sort=purchase_value",
      "&sort=-purchase_value", "&sort=last_purchase_at", "&sort=-last_purchase_at",
      "&sort=signup_at", "&sort=-signup_at" }
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local q = words[math.random(1, #words)] .. sorts[math.random(1, #sorts)]
  return wrk.format("GET", "/api/v1/customers?limit=50&q=" .. q, { ["Authorization"] = "Bearer " .. key })
end
