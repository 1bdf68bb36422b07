-- GET a search for a random common word.
local words = {"export", "dashboard", "offline", "sync", "mobile", "widget", "report", "calendar",
  "reminder", "filter", "notification", "webhook", "integration", "timeline", "template", "security"}
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/ideas?q=" .. words[math.random(#words)])
end
