-- Fold the events recorded after the watermark ($after, a seq) into the state: what each
-- ticket is, who it was assigned to and when, and the first time each agent (and team) touched a
-- customer or signed in from an address, a country or a device. Insert-only, anti-joined
-- where a duplicate would change a join.
INSERT INTO tickets
SELECT e.ticket, min(e.customer), min(e.time_us)
FROM ticket_events e
WHERE e.seq > $after AND e.event = 'opened'
  AND NOT EXISTS (SELECT 1 FROM tickets k WHERE k.ticket = e.ticket)
GROUP BY e.ticket;

INSERT INTO closures
SELECT e.ticket, min(e.time_us)
FROM ticket_events e
WHERE e.seq > $after AND e.event = 'closed'
  AND NOT EXISTS (SELECT 1 FROM closures c WHERE c.ticket = e.ticket)
GROUP BY e.ticket;

-- Every assignment step: a new assignee replaces the previous one from that moment. Not
-- anti-joined with the steps already kept (a cost that grew with history): a step
-- recorded twice spans nothing (judged.sql's spans end at the next step, at the same
-- time), so duplicates judge the same.
INSERT INTO assignments
SELECT e.ticket, e.agent, e.time_us
FROM ticket_events e
WHERE e.seq > $after AND e.event = 'assigned' AND e.agent IS NOT NULL
GROUP BY e.ticket, e.agent, e.time_us;

INSERT INTO agent_since
SELECT x.agent, min(x.time_us)
FROM (
  SELECT agent, time_us FROM accesses WHERE seq > $after
  UNION ALL
  SELECT agent, time_us FROM signins WHERE seq > $after
) x
WHERE NOT EXISTS (SELECT 1 FROM agent_since s WHERE s.agent = x.agent)
GROUP BY x.agent;

INSERT INTO touched
SELECT a.agent, a.customer, min(a.time_us)
FROM accesses a
WHERE a.seq > $after AND a.customer IS NOT NULL AND a.outcome = 'allowed'
  AND NOT EXISTS (
    SELECT 1 FROM touched t WHERE t.agent = a.agent AND t.customer = a.customer
  )
GROUP BY a.agent, a.customer;

INSERT INTO team_touched
SELECT g.team, a.customer, min(a.time_us)
FROM accesses a
JOIN agents g ON g.agent = a.agent
WHERE a.seq > $after AND a.customer IS NOT NULL AND a.outcome = 'allowed'
  AND NOT EXISTS (
    SELECT 1 FROM team_touched t WHERE t.team = g.team AND t.customer = a.customer
  )
GROUP BY g.team, a.customer;

INSERT INTO seen_ip
SELECT s.agent, s.ip, min(s.time_us)
FROM signins s
WHERE s.seq > $after AND s.outcome = 'success'
  AND NOT EXISTS (SELECT 1 FROM seen_ip k WHERE k.agent = s.agent AND k.ip = s.ip)
GROUP BY s.agent, s.ip;

INSERT INTO seen_country
SELECT s.agent, s.country, min(s.time_us)
FROM signins s
WHERE s.seq > $after AND s.outcome = 'success' AND s.country IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM seen_country k WHERE k.agent = s.agent AND k.country = s.country
  )
GROUP BY s.agent, s.country;

INSERT INTO seen_device
SELECT s.agent, s.device, min(s.time_us)
FROM signins s
WHERE s.seq > $after AND s.outcome = 'success' AND s.device IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM seen_device k WHERE k.agent = s.agent AND k.device = s.device
  )
GROUP BY s.agent, s.device;

INSERT INTO sessions
SELECT s.session, min(s.agent), min(s.ip), min(s.time_us)
FROM signins s
WHERE s.seq > $after AND s.outcome = 'success'
  AND NOT EXISTS (SELECT 1 FROM sessions k WHERE k.session = s.session)
GROUP BY s.session;
