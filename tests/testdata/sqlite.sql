-- Real-program check for zpoline-go (tests/programs_test.go): sqlite3 under the loader,
-- on a file database in WAL mode (mmap'd shared memory, fcntl locks, fsync).
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO t(v, n) SELECT printf('row-%05d', x), (x * 7919) % 1000 FROM c;
CREATE INDEX t_n ON t(n);
BEGIN;
UPDATE t SET n = n + 1 WHERE id % 3 = 0;
DELETE FROM t WHERE id % 97 = 0;
COMMIT;
SELECT count(*), sum(n), min(v), max(v) FROM t;
SELECT n, count(*) FROM t GROUP BY n ORDER BY count(*) DESC, n LIMIT 5;
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
PRAGMA integrity_check;
