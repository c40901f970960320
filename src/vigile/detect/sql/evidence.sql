-- The events behind flagged agent-hours (table flagged: agent, bucket_us): accesses that
-- were unjustified, denied, exports, break-glass, searches or from another address than
-- their session's sign-in, and every sign-in of those hours.
SELECT j.agent, j.id, j.time_us
FROM judged j
JOIN flagged f ON f.agent = j.agent AND j.time_us - j.time_us % 3600000000 = f.bucket_us
WHERE j.justification NOT IN ('ok', 'n/a')
   OR j.address_mismatch = 1
   OR j.action IN ('export', 'customer.search')
   OR j.reason = 'break_glass'
   OR j.outcome = 'denied'
UNION ALL
SELECT s.agent, s.id, s.time_us
FROM signins s
JOIN flagged f ON f.agent = s.agent AND s.time_us - s.time_us % 3600000000 = f.bucket_us
ORDER BY 1, 3, 2
