-- Evidence candidates of the judged window [$since_us, $until_us), kept in the state so
-- that batch detection can prune events as it goes and still name the events behind a
-- window found suspicious at the end: accesses that were unjustified, denied, exports,
-- break-glass, searches or from another address than their session's sign-in, moves
-- (judged.sql: sequential or in a resumed session), and every sign-in.
INSERT INTO candidates
SELECT j.agent, j.id, j.time_us
FROM judged j
WHERE j.time_us >= $since_us AND j.time_us < $until_us
  AND (
    j.justification NOT IN ('ok', 'team', 'inferred', 'n/a')
    OR j.address_mismatch = 1
    OR j.action IN ('export', 'customer.search')
    OR j.reason = 'break_glass'
    OR j.outcome = 'denied'
  )
UNION ALL
SELECT m.agent, m.id, m.time_us
FROM moves m
WHERE m.time_us >= $since_us AND m.time_us < $until_us
UNION ALL
SELECT s.agent, s.id, s.time_us
FROM signins s
WHERE s.time_us >= $since_us AND s.time_us < $until_us
