-- wrk script for the records benchmarks: every request asks for a 10-row
-- page filtered on a random one of the 10,000 indexed code values, so the
-- database cannot answer from one hot page.
--   wrk -s records.lua URL -- PATH_PREFIX [API_KEY]
-- PATH_PREFIX ends in "code=", e.g. "/?limit=10&code=".
local prefix, headers
function init(args)
  prefix = args[1] or "/?limit=10&code="
  if args[2] and args[2] ~= "" then headers = { ["X-API-Key"] = args[2] } end
  -- a different sequence per wrk thread
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end
function request()
  return wrk.format("GET", prefix .. string.format("C%05d", math.random(0, 9999)), headers)
end
