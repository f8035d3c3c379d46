-- The public survey page: GET (or POST an answer to) /s/{token} for tokens read from a file
-- of links (`rapport survey send` CSV: the link is the last column).
-- wrk -s survey.lua URL -- LINKS.csv [get|post] [DELAY_MS]
-- GET picks random tokens; POST answers each token once, in order (each connection takes its
-- own share), so every request records a new response. DELAY_MS paces each connection.
local tokens, mode, delay_ms = {}, "get", 0
local counter, stride = 0, 1
local threads = {}
-- `id` is a global: setup() sets it in each thread's own Lua state.
id = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do
    local link = line:match(",(https?://[^,]+)$")
    if link then table.insert(tokens, link:match("/s/(.+)$")) end
  end
  mode = args[2] or "get"
  delay_ms = tonumber(args[3] or "0")
  counter, stride = id, 2 -- run with -t2
  math.randomseed(os.time() + id)
end
function delay()
  return delay_ms
end
function request()
  if mode == "post" then
    counter = counter + stride
    local t = tokens[(counter % #tokens) + 1]
    return wrk.format("POST", "/s/" .. t, { ["Content-Type"] = "application/x-www-form-urlencoded" }, "score=" .. (counter % 11))
  end
  return wrk.format("GET", "/s/" .. tokens[math.random(1, #tokens)])
end
