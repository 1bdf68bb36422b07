-- PUT (or DELETE, one time in four) a vote by a random member (tokens hk_bench_1..N) on a random idea.
local members = tonumber(os.getenv("BENCH_TOKENS") or "1000")
local ideas = tonumber(os.getenv("BENCH_IDEAS") or "1000")
math.randomseed(os.time())
request = function()
  local method = "PUT"
  if math.random(4) == 1 then method = "DELETE" end
  local headers = {}
  headers["Authorization"] = "Bearer hk_bench_" .. math.random(1, members)
  headers["Content-Type"] = "application/json"
  return wrk.format(method, "/api/v1/ideas/" .. math.random(2, ideas) .. "/vote", headers, "{}")
end
