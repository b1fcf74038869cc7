-- Audit benchmark (test/bench/audit.sh): womgr's capture back on, the naive
-- chain and the benchmark's tables gone, the background sealer stopped (so
-- the database can be dropped).  Safe to run after a failed set-up.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DO $$
BEGIN
    IF to_regproc('bench_audit.set_mode') IS NOT NULL THEN
        PERFORM bench_audit.set_mode('audited');
    END IF;
END $$;
DROP SCHEMA IF EXISTS bench_audit CASCADE;
SELECT womgr.audit_stop_sealer();
