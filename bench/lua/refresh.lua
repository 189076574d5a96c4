-- POST grant_type=refresh_token with client_secret_basic (BASIC). Each thread takes its share of
-- the tokens in REFRESH_FILE (one a line; THREADS threads) and uses every token once: the token
-- a response returns goes back into the thread's pool, so rotation chains never reuse a token.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")

local next_slot = 0
function setup(thread)
  thread:set("slot", next_slot)
  next_slot = next_slot + 1
end

local pool = {}
function init(args)
  local threads = tonumber(os.getenv("THREADS")) or 1
  local index = 0
  for line in io.lines(os.getenv("REFRESH_FILE")) do
    if line ~= "" and index % threads == slot then pool[#pool + 1] = line end
    index = index + 1
  end
end

function request()
  local token = table.remove(pool, 1) or "pool-exhausted"
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then pool[#pool + 1] = token end
end
dofile(os.getenv("LUA_DIR") .. "/report.lua")
