-- Every access in [$since_us, $until_us), judged: is it justified by a ticket of that customer
-- assigned to that agent and still open, is the customer sensitive, is it off shift, is it
-- the first touch of that customer by the agent (or its team), does its address differ
-- from its session's sign-in. Materialised once, read by features.sql and for evidence.
-- Who holds a ticket when: each assignment step lasts until the ticket's next one (a
-- reassignment stops justifying the previous assignee from its moment), for the tickets
-- the buffered accesses cite.
-- Tickets and closures are read for the tickets those accesses cite only, as steps are:
-- the joins then hash what the batch needs rather than the whole history, which they
-- would all have to hold at once (a memory limit that history outgrows fails here).
CREATE OR REPLACE TABLE judged AS
WITH cited AS (
  SELECT DISTINCT c.ticket FROM accesses c WHERE c.time_us >= $since_us
), spans AS (
  SELECT
    s.ticket, s.agent, s.assigned_us AS from_us,
    lead(s.assigned_us) OVER (PARTITION BY s.ticket ORDER BY s.assigned_us, s.agent)
      AS until_us
  FROM assignments s
  WHERE s.ticket IN (SELECT ticket FROM cited)
)
SELECT
    acc.seq, acc.id, acc.agent, acc.time_us, acc.session, acc.ip, acc.action, acc.customer,
    acc.ticket, acc.reason, acc.outcome, acc.result_count, acc.query,
    CASE
      WHEN acc.customer IS NULL OR acc.action = 'customer.search' THEN 'n/a'
      WHEN acc.ticket IS NULL THEN 'none'
      WHEN tk.ticket IS NULL THEN 'unknown'
      WHEN tk.customer <> acc.customer THEN 'other_customer'
      WHEN cl.closed_us IS NOT NULL AND cl.closed_us < acc.time_us - $grace_us THEN 'closed'
      -- The agent holds the ticket, or is given it within the grace (an agent opens the
      -- customer seconds before the assignment is recorded).
      WHEN coalesce(now_sp.agent, '') <> acc.agent AND coalesce(soon_sp.agent, '') <> acc.agent
        THEN 'not_assigned'
      ELSE 'ok'
    END AS justification,
    CASE WHEN cu.tier IN ('government', 'enterprise') THEN 1 ELSE 0 END AS sensitive,
    CASE WHEN g.has_shift AND sh.agent IS NULL THEN 1 ELSE 0 END AS off_shift,
    CASE
      WHEN t.first_us = acc.time_us AND s.first_us < acc.time_us - $history_us THEN 1
      ELSE 0
    END AS new_for_agent,
    CASE
      WHEN tt.first_us = acc.time_us AND s.first_us < acc.time_us - $history_us THEN 1
      ELSE 0
    END AS new_for_team,
    CASE WHEN ses.ip IS NOT NULL AND acc.ip IS NOT NULL AND ses.ip <> acc.ip THEN 1 ELSE 0 END
      AS address_mismatch
  FROM accesses acc
  JOIN agents g ON g.agent = acc.agent
  LEFT JOIN customers cu ON cu.customer = acc.customer
  LEFT JOIN (SELECT * FROM tickets WHERE ticket IN (SELECT ticket FROM cited)) tk
    ON tk.ticket = acc.ticket
  LEFT JOIN (SELECT * FROM closures WHERE ticket IN (SELECT ticket FROM cited)) cl
    ON cl.ticket = acc.ticket
  LEFT JOIN spans now_sp
    ON now_sp.ticket = acc.ticket AND now_sp.from_us <= acc.time_us
    AND (now_sp.until_us IS NULL OR acc.time_us < now_sp.until_us)
  LEFT JOIN spans soon_sp
    ON soon_sp.ticket = acc.ticket AND soon_sp.from_us <= acc.time_us + $grace_us
    AND (soon_sp.until_us IS NULL OR acc.time_us + $grace_us < soon_sp.until_us)
  LEFT JOIN shifts sh
    ON sh.agent = acc.agent AND sh.day_us = acc.time_us - acc.time_us % 86400000000
    AND acc.time_us >= sh.start_us AND acc.time_us < sh.end_us
  -- Only first touches from $since_us can be this access's (first_us = time_us): the
  -- filter skips the rest of history (insert order is time order) instead of hashing it.
  LEFT JOIN (SELECT * FROM touched WHERE first_us >= $since_us) t
    ON t.agent = acc.agent AND t.customer = acc.customer
  LEFT JOIN (SELECT * FROM team_touched WHERE first_us >= $since_us) tt
    ON tt.team = g.team AND tt.customer = acc.customer
  LEFT JOIN agent_since s ON s.agent = acc.agent
  LEFT JOIN sessions ses ON ses.session = acc.session
  WHERE acc.time_us >= $since_us AND acc.time_us < $until_us
