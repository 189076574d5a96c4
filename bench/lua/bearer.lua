-- GET with the user access token in BEARER.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BEARER")
dofile(os.getenv("LUA_DIR") .. "/report.lua")
