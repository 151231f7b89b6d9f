-- wrk script: distinct SePay notifications for the demo school (account 1023456789),
-- signed with the API key bench_webhooks.py sets. Used by bench/bench_webhooks_wrk.sh.
-- Counts the answers by status and prints "accepted: N" (HTTP 200) and "refused: N" at the end.
counter = 0
ok = 0
refused = 0
local threads = {}
local thread_id = 0
-- Ids unique across runs (the same id twice would be a duplicate delivery, not a new one).
local run = os.time() % 100000
setup = function(thread)
  thread:set("tid", thread_id)
  thread:set("run", run)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local id = run * 100000000 + tid * 10000000 + counter
  local body = string.format('{"id": %d, "gateway": "Vietcombank", "transactionDate": "2026-09-05 10:15:00", "accountNumber": "1023456789", "subAccount": "", "code": null, "content": "HOC PHI %d", "transferType": "in", "description": "x", "transferAmount": 100000, "accumulated": 0, "referenceCode": "FTWRK%d"}', id, id, id)
  return wrk.format("POST", "/webhooks/sepay", {["Authorization"] = "Apikey bench-sepay-key-0123456789abcdef", ["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else refused = refused + 1 end
end
done = function(summary, latency, requests)
  local accepted, other = 0, 0
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("ok")
    other = other + thread:get("refused")
  end
  io.write(string.format("accepted: %d\nrefused: %d\n", accepted, other))
end
