-- One row per agent, day and customer of the judged accesses from $since_us (a day start)
-- to $until_us, with what was true of any of its accesses, so that an alert's reasons
-- count each customer once over all its evidence days (reasons.sql), not once per day.
DELETE FROM customer_days WHERE day_us >= $since_us AND day_us < $until_us;

INSERT INTO customer_days
SELECT
  j.agent, j.time_us - j.time_us % 86400000000 AS day_us, j.customer,
  max(CASE WHEN j.justification <> 'n/a' THEN 1 ELSE 0 END),
  max(CASE WHEN j.justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END),
  max(CASE WHEN j.justification = 'none' THEN 1 ELSE 0 END),
  max(CASE WHEN j.justification = 'not_assigned' THEN 1 ELSE 0 END),
  max(CASE WHEN j.justification IN ('other_customer', 'unknown') THEN 1 ELSE 0 END),
  max(CASE WHEN j.justification = 'closed' THEN 1 ELSE 0 END),
  max(CASE WHEN j.sensitive = 1 AND j.justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END),
  max(CASE WHEN j.off_shift = 1 AND j.justification <> 'n/a' THEN 1 ELSE 0 END),
  max(j.new_for_team),
  max(CASE WHEN j.justification = 'inferred' THEN 1 ELSE 0 END)
FROM judged j
WHERE j.customer IS NOT NULL AND j.time_us >= $since_us AND j.time_us < $until_us
GROUP BY j.agent, j.time_us - j.time_us % 86400000000, j.customer
