wrk.method = "GET"
dofile(os.getenv("LUA_DIR") .. "/report.lua")
