-- Moves: the accesses in [$since_us, $until_us) that step from the agent's previous
-- request within the hour: to another session (resumed when that session was used in the hour
-- before: two sessions in use at once), or to a customer id one or two from the previous
-- one's (sequential). Predecessors are looked for from the hour before $since_us on, so a
-- stream judging the latest hours finds those a whole-history batch finds (the buffer
-- holds days), and nothing older counts. A table of its own, read by features.sql and
-- for evidence: the window sorts the batch's narrow rows with all of DuckDB's memory, and
-- the judging below holds no more hash tables than it did (under a tight memory limit,
-- one more beside its joins could not be spilled).
-- The lookup is the customer id, or a search's query, split into a prefix and its
-- trailing number (nine digits at most): c-00412 is ('c-', 412).
CREATE OR REPLACE TABLE moves AS
WITH numbered AS (
  SELECT
    k.seq, k.id, k.agent, k.session, k.time_us,
    CASE WHEN k.digits <> '' THEN substr(k.lookup, 1, length(k.lookup) - length(k.digits)) END
      AS prefix,
    CASE WHEN k.digits <> '' THEN CAST(k.digits AS BIGINT) END AS number
  FROM (
    SELECT b.*, regexp_extract(b.lookup, '([0-9]{1,9})$', 1) AS digits
    FROM (
      SELECT
        c.seq, c.id, c.agent, c.session, c.time_us,
        CASE WHEN c.action = 'customer.search' THEN c.query ELSE c.customer END AS lookup
      FROM accesses c
      WHERE c.time_us >= $since_us - 3600000000 AND c.time_us < $until_us
    ) b
  ) k
), follows AS (
  SELECT
    n.*,
    lag(n.time_us) OVER w AS prev_us,
    lag(n.session) OVER w AS prev_session,
    lag(n.prefix) OVER w AS prev_prefix,
    lag(n.number) OVER w AS prev_number
  FROM numbered n
  WINDOW w AS (PARTITION BY n.agent ORDER BY n.time_us, n.seq)
),
-- Accesses that step within the hour: to another session than the previous request's,
-- or to an id one or two from the previous request's under the same prefix.
stepped AS (
  SELECT f.*
  FROM follows f
  WHERE f.time_us >= $since_us AND f.prev_us >= f.time_us - 3600000000
    AND (f.prev_session <> f.session
      OR (f.prev_prefix = f.prefix AND abs(f.number - f.prev_number) BETWEEN 1 AND 2))
),
-- Each step, sequential or not, and resumed or not: a step to another session that this
-- session was used in the hour before is resumed, two sessions in use at once (a sign-in
-- again after a timeout never resumes the old one).
flags AS (
  SELECT
    s.seq, s.id, s.agent, s.time_us, s.session,
    max(s.prev_session) AS prev_session,
    -- Sequential: a sweep through ids, where ticket work jumps about.
    max(CASE WHEN s.prev_prefix = s.prefix AND abs(s.number - s.prev_number) BETWEEN 1 AND 2
      THEN 1 ELSE 0 END) AS sequential,
    max(CASE WHEN n.seq IS NULL THEN 0 ELSE 1 END) AS resumed
  FROM stepped s
  LEFT JOIN accesses n
    ON s.prev_session <> s.session
    AND n.agent = s.agent AND n.session = s.session AND n.time_us >= s.time_us - 3600000000
    AND (n.time_us < s.time_us OR (n.time_us = s.time_us AND n.seq < s.seq))
  GROUP BY s.seq, s.id, s.agent, s.time_us, s.session
)
SELECT * FROM flags WHERE sequential = 1 OR resumed = 1;

-- Every access in [$since_us, $until_us), judged: is it justified by a ticket of that customer
-- assigned to that agent (or to a teammate: 'team') and still open, is the customer sensitive, is it off shift, is it
-- the first touch of that customer by the agent (or its team), does its address differ
-- from its session's sign-in. Materialised once, read by features.sql and for evidence.
-- Who holds a ticket when: each assignment step lasts until the ticket's next one (a
-- reassignment stops justifying the previous assignee from its moment), for the tickets
-- the buffered accesses cite.
-- Tickets and closures are read for the tickets those accesses cite only, as steps are:
-- the joins then hash what the batch needs rather than the whole history, which they
-- would all have to hold at once (a memory limit that history outgrows fails here).
-- An access that records no justification at all (no ticket and no reason: a vendor's
-- log, such as Salesforce's record page views, that has no such field) is judged against
-- the agent's tickets instead: one of that customer held by the agent at that moment (or
-- given it within the grace) and not closed is taken as its ticket, 'inferred', and counts
-- as justified. An access whose log records a justification, even 'none', is never given
-- one: the native log and the broker always record one, so their judging is unchanged.
CREATE OR REPLACE TABLE judged AS
WITH cited AS (
  SELECT DISTINCT c.ticket FROM accesses c WHERE c.time_us >= $since_us
), silent AS (
  SELECT c.seq, c.agent, c.customer, c.time_us
  FROM accesses c
  WHERE c.time_us >= $since_us AND c.time_us < $until_us
    AND c.ticket IS NULL AND c.reason IS NULL AND c.customer IS NOT NULL
    AND c.action <> 'customer.search'
), held AS (
  SELECT
    s.ticket, s.agent, tk.customer, s.assigned_us AS from_us,
    lead(s.assigned_us) OVER (PARTITION BY s.ticket ORDER BY s.assigned_us, s.agent)
      AS until_us
  FROM assignments s
  JOIN tickets tk ON tk.ticket = s.ticket
  WHERE tk.customer IN (SELECT customer FROM silent)
), inferred AS (
  SELECT si.seq, min(h.ticket) AS ticket
  FROM silent si
  JOIN held h
    ON h.agent = si.agent AND h.customer = si.customer
    AND h.from_us <= si.time_us + $grace_us
    AND (h.until_us IS NULL OR si.time_us < h.until_us)
  LEFT JOIN closures cl ON cl.ticket = h.ticket
  WHERE cl.closed_us IS NULL OR cl.closed_us >= si.time_us - $grace_us
  GROUP BY si.seq
), spans AS (
  SELECT
    s.ticket, s.agent, h.team, s.assigned_us AS from_us,
    lead(s.assigned_us) OVER (PARTITION BY s.ticket ORDER BY s.assigned_us, s.agent)
      AS until_us
  FROM assignments s
  LEFT JOIN agents h ON h.agent = s.agent
  WHERE s.ticket IN (SELECT ticket FROM cited)
)
SELECT
    acc.seq, acc.id, acc.agent, acc.time_us, acc.session, acc.ip, acc.action, acc.customer,
    acc.ticket, acc.reason, acc.outcome, acc.result_count, acc.query,
    CASE
      WHEN acc.customer IS NULL OR acc.action = 'customer.search' THEN 'n/a'
      WHEN acc.ticket IS NULL AND inf.ticket IS NOT NULL THEN 'inferred'
      WHEN acc.ticket IS NULL THEN 'none'
      WHEN tk.ticket IS NULL THEN 'unknown'
      -- A sibling account of the ticket's customer (one organisation: a directory link,
      -- or a shared name stem, country and mail domain) is the ticket's work.
      WHEN tk.customer <> acc.customer
        AND coalesce(tc.organisation, tk.customer) <> coalesce(cu.organisation, acc.customer)
        THEN 'other_customer'
      -- A closed ticket last held by a teammate ('team'): a lead's or a colleague's review
      -- of the team's work; one's own closed tickets stay 'closed'. A teammate's ticket
      -- justifies a look, not a contact revealed in clear: that is the holder's work.
      WHEN cl.closed_us IS NOT NULL AND cl.closed_us < acc.time_us - $grace_us
        THEN CASE
          WHEN now_sp.team = g.team AND now_sp.agent <> acc.agent
            AND acc.action <> 'contact.reveal' THEN 'team'
          ELSE 'closed'
        END
      -- The agent holds the ticket, or is given it within the grace (an agent opens the
      -- customer seconds before the assignment is recorded). Held by a teammate ('team'):
      -- a lead's review, a handover, a colleague covering, justified by the team's work
      -- (except a reveal, as above); a ticket nobody holds, or held in another team, is not.
      WHEN coalesce(now_sp.agent, '') <> acc.agent AND coalesce(soon_sp.agent, '') <> acc.agent
        THEN CASE
          WHEN now_sp.team = g.team AND acc.action <> 'contact.reveal' THEN 'team'
          ELSE 'not_assigned'
        END
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
    -- Another network than the session's sign-in (IPv4 /24, IPv6 first four groups): a
    -- proxy pool or a NAT rotating within its network is not someone else.
    CASE
      WHEN ses.ip IS NOT NULL AND acc.ip IS NOT NULL AND ses.ip <> acc.ip
        AND CASE WHEN strpos(ses.ip, ':') > 0
              THEN regexp_extract(lower(ses.ip), '^([0-9a-f]*:){1,4}', 0)
              ELSE regexp_replace(ses.ip, '[.][0-9]+$', '') END
          <> CASE WHEN strpos(acc.ip, ':') > 0
              THEN regexp_extract(lower(acc.ip), '^([0-9a-f]*:){1,4}', 0)
              ELSE regexp_replace(acc.ip, '[.][0-9]+$', '') END
        THEN 1
      ELSE 0
    END AS address_mismatch
  FROM accesses acc
  JOIN agents g ON g.agent = acc.agent
  LEFT JOIN customers cu ON cu.customer = acc.customer
  LEFT JOIN (SELECT * FROM tickets WHERE ticket IN (SELECT ticket FROM cited)) tk
    ON tk.ticket = acc.ticket
  LEFT JOIN customers tc ON tc.customer = tk.customer
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
  LEFT JOIN inferred inf ON inf.seq = acc.seq
  WHERE acc.time_us >= $since_us AND acc.time_us < $until_us
