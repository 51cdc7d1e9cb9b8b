-- Temporary tables and sorts stay in memory: no pread/pwrite, whose share of the time
-- depends on the machine's load, so that two runs split their time alike.
PRAGMA temp_store = MEMORY;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000)
SELECT count(*), sum(length(printf('%d-%x', x, x*x))) FROM c WHERE x % 7 != 3;
CREATE TABLE t(a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 250000)
INSERT INTO t SELECT (x*7919)%100003, hex(x*x) FROM c;
CREATE INDEX ti ON t(b);
SELECT count(*) FROM t a JOIN t b ON a.a = b.a + 1 WHERE a.b < 'A';
