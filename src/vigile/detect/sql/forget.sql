-- Forget the evidence candidates and customer days before $until_us (the end of the
-- retired scoring periods) except on the agent-days those periods still hold rows of
-- (table kept_days: agent, day_us): no alert can name another event of that time, nor
-- count another customer. Rebuilt rather than deleted from, as prune() does: DuckDB frees
-- the memory at once.
CREATE OR REPLACE TABLE candidates AS
SELECT c.*
FROM candidates c
WHERE c.time_us >= $until_us
  OR EXISTS (
    SELECT 1 FROM kept_days k
    WHERE k.agent = c.agent AND k.day_us = c.time_us - c.time_us % 86400000000
  );

CREATE OR REPLACE TABLE customer_days AS
SELECT d.*
FROM customer_days d
WHERE d.day_us >= $until_us
  OR EXISTS (SELECT 1 FROM kept_days k WHERE k.agent = d.agent AND k.day_us = d.day_us);
