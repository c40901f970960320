-- Distinct customers of each agent over its evidence days (table evidence_days: agent,
-- day_us), for the reasons of its alert: a customer read on two days counts once.
SELECT
  c.agent,
  count(DISTINCT CASE WHEN c.counted = 1 THEN c.customer END) AS customers,
  count(DISTINCT CASE WHEN c.unjustified = 1 THEN c.customer END) AS unjustified_customers,
  count(DISTINCT CASE WHEN c.no_ticket = 1 THEN c.customer END) AS no_ticket_customers,
  count(DISTINCT CASE WHEN c.not_assigned = 1 THEN c.customer END) AS not_assigned_customers,
  count(DISTINCT CASE WHEN c.other_ticket = 1 THEN c.customer END) AS other_ticket_customers,
  count(DISTINCT CASE WHEN c.closed_ticket = 1 THEN c.customer END) AS closed_ticket_customers,
  count(DISTINCT CASE WHEN c.sensitive_unjustified = 1 THEN c.customer END)
    AS sensitive_unjustified_customers,
  count(DISTINCT CASE WHEN c.off_shift = 1 THEN c.customer END) AS off_shift_customers,
  count(DISTINCT CASE WHEN c.new_team = 1 THEN c.customer END) AS new_team_customers,
  count(DISTINCT CASE WHEN c.inferred = 1 THEN c.customer END) AS inferred_customers
FROM customer_days c
JOIN evidence_days e ON e.agent = c.agent AND e.day_us = c.day_us
GROUP BY c.agent
