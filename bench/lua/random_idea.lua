-- GET a random idea page among the first N ideas (N from the environment, default 1000).
local n = tonumber(os.getenv("BENCH_IDEAS") or "1000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/ideas/" .. math.random(2, n))
end
