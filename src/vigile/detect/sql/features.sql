-- Features of each agent per window ($bucket_us: an hour or a day) in [$since_us, $until_us),
-- aggregated from judged.sql's table and the sign-ins. Portable SQL: CASE instead of
-- FILTER, no time-zone functions (shifts come as UTC intervals).
WITH judged_w AS (
  SELECT j.*, j.time_us - j.time_us % $bucket_us AS bucket_us FROM judged j
),
-- Distinct customers are counted in two steps: first one row per agent, window and
-- customer with what was true of any of its accesses, then plain sums (one grouping
-- instead of a dozen DISTINCT aggregates over every access).
per_customer AS (
  SELECT
    agent, bucket_us, customer,
    max(CASE WHEN justification <> 'n/a' THEN 1 ELSE 0 END) AS counted,
    max(CASE WHEN justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END) AS unjustified,
    max(CASE WHEN justification = 'none' THEN 1 ELSE 0 END) AS no_ticket,
    max(CASE WHEN justification = 'not_assigned' THEN 1 ELSE 0 END) AS not_assigned,
    max(CASE WHEN justification IN ('other_customer', 'unknown') THEN 1 ELSE 0 END)
      AS other_ticket,
    max(CASE WHEN justification = 'closed' THEN 1 ELSE 0 END) AS closed_ticket,
    max(CASE WHEN sensitive = 1 AND justification <> 'n/a' THEN 1 ELSE 0 END) AS sensitive,
    max(CASE WHEN sensitive = 1 AND justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END)
      AS sensitive_unjustified,
    max(CASE WHEN new_for_agent = 1 AND justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END)
      AS new_unjustified,
    max(new_for_team) AS new_team,
    max(CASE WHEN off_shift = 1 AND justification <> 'n/a' THEN 1 ELSE 0 END) AS off_shift
  FROM judged_w
  WHERE customer IS NOT NULL
  GROUP BY agent, bucket_us, customer
),
customers AS (
  SELECT
    agent, bucket_us,
    sum(counted) AS customers,
    sum(unjustified) AS unjustified_customers,
    sum(no_ticket) AS no_ticket_customers,
    sum(not_assigned) AS not_assigned_customers,
    sum(other_ticket) AS other_ticket_customers,
    sum(closed_ticket) AS closed_ticket_customers,
    sum(sensitive) AS sensitive_customers,
    sum(sensitive_unjustified) AS sensitive_unjustified_customers,
    sum(new_unjustified) AS new_unjustified_customers,
    sum(new_team) AS new_team_customers,
    sum(off_shift) AS off_shift_customers
  FROM per_customer
  GROUP BY agent, bucket_us
),
reads AS (
  SELECT
    agent, bucket_us,
    count(*) AS accesses,
    min(time_us) AS first_us,
    max(time_us) AS last_us,
    sum(CASE WHEN action = 'contact.reveal' AND justification NOT IN ('ok', 'team', 'inferred', 'n/a') THEN 1 ELSE 0 END)
      AS unjustified_reveals,
    -- Contacts of high-value customers asked for in clear, justified or not: what a bribed
    -- agent holding real tickets still has to do, far more often than its peers.
    sum(CASE WHEN action = 'contact.reveal' AND sensitive = 1 THEN 1 ELSE 0 END)
      AS sensitive_reveals,
    sum(off_shift) AS off_shift_accesses,
    sum(CASE WHEN outcome = 'denied' THEN 1 ELSE 0 END) AS denied,
    sum(CASE WHEN action = 'customer.search' THEN 1 ELSE 0 END) AS searches,
    sum(CASE WHEN action = 'customer.search' THEN coalesce(result_count, 0) ELSE 0 END)
      AS search_results,
    count(DISTINCT CASE WHEN action = 'customer.search' THEN lower(substr(query, 1, 1)) END)
      AS search_initials,
    count(DISTINCT CASE WHEN action = 'customer.search' THEN lower(query) END) AS search_queries,
    sum(CASE WHEN action = 'export' THEN 1 ELSE 0 END) AS exports,
    sum(CASE WHEN reason = 'break_glass' THEN 1 ELSE 0 END) AS break_glass,
    count(DISTINCT session) AS sessions,
    count(DISTINCT ip) AS addresses,
    sum(address_mismatch) AS address_mismatches
  FROM judged_w
  GROUP BY agent, bucket_us
),
-- Moves (judged.sql): requests stepping through customer ids in order; sessions in use at
-- once, each resumed session and the one used in between.
moved AS (
  SELECT
    agent, bucket_us, sum(sequential) AS sequential_requests,
    count(DISTINCT CASE WHEN resumed = 1 THEN used END) AS concurrent_sessions
  FROM (
    SELECT agent, time_us - time_us % $bucket_us AS bucket_us, sequential, resumed,
      session AS used
    FROM moves
    UNION ALL
    SELECT agent, time_us - time_us % $bucket_us AS bucket_us, 0 AS sequential, resumed,
      prev_session AS used
    FROM moves WHERE resumed = 1
  ) u
  GROUP BY agent, bucket_us
),
sig AS (
  SELECT
    si.*,
    si.time_us - si.time_us % $bucket_us AS bucket_us,
    lag(si.time_us) OVER w AS prev_us,
    lag(si.lat) OVER w AS prev_lat,
    lag(si.lon) OVER w AS prev_lon
  FROM signins si
  WHERE si.outcome = 'success'
  WINDOW w AS (PARTITION BY si.agent ORDER BY si.time_us, si.seq)
),
travel AS (
  SELECT
    sig.*,
    CASE WHEN prev_lat IS NULL OR lat IS NULL THEN 0.0 ELSE
      2 * 6371 * asin(sqrt(
        power(sin(radians(lat - prev_lat) / 2), 2)
        + cos(radians(prev_lat)) * cos(radians(lat)) * power(sin(radians(lon - prev_lon) / 2), 2)
      ))
    END AS km
  FROM sig
  WHERE sig.time_us >= $since_us AND sig.time_us < $until_us
),
logins AS (
  SELECT
    v.agent, v.bucket_us,
    count(*) AS signins,
    min(v.time_us) AS signin_first_us,
    count(DISTINCT CASE WHEN i.first_us = v.time_us AND s.first_us < v.time_us - $history_us THEN v.ip END)
      AS new_addresses,
    count(DISTINCT CASE WHEN c.first_us = v.time_us AND s.first_us < v.time_us - $history_us THEN v.country END)
      AS new_countries,
    count(DISTINCT CASE WHEN d.first_us = v.time_us AND s.first_us < v.time_us - $history_us THEN v.device END)
      AS new_devices,
    min(CASE WHEN (c.first_us = v.time_us OR d.first_us = v.time_us)
      AND s.first_us < v.time_us - $history_us THEN v.time_us END) AS novel_signin_us,
    -- Sorted, so that every engine names them alike ('' for none); a list rather than an
    -- ordered string_agg(DISTINCT ...), which Spark cannot plan beside COUNT(DISTINCT).
    array_to_string(list_sort(list_distinct(list(
      CASE WHEN c.first_us = v.time_us AND s.first_us < v.time_us - $history_us THEN v.country END
    ))), ',') AS new_country_names,
    sum(CASE
      WHEN v.km > 500 AND v.km / greatest((v.time_us - v.prev_us) / 3600000000.0, 0.01) > 1000
      THEN 1 ELSE 0 END) AS impossible_travel
  FROM travel v
  LEFT JOIN agent_since s ON s.agent = v.agent
  LEFT JOIN seen_ip i ON i.agent = v.agent AND i.ip = v.ip
  LEFT JOIN seen_country c ON c.agent = v.agent AND c.country = v.country
  LEFT JOIN seen_device d ON d.agent = v.agent AND d.device = v.device
  GROUP BY v.agent, v.bucket_us
),
failures AS (
  SELECT agent, time_us - time_us % $bucket_us AS bucket_us, count(*) AS failed_signins
  FROM signins
  WHERE outcome <> 'success' AND time_us >= $since_us AND time_us < $until_us
  GROUP BY agent, time_us - time_us % $bucket_us
),
keys AS (
  SELECT agent, bucket_us FROM reads
  UNION SELECT agent, bucket_us FROM logins
  UNION SELECT agent, bucket_us FROM failures
)
SELECT
  k.agent, g.team, k.bucket_us,
  coalesce(least(r.first_us, l.signin_first_us), r.first_us, l.signin_first_us, k.bucket_us)
    AS first_us,
  coalesce(r.last_us, l.signin_first_us, k.bucket_us) AS last_us,
  CAST(coalesce(r.accesses, 0) AS BIGINT) AS accesses,
  CAST(coalesce(c.customers, 0) AS BIGINT) AS customers,
  CAST(coalesce(c.unjustified_customers, 0) AS BIGINT) AS unjustified_customers,
  CAST(coalesce(c.no_ticket_customers, 0) AS BIGINT) AS no_ticket_customers,
  CAST(coalesce(c.not_assigned_customers, 0) AS BIGINT) AS not_assigned_customers,
  CAST(coalesce(c.other_ticket_customers, 0) AS BIGINT) AS other_ticket_customers,
  CAST(coalesce(c.closed_ticket_customers, 0) AS BIGINT) AS closed_ticket_customers,
  CAST(coalesce(r.unjustified_reveals, 0) AS BIGINT) AS unjustified_reveals,
  CAST(coalesce(c.sensitive_customers, 0) AS BIGINT) AS sensitive_customers,
  CASE WHEN c.customers > 0 THEN CAST(c.sensitive_customers AS DOUBLE) / c.customers ELSE 0.0 END
    AS sensitive_share,
  CAST(coalesce(c.sensitive_unjustified_customers, 0) AS BIGINT) AS sensitive_unjustified_customers,
  CAST(coalesce(c.new_unjustified_customers, 0) AS BIGINT) AS new_unjustified_customers,
  CAST(coalesce(c.new_team_customers, 0) AS BIGINT) AS new_team_customers,
  CAST(coalesce(r.sensitive_reveals, 0) AS BIGINT) AS sensitive_reveals,
  CAST(coalesce(r.off_shift_accesses, 0) AS BIGINT) AS off_shift_accesses,
  CAST(coalesce(c.off_shift_customers, 0) AS BIGINT) AS off_shift_customers,
  CAST(coalesce(r.denied, 0) AS BIGINT) AS denied,
  CASE WHEN r.accesses > 0 THEN CAST(r.denied AS DOUBLE) / r.accesses ELSE 0.0 END
    AS denied_ratio,
  CAST(coalesce(r.searches, 0) AS BIGINT) AS searches,
  CAST(coalesce(r.search_results, 0) AS BIGINT) AS search_results,
  CAST(coalesce(r.search_initials, 0) AS BIGINT) AS search_initials,
  CAST(coalesce(r.search_queries, 0) AS BIGINT) AS search_queries,
  CAST(coalesce(o.sequential_requests, 0) AS BIGINT) AS sequential_requests,
  CAST(coalesce(r.exports, 0) AS BIGINT) AS exports,
  CAST(coalesce(r.break_glass, 0) AS BIGINT) AS break_glass,
  CAST(coalesce(r.sessions, 0) AS BIGINT) AS sessions,
  CAST(coalesce(o.concurrent_sessions, 0) AS BIGINT) AS concurrent_sessions,
  CAST(coalesce(r.addresses, 0) AS BIGINT) AS addresses,
  CAST(coalesce(r.address_mismatches, 0) AS BIGINT) AS address_mismatches,
  CAST(coalesce(l.signins, 0) AS BIGINT) AS signins,
  CAST(coalesce(f.failed_signins, 0) AS BIGINT) AS failed_signins,
  CAST(coalesce(l.new_addresses, 0) AS BIGINT) AS new_addresses,
  CAST(coalesce(l.new_countries, 0) AS BIGINT) AS new_countries,
  CAST(coalesce(l.new_devices, 0) AS BIGINT) AS new_devices,
  coalesce(l.new_country_names, '') AS new_country_names,
  l.novel_signin_us,
  CAST(coalesce(l.impossible_travel, 0) AS BIGINT) AS impossible_travel
FROM keys k
JOIN agents g ON g.agent = k.agent
LEFT JOIN reads r ON r.agent = k.agent AND r.bucket_us = k.bucket_us
LEFT JOIN customers c ON c.agent = k.agent AND c.bucket_us = k.bucket_us
LEFT JOIN moved o ON o.agent = k.agent AND o.bucket_us = k.bucket_us
LEFT JOIN logins l ON l.agent = k.agent AND l.bucket_us = k.bucket_us
LEFT JOIN failures f ON f.agent = k.agent AND f.bucket_us = k.bucket_us
ORDER BY k.agent, k.bucket_us
