-- POST grant_type=client_credentials with client_secret_basic (BASIC = base64 of id:secret).
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
dofile(os.getenv("LUA_DIR") .. "/report.lua")
