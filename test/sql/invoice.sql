-- invoice: rate cards, job invoices (labour, after-hours, travel, call-out,
-- charges), VAT and rounding on hand-computed examples, warranty coverage,
-- idempotency, the billing-status trigger, gapless numbers, immutability,
-- credit notes, documents and bad input.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "inv-test", "name": "Jua Power & Cooling Ltd"}') AS t \gset
SELECT womgr.set_context(:t, 'wanjiru.accounts', NULL, 'admin') \gset
SELECT womgr.set_billing_settings(:t, '{"seller_tax_pin": "P051234567Z", "mpesa_paybill": "522533", "seller_address": "Mombasa Road, Nairobi"}');
SELECT to_char(now() AT TIME ZONE 'Africa/Nairobi', 'YYYY') AS yr \gset
SELECT (now() AT TIME ZONE 'Africa/Nairobi')::date AS today \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "location": {"lat": -1.2921, "lon": 36.8219}}') AS nbo \gset
SELECT womgr.create_branch(:t, '{"code": "KLA", "name": "Kampala", "currency": "UGX", "timezone": "Africa/Kampala"}') AS kla \gset
SELECT womgr.create_calendar(:t, 'Office hours', 'Africa/Nairobi',
    '{"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [["08:00", "17:00"]], "thu": [["08:00", "17:00"]], "fri": [["08:00", "17:00"]]}') AS cal \gset
SELECT womgr.create_skill(:t, '{"code": "solar", "name": "Solar PV"}') \gset
SELECT womgr.create_work_order_type(:t, '{"code": "pv_install", "name": "PV installation", "required_skills": {"solar": 1}}') \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Tom & <Jerry> Ltd', 'branch_id', :nbo, 'account_code', 'TJ-001', 'tax_pin', 'P000111222A')) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Karen house', 'location', '{"lat": -1.3197, "lon": 36.7076}'::jsonb)) AS s \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Amina Njeri', 'home_branch_id', :nbo, 'login', 'amina',
                                                       'skills', '[{"skill": "solar", "level": 4}]'::jsonb)) AS amina \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Brian Otieno', 'home_branch_id', :nbo, 'login', 'brian',
                                                       'skills', '[{"skill": "solar", "level": 2}]'::jsonb)) AS brian \gset

-- a job with everything: call-out, two technicians' labour, after-hours, travel, charges
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'pv_install',
                                                       'description', '5 kW rooftop system')) AS w1 \gset
SELECT throws_ok(format('SELECT womgr.generate_invoice(%s, %s)', :t, :w1), '55000',
                 format('work order %s is not completed', (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)),
                 'generate_invoice: a job that is not completed');
SELECT womgr.assign(:t, :w1, :amina) \gset
SELECT womgr.assign(:t, :w1, :brian, 'crew') \gset
-- Monday 2 March 2026: Amina 15:00-18:10 (2 h normal, 70 min after 17:00), Brian 16:00-16:20, Amina drove 23.4 km
SELECT womgr.add_time_entry(:t, :w1, jsonb_build_object('technician_id', :amina, 'started_at', '2026-03-02T15:00:00+03:00', 'ended_at', '2026-03-02T18:10:00+03:00')) \gset
SELECT womgr.add_time_entry(:t, :w1, jsonb_build_object('technician_id', :brian, 'started_at', '2026-03-02T16:00:00+03:00', 'ended_at', '2026-03-02T16:20:00+03:00')) \gset
SELECT womgr.add_time_entry(:t, :w1, jsonb_build_object('technician_id', :amina, 'kind', 'travel', 'distance_km', 23.4,
                                                        'started_at', '2026-03-02T14:00:00+03:00', 'ended_at', '2026-03-02T14:40:00+03:00')) \gset
SELECT womgr.add_charge(:t, :w1, '{"kind": "fee", "description": "Old panel disposal", "unit_price": 800}') \gset
SELECT womgr.add_charge(:t, :w1, '{"description": "County permit", "unit_price": 500, "tax_class": "vat_exempt"}') \gset

-- completing without a rate card: the job completes, no invoice, and the office is told why
SELECT womgr.transition(:t, :w1, 'scheduled') \gset
SELECT womgr.transition(:t, :w1, 'in_progress') \gset
SELECT womgr.update_work_order(:t, :w1, '{"resolution": "Installed 12 panels and an inverter"}') \gset
SAVEPOINT no_card;
SELECT womgr.transition(:t, :w1, 'completed') \gset
SELECT is((SELECT count(*) FROM womgr.invoice WHERE work_order_id = :w1), 0::bigint, 'completing a job with labour but no rate card makes no invoice');
SELECT is((SELECT payload->>'message' FROM womgr.outbox WHERE tenant_id = :t AND topic = 'invoice.not_generated'),
          format('no rate card applies to work order %s', (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)),
          '... but tells the office why (invoice.not_generated)');
SELECT throws_ok(format('SELECT womgr.generate_invoice(%s, %s)', :t, :w1), '55000',
                 format('no rate card applies to work order %s', (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)),
                 'generate_invoice: labour and no rate card');
ROLLBACK TO SAVEPOINT no_card;

SELECT womgr.create_rate_card(:t, jsonb_build_object(
    'code', 'nbo_2026', 'name', 'Nairobi 2026', 'branch_id', :nbo, 'default_hourly_rate', 1000,
    'labour', '[{"skill": "solar", "min_level": 3, "hourly_rate": 2500}, {"skill": "solar", "min_level": 1, "hourly_rate": 1500}]'::jsonb,
    'call_out_fee', 1500, 'after_hours_multiplier', 1.5, 'after_hours_calendar_id', :cal,
    'billing_increment', '15 minutes', 'minimum_labour', '1 hour', 'travel_mode', 'per_km', 'travel_per_km', 45)) AS rc \gset
SELECT womgr.transition(:t, :w1, 'completed') \gset
SELECT invoice_id AS i1 FROM womgr.invoice WHERE tenant_id = :t AND work_order_id = :w1 \gset
SELECT is((SELECT number FROM womgr.invoice WHERE invoice_id = :i1), 'INV-NBO-' || :'yr' || '-000001',
          'completing the job issued its invoice with the first number of the branch and year');
SELECT results_eq(
    format('SELECT line_no, kind, description, quantity, unit, unit_price, tax_rate_percent, net_amount, tax_amount
              FROM womgr.invoice_line WHERE invoice_id = %s ORDER BY line_no', :i1),
    $$VALUES (1, 'call_out', 'Call-out fee', 1.000, 'each', 1500.00, 16.000, 1500.00::numeric, 240.00::numeric),
             (2, 'labour', 'Labour: Amina Njeri', 2.000, 'h', 2500.00, 16.000, 5000.00, 800.00),
             (3, 'labour', 'Labour: Brian Otieno', 1.000, 'h', 1500.00, 16.000, 1500.00, 240.00),
             (4, 'labour', 'Labour after hours: Amina Njeri', 1.250, 'h', 3750.00, 16.000, 4687.50, 750.00),
             (5, 'travel', 'Travel: 23.4 km', 23.400, 'km', 45.00, 16.000, 1053.00, 168.48),
             (6, 'fee', 'Old panel disposal', 1.000, 'each', 800.00, 16.000, 800.00, 128.00),
             (7, 'custom', 'County permit', 1.000, 'each', 500.00, 0.000, 500.00, 0.00)$$,
    'lines: call-out; labour at the best rate the technician qualifies for, rounded up to 15 minutes with a 1-hour minimum; 70 after-hours minutes billed as 1.25 h at 1.5x; 23.4 km at 45; charges; the permit VAT-exempt');
SELECT results_eq(format('SELECT subtotal, tax_total, total, currency::text, status FROM womgr.invoice WHERE invoice_id = %s', :i1),
                  $$VALUES (15040.50::numeric, 2326.48::numeric, 17366.98::numeric, 'KES', 'issued')$$,
                  'totals add the lines: 15,040.50 + VAT 2,326.48 = 17,366.98');
SELECT is(womgr.generate_invoice(:t, :w1), :i1::bigint, 'generate_invoice again returns the same invoice');
SELECT is((SELECT count(*) FROM womgr.invoice WHERE tenant_id = :t AND work_order_id = :w1), 1::bigint, '... and creates no other');
SELECT is((SELECT count(*) FROM womgr.outbox WHERE tenant_id = :t AND topic = 'invoice.issued' AND work_order_id = :w1), 1::bigint,
          'one invoice.issued notice for the job, naming it');
SELECT is((SELECT payload->>'number' FROM womgr.outbox WHERE tenant_id = :t AND topic = 'invoice.issued'),
          'INV-NBO-' || :'yr' || '-000001', 'an invoice.issued notice is in the outbox');
SELECT is((SELECT issue_date FROM womgr.invoice WHERE invoice_id = :i1), :'today'::date, 'issued today (Nairobi)');
SELECT is((SELECT due_date FROM womgr.invoice WHERE invoice_id = :i1), :'today'::date + 14, 'due after the 14 days'' terms');
SELECT throws_ok(format('SELECT womgr.add_charge(%s, %s, %L)', :t, :w1, '{"description": "Late", "unit_price": 1}'), '55000',
                 format('work order %s is already invoiced', (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)),
                 'add_charge after the job was invoiced');

-- the document and its HTML
SELECT womgr.invoice_document(:t, :i1) AS doc \gset
SELECT is(:'doc'::jsonb, (SELECT document FROM womgr.invoice WHERE invoice_id = :i1), 'invoice_document returns the document frozen at issue');
SELECT is((SELECT document_sha256 FROM womgr.invoice WHERE invoice_id = :i1), sha256(convert_to(:'doc', 'UTF8')),
          'the stored SHA-256 is the document''s');
SELECT is(:'doc'::jsonb #>> '{payment_instructions,mpesa,paybill}', '522533', 'the document tells customers the paybill');
SELECT is(:'doc'::jsonb #>> '{payment_instructions,mpesa,account_reference}', 'INV-NBO-' || :'yr' || '-000001', '... and the invoice number as account');
SELECT is(:'doc'::jsonb #>> '{seller,tax_pin}', 'P051234567Z', 'the seller''s KRA PIN');
SELECT is(:'doc'::jsonb #>> '{buyer,tax_pin}', 'P000111222A', 'the buyer''s KRA PIN');
SELECT is(jsonb_array_length(:'doc'::jsonb -> 'lines'), 7, 'all seven lines');
SELECT is(:'doc'::jsonb -> 'taxes', '[{"tax_class": "vat_exempt", "treatment": "exempt", "rate_percent": 0.000, "taxable_amount": 500.00, "tax_amount": 0.00},
                                      {"tax_class": "vat_standard", "treatment": "standard", "rate_percent": 16.000, "taxable_amount": 14540.50, "tax_amount": 2326.48}]'::jsonb,
          'taxes are summed by class and rate');
SELECT womgr.invoice_html(:t, :i1) AS html \gset
SELECT ok(strpos(:'html', 'Tom &amp; &lt;Jerry&gt; Ltd') > 0, 'the HTML escapes the customer''s name');
SELECT ok(strpos(:'html', '<Jerry>') = 0, '... and never prints it raw');
SELECT ok(strpos(:'html', 'INV-NBO-' || :'yr' || '-000001') > 0 AND strpos(:'html', '17,366.98') > 0,
          'the HTML shows the number and the total');
SELECT ok(strpos(:'html', 'Paybill 522533') > 0, 'the HTML shows how to pay by M-Pesa');

-- an issued invoice never changes
SELECT throws_ok(format('UPDATE womgr.invoice SET total = 1 WHERE invoice_id = %s', :i1), 'WM011',
                 'invoice INV-NBO-' || :'yr' || '-000001 is issued and cannot change', 'UPDATE of an issued invoice');
SELECT throws_ok(format('DELETE FROM womgr.invoice WHERE invoice_id = %s', :i1), 'WM011', NULL, 'DELETE of an issued invoice');
SELECT throws_ok(format('UPDATE womgr.invoice_line SET unit_price = 1 WHERE invoice_id = %s', :i1), 'WM011', NULL, 'UPDATE of its lines');
SELECT throws_ok(format('DELETE FROM womgr.invoice_line WHERE invoice_id = %s', :i1), 'WM011', NULL, 'DELETE of its lines');
SELECT throws_ok(format($$INSERT INTO womgr.invoice_line (tenant_id, invoice_id, line_no, kind, description, quantity, unit_price,
                           tax_class_id, tax_treatment, tax_rate_percent, net_amount, tax_amount)
                         SELECT %s, %s, 99, 'custom', 'x', 1, 1, tax_class_id, 'standard', 16, 1, 0.16 FROM womgr.tax_class
                          WHERE tenant_id = %s AND code = 'vat_standard'$$, :t, :i1, :t), 'WM011', NULL, 'INSERT of a line');
SELECT throws_ok('TRUNCATE womgr.invoice_line', '55000', 'TRUNCATE of audited table "invoice_line" is refused', 'TRUNCATE of invoice lines');
SELECT is((SELECT total FROM womgr.invoice WHERE invoice_id = :i1), 17366.98::numeric, 'the invoice is unchanged');

-- labour from the job's history when nobody recorded time: the lead's time in progress
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'pv_install',
                                                       'description', 'Inverter fault')) AS w2 \gset
SELECT womgr.assign(:t, :w2, :brian) \gset
SELECT womgr.transition(:t, :w2, 'scheduled') \gset
SELECT womgr.transition(:t, :w2, 'in_progress', NULL, NULL, now()) \gset
SELECT womgr.update_work_order(:t, :w2, '{"resolution": "Reset the inverter"}') \gset
SELECT womgr.transition(:t, :w2, 'completed', NULL, NULL, now() + interval '4 minutes') \gset
SELECT invoice_id AS i2 FROM womgr.invoice WHERE tenant_id = :t AND work_order_id = :w2 \gset
-- (whether those 4 minutes fall after 17:00 depends on when the test runs; the sum does not)
SELECT results_eq(format($$SELECT sum(quantity), min(unit_price), string_agg(DISTINCT technician_id::text, ',')
                             FROM womgr.invoice_line WHERE invoice_id = %s AND kind = 'labour'$$, :i2),
                  format('VALUES (1.000, 1500.00, %L)', :brian),
                  'without time entries: the lead''s 4 minutes in progress, rounded up and topped up to the 1-hour minimum');
SELECT is((SELECT number FROM womgr.invoice WHERE invoice_id = :i2), 'INV-NBO-' || :'yr' || '-000002', 'the next number');

-- warranty: service lines of an asset under warranty are covered at zero; charges stay billable
SELECT womgr.create_asset(:t, jsonb_build_object('site_id', :s, 'name', 'Inverter', 'serial_number', 'INV-77',
                                                 'warranty_from', to_char(:'today'::date - 100, 'YYYY-MM-DD'), 'warranty_until', to_char(:'today'::date + 265, 'YYYY-MM-DD'))) AS a \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'asset_id', :a, 'type', 'pv_install',
                                                       'description', 'Inverter under warranty')) AS w3 \gset
SELECT womgr.assign(:t, :w3, :amina) \gset
SELECT womgr.add_time_entry(:t, :w3, jsonb_build_object('technician_id', :amina, 'started_at', '2026-03-03T09:00:00+03:00', 'ended_at', '2026-03-03T10:00:00+03:00')) \gset
SELECT womgr.add_charge(:t, :w3, '{"description": "Extra cable requested by the customer", "quantity": 2, "unit_price": 350}') \gset
SELECT womgr.transition(:t, :w3, 'scheduled') \gset
SELECT womgr.transition(:t, :w3, 'in_progress') \gset
SELECT womgr.update_work_order(:t, :w3, '{"resolution": "Replaced the board"}') \gset
SELECT womgr.transition(:t, :w3, 'completed') \gset
SELECT invoice_id AS i3 FROM womgr.invoice WHERE tenant_id = :t AND work_order_id = :w3 \gset
SELECT results_eq(format('SELECT kind, warranty_covered, unit_price, net_amount, tax_amount FROM womgr.invoice_line WHERE invoice_id = %s ORDER BY line_no', :i3),
                  $$VALUES ('call_out', true, 1500.00, 0::numeric, 0.00::numeric), ('labour', true, 2500.00, 0, 0.00),
                           ('travel', true, 45.00, 0, 0.00), ('custom', false, 350.00, 700.00, 112.00)$$,
                  'under warranty: call-out, labour and travel at zero (prices shown), the customer''s extra cable billed');
SELECT is((SELECT total FROM womgr.invoice WHERE invoice_id = :i3), 812.00::numeric, 'the warranty invoice totals 812.00');

-- manual invoices, rounding per currency
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines',
    '[{"description": "Site survey", "quantity": 3, "unit_price": 333.33}, {"description": "Battery (zero-rated)", "unit_price": 1000.01, "tax_class": "vat_zero"}]'::jsonb)) AS i4 \gset
SELECT results_eq(format('SELECT net_amount, tax_amount FROM womgr.invoice_line WHERE invoice_id = %s ORDER BY line_no', :i4),
                  $$VALUES (999.99::numeric, 160.00::numeric), (1000.01, 0.00)$$,
                  'VAT is rounded per line half away from zero: 999.99 x 16 % = 159.9984 -> 160.00; zero-rated lines carry 0');
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines',
    '[{"description": "Service plan (VAT inclusive)", "gross_amount": 2000}]'::jsonb)) AS i4g \gset
SELECT results_eq(format('SELECT quantity, unit_price, net_amount, tax_amount FROM womgr.invoice_line WHERE invoice_id = %s', :i4g),
                  $$VALUES (1.000, 1724.14, 1724.14::numeric, 275.86::numeric)$$,
                  'a VAT-inclusive line of 2,000.00: net 2000 / 1.16 = 1,724.14, VAT the remaining 275.86');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "x", "gross_amount": 10, "unit_price": 1}]'::jsonb)),
                 '22023', NULL, 'create_invoice: a line priced both gross and net');
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Kampala Hotels', 'branch_id', :kla)) AS c_kla \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c_kla, 'lines',
    '[{"description": "Survey", "quantity": 3, "unit_price": 333.33}]'::jsonb)) AS i5 \gset
SELECT results_eq(format('SELECT currency::text, subtotal, tax_total, total, number FROM womgr.invoice WHERE invoice_id = %s', :i5),
                  format('VALUES (%L, 1000::numeric, 160::numeric, 1160::numeric, %L)', 'UGX', 'INV-KLA-' || :'yr' || '-000001'),
                  'a UGX branch rounds to whole shillings and numbers its own series');

-- gapless: a rolled-back invoice gives its number back
SAVEPOINT before_rollback;
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "Visit", "unit_price": 100}]'::jsonb)) AS i_gone \gset
SELECT is((SELECT number FROM womgr.invoice WHERE invoice_id = :i_gone), 'INV-NBO-' || :'yr' || '-000006', 'numbers follow on');
ROLLBACK TO SAVEPOINT before_rollback;
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "Visit", "unit_price": 100}]'::jsonb)) AS i6 \gset
SELECT is((SELECT number FROM womgr.invoice WHERE invoice_id = :i6), 'INV-NBO-' || :'yr' || '-000006', 'after a rollback the same number is given again');
SELECT is((SELECT array_agg(number ORDER BY number) FROM womgr.invoice WHERE tenant_id = :t AND branch_id = :nbo AND kind = 'invoice'),
          ARRAY['INV-NBO-' || :'yr' || '-000001', 'INV-NBO-' || :'yr' || '-000002', 'INV-NBO-' || :'yr' || '-000003',
                'INV-NBO-' || :'yr' || '-000004', 'INV-NBO-' || :'yr' || '-000005', 'INV-NBO-' || :'yr' || '-000006'],
          'the branch''s numbers have no gap');

-- drafts when the tenant reviews before issuing
SELECT womgr.set_billing_settings(:t, '{"issue_on_generate": false}');
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "Draft", "unit_price": 10}]'::jsonb)) AS i7 \gset
SELECT results_eq(format('SELECT status, number FROM womgr.invoice WHERE invoice_id = %s', :i7), $$VALUES ('draft', NULL::text)$$,
                  'with issue_on_generate off an invoice stays a draft without a number');
SELECT lives_ok(format('DELETE FROM womgr.invoice WHERE invoice_id = %s', :i7), 'a draft may be deleted');
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "Draft", "unit_price": 10}]'::jsonb)) AS i8 \gset
SELECT is(womgr.issue_invoice(:t, :i8), 'INV-NBO-' || :'yr' || '-000007', 'issue_invoice numbers the draft');
SELECT is(womgr.issue_invoice(:t, :i8), 'INV-NBO-' || :'yr' || '-000007', '... and again returns the same number');
SELECT womgr.set_billing_settings(:t, '{"issue_on_generate": true}');

-- credit notes
SELECT womgr.create_credit_note(:t, :i1, 'Permit fee waived by the county', '[{"line_no": 7, "quantity": 1}]') AS cn1 \gset
SELECT results_eq(format('SELECT kind, number, credited_invoice_id, subtotal, tax_total, total FROM womgr.invoice WHERE invoice_id = %s', :cn1),
                  format('VALUES (%L, %L, %s::bigint, 500.00::numeric, 0.00::numeric, 500.00::numeric)', 'credit_note', 'CN-NBO-' || :'yr' || '-000001', :i1),
                  'a partial credit note: its own series, referencing the invoice, at the invoice''s price and tax');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE invoice_id = :i1), 16866.98::numeric, 'the invoice''s balance drops by the credit');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, %L, %L)', :t, :i1, 'again', '[{"line_no": 7, "quantity": 1}]'), '22023',
                 'invoice line 7 has only 0.000 left to credit', 'a line cannot be credited twice');
SELECT womgr.create_credit_note(:t, :i1, 'Job cancelled by agreement') AS cn2 \gset
SELECT is((SELECT total FROM womgr.invoice WHERE invoice_id = :cn2), 16866.98::numeric, 'a full credit note credits what is left');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE invoice_id = :i1), 0::numeric, '... and the balance is nil');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, %L)', :t, :i1, 'more'), '55000',
                 'invoice INV-NBO-' || :'yr' || '-000001 has nothing left to credit', 'nothing left to credit');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, %L)', :t, :cn1, 'x'), '55000', NULL, 'a credit note cannot be credited');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, NULL)', :t, :i4), '22004', NULL, 'a credit note needs a reason');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, %L, %L)', :t, :i4, 'x', '[{"line_no": 9, "quantity": 1}]'), '22023',
                 'invoice line 9 does not exist', 'credit of a line the invoice does not have');
SELECT throws_ok(format('SELECT womgr.create_credit_note(%s, %s, %L, %L)', :t, :i4, 'x', '[{"line_no": 1, "quantity": -1}]'), '22023',
                 NULL, 'credit of a negative quantity');

-- tax rates change by date; issued invoices keep theirs
SELECT womgr.set_tax_rate(:t, 'vat_standard', 14, :'today'::date) \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "Visit", "unit_price": 1000}]'::jsonb)) AS i9 \gset
SELECT is((SELECT tax_total FROM womgr.invoice WHERE invoice_id = :i9), 140.00::numeric, 'a new rate applies from its date');
SELECT is((SELECT tax_total FROM womgr.invoice WHERE invoice_id = :i4), 160.00::numeric, 'an issued invoice keeps its rate');
SELECT throws_ok(format('SELECT womgr.set_tax_rate(%s, %L, 5, %L)', :t, 'vat_zero', :'today'), '22023', NULL, 'a zero-rated class takes only 0');
SELECT throws_ok(format('SELECT womgr.set_tax_rate(%s, %L, 16, %L)', :t, 'vat_standard', :'today'), '55000', NULL, 'rates are added in date order');
SELECT throws_ok(format('SELECT womgr.set_tax_rate(%s, %L, 16, %L)', :t, 'vat_luxury', :'today'), '23503', NULL, 'an unknown tax class');

-- bad input
SELECT throws_ok('SELECT womgr.generate_invoice(NULL, 1)', '22004', 'tenant must not be null', 'generate_invoice: NULL tenant');
SELECT throws_ok(format('SELECT womgr.generate_invoice(%s, NULL)', :t), '22004', NULL, 'generate_invoice: NULL work order');
SELECT throws_ok(format('SELECT womgr.generate_invoice(%s, -1)', :t), 'P0002', NULL, 'generate_invoice: unknown work order');
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'pv_install', 'branch_id', :kla,
                                                       'description', 'Nothing billable')) AS w4 \gset
SELECT womgr.assign(:t, :w4, :amina) \gset
SELECT womgr.transition(:t, :w4, 'scheduled') \gset
SELECT womgr.transition(:t, :w4, 'in_progress') \gset
SELECT womgr.update_work_order(:t, :w4, '{"resolution": "Nothing found"}') \gset
SELECT womgr.set_billing_status(:t, 'standard', NULL);
SELECT womgr.transition(:t, :w4, 'completed') \gset
SELECT is((SELECT count(*) FROM womgr.invoice WHERE work_order_id = :w4), 0::bigint, 'with no billing status nothing is invoiced by itself');
SELECT throws_ok(format('SELECT womgr.generate_invoice(%s, %s)', :t, :w4), '55000', NULL,
                 'generate_invoice: the Kampala job has labour and no Kampala or tenant-wide rate card');
SELECT throws_ok(format('SELECT womgr.set_billing_status(%s, %L, %L)', :t, 'standard', 'in_progress'), '22023', NULL,
                 'set_billing_status: only completed or closed statuses');
SELECT throws_ok(format('SELECT womgr.set_billing_status(%s, %L, %L)', :t, 'nope', 'completed'), '23503', NULL,
                 'set_billing_status: unknown workflow');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'lines', '[]'::jsonb)), '22023',
                 'field "lines" of the invoice spec must be a non-empty array', 'create_invoice: no lines');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, '{"customer_id": -5, "lines": [{"description": "x", "unit_price": 1}]}'),
                 '23503', NULL, 'create_invoice: unknown customer');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "x", "unit_price": -1}]'::jsonb)),
                 '22023', NULL, 'create_invoice: negative price');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "x", "unit_price": 1, "tax_class": "nope"}]'::jsonb)),
                 '23503', NULL, 'create_invoice: unknown tax class');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'lines', '[{"description": "x", "unit_price": 1, "kind": "part"}]'::jsonb)),
                 '22023', NULL, 'create_invoice: parts come from the job');
SELECT throws_ok(format('SELECT womgr.create_invoice(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'colour', 'red')),
                 '22023', NULL, 'create_invoice: unknown key');
SELECT throws_ok(format('SELECT womgr.issue_invoice(%s, -1)', :t), 'P0002', NULL, 'issue_invoice: unknown invoice');
SELECT throws_ok(format('SELECT womgr.invoice_document(%s, -1)', :t), 'P0002', NULL, 'invoice_document: unknown invoice');
SELECT throws_ok('SELECT womgr.invoice_html(NULL, 1)', '22004', NULL, 'invoice_html: NULL tenant');
SELECT throws_ok(format('SELECT womgr.create_rate_card(%s, %L)', :t, jsonb_build_object('code', 'nbo_again', 'name', 'Overlap', 'branch_id', :nbo)),
                 '23P01', NULL, 'create_rate_card: overlaps the branch''s card');
SELECT throws_ok(format('SELECT womgr.create_rate_card(%s, %L)', :t, '{"code": "x1", "name": "X", "travel_mode": "boat"}'), '22023', NULL,
                 'create_rate_card: unknown travel mode');
SELECT throws_ok(format('SELECT womgr.create_rate_card(%s, %L)', :t, '{"code": "x2", "name": "X", "after_hours_multiplier": 0.5}'), '22023', NULL,
                 'create_rate_card: multiplier below 1');
SELECT throws_ok(format('SELECT womgr.create_rate_card(%s, %L)', :t, '{"code": "x3", "name": "X", "labour": [{"skill": "diving", "hourly_rate": 1}]}'), '23503', NULL,
                 'create_rate_card: unknown skill');
SELECT throws_ok(format('SELECT womgr.create_rate_card(%s, %L)', :t, '{"code": "x4", "name": "X", "billing_increment": "soon"}'), '22023', NULL,
                 'create_rate_card: a bad increment');
SELECT throws_ok(format('SELECT womgr.add_time_entry(%s, %s, %L)', :t, :w2, jsonb_build_object('technician_id', :amina, 'started_at', '2026-03-02T16:00:00+03:00', 'ended_at', '2026-03-02T17:00:00+03:00')),
                 '55000', NULL, 'add_time_entry: the job is already invoiced');
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'pv_install', 'description', 'Open job')) AS w5 \gset
SELECT throws_ok(format('SELECT womgr.add_time_entry(%s, %s, %L)', :t, :w5, jsonb_build_object('technician_id', :amina, 'started_at', '2026-03-02T16:00:00+03:00', 'ended_at', '2026-03-02T17:00:00+03:00')),
                 '23P01', 'the technician already has time recorded in that period', 'add_time_entry: overlaps the technician''s time');
SELECT throws_ok(format('SELECT womgr.add_time_entry(%s, %s, %L)', :t, :w5, jsonb_build_object('technician_id', :amina, 'started_at', '2026-03-05T17:00:00+03:00', 'ended_at', '2026-03-05T16:00:00+03:00')),
                 '22023', NULL, 'add_time_entry: ends before it starts');
SELECT throws_ok(format('SELECT womgr.add_time_entry(%s, %s, %L)', :t, :w5, jsonb_build_object('technician_id', :amina, 'started_at', 'yesterday-ish', 'ended_at', '2026-03-05T16:00:00+03:00')),
                 '22007', NULL, 'add_time_entry: not a time');
SELECT throws_ok(format('SELECT womgr.add_time_entry(%s, %s, %L)', :t, :w5, jsonb_build_object('technician_id', :amina, 'distance_km', 5, 'started_at', '2026-03-05T15:00:00+03:00', 'ended_at', '2026-03-05T16:00:00+03:00')),
                 '22023', NULL, 'add_time_entry: km on labour');
SELECT throws_ok(format('SELECT womgr.add_charge(%s, %s, %L)', :t, :w5, '{"description": "x", "unit_price": 1, "quantity": 0}'), '22023', NULL,
                 'add_charge: zero quantity');
SELECT throws_ok(format('SELECT womgr.set_billing_settings(%s, %L)', :t, '{"mpesa_paybill": "12ab"}'), '22023', NULL, 'set_billing_settings: bad paybill');
SELECT throws_ok(format('SELECT womgr.set_billing_settings(%s, %L)', :t, '{"credit_note_prefix": "INV"}'), '22023', NULL,
                 'set_billing_settings: the same prefix for both series');
SELECT throws_ok(format('SELECT womgr.set_billing_settings(%s, %L)', :t, '{"payment_terms_days": 900}'), '22023', NULL,
                 'set_billing_settings: terms out of range');

SELECT * FROM finish();
ROLLBACK;
