-- The events behind flagged agent-windows (table flagged: agent, bucket_us, width_us):
-- accesses that
-- were unjustified, denied, exports, break-glass, searches or from another address
-- than their session's sign-in, and every sign-in of those windows.
SELECT j.agent, j.id, j.time_us
FROM judged j
JOIN flagged f
  ON f.agent = j.agent AND j.time_us >= f.bucket_us AND j.time_us < f.bucket_us + f.width_us
WHERE j.justification NOT IN ('ok', 'n/a')
   OR j.address_mismatch = 1
   OR j.action IN ('export', 'customer.search')
   OR j.reason = 'break_glass'
   OR j.outcome = 'denied'
UNION ALL
SELECT s.agent, s.id, s.time_us
FROM signins s
JOIN flagged f
  ON f.agent = s.agent AND s.time_us >= f.bucket_us AND s.time_us < f.bucket_us + f.width_us
ORDER BY 1, 3, 2
