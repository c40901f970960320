-- Detection state that survives between batches (streaming) and grows only by inserts,
-- so the same SQL runs on engines without UPDATE (Spark). One statement per line group.
CREATE TABLE IF NOT EXISTS tickets (ticket VARCHAR, customer VARCHAR, opened_us BIGINT);
CREATE TABLE IF NOT EXISTS closures (ticket VARCHAR, closed_us BIGINT);
CREATE TABLE IF NOT EXISTS assignments (ticket VARCHAR, agent VARCHAR, assigned_us BIGINT);
CREATE TABLE IF NOT EXISTS agent_since (agent VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS touched (agent VARCHAR, customer VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS team_touched (team VARCHAR, customer VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS seen_ip (agent VARCHAR, ip VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS seen_country (agent VARCHAR, country VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS seen_device (agent VARCHAR, device VARCHAR, first_us BIGINT);
CREATE TABLE IF NOT EXISTS sessions (session VARCHAR, agent VARCHAR, ip VARCHAR, time_us BIGINT);
CREATE TABLE IF NOT EXISTS candidates (agent VARCHAR, id VARCHAR, time_us BIGINT);
CREATE TABLE IF NOT EXISTS customer_days (agent VARCHAR, day_us BIGINT, customer VARCHAR, counted INTEGER, unjustified INTEGER, no_ticket INTEGER, not_assigned INTEGER, other_ticket INTEGER, closed_ticket INTEGER, sensitive_unjustified INTEGER, off_shift INTEGER, new_team INTEGER, inferred INTEGER);
