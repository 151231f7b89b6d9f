-- wrk script: distinct SePay notifications for the demo school (account 1023456789),
-- signed with the API key bench_webhooks.py sets. Used by bench/bench_webhooks_wrk.sh.
counter = 0
local thread_id = 0
-- Ids unique across runs (the same id twice would be a duplicate delivery, not a new one).
local run = os.time() % 100000
setup = function(thread)
  thread:set("tid", thread_id)
  thread:set("run", run)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local id = run * 100000000 + tid * 10000000 + counter
  local body = string.format('{"id": %d, "gateway": "Vietcombank", "transactionDate": "2026-09-05 10:15:00", "accountNumber": "1023456789", "subAccount": "", "code": null, "content": "HOC PHI %d", "transferType": "in", "description": "x", "transferAmount": 100000, "accumulated": 0, "referenceCode": "FTWRK%d"}', id, id, id)
  return wrk.format("POST", "/webhooks/sepay", {["Authorization"] = "Apikey bench-sepay-key-0123456789abcdef", ["Content-Type"] = "application/json"}, body)
end
