-- technician_cash: cash technicians collect on site, counted against what
-- they hand in per business day in their home branch's time zone: balanced
-- days, short and over days (exceptions with a note and an outbox notice),
-- the day boundary at midnight in Nairobi, what is still due, bad input.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "cash-test", "name": "Haraka Appliance Repairs"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "timezone": "Africa/Nairobi", "currency": "KES"}') AS nbo \gset
SELECT womgr.create_branch(:t, '{"code": "ACC", "name": "Accra", "timezone": "Africa/Accra", "currency": "GHS"}') AS acc \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Mama Njeri', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno Ouma', 'home_branch_id', :nbo)) AS o \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Amina Hassan', 'home_branch_id', :nbo)) AS a \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Kofi Mensah', 'home_branch_id', :acc)) AS k \gset
SELECT womgr.set_context(:t, 'grace.cashier', NULL, 'admin') \gset

-- Cash payments.  Otieno on 10 March (Nairobi): 2500 in the morning and
-- 1200.50 at 23:50; 800 at 00:10 on the 11th (still the 10th in UTC) and
-- 1500 that afternoon.  Amina: 999 on the 10th.  Kofi in Accra (UTC+0):
-- GHS 50 at 23:30 on the 10th, already the 11th in Nairobi.
INSERT INTO womgr.payment (tenant_id, method, source, status, customer_id, amount, currency, collected_by_technician_id, received_at, created_by)
VALUES (:t, 'cash', 'technician', 'matched', :c, 2500.00, 'KES', :o, '2025-03-10 09:15+03', 'otieno'),
       (:t, 'cash', 'technician', 'matched', :c, 1200.50, 'KES', :o, '2025-03-10 23:50+03', 'otieno'),
       (:t, 'cash', 'technician', 'matched', :c,  800.00, 'KES', :o, '2025-03-11 00:10+03', 'otieno'),
       (:t, 'cash', 'technician', 'matched', :c, 1500.00, 'KES', :o, '2025-03-11 14:00+03', 'otieno'),
       (:t, 'cash', 'technician', 'matched', :c,  999.00, 'KES', :a, '2025-03-10 12:00+03', 'amina'),
       (:t, 'cash', 'technician', 'matched', :c,   50.00, 'GHS', :k, '2025-03-10 23:30+00', 'kofi');
INSERT INTO womgr.payment (tenant_id, method, source, status, customer_id, amount, currency, received_at, created_by)
VALUES (:t, 'mpesa', 'manual', 'matched', :c, 7000.00, 'KES', '2025-03-10 10:00+03', 'grace.cashier');

SELECT is((SELECT array_agg(concat_ws('|', to_char(business_date, 'YYYY-MM-DD'), cash_collected, payment_count, status) ORDER BY business_date)
             FROM womgr.technician_cash_due WHERE tenant_id = :t AND technician_id = :o),
          ARRAY['2025-03-10|3700.50|2|open', '2025-03-11|2300.00|2|open'],
          'technician_cash_due: the 00:10 payment belongs to the 11th in Nairobi, M-Pesa is not cash');
SELECT is((SELECT concat_ws('|', to_char(business_date, 'YYYY-MM-DD'), currency, cash_collected) FROM womgr.technician_cash_due WHERE tenant_id = :t AND technician_id = :k),
          '2025-03-10|GHS|50.00', 'Kofi''s 23:30 payment is on the 10th in Accra, his home branch''s time zone');

-- a balanced day
SELECT womgr.reconcile_technician_cash(:t, :o, '2025-03-10', 3700.50) AS r1 \gset
SELECT is((SELECT concat_ws('|', to_char(business_date, 'YYYY-MM-DD'), currency, payment_count, expected, handed_in, difference, status, received_by, coalesce(note, '-'))
             FROM womgr.cash_reconciliation WHERE tenant_id = :t AND cash_reconciliation_id = :r1),
          '2025-03-10|KES|2|3700.50|3700.50|0.00|balanced|grace.cashier|-', 'a balanced day: 2500 + 1200.50 handed in in full');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 3700.50)', :t, :o, '2025-03-10'),
                 '23505', 'cash of technician ' || :o || ' for 2025-03-10 is already reconciled', 'reconcile_technician_cash: the same day twice');

-- a short day: an exception, which needs a note and tells the outbox
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 2000)', :t, :o, '2025-03-11'),
                 '22004', 'a cash difference needs a note', 'reconcile_technician_cash: a difference without a note');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 2000, %L)', :t, :o, '2025-03-11', '  '),
                 '22004', 'a cash difference needs a note', 'reconcile_technician_cash: a blank note');
SELECT womgr.reconcile_technician_cash(:t, :o, '2025-03-11', 2000, 'Bought a fuse for a job; receipt to follow') AS r2 \gset
SELECT is((SELECT concat_ws('|', expected, handed_in, difference, status, note) FROM womgr.cash_reconciliation
            WHERE tenant_id = :t AND cash_reconciliation_id = :r2),
          '2300.00|2000.00|-300.00|exception|Bought a fuse for a job; receipt to follow', 'a short day: 300 short, an exception with its note');
SELECT is((SELECT concat_ws('|', payload ->> 'cash_reconciliation_id', payload ->> 'technician_id', payload ->> 'business_date',
                            payload ->> 'difference', payload ->> 'currency')
             FROM womgr.outbox WHERE tenant_id = :t AND topic = 'cash.exception'),
          concat_ws('|', :r2, :o, '2025-03-11', '-300.00', 'KES'), 'one cash.exception notice, for the short day');

-- over is an exception too; a day without cash reconciles at zero
SELECT womgr.reconcile_technician_cash(:t, :a, '2025-03-10', 1000, 'Customer left the change') AS r3 \gset
SELECT is((SELECT concat_ws('|', expected, difference, status) FROM womgr.cash_reconciliation WHERE tenant_id = :t AND cash_reconciliation_id = :r3),
          '999.00|1.00|exception', 'handing in more than collected is an exception (+1)');
SELECT womgr.reconcile_technician_cash(:t, :a, '2025-03-09', 0) AS r4 \gset
SELECT is((SELECT concat_ws('|', payment_count, expected, handed_in, status) FROM womgr.cash_reconciliation WHERE tenant_id = :t AND cash_reconciliation_id = :r4),
          '0|0.00|0.00|balanced', 'a day without cash, nothing handed in: balanced');
SELECT womgr.reconcile_technician_cash(:t, :k, '2025-03-10', 50) AS r5 \gset
SELECT is((SELECT concat_ws('|', currency, expected, status) FROM womgr.cash_reconciliation WHERE tenant_id = :t AND cash_reconciliation_id = :r5),
          'GHS|50.00|balanced', 'Kofi''s day in Accra, in cedis');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND topic = 'cash.exception'), 2, 'two exceptions, two notices');

-- what is due: live from the payments, so cash recorded late shows up
INSERT INTO womgr.payment (tenant_id, method, source, status, customer_id, amount, currency, collected_by_technician_id, received_at, created_by)
VALUES (:t, 'cash', 'technician', 'matched', :c, 100.00, 'KES', :o, '2025-03-10 18:00+03', 'otieno');
SELECT is((SELECT array_agg(concat_ws('|', technician_name, to_char(business_date, 'YYYY-MM-DD'), cash_collected, coalesce(handed_in::text, '-'), outstanding, status)
                            ORDER BY technician_name, business_date)
             FROM womgr.technician_cash_due WHERE tenant_id = :t),
          ARRAY['Amina Hassan|2025-03-09|0|0.00|0.00|balanced', 'Amina Hassan|2025-03-10|999.00|1000.00|-1.00|exception',
                'Kofi Mensah|2025-03-10|50.00|50.00|0.00|balanced',
                'Otieno Ouma|2025-03-10|3800.50|3700.50|100.00|balanced', 'Otieno Ouma|2025-03-11|2300.00|2000.00|300.00|exception'],
          'technician_cash_due: collected, handed in and outstanding per technician and day');
SELECT throws_ok(format('UPDATE womgr.cash_reconciliation SET status = %L WHERE tenant_id = %s AND cash_reconciliation_id = %s', 'balanced', :t, :r2),
                 '23514', NULL, 'a reconciliation with a difference cannot be marked balanced');

-- cash in another currency is not counted into the branch currency
INSERT INTO womgr.payment (tenant_id, method, source, status, customer_id, amount, currency, collected_by_technician_id, received_at, created_by)
VALUES (:t, 'cash', 'technician', 'matched', :c, 20.00, 'USD', :o, '2025-03-12 11:00+03', 'otieno');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 0)', :t, :o, '2025-03-12'),
                 '55000', 'technician ' || :o || ' collected cash in other currencies on 2025-03-12', 'reconcile_technician_cash: foreign cash');

-- bad input
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(NULL, %s, %L, 0)', :o, '2025-03-08'), '22004', 'tenant must not be null',
                 'reconcile_technician_cash: null tenant');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, NULL, %L, 0)', :t, '2025-03-08'), '22004', 'technician id must not be null',
                 'reconcile_technician_cash: null technician');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, 999999, %L, 0)', :t, '2025-03-08'), 'P0002', 'technician 999999 does not exist',
                 'reconcile_technician_cash: unknown technician');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, NULL, 0)', :t, :o), '22004', 'business date must not be null',
                 'reconcile_technician_cash: null date');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 0)', :t, :o, current_date + 2), '22023', NULL,
                 'reconcile_technician_cash: a day in the future');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, NULL)', :t, :o, '2025-03-08'), '22004', 'cash handed in must not be null',
                 'reconcile_technician_cash: null amount');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, -1)', :t, :o, '2025-03-08'), '22023', 'cash handed in -1 is not an amount of KES',
                 'reconcile_technician_cash: negative amount');
SELECT throws_ok(format('SELECT womgr.reconcile_technician_cash(%s, %s, %L, 10.005)', :t, :o, '2025-03-08'), '22023', 'cash handed in 10.005 is not an amount of KES',
                 'reconcile_technician_cash: below the minor unit');
SELECT is((SELECT count(*)::int FROM womgr.cash_reconciliation WHERE tenant_id = :t), 5, 'refused reconciliations left nothing behind');

SELECT * FROM finish();
ROLLBACK;
