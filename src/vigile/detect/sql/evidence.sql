-- The events behind flagged agent-windows (table flagged: agent, bucket_us, width_us):
-- accesses that were unjustified, denied, exports, break-glass, searches or from another
-- address than their session's sign-in, moves (sequential or in a resumed session), and
-- every sign-in of those windows. Before $kept_us they come from the kept candidates
-- (candidates.sql), after it from the buffered events.
WITH found AS (
  SELECT c.agent, c.id, c.time_us FROM candidates c WHERE c.time_us < $kept_us
  UNION ALL
  SELECT j.agent, j.id, j.time_us
  FROM judged j
  WHERE j.time_us >= $kept_us
    AND (
      j.justification NOT IN ('ok', 'team', 'inferred', 'n/a')
      OR j.address_mismatch = 1
      OR j.action IN ('export', 'customer.search')
      OR j.reason = 'break_glass'
      OR j.outcome = 'denied'
    )
  UNION ALL
  SELECT m.agent, m.id, m.time_us FROM moves m WHERE m.time_us >= $kept_us
  UNION ALL
  SELECT s.agent, s.id, s.time_us FROM signins s WHERE s.time_us >= $kept_us
)
SELECT e.agent, e.id, e.time_us
FROM found e
JOIN flagged f
  ON f.agent = e.agent AND e.time_us >= f.bucket_us AND e.time_us < f.bucket_us + f.width_us
ORDER BY 1, 3, 2
