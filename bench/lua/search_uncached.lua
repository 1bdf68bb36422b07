-- GET a search for either of two random words of the seed's body vocabulary (bench/seed.py
-- VOCABULARY): millions of combinations, so the search cache (ideas.queries._search_results)
-- never answers, and each matches ideas (both words are required would match almost none).
local syllables = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "go", "li", "mu", "sa", "te", "bo"}
math.randomseed(os.time() + os.clock() * 1000000)
local function word()
  return syllables[math.random(#syllables)] .. syllables[math.random(#syllables)] .. syllables[math.random(#syllables)]
end
request = function()
  return wrk.format("GET", "/ideas?q=" .. word() .. "+or+" .. word())
end
